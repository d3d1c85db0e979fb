"""The most the next batch of a run can cost, measured on the items in hand.

The rule is ``shared/credits.py``'s (``batch_credit_bound``); this measures what the calls
would send. An item's row as the pending query loads it holds every field its call sends (and
a few it doesn't), so its JSON's bytes bound its tokens. The clustering call also sends the
site's existing clusters, read here as the stage's work reads them.
"""

from __future__ import annotations

import json
from typing import Any

from services.pipeline.application.ports import Item, PlannerReads
from shared.credits import batch_credit_bound, calls_of_batch, input_token_bound
from shared.stages import STAGES
from shared.stages import stage as stage_of

_SENDS_EXISTING_CLUSTERS = frozenset({"keywords_to_clusters"})


def sends_existing_clusters(number: int) -> bool:
    """Whether stage ``number``'s call sends the site's existing clusters besides its items."""
    return stage_of(number).name in _SENDS_EXISTING_CLUSTERS


def batch_bound(planner: PlannerReads, site_id: str, number: int, items: list[Item],
                existing: list[Item] | None = None) -> int:
    """Credits the batch of ``items`` of stage ``number`` can be charged at most; ``existing``:
    the site's clusters read already, for a stage that sends them."""
    stage = stage_of(number)
    if not stage.makes_ai_calls or not items:
        return 0
    context = 0
    if sends_existing_clusters(number):
        clusters = existing if existing is not None else planner.existing_clusters(site_id)
        context = sum(_tokens(cluster) for cluster in clusters)
    return batch_credit_bound(number, calls_of_batch(number, [_tokens(item) for item in items], context))


def next_batch_bound(planner: PlannerReads, run: Any) -> int:
    """The bound of the batch a resumed run starts with: the next of its current stage, or of
    the first later stage that has items (a stage done while paused hands on to the next)."""
    for stage in STAGES:
        if stage.number < run.current_stage:
            continue
        items = planner.load_batch(run.site_id, run.run_id, stage.number, stage.batch_size(run.config))
        if items:
            return batch_bound(planner, run.site_id, stage.number, items)
    return 0


def _tokens(row: Item) -> int:
    return input_token_bound(json.dumps(row, ensure_ascii=False, default=str))
