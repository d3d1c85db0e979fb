"""The fault suite's own PostgreSQL and Kafka, one stack of real processes on them, and the
figures each scenario records (printed at the end, and written to .run/faults-report.json)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from tests.faults.checks import Figures
from tests.faults.private_kafka import PrivateKafka
from tests.faults.private_postgres import PrivatePostgres
from tests.support.client import Api
from tests.support.stack import ROOT, Stack

REPORT = ROOT / ".run" / "faults-report.json"
FIGURES: list[Figures] = []


class Faults:
    """What a scenario needs: the stack, its API, and the servers to break under it."""

    def __init__(self, stack: Stack, postgres: PrivatePostgres, kafka: PrivateKafka) -> None:
        self.stack, self.postgres, self.kafka = stack, postgres, kafka
        self.api = Api(stack.base_url)

    def restart_process(self, label: str) -> None:
        module = {"pipeline": "services.pipeline", "projector": "services.projector"}[label]
        self.stack.kill(label)
        self.stack.start_process(label, module)


# Per module: the private servers go away as soon as the scenarios are done.
@pytest.fixture(scope="module")
def faults() -> Iterator[Faults]:
    # Not pytest's tmp_path: the server runs as another user, who must reach its directory.
    root = Path(tempfile.mkdtemp(prefix="automation-faults-"))
    root.chmod(0o755)
    postgres, kafka = PrivatePostgres(root / "postgres"), PrivateKafka(root / "kafka")
    try:
        postgres.init().start()
        postgres.add_app_role()
        kafka.init().start()
        # Every AI call takes 250 ms so that a run lasts long enough to be hit mid-run;
        # a short session timeout moves a killed pipeline's sites quickly.
        with Stack("faults", server=postgres.url, app_server=postgres.app_url, KAFKA_BOOTSTRAP_SERVERS=kafka.bootstrap,
                   OFFLINE_AI_LATENCY_MS="250", KAFKA_SESSION_TIMEOUT_MS="2000") as stack:
            yield Faults(stack, postgres, kafka)
    finally:
        kafka.stop()
        postgres.destroy()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def figures() -> list[Figures]:
    return FIGURES


def pytest_terminal_summary(terminalreporter) -> None:
    if not FIGURES:
        return
    rows = [figure.as_dict() for figure in FIGURES]
    totals = {key: sum(row[key] for row in rows) for key in rows[0] if key != "scenario"}
    totals["seconds"] = round(totals["seconds"], 1)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps({"scenarios": rows, "totals": totals}, indent=2) + "\n")
    terminalreporter.section("fault injection")
    for row in rows:
        terminalreporter.line(Figures.line(row))
    terminalreporter.line(f"totals: {json.dumps(totals)}  (written to {REPORT.relative_to(ROOT)})")
