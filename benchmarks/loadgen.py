"""A load generator in its own process: sends requests at a fixed rate, whatever the answers
take (open loop: a slow answer does not delay the next request), and prints each answer's
latency as JSON.

Reads its plan as JSON on stdin: ``{"base_url": ..., "rate": requests per second,
"requests": [{"method": ..., "path": ..., "params": {...}, "token": ...}, ...]}``.
Prints ``{"seconds": [...], "statuses": [...], "wall": s, "late_max": s}``; ``late_max`` is
the longest a request left after its scheduled moment (this process falling behind).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

import httpx


async def _send(client: httpx.AsyncClient, request: dict[str, Any]) -> tuple[float, int]:
    started = time.perf_counter()
    try:
        answer = await client.request(request["method"], request["path"], params=request.get("params"),
                                      headers={"Authorization": f"Bearer {request['token']}"})
        status = answer.status_code
    except httpx.HTTPError:
        status = 0
    return time.perf_counter() - started, status


async def run(plan: dict[str, Any]) -> dict[str, Any]:
    interval = 1 / plan["rate"]
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=plan["base_url"], timeout=60, limits=limits) as client:
        tasks, late_max = [], 0.0
        started = time.perf_counter()
        for index, request in enumerate(plan["requests"]):
            due = started + index * interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            late_max = max(late_max, time.perf_counter() - due)
            tasks.append(asyncio.create_task(_send(client, request)))
        answers = await asyncio.gather(*tasks)
        wall = time.perf_counter() - started
    return {"seconds": [a[0] for a in answers], "statuses": [a[1] for a in answers], "wall": wall,
            "late_max": late_max}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.load(sys.stdin)))))
