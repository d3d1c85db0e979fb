"""Every Prometheus series the services record, in one place so names never drift.

Each process has its own registry (prometheus-client's default one) and records what it
does: the API its HTTP requests, the pipeline commands, runs, items, AI calls and the
outbox, the projector its lag, the scheduler its ticks. Stage labels are stage names
(shared/stages.py).
"""

from __future__ import annotations

import functools
from typing import Any

from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.metrics import MetricWrapperBase

# Seconds: from a cached read to a slow provider call.
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

HTTP_REQUESTS = Counter(
    "automation_http_requests_total", "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "automation_http_request_duration_seconds", "Time to answer an HTTP request (a stream: its lifetime).",
    ["method", "route"], buckets=_LATENCY_BUCKETS,
)
COMMANDS_HANDLED = Counter(
    "automation_commands_handled_total",
    "Commands the pipeline decided, by type and outcome (accepted, refused, duplicate, dropped...).",
    ["type", "outcome"],
)
RUN_TRANSITIONS = Counter(
    "automation_run_transitions_total", "Runs entering a status, as recorded in the event store.", ["status"],
)
RUNS = Gauge("automation_runs", "Runs in the pipeline's planner table, by status (sampled).", ["status"])
ITEMS_PROCESSED = Counter("automation_items_processed_total", "Items a stage processed.", ["stage"])
ITEMS_FAILED = Counter("automation_items_failed_total", "Items a stage failed.", ["stage"])
AI_LATENCY = Histogram(
    "automation_ai_call_duration_seconds", "AI provider calls, by stage, provider and outcome (ok, error, cancelled).",
    ["stage", "provider", "outcome"], buckets=_LATENCY_BUCKETS,
)
AI_TOKENS = Counter(
    "automation_ai_tokens_total", "Tokens the AI provider reported, by kind (prompt, completion).",
    ["stage", "provider", "kind"],
)
AI_IMAGES = Counter("automation_ai_images_total", "Images the AI provider generated.", ["provider"])
# Recorded by the rate-limited provider (services/pipeline/adapters/ai/rate_limited.py).
AI_SLOTS_MISSED = Counter(
    "automation_ai_slots_missed_total",
    "Rate-limit slots given up because the call woke too late after them (each stays spent).", ["provider"],
)
AI_RATE_LIMITED = Counter(
    "automation_ai_rate_limited_total", "429s the AI provider answered behind the shared rate limit.", ["provider"],
)
CREDITS_CHARGED = Counter("automation_credits_charged_total", "Credits debited for AI work, by stage.", ["stage"])
EVENTS_RELAYED = Counter("automation_events_relayed_total", "Events the outbox relay published to Kafka.")
OUTBOX_LAG = Gauge("automation_outbox_lag_events", "Events stored but not yet relayed to Kafka (sampled).")
CONSUMER_LAG = Gauge(
    "automation_consumer_lag_messages", "Messages on the topic after the group's committed offset (sampled).",
    ["group", "topic", "partition"],
)
EVENTS_PROJECTED = Counter("automation_events_projected_total", "Events the projector wrote (new ones only).")
PROJECTION_LAG = Gauge(
    "automation_projection_lag_seconds",
    "Age of the newest event of the last batch the projector wrote, when it wrote it.",
)
SCHEDULER_TICKS = Counter("automation_scheduler_ticks_total", "Scheduler ticks, by outcome (ok, error).", ["outcome"])
# Incremented wherever a command or an event is set aside instead of being applied.
DEAD_LETTERS = Counter(
    "automation_dead_letters_total", "Commands and events set aside, by source (commands, events) and reason.",
    ["source", "reason"],
)


@functools.cache
def series(metric: MetricWrapperBase, *labels: str) -> Any:
    """``metric.labels(*labels)``, looked up once, for a series recorded per item or per call:
    prometheus-client builds the key and takes a lock at every ``labels`` call, and answers the
    same child each time (no series here is ever removed). Still made at its first use, so no
    series shows before it has a value."""
    return metric.labels(*labels)
