"""`automation demo --external`: the same demo through the running services (HTTP, Kafka, PostgreSQL)."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from urllib.parse import urlparse

import pytest
from rich.console import Console

from services.demo.external import run_external
from shared.infra.settings import Settings
from tests.support.stack import ADMIN_TOKEN, Stack

pytestmark = pytest.mark.e2e


def test_the_external_demo_runs_the_whole_pipeline(stack: Stack, tmp_path: Path) -> None:
    url = urlparse(stack.base_url)
    settings = Settings(api_host=url.hostname, api_port=url.port, automation_admin_token=ADMIN_TOKEN)
    args = argparse.Namespace(external=True, serve=False, keywords=15, output=str(tmp_path))
    output = io.StringIO()

    assert run_external(args, Console(file=output, width=160), settings) == 0, output.getvalue()
    assert "completed" in output.getvalue()
    pngs = list((tmp_path / "images").glob("*.png"))
    assert len(pngs) == 1 and pngs[0].read_bytes().startswith(b"\x89PNG")


def test_the_external_demo_says_what_to_start_when_nothing_answers(tmp_path: Path) -> None:
    settings = Settings(api_host="127.0.0.1", api_port=9, automation_admin_token=ADMIN_TOKEN)
    args = argparse.Namespace(external=True, serve=False, keywords=5, output=str(tmp_path))
    output = io.StringIO()
    assert run_external(args, Console(file=output, width=160), settings) == 2
    assert "make up" in output.getvalue()
