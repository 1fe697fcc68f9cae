"""The Postfix benchmark's percentiles and its line on the ~1 MB signed Office documents, on
literal values (the benchmark itself runs through Postfix: tests/protocol)."""

from __future__ import annotations

from bench.bench_postfix import P99_SAMPLES, office_line, pct


def summary(values: list[float]) -> dict[str, float]:
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95),
            "p99": pct(values, 99), "max": max(values)}


def test_pct_takes_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 121)]  # 1 … 120
    assert pct(values, 50) == 60.0
    assert pct(values, 99) == 119.0  # the second slowest of 120
    assert pct(list(reversed(values)), 99) == 119.0
    assert pct([5.0] * 15 + [300.0], 99) == 300.0  # of 16, the slowest
    assert pct([], 99) == 0.0


def test_fewer_than_p99_samples_are_not_judged_against_the_target() -> None:
    few = [20.0] * 14 + [400.0]
    line = office_line(summary(few))
    assert "p99 400.0 ms over 15" in line
    assert "the slowest of them" in line and "--count 1000" in line
    assert "met" not in line and "MISSED" not in line


def test_enough_samples_are_judged_against_250_ms() -> None:
    fast = [30.0] * (P99_SAMPLES + 20)
    fast[-1] = 900.0  # one slow message in 120 is above the p99
    assert office_line(summary(fast)).endswith("(target p99 ≤ 250 ms: met)")
    slow = fast[:-2] + [260.0, 900.0]
    line = office_line(summary(slow))
    assert "p99 260.0 ms over 120" in line and line.endswith("MISSED)")
