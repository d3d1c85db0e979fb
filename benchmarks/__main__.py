"""``python -m benchmarks``: run every benchmark and print its figures."""

from __future__ import annotations

from benchmarks import api_latency, pipeline_throughput

BENCHMARKS = (api_latency, pipeline_throughput)


def main() -> None:
    for benchmark in BENCHMARKS:
        benchmark.main([])


if __name__ == "__main__":
    main()
