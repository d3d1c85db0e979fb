"""``automation demo`` / ``make demo``: the whole seven-stage pipeline for a sample site.

Embedded by default: production's parts on a private PostgreSQL under ``demo-output/``
(see ``services/demo/embedded.py``), driven through the real API app in this process.
Each run adds a new sample account and site, so a kept database always has work to do.
``--serve`` then serves that API; ``--external`` tells the same story to the running
services (see ``services/demo/external.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx
from rich.console import Console

from services.demo.client import Client, Tenant, create_tenant, run_to_end
from services.demo.embedded import EmbeddedStack, embedded_stack
from services.demo.outputs import describe, export
from services.demo.summary import Outputs, print_summary

@dataclass
class DemoResult:
    run: dict[str, Any]
    tenant: Tenant
    outputs: Outputs
    wall_seconds: float
    database_url: str


AfterDemo = Callable[[EmbeddedStack, DemoResult], Awaitable[None]]


async def run_embedded(out_dir: Path, console: Console, keyword_limit: int | None = None,
                       after: AfterDemo | None = None) -> DemoResult:
    """The demo, its summary printed; ``after`` runs before the stack stops (``--serve``, tests)."""
    started = time.monotonic()
    async with embedded_stack(out_dir) as stack:
        console.print(f"PostgreSQL 18 (embedded) on 127.0.0.1:{stack.server.port}, data in"
                      f" {stack.server.data_dir}: ready after {time.monotonic() - started:.1f} s")
        transport = httpx.ASGITransport(app=stack.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://embedded", timeout=60) as http:
            client = Client(http, stack.settings.automation_admin_token.get_secret_value())
            tenant = await create_tenant(client, keyword_limit)
            console.print(f"Sample account with {tenant.credits} credits; site with {tenant.keywords} keywords.")
            run = await run_to_end(client, tenant.site_id, console, stack.check)
        names = await export(stack.parts.pool, tenant, out_dir)
        outputs = await describe(stack.parts.pool, tenant, out_dir, stack.server.data_dir, names)
        result = DemoResult(run, tenant, outputs, time.monotonic() - started, stack.settings.database_url)
        print_summary(console, run, result.wall_seconds, outputs)
        if after is not None:
            await after(stack, result)
    return result


def run_demo(args: argparse.Namespace) -> int:
    console = Console()
    if getattr(args, "external", False):
        from services.demo.external import run_external

        return run_external(args, console)
    after, served = None, []
    if getattr(args, "serve", False):
        from services.demo.serve import serve_until_interrupted

        async def after(stack: EmbeddedStack, result: DemoResult) -> None:
            served.append(result)
            settings = stack.settings
            await serve_until_interrupted(stack.app, result.tenant, console, settings.api_host, settings.api_port)

    out_dir = Path(getattr(args, "output", None) or "demo-output")
    try:
        result = asyncio.run(run_embedded(out_dir, console, getattr(args, "keywords", None), after))
    except KeyboardInterrupt:  # the stack has stopped by now, its server too
        if not served:
            return 130  # the demo itself was interrupted
        result = served[0]  # Ctrl-C is how --serve ends
    return 0 if result.run["status"] == "completed" else 1
