"""``automation demo --serve``: after the demo, the real API over the embedded database.

The same app the demo talked to, now on API_HOST:API_PORT, with the whole embedded stack
still running behind it: reads, and ``run_now``/pause/resume/cancel through the in-process
bus. It shares the demo's event loop, so the pipeline keeps running between requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket

import uvicorn
from fastapi import FastAPI
from rich.console import Console

from services.demo.client import Tenant


class DemoServer:
    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        # The stack entered the app's lifespan already: uvicorn must not run it a second time.
        self.server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, lifespan="off",
                                                    log_level="warning"))
        self.host, self.port = host, port
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        with socket.socket() as probe:  # uvicorn would exit the whole process on a taken port
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((self.host, self.port))
        self._task = asyncio.create_task(self.server.serve(), name="demo-api")
        while not self.server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.05)

    async def wait(self) -> None:
        if self._task is not None:
            await self._task

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def serve_until_interrupted(app: FastAPI, tenant: Tenant, console: Console, host: str, port: int) -> None:
    server = DemoServer(app, host, port)
    try:
        await server.start()
    except OSError as error:
        console.print(f"[red]could not serve on {host}:{port}[/red] ({error.strerror}; set API_PORT)")
        return
    site, auth = f"site_id={tenant.site_id}", f"-H 'Authorization: Bearer {tenant.token}'"
    # soft_wrap: the token and the commands stay whole, to copy and paste.
    console.print(f"\nServing the API on [cyan]{server.url}[/cyan] (OpenAPI: {server.url}/docs) until Ctrl-C.",
                  f"  the sample account's owner token: {tenant.token}",
                  f"  curl {auth} '{server.url}/api/v1/automation/history?{site}'",
                  f"  curl -XPOST {auth} '{server.url}/api/v1/automation/run_now?{site}'",
                  sep="\n", soft_wrap=True)
    await server.wait()
