"""The API starts ready for a burst of requests: every pooled connection already open (none is
opened while requests queue behind it), and what start-up built frozen out of the garbage
collector (a full collection walking it held the event loop for 0.1-0.3 s mid-burst)."""

from __future__ import annotations

import gc

import pytest

from services.api.entrypoints.app import POOL_SIZE, create_app
from shared.infra.settings import Settings
from tests.support.stack import SESSION, app_database_url, drop_database, migrated_database

pytestmark = pytest.mark.integration


async def _no_pipeline(_command: object) -> None:
    raise AssertionError("nothing is sent")


async def test_the_api_starts_with_its_pool_open_and_its_start_up_frozen() -> None:
    name = f"automation_test_api_start_{SESSION}"
    migrated_database(name)
    app = create_app(Settings(database_url=app_database_url(name)), send_command=_no_pipeline)
    try:
        async with app.router.lifespan_context(app):
            assert app.state.pool.get_size() == POOL_SIZE
            assert app.state.pool.get_idle_size() == POOL_SIZE
            # The collector's generations now hold only what was made since: far less than was frozen.
            assert gc.get_freeze_count() > 10 * len(gc.get_objects())
    finally:
        gc.unfreeze()  # this test process's objects go back to its collector
        drop_database(name)
