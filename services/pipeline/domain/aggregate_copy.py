"""A quicker deep copy for aggregates whose state is plain data.

A run's worker reads a copy of the run it holds at every stage (held_runs.py), and the event
store's cache hands out a copy at every read (eventsourcing's ``Repository.get``).
``copy.deepcopy`` goes through ``__reduce_ex__`` and its memo for every id, time and dict:
about 100 µs for a run, on the event loop. An aggregate's state here is strings, numbers,
ids, times, and dicts and lists of them: the immutable ones are shared and the containers
copied directly (a container met twice is copied once, as deepcopy would); anything else
still goes through ``copy.deepcopy``.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from uuid import UUID

_IMMUTABLE = frozenset({str, int, float, bool, type(None), UUID, datetime})


def _copied(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind in _IMMUTABLE:
        return value
    if kind is dict or kind is list:
        known = memo.get(id(value))
        if known is not None:
            return known
        if kind is dict:
            memo[id(value)] = clone = {}
            for key, item in value.items():
                clone[key] = _copied(item, memo)
        else:
            memo[id(value)] = clone = []
            clone.extend(_copied(item, memo) for item in value)
        return clone
    return copy.deepcopy(value, memo)


class PlainDataCopy:
    """Mixed into an aggregate: its ``copy.deepcopy``."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        clone = object.__new__(type(self))
        memo[id(self)] = clone
        state = clone.__dict__
        for name, value in self.__dict__.items():
            state[name] = _copied(value, memo)
        return clone
