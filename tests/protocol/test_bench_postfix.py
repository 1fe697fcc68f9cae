"""The Postfix benchmark in its quick mode: a few small messages of the mix through bare
Postfix, the no-op milter and the gateway. Checks the result's shape and that the gateway
decided every message it was sent (speed is the benchmark's business, not this test's)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.lab import unavailable_reason

pytestmark = pytest.mark.postfix


def test_quick_run_writes_a_sane_result(tmp_path: Path) -> None:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    from bench import bench_postfix

    out = tmp_path / "results"
    result = bench_postfix.main(["--quick", "--count", "10", "--clients", "4", "--out", str(out)])
    assert result is not None
    saved = json.loads((out / "postfix-mix.json").read_text(encoding="utf-8"))
    assert saved["messages"] == 10 and saved["corpus"] == "mix"
    assert (out / "postfix-mix.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    phases = {p["phase"]: p for p in saved["phases"]}
    assert list(phases) == ["postfix", "noop", "gateway"]
    for p in phases.values():
        assert p["msg_per_s"] > 0 and not p["errors"], p
        # every message got a final reply in every phase
        assert sum(p["replies"].values()) == 10, p
        assert p["reply_ms"]["p50"] <= p["reply_ms"]["p95"] <= p["reply_ms"]["p99"]
    assert phases["postfix"]["replies"] == {"250": 10}
    assert phases["noop"]["replies"] == {"250": 10}

    gw = phases["gateway"]
    dec = gw["decisions"]
    assert dec["decided"] == dec["expected"] == 10, dec
    assert sum(dec["verdicts"].values()) == 10
    assert sum(k["n"] for k in dec["by_kind"].values()) == 10
    # signed documents made by the test signer are trusted by the gateway of the run
    assert dec["verdicts"].get("valid", 0) >= 1, dec
    assert gw["peak_rss_mib"]["main"] > 0 and gw["peak_rss_mib"]["largest_child"] > 0
    assert gw["process_cpu_ms_per_msg"] > 0

    ratios = saved["ratios"]
    assert ratios["gateway_to_postfix"] == pytest.approx(
        gw["msg_per_s"] / phases["postfix"]["msg_per_s"], rel=0.01)
    stages = saved["profile"]["stages_s"]
    assert saved["profile"]["messages"] == 10
    assert "intake.mime.walk_message" in stages and "text.message.check_message" in stages
    assert saved["machine"]["nproc"] >= 1
