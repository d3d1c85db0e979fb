"""Run heads: each run's last sequence and hash, kept outside the event rows.

The event chain alone can't show events cut off its end, nor a run deleted whole; the head
can, because it commits with the events and ``automation audit verify`` compares it with
what is stored. It is derived from the stored events themselves, so every way of saving a
run (batches, commands, whatever the worker does) moves it: the recorder's one statement,
``append_automation_events`` (migration 0012), upserts the head of each run among the
events it inserts, from the last one's version and the ``hash`` of its stored state.
"""

from __future__ import annotations

from eventsourcing.utils import get_topic

from services.pipeline.domain.run import RunStarted

# What tells a run's events from the others (the site slots'): their topic's module.
RUN_TOPIC_PREFIX = get_topic(RunStarted).split(":")[0] + ":"
