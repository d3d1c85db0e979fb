"""A started process's long-lived objects are out of the collector's reach."""

from __future__ import annotations

import gc

from shared.infra.start_up import freeze_start_up_objects


class _Built:
    """Stands for what start-up builds: container objects the collector would walk."""

    def __init__(self) -> None:
        self.parts: list[object] = [{} for _ in range(3)]


def test_what_start_up_built_is_no_longer_walked_by_a_collection() -> None:
    built = [_Built() for _ in range(100)]
    try:
        freeze_start_up_objects()
        walked = {id(obj) for obj in gc.get_objects()}
        assert not any(id(b) in walked or id(b.parts) in walked for b in built)
        assert gc.get_freeze_count() >= 2 * len(built)
        later = _Built()  # made after start-up: the collector still looks after it
        assert id(later) in {id(obj) for obj in gc.get_objects()}
    finally:
        gc.unfreeze()
