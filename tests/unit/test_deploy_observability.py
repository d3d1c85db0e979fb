"""deploy/ follows the code: the dashboard asks only for series the services record, and the
scrape config targets each process's default metrics port."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from prometheus_client import REGISTRY

import shared.observability.metrics  # noqa: F401 (registers the series)
from shared.infra.settings import DEFAULT_METRICS_PORTS
from tests.support.stack import ROOT

pytestmark = pytest.mark.unit
DEPLOY = ROOT / "deploy"


def test_the_dashboard_queries_only_recorded_series() -> None:
    dashboard = json.loads((DEPLOY / "grafana/dashboards/automation.json").read_text())
    queried = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"automation_\w+", target["expr"])}
    recorded = {sample.name for family in REGISTRY.collect() for sample in family.samples} | {
        family.name for family in REGISTRY.collect()}
    suffixed = {f"{name}_{suffix}" for name in recorded for suffix in ("bucket", "count", "sum", "total")}
    assert queried and queried <= recorded | suffixed, queried - recorded - suffixed


def test_the_scrape_config_targets_every_process() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    targets = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert targets["automation-api"] == ["api:8000"]
    for process, port in DEFAULT_METRICS_PORTS.items():
        assert targets[f"automation-{process}"] == [f"{process}:{port}"]
