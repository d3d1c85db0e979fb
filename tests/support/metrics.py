"""Reading a Prometheus /metrics page in tests."""

from __future__ import annotations

import time
from typing import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(url: str) -> Samples:
    answer = httpx.get(url, timeout=5)
    answer.raise_for_status()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum over the series of ``name`` whose labels include ``labels`` (0 if none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def has(samples: Samples, name: str, **labels: str) -> bool:
    wanted = set(labels.items())
    return any(n == name and wanted <= ls for (n, ls) in samples)


def wait_for(url: str, check: Callable[[Samples], bool], timeout: float = 60.0) -> Samples:
    """Scrapes until ``check`` holds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            samples = scrape(url)
        except httpx.TransportError:  # a process still starting
            samples = None
        if samples is not None and check(samples):
            return samples
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}: condition not met in {timeout}s")
        time.sleep(0.2)
