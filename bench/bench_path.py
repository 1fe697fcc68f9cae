"""The milter's own per-message path, without Postfix: what a message costs around
``Checker.check_message``, as shares of that check measured in the same run.

Messages of the ``text110k`` corpus go through the gateway's ``Engine`` with a real
``WorkerPool`` (forkserver workers, the deadline, the pipe) and a real SQLite decision log
(WAL, ``synchronous = FULL``, hash chain), from ``--clients`` threads at once as libmilter's
connection threads call it. The baseline is the same messages checked by a ``Checker`` in
this process, in rounds alternating with the engine's so that the machine's load falls on
both alike. Printed:

- CPU per message of the milter process (the engine, the pipe, the log, the headers) and of
  the workers, against the in-process check;
- the workers' busy share: the check's own wall time (``duration_ms``) over the workers'
  wall time; what is missing is time a worker sat idle between two messages (hand-over
  through the pipe, a milter thread waiting for the interpreter lock);
- msg/s through the engine, and the cost of each piece of the milter's side alone
  (``DecisionStore.record``, the verdict headers, the pickles of request and report);
- decisions appended per second to the log by one thread and by eight at once (every
  append waits for its commit and fsync; appends at the same time share a commit).

    python -m bench path [--count N] [--clients N] [--workers N] [--rounds N]

The pymilter callbacks (headers and body chunks from the MTA) are not in this bench; their
cost is the no-op milter's in ``bench_postfix``.
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import mailcorpus  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def _cpu(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = raw.rsplit(") ", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def _message_data(mail: mailcorpus.Mail, i: int) -> Any:
    from gateway.milter.engine import MessageData, first_header
    from gateway.model.envelope import Envelope

    head = mail.data.split(b"\r\n\r\n", 1)[0]
    headers: list[tuple[str, bytes]] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + b"\r\n" + line)
        elif b":" in line:
            key, _, value = line.partition(b":")
            headers.append((key.decode("ascii", "replace"), value.strip()))
    env = Envelope(sender=mail.sender, recipients=(mailcorpus.RECIPIENT,),
                   client_addr="127.0.0.1", client_name="localhost", queue_id=f"B{i:06d}",
                   message_id=first_header(headers, "Message-ID"),
                   from_header=first_header(headers, "From"))
    return MessageData(env, headers, "bytes", mail.data, len(mail.data),
                       received_at=time.monotonic())


def _through_engine(engine: Any, items: list[Any], clients: int) -> list[Any]:
    todo = list(items)
    lock = threading.Lock()
    decisions: list[Any] = []

    def client() -> None:
        while True:
            with lock:
                if not todo:
                    return
                data = todo.pop()
            d = engine.decide(data, apply=lambda _d: None)
            with lock:
                decisions.append(d)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return decisions


def _appends_per_s(path: Path, report: Any, data: Any, threads: int, n: int = 400) -> float:
    """Decisions appended per second to a fresh log by ``threads`` threads at once (each
    call returns once its record is committed)."""
    from gateway.audit.store import open_store

    store = open_store(f"sqlite:///{path}")
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(n // threads):
            store.record(report, data.envelope, decided_at=datetime.now().astimezone(),
                         action_taken="accept", session_ms=1.0)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    store.close()
    return (n // threads) * threads / elapsed


def _pieces(checker: Any, data: Any, work: Path) -> dict[str, float]:
    """Microseconds of each piece of the milter's side, alone, for one message."""
    from gateway.audit.store import open_store
    from gateway.headers import verdict_headers

    report = checker.check_message(io.BytesIO(data.source), data.envelope, label="x")
    store = open_store(f"sqlite:///{work / 'pieces.db'}")
    out: dict[str, float] = {}
    n = 300
    try:
        started = time.process_time()
        for _ in range(n):
            store.record(report, data.envelope, decided_at=datetime.now().astimezone(),
                         action_taken="accept", session_ms=1.0)
        out["decision log record (CPU)"] = (time.process_time() - started) / n * 1e6
    finally:
        store.close()
    out["log appends/s, 1 thread"] = _appends_per_s(work / "one.db", report, data, 1)
    out["log appends/s, 8 threads"] = _appends_per_s(work / "eight.db", report, data, 8)
    for label, fn in (
        ("verdict headers", lambda: verdict_headers(report)),
        ("pickle request", lambda: pickle.dumps(("check", "bytes", data.source,
                                                 data.envelope, "x"))),
        ("pickle report", lambda: pickle.loads(pickle.dumps(("ok", report)))),
    ):
        started = time.process_time()
        for _ in range(n):
            fn()
        out[label] = (time.process_time() - started) / n * 1e6
    return out


