"""``automation demo --serve``: the read-only demo API in a thread beside the embedded run.

A thread of its own, with its own event loop, so HTTP answers stay quick while the
pipeline's loop is busy (the offline AI draws its PNGs on that loop).
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

import uvicorn
from rich.console import Console

from services.demo.read_api import create_read_app
from services.demo.sample import Sample
from shared.infra.settings import get_settings


class DemoServer:
    def __init__(self, console: Console, host: str | None = None, port: int | None = None) -> None:
        settings = get_settings()
        self.console = console
        self.host = host or settings.api_host
        self.port = port if port is not None else settings.api_port
        self.token = secrets.token_urlsafe(24)
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, db_path: Path, sample: Sample) -> None:
        app = create_read_app(db_path, sample.account_id, self.token)
        self.server = uvicorn.Server(uvicorn.Config(app, host=self.host, port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, name="demo-api", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self.server.started:
            self.console.print(f"[red]could not serve on {self.url}[/red] (port taken? set API_PORT); carrying on without it")
            return
        run_url = f"{self.url}/api/v1/automation/current_run?site_id={sample.site_id}"
        self.console.print(f"Serving the read-only demo API on [cyan]{self.url}[/cyan] (OpenAPI: {self.url}/docs)")
        self.console.print(f"  curl -H 'Authorization: Bearer {self.token}' '{run_url}'")

    def serve_until_interrupted(self) -> None:
        if self.server is None or not self.server.started:
            return
        self.console.print(f"Still serving on {self.url}; press Ctrl-C to stop.")
        try:
            while self.thread is not None and self.thread.is_alive():
                self.thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.server.should_exit = True
            if self.thread is not None:
                self.thread.join(5)
