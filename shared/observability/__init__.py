"""Metrics, traces and logs, the same way in every process (docs/OBSERVABILITY.md)."""
