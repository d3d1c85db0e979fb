"""The API's HTTP server: uvicorn, told to end the open event streams when it is asked to stop.

On SIGTERM uvicorn waits for every open response to finish before it stops, and an
event stream never finishes by itself: without this, a dashboard left open would hold
the API's shutdown until it is killed.
"""

from __future__ import annotations

from types import FrameType

import uvicorn
from fastapi import FastAPI


class ApiServer(uvicorn.Server):
    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        super().__init__(uvicorn.Config(app, host=host, port=port, log_level="info",
                                        # our handler (shared/observability/logs.py), not uvicorn's
                                        log_config=None))
        self.app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        self.app.state.stream_hub.close_streams()
