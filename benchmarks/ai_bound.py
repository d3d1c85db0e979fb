"""AI-bound runs: with the offline AI at 200 ms a call, how close does a run come to the
time its calls need at ``ai_concurrency`` 1, 4 and 16?

ideal = ⌈calls ÷ concurrency⌉ × 200 ms per AI stage (calls × 200 ms ÷ concurrency when the
calls fill whole waves; fewer calls than the concurrency still take one call's time), and
the sum of those for the whole run. Stage 1 makes one call per batch of
``stage_1_batch_size`` keywords, one at a time by its own rule (each batch's clustering
merges into the clusters of the batches before it, docs/ARCHITECTURE.md), so its ideal is
calls × 200 ms at any concurrency; the other AI stages make one call per item; stages 3 and 7
make none and count only in the whole run's wall time. Wall times are the read model's
``started_at``/``completed_at`` of each stage and of the run.

Each measured run follows one that is not measured. The first run after a
start pays once for what a process then keeps: its pools' connections, each statement
prepared on each of them, code imported on first use. That is 20-25 ms more in the first
stage (0.45 s against 0.42-0.43 s for stage 1 at concurrency 1, same machine, same sitting),
which in a stage of two 200 ms calls reads as 1.12 × instead of 1.06 ×.
"""

from __future__ import annotations

import math
from typing import Any

from benchmarks.figures import Figure, Measurement, not_available
from benchmarks.fixtures import Unsupported, ai_stages, seconds, set_ai_concurrency, site_with_keywords, wait_finished
from benchmarks.session import Session
from shared.stages import BY_NUMBER
from tests.support.client import Api

LATENCY_MS = 200
KEYWORDS = 40
CONCURRENCIES = (1, 4, 16)
WARM_UP_KEYWORDS = 10  # the unmeasured run before each measured one (the docstring says why)


def stack(session: Session):
    return session.stack("ai200", OFFLINE_AI_LATENCY_MS=str(LATENCY_MS))


def _warm_up(api: Api) -> None:
    tenant = site_with_keywords(api, WARM_UP_KEYWORDS)
    wait_finished(api, tenant, api.start_run(tenant), timeout=120)


def _calls(stage: int, result: dict[str, Any], config: dict[str, Any]) -> int:
    items = result["items_processed"] + result["items_failed"]
    definition = BY_NUMBER[stage]
    return math.ceil(items / definition.batch_size(config)) if definition.per_batch else items


def _ideal(calls: int, concurrency: int) -> float:
    return math.ceil(calls / concurrency) * LATENCY_MS / 1000


def stage_ratios(run: dict[str, Any], config: dict[str, Any], concurrency: int) -> dict[int, dict[str, float]]:
    ratios = {}
    for stage in ai_stages():
        result = run["stage_results"].get(str(stage))
        if not result or not result["completed_at"]:
            continue
        calls = _calls(stage, result, config)
        if calls == 0:
            continue
        wall = seconds(result["completed_at"]) - seconds(result["started_at"])
        ideal = _ideal(calls, 1 if BY_NUMBER[stage].per_batch else concurrency)
        ratios[stage] = {"calls": calls, "wall_s": round(wall, 3), "ideal_s": ideal, "ratio": round(wall / ideal, 2)}
    return ratios


def _keys(concurrency: int) -> list[tuple[str, str, str]]:
    name = f"AI 200 ms, ai_concurrency {concurrency}"
    return [(f"ai_bound.c{concurrency}.run", f"{name}: whole run wall ÷ ideal", "×"),
            (f"ai_bound.c{concurrency}.worst_stage", f"{name}: worst AI stage wall ÷ ideal", "×")]


def measure(session: Session, concurrency: int) -> list[Figure]:
    api = Api(stack(session).base_url)
    _warm_up(api)
    tenant = site_with_keywords(api, KEYWORDS)
    label = ""
    try:
        set_ai_concurrency(api, tenant, concurrency)
    except Unsupported:
        if concurrency != 1:
            return [not_available(*key, "ai_concurrency not supported") for key in _keys(concurrency)]
        label = "ai_concurrency not supported: the pipeline's own (serial) pace; "
    config = api.call(tenant.token, "GET", "/api/v1/automation/config", params={"site_id": tenant.site_id}).json()
    run = wait_finished(api, tenant, api.start_run(tenant), timeout=300)
    stages = stage_ratios(run, config, concurrency)
    wall = seconds(run["completed_at"]) - seconds(run["started_at"])
    ideal = sum(s["ideal_s"] for s in stages.values())
    calls = sum(s["calls"] for s in stages.values())
    worst = max(stages.items(), key=lambda item: item[1]["ratio"])
    listing = ", ".join(f"s{n} {s['ratio']:g} ({s['calls']} calls)" for n, s in stages.items())
    extra = {"stages": stages, "wall_s": round(wall, 2), "ideal_s": ideal, "status": run["status"]}
    (run_key, run_name, unit), (worst_key, worst_name, _) = _keys(concurrency)
    return [
        Figure(run_key, run_name, round(wall / ideal, 2), unit, 1,
               f"{label}{KEYWORDS} keywords, {calls} calls, {wall:.1f} s for an ideal {ideal:.1f} s, run {run['status']}",
               extra=extra),
        Figure(worst_key, worst_name, worst[1]["ratio"], unit, len(stages), f"{label}{listing}", extra=extra),
    ]


MEASUREMENTS = [Measurement(f"AI-bound at ai_concurrency {c}", lambda session, c=c: measure(session, c), _keys(c))
                for c in CONCURRENCIES]
