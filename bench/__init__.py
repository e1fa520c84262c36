"""Benchmarks; run them as modules, e.g. `python -m bench.outbox_rate`."""
