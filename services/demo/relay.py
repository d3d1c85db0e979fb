"""The embedded event bus: the store's notification log, relayed in-process to the projector.

It stands in for outbox relay + Kafka + projector process: each run event becomes the
same wire envelope the outbox relay publishes (``shared.events.events.envelope``) and is projected
by the same pure functions. The projected views and the relay's position commit in one
transaction, so a restart carries on where it stopped and re-reading is harmless.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.pipeline.adapters.event_store import RunStore
from shared.events.events import envelope
from services.pipeline.domain.run import RunEvent, RunStarted
from services.projector.sqlite_writer import project

BATCH = 500
IDLE_SECONDS = 0.05
POSITION_NAME = "read-models"


class InProcessRelay:
    def __init__(self, store: RunStore) -> None:
        self.store = store
        self._owners: dict[str, tuple[str, str]] = {}

    def relay_once(self) -> int:
        """Project the events recorded since the last call; returns how many notifications were read."""
        position = self.position()
        notifications = self.store.recorder.select_notifications(position, BATCH, inclusive_of_start=False)
        if not notifications:
            return 0
        with self.store.cursor(commit=True) as cur:
            for notification in notifications:
                event = self.store.mapper.to_domain_event(notification)
                if isinstance(event, (RunEvent, RunStarted)):
                    project(cur, envelope(event, *self._owner(cur, event)))
            cur.execute(
                "INSERT INTO projection_position (name, position) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                (POSITION_NAME, notifications[-1].id),
            )
        return len(notifications)

    def position(self) -> int:
        with self.store.cursor() as cur:
            cur.execute("SELECT position FROM projection_position WHERE name = ?", (POSITION_NAME,))
            row = cur.fetchone()
        return int(row["position"]) if row else 0

    async def run(self) -> None:
        """Relay until cancelled."""
        while True:
            if not await asyncio.to_thread(self.relay_once):
                await asyncio.sleep(IDLE_SECONDS)

    async def catch_up(self) -> None:
        while await asyncio.to_thread(self.relay_once):
            pass

    def _owner(self, cur: Any, event: Any) -> tuple[str, str]:
        run_id = str(event.originator_id)
        if isinstance(event, RunStarted):
            self._owners[run_id] = (event.data["site_id"], event.data["account_id"])
        if run_id not in self._owners:  # started before this relay did: pipeline_runs knows
            cur.execute("SELECT site_id, account_id FROM pipeline_runs WHERE run_id = ?", (run_id,))
            row = cur.fetchone()
            self._owners[run_id] = (row["site_id"], row["account_id"])
        return self._owners[run_id]
