"""`make test` runs the schemathesis CLI, as an outside client would, against a live stack:
every check (`--checks all`), with a real site and run id, and 0 failures. The config
(tests/e2e/schemathesis.toml) excludes only the contract's 400 state conflicts, each with
its reason."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.client import Api
from tests.support.keywords import keyword_set
from tests.support.stack import ROOT, Stack

pytestmark = pytest.mark.e2e
CONFIG = Path(__file__).with_name("schemathesis.toml")
ST = Path(sys.executable).with_name("st")


@pytest.fixture(scope="module")
def live() -> Iterator[Stack]:
    # The fuzzer sends hundreds of run_now and control requests from one account.
    with Stack("schemathesis", API_RATE_LIMIT_PER_MINUTE="100000") as stack:
        yield stack


def test_the_schemathesis_cli_finds_no_failure(live: Stack) -> None:
    api = Api(live.base_url)
    tenant = api.tenant()
    api.import_keywords(tenant, keyword_set(topics=1, per_topic=3))
    api.configure(tenant, within_stage_delay=0, between_stage_delay=0)
    run_id = api.run_now(tenant).json()["run_id"]
    api.wait_status(tenant, run_id, "completed")
    image_id = api.listing(tenant, "images")["items"][0]["id"]
    env = {**os.environ, "ST_TOKEN": tenant.token, "ST_SITE_ID": tenant.site_id, "ST_RUN_ID": run_id,
           "ST_IMAGE_ID": image_id, "NO_COLOR": "1"}
    result = subprocess.run(
        [str(ST), "--config-file", str(CONFIG), "run", f"{live.base_url}/openapi.json", "--checks", "all"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-20000:] + result.stderr[-5000:]
