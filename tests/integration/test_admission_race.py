"""Two pipeline processes deciding StartRuns for one site at once admit exactly one."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from services.pipeline.adapters.event_store import RunStore
from services.pipeline.application.commands import CommandHandlers
from shared.events.commands import StartRun
from shared.infra.settings import Settings
from tests.support.stack import SESSION, drop_database, migrated_database

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def database_url():
    name = f"automation_test_race_{SESSION}"
    url = migrated_database(name)
    yield url
    drop_database(name)


def _tenant(url: str, credits: int, sites: int) -> tuple[str, list[str]]:
    account = str(uuid.uuid4())
    site_ids = [str(uuid.uuid4()) for _ in range(sites)]
    with psycopg.connect(url) as conn:
        conn.execute("INSERT INTO accounts (id, name, credits) VALUES (%s, 'race', %s)", (account, credits))
        for site in site_ids:
            conn.execute("INSERT INTO sites (id, account_id, name, domain) VALUES (%s, %s, 's', 'd')", (site, account))
            for n in range(10):
                conn.execute("INSERT INTO keywords (id, site_id, keyword, keyword_norm) VALUES (%s, %s, %s, %s)",
                             (str(uuid.uuid4()), site, f"kw {n}", f"kw {n}"))
    return account, site_ids


def _race(url: str, commands: list[StartRun]) -> list[str]:
    """Each command decided by its own store (own pool and cache), as separate processes would."""
    handlers = [CommandHandlers(RunStore.from_settings(Settings(database_url=url))) for _ in commands]
    with ThreadPoolExecutor(len(commands)) as pool:
        decisions = list(pool.map(lambda pair: pair[0].handle(pair[1]), zip(handlers, commands)))
    for h in handlers:
        h.store.close()
    return [d.error_code or d.outcome for d in decisions]


def test_concurrent_starts_for_one_site_admit_exactly_one(database_url: str) -> None:
    for _ in range(5):
        account, (site,) = _tenant(database_url, 100_000, 1)
        commands = [StartRun(site_id=site, account_id=account, run_id=str(uuid.uuid4())) for _ in range(4)]
        outcomes = _race(database_url, commands)
        assert sorted(outcomes) == ["accepted", "run_active", "run_active", "run_active"]


def test_two_sites_racing_for_the_same_credits_cannot_both_start(database_url: str) -> None:
    # 10 keywords cost 2+2+... ; find what one site needs, then fund one and a half of it.
    account, (probe,) = _tenant(database_url, 100_000, 1)
    handlers = CommandHandlers(RunStore.from_settings(Settings(database_url=database_url)))
    probe_run = StartRun(site_id=probe, account_id=account, run_id=str(uuid.uuid4()))
    assert handlers.handle(probe_run).outcome == "accepted"
    with psycopg.connect(database_url) as conn:
        required = conn.execute("SELECT reserved FROM accounts WHERE id = %s", (account,)).fetchone()[0]
    handlers.store.close()

    for _ in range(5):
        account, sites = _tenant(database_url, required + required // 2, 2)
        commands = [StartRun(site_id=site, account_id=account, run_id=str(uuid.uuid4())) for site in sites]
        assert sorted(_race(database_url, commands)) == ["accepted", "insufficient_credits"]
        with psycopg.connect(database_url) as conn:
            credits, reserved = conn.execute("SELECT credits, reserved FROM accounts WHERE id = %s", (account,)).fetchone()
        assert reserved == required <= credits