def run(count: int, clients: int, workers: int, rounds: int) -> dict[str, Any]:
    from gateway.audit.store import open_store
    from gateway.milter.engine import Engine
    from gateway.milter.pool import WorkerPool
    from gateway.milter.worker import build_checker

    mails = mailcorpus.build("text110k", count, seed=12)
    items = [_message_data(m, i) for i, m in enumerate(mails)]
    work = Path(tempfile.mkdtemp(prefix="hople-bench-path-"))
    checker = build_checker(None, ())
    store = open_store(f"sqlite:///{work / 'decisions.db'}")
    pool = WorkerPool(workers, None, ())
    pool.start()
    engine = Engine(pool, store, rules_hash=checker.policy.hash)
    res = {"engine_cpu": 0.0, "worker_cpu": 0.0, "engine_wall": 0.0, "check_wall": 0.0,
           "inproc_cpu": 0.0, "n": 0}
    try:
        _through_engine(engine, items[: 2 * workers + 4], clients)  # warm the workers
        for m in items[:4]:
            checker.check_message(io.BytesIO(m.source), m.envelope, label="x")
        for _ in range(rounds):
            pids = pool.pids()
            w0, c0, t0 = _cpu(pids), time.process_time(), time.perf_counter()
            decisions = _through_engine(engine, items, clients)
            res["engine_wall"] += time.perf_counter() - t0
            res["engine_cpu"] += time.process_time() - c0
            res["worker_cpu"] += _cpu(pids) - w0
            res["check_wall"] += sum(d.report.duration_ms for d in decisions) / 1000
            res["n"] += len(decisions)
            if pool.replaced:
                raise RuntimeError("a worker was replaced during the run: raise max_jobs")
            c0 = time.process_time()
            for m in items:
                checker.check_message(io.BytesIO(m.source), m.envelope, label="x")
            res["inproc_cpu"] += time.process_time() - c0
        pieces = _pieces(checker, items[0], work)
    finally:
        pool.close()
        store.close()
    n = res["n"]
    out = {
        "messages": n, "clients": clients, "workers": workers,
        "msg_per_s": n / res["engine_wall"],
        "milter_cpu_ms": res["engine_cpu"] / n * 1000,
        "worker_cpu_ms": res["worker_cpu"] / n * 1000,
        "check_cpu_ms": res["inproc_cpu"] / n * 1000,
        "worker_busy": res["check_wall"] / (res["engine_wall"] * workers),
        "pieces_us": pieces,
    }
    check = res["inproc_cpu"] / n * 1000
    print(f"   {n} messages of ~{len(items[0].source) // 1024} KiB, {clients} threads, "
          f"{workers} workers: {out['msg_per_s']:.1f} msg/s")
    print(f"   check_message in this process {check:.2f} ms CPU per message (baseline)")
    milter_ms = res["engine_cpu"] / n * 1000
    worker_ms = res["worker_cpu"] / n * 1000
    busy = res["check_wall"] / (res["engine_wall"] * workers)
    print(f"   through the engine: milter {milter_ms:.2f} ms "
          f"({milter_ms / check:.3f}× the check), workers "
          f"{worker_ms:.2f} ms ({worker_ms / check:.3f}×); workers busy "
          f"checking {100 * busy:.0f} % of their wall time")
    print("   milter pieces alone (µs CPU per message): " + ", ".join(
        f"{k} {v:.0f}" for k, v in pieces.items() if "/s" not in k))
    print("   decision log (synchronous = FULL): " + ", ".join(
        f"{k} {v:.0f}" for k, v in pieces.items() if "/s" in k))
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench.bench_path")
    p.add_argument("--count", type=int, default=150)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args(sys.argv[1:] if argv is None and __name__ == "__main__" else argv or [])
    return run(a.count, a.clients, a.workers, a.rounds)


if __name__ == "__main__":
    main()
