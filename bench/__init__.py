"""Benchmarks: each ``bench_*.py`` measures a target as a ratio against a baseline run in the
same process, because these machines are noisy. Run all with ``python -m bench`` or one with
``python -m bench NAME``."""
