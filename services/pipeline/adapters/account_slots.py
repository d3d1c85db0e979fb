"""The account slots port on PostgreSQL: leases counted under the account's row lock."""

from __future__ import annotations

from services.pipeline.adapters.event_store import RunStore
from services.pipeline.application.ports import SideWrite


class PgAccountSlots:
    def __init__(self, store: RunStore) -> None:
        self.store = store

    def lease(self, account_id: str, holder: str, wanted: int, ttl_seconds: float) -> int:
        # One statement, its own transaction: the function locks the account's row, and its
        # writes commit as it returns.
        with self.store.statements() as cur:
            cur.execute("SELECT lease_ai_slots(%s, %s, %s, %s) AS granted", (account_id, holder, wanted, ttl_seconds),
                        prepare=True)
            return int(cur.fetchone()["granted"])

    def give_back(self, account_id: str, holder: str) -> SideWrite:
        return "SELECT lease_ai_slots(%s, %s, 0, 0)", (account_id, holder)
