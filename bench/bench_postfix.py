"""The gateway's cost inside a real Postfix, as ratios against two baselines of the same run.

One private Postfix (``gateway.lab.Lab``) with three listeners: bare (no milter), a no-op
pymilter (``bench/noop_milter.py``, which takes headers and body like the gateway) and the
gateway. The same corpus (``bench/mailcorpus.py``) is sent to each in turn by ``clients``
concurrent SMTP sessions (``bench/smtpload.py``); after each phase the queue is left to
drain so the phases do not overlap. Reported per phase: msg/s (and its ratio to bare
Postfix and to the no-op milter), client-side reply latency, machine CPU per message; for
the gateway also the decision latency from its decision log (p50/p95/p99, overall and per
kind of message), its own CPU per message (milter + forkserver + workers), its peak RSS
(milter, largest worker, largest sum of the tree) and the verdicts. A per-inspector time
profile is taken in this process with the gateway's ``Checker`` over the same corpus.

    python -m bench postfix                         # default: mix of 200, 8 clients
    python -m bench.bench_postfix --corpus text110k --count 2000
    python -m bench.bench_postfix --quick --out /tmp/b   # a few messages, small sizes

Writes ``postfix-<corpus>.json`` and ``postfix-<corpus>.png`` into ``--out`` (default
``bench/results``). Needs root and Postfix; prints a note and returns otherwise.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import mailcorpus, smtpload  # noqa: E402

TARGETS = {"text110k": 0.5, "mix": 0.3}
OFFICE_P99_MS = 250.0
"""Target for the p99 decision of the ~1 MB signed Office documents under the mix."""
"""Gateway throughput as a share of bare Postfix (issue targets)."""


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return {"nproc": os.cpu_count(), "cpu": model, "memory_mib": mem,
            "python": platform.python_version(), "kernel": platform.release()}


def pct(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def _drain(lab: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if not [e for e in lab.queue() if e.get("queue_name") != "hold"]:
            return True
        lab.flush()
        time.sleep(0.5)
    return False


def run_phase(lab: Any, name: str, port: int, mails: list[mailcorpus.Mail], clients: int,
              meter_pid: int | None) -> dict[str, Any]:
    payloads = [(m.sender, smtpload.prepare(m.data)) for m in mails]
    cpu0 = smtpload.machine_cpu()
    own0 = smtpload.tree_cpu(meter_pid) if meter_pid else 0.0
    main0 = smtpload.own_cpu(meter_pid) if meter_pid else 0.0
    sampler = smtpload.RssSampler(meter_pid) if meter_pid else None
    if sampler:
        sampler.__enter__()
    try:
        load = smtpload.run_load(port, payloads, mailcorpus.RECIPIENT, clients)
    finally:
        if sampler:
            sampler.__exit__()
    cpu = smtpload.machine_cpu() - cpu0
    own = (smtpload.tree_cpu(meter_pid) - own0) if meter_pid else 0.0
    main = (smtpload.own_cpu(meter_pid) - main0) if meter_pid else 0.0
    n = len(mails)
    lat = [s.latency * 1000 for s in load.sent]
    out: dict[str, Any] = {
        "phase": name, "messages": n, "seconds": round(load.wall, 3),
        "msg_per_s": round(n / load.wall, 2) if load.wall else 0.0,
        "replies": dict(Counter(str(s.code) for s in load.sent)),
        "errors": load.errors[:20],
        "reply_ms": {"p50": round(pct(lat, 50), 1), "p95": round(pct(lat, 95), 1),
                     "p99": round(pct(lat, 99), 1)},
        "machine_cpu_ms_per_msg": round(cpu / n * 1000, 2),
    }
    if meter_pid:
        out["process_cpu_ms_per_msg"] = round(own / n * 1000, 2)
        out["milter_cpu_ms_per_msg"] = round(main / n * 1000, 2)  # the root process alone
    if sampler:
        out["peak_rss_mib"] = {"main": round(sampler.root_hwm / 1024, 1),
                               "largest_child": round(sampler.child_hwm / 1024, 1),
                               "tree_sum": round(sampler.tree_peak / 1024, 1)}
    print(f"   {name:8} {out['msg_per_s']:8.1f} msg/s  reply p50 {out['reply_ms']['p50']:7.1f} ms  "
          f"p99 {out['reply_ms']['p99']:7.1f} ms  machine CPU {out['machine_cpu_ms_per_msg']:6.1f} "
          f"ms/msg  replies {out['replies']}", flush=True)
    return out


def decisions(lab: Any, since: datetime, mails: list[mailcorpus.Mail]) -> dict[str, Any]:
    kinds = {f"bench-{i:06d}@stc.daknong.gov.vn": m.kind for i, m in enumerate(mails)}
    sizes = {f"bench-{i:06d}@stc.daknong.gov.vn": len(m.data) for i, m in enumerate(mails)}
    rows: list[Any] = []
    end = time.monotonic() + 30  # the log is written after the reply: wait for the last ones
    while True:
        rows = lab.store().query(since=since)
        got = {(d.message_id or "").strip("<>") for d in rows}
        if len(got & kinds.keys()) >= len(mails) or time.monotonic() > end:
            break
        time.sleep(0.2)
    by_kind: dict[str, list[float]] = defaultdict(list)
    durations: list[float] = []
    verdicts: Counter[str] = Counter()
    seen: set[str] = set()
    docx_1m: list[float] = []
    for d in rows:
        mid = (d.message_id or "").strip("<>")
        if mid not in kinds or mid in seen:
            continue
        seen.add(mid)
        durations.append(d.duration_ms)
        by_kind[kinds[mid]].append(d.duration_ms)
        verdicts[d.verdict] += 1
        if kinds[mid] in ("office", "docx1m") and 700_000 <= sizes[mid] <= 1_800_000:
            docx_1m.append(d.duration_ms)
    summary = lambda v: {"n": len(v), "p50": round(pct(v, 50), 1), "p95": round(pct(v, 95), 1),  # noqa: E731
                         "p99": round(pct(v, 99), 1), "max": round(max(v), 1) if v else 0.0}
    return {
        "decided": len(seen), "expected": len(mails), "verdicts": dict(verdicts),
        "decision_ms": summary(durations),
        "by_kind": {k: summary(v) for k, v in sorted(by_kind.items())},
        "office_about_1mb": summary(docx_1m),
    }


P99_SAMPLES = 100
"""Below this many values a p99 is the slowest of them (``pct`` takes the nearest rank)."""


def office_line(s: dict[str, Any]) -> str:
    """The line for the target on the ~1 MB signed Office documents (``summary`` of them):
    their p99 is judged only over ``P99_SAMPLES`` or more (a mix of 200 has about 15 of
    them, a mix of 1,000 about 120)."""
    head = (f"signed Office documents of 0.7–1.8 MB: decision p50 {s['p50']} ms, p95 "
            f"{s['p95']} ms, p99 {s['p99']} ms over {s['n']}")
    if s["n"] < P99_SAMPLES:
        return (f"{head} (fewer than {P99_SAMPLES}: the p99 is the slowest of them; "
                f"--count 1000 measures it against the target of {OFFICE_P99_MS:g} ms)")
    met = "met" if s["p99"] <= OFFICE_P99_MS else "MISSED"
    return f"{head} (target p99 ≤ {OFFICE_P99_MS:g} ms: {met})"


def inspector_profile(rules_path: Path | None, mails: list[mailcorpus.Mail]) -> dict[str, Any]:
    """Seconds per stage over the corpus, in this process: MIME intake, each inspector, each
    message-level check (wrapped around the registry's functions)."""
    import logging

    import gateway.pipeline as pipeline
    from gateway.intake.mime import Walker
    from gateway.milter.worker import build_checker
    from gateway.model.envelope import Envelope

    root = logging.getLogger()
    root_level = root.level
    root.setLevel(logging.CRITICAL)  # the gateway's log is not measured here
    checker = build_checker(str(rules_path) if rules_path else None, ())
    spent: dict[str, float] = defaultdict(float)

    def timed(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        def inner(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[label] += time.perf_counter() - t
        return inner

    def label(fn: Callable[..., Any]) -> str:
        return f"{fn.__module__.removeprefix('gateway.inspect.')}.{fn.__name__}"

    real_for, real_checks = pipeline.inspectors_for, pipeline.message_checks
    real_walk = Walker.walk_message
    pipeline.inspectors_for = lambda fmt: [timed(f, label(f)) for f in real_for(fmt)]
    pipeline.message_checks = lambda: [timed(f, label(f)) for f in real_checks()]
    Walker.walk_message = timed(real_walk, "intake.mime.walk_message")  # type: ignore[method-assign]
    total = 0.0
    try:
        for m in mails:
            t = time.perf_counter()
            checker.check_message(io.BytesIO(m.data), Envelope(sender=m.sender,
                                                               recipients=(mailcorpus.RECIPIENT,)))
            total += time.perf_counter() - t
    finally:
        pipeline.inspectors_for, pipeline.message_checks = real_for, real_checks
        Walker.walk_message = real_walk  # type: ignore[method-assign]
        root.setLevel(root_level)  # a caller's logging (a test run in this process) unchanged
    rows = sorted(spent.items(), key=lambda kv: -kv[1])
    other = total - sum(spent.values())
    stages = {k: round(v, 4) for k, v in rows} | {"(rest of the pipeline)": round(other, 4)}
    return {"messages": len(mails), "total_s": round(total, 3), "stages_s": stages}


def chart(result: dict[str, Any], path: Path) -> None:
    """A PNG with two bar groups: msg/s per phase, and the per-stage time profile."""
    from PIL import Image, ImageDraw

    phases = result["phases"]
    stages = list(result["profile"]["stages_s"].items())[:10]
    w, h = 900, 140 + 28 * (len(phases) + len(stages))
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    d.text((10, 8), f"hople-gateway in Postfix: corpus {result['corpus']}, "
                    f"{result['clients']} clients, {result['machine']['nproc']} cores",
           fill="black")
    y = 36
    d.text((10, y), "messages per second", fill="black")
    y += 20
    top = max(p["msg_per_s"] for p in phases) or 1
    for p in phases:
        bar = int(560 * p["msg_per_s"] / top)
        d.rectangle((200, y, 200 + bar, y + 18), fill=(60, 110, 200))
        d.text((10, y + 3), p["phase"], fill="black")
        d.text((205 + bar, y + 3), f"{p['msg_per_s']:.1f}", fill="black")
        y += 26
    y += 14
    d.text((10, y), "seconds per stage (in-process profile)", fill="black")
    y += 20
    top = max((v for _, v in stages), default=1) or 1
    for k, v in stages:
        bar = int(480 * v / top)
        d.rectangle((330, y, 330 + bar, y + 18), fill=(200, 90, 60))
        d.text((10, y + 3), k[:52], fill="black")
        d.text((335 + bar, y + 3), f"{v:.2f}", fill="black")
        y += 26
    img.save(path)


def run(corpus: str, count: int, clients: int, workers: int, scale: float, out_dir: Path,
        seed: int = 12, profile: bool = True) -> dict[str, Any] | None:
    from gateway.lab import Lab, unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"   skipped: {reason}")
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="hople-bench-"))
    t = time.perf_counter()
    signer = mailcorpus.make_signer(work / "pki")
    mails = mailcorpus.build(corpus, count, seed=seed, scale=scale, signer=signer)
    warm = mailcorpus.build(corpus, min(4, count), seed=seed + 1, scale=min(scale, 0.1),
                            signer=signer, first=900_000)
    size = sum(len(m.data) for m in mails)
    print(f"   corpus {corpus}: {len(mails)} messages, {size / 2**20:.1f} MiB "
          f"({dict(Counter(m.kind for m in mails))}), built in {time.perf_counter() - t:.1f} s",
          flush=True)
    noop = [sys.executable, "-m", "bench.noop_milter", "unix:{socket}"]
    result: dict[str, Any] = {
        "corpus": corpus, "messages": len(mails), "bytes": size, "clients": clients,
        "workers": workers, "scale": scale, "seed": seed, "machine": machine(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python -m bench.bench_postfix " + " ".join(sys.argv[1:]),
    }
    with Lab(workers=workers, rules=signer.rules, log_level="warning", other_milter=noop,
             sink_files=False) as lab:
        phases = []
        for name, port, pid in (("postfix", lab.notice_port, None),
                                ("noop", lab.other_port, lab.other_pid),
                                ("gateway", lab.smtp_port, lab.gateway_pid)):
            smtpload.run_load(port, [(m.sender, smtpload.prepare(m.data)) for m in warm],
                              mailcorpus.RECIPIENT, clients)
            _drain(lab, 120)
            since = datetime.now(UTC) - timedelta(seconds=1)
            ph = run_phase(lab, name, port, mails, clients, pid)
            drained = _drain(lab, 600)
            ph["queue_drained"] = drained
            if name == "gateway":
                ph["decisions"] = decisions(lab, since, mails)
            phases.append(ph)
        result["phases"] = phases
    bare, noop_ph, gw = phases
    result["ratios"] = {
        "gateway_to_postfix": round(gw["msg_per_s"] / bare["msg_per_s"], 3),
        "gateway_to_noop": round(gw["msg_per_s"] / noop_ph["msg_per_s"], 3),
        "noop_to_postfix": round(noop_ph["msg_per_s"] / bare["msg_per_s"], 3),
    }
    target = TARGETS.get(corpus)
    if target is not None:
        result["target_gateway_to_postfix"] = target
        result["target_met"] = result["ratios"]["gateway_to_postfix"] >= target
    dec = gw["decisions"]
    print(f"   ratios: gateway/postfix {result['ratios']['gateway_to_postfix']:.3f}, gateway/noop "
          f"{result['ratios']['gateway_to_noop']:.3f}, noop/postfix "
          f"{result['ratios']['noop_to_postfix']:.3f}"
          + (f" (target ≥ {target}: {'met' if result['target_met'] else 'MISSED'})"
             if target is not None else ""))
    print(f"   decisions {dec['decided']}/{dec['expected']}: p50 {dec['decision_ms']['p50']} ms, "
          f"p95 {dec['decision_ms']['p95']} ms, p99 {dec['decision_ms']['p99']} ms; verdicts "
          f"{dec['verdicts']}; gateway CPU {gw['process_cpu_ms_per_msg']} ms/msg (milter process "
          f"{gw['milter_cpu_ms_per_msg']}); peak RSS "
          f"milter {gw['peak_rss_mib']['main']} MiB, worker {gw['peak_rss_mib']['largest_child']} "
          f"MiB, tree {gw['peak_rss_mib']['tree_sum']} MiB")
    if dec["office_about_1mb"]["n"]:
        print("   " + office_line(dec["office_about_1mb"]))
    if profile:
        rules_path = work / "rules.toml"
        rules_path.write_text(signer.rules, encoding="utf-8")
        result["profile"] = inspector_profile(rules_path, mails)
        print("   in-process profile (s): " + ", ".join(
            f"{k} {v}" for k, v in list(result["profile"]["stages_s"].items())[:8]))
    else:
        result["profile"] = {"messages": 0, "total_s": 0.0, "stages_s": {}}
    js = out_dir / f"postfix-{corpus}.json"
    js.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    chart(result, out_dir / f"postfix-{corpus}.png")
    print(f"   wrote {js} and {js.with_suffix('.png')}")
    return result


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.bench_postfix", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--corpus", choices=mailcorpus.KINDS, default="mix")
    p.add_argument("--count", type=int, default=None, help="messages (default 200; quick 12)")
    p.add_argument("--clients", type=int, default=8, help="concurrent SMTP sessions")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                   help="gateway worker processes (default: one per core)")
    p.add_argument("--scale", type=float, default=None,
                   help="attachment size factor (default 1; quick 0.05)")
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--quick", action="store_true", help="few small messages (for the tests)")
    p.add_argument("--no-profile", action="store_true")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    a = p.parse_args(argv)
    if a.count is None:
        a.count = 12 if a.quick else 200
    if a.scale is None:
        a.scale = 0.05 if a.quick else 1.0
    return a


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    a = parse_args(sys.argv[1:] if argv is None and __name__ == "__main__" else (argv or []))
    return run(a.corpus, a.count, a.clients, a.workers, a.scale, a.out, a.seed,
               profile=not a.no_profile)


if __name__ == "__main__":
    main()
