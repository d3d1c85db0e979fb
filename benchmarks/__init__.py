"""Benchmarks (``make bench`` / ``python -m benchmarks``): figures printed, nothing asserted."""
