"""Decision log costs, as ratios against baselines measured in the same run.

- append: ``DecisionStore.record`` (serialised on the chain head, hash of the canonical
  form, one row per document) against a bare INSERT of the same row into a table with the
  same durability settings, one transaction per message;
- verify: ``DecisionStore.verify`` over the whole log against reading the same decisions
  with their documents (``iter_query``): the price of recomputing the chain;
- report: ``build_report`` over the decisions against reading them.

SQLite always; PostgreSQL as well when the server binaries are installed (a private server
is started for the run).
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.audit.reports import build_report, report_zone
from gateway.audit.store import open_store
from gateway.policy.agencies import load_agencies
from tests.audit.factory import doc, env, report

APPENDS = 300
LOG_SIZE = 5000


def _sample(i: int):
    return report(doc(f"cv-{i}.docx", signed=i % 3 == 0), doc(f"scan-{i}.pdf"))


def _baseline_sqlite(path: Path, n: int) -> float:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, at TEXT, sender TEXT, verdict TEXT, "
                 "findings TEXT)")
    conn.execute("CREATE TABLE d (tid INTEGER, idx INTEGER, path TEXT, sha TEXT)")
    started = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                     (i + 1, "2026-03-01T00:00:00", "a@daknong.gov.vn", "invalid", "[]"))
        conn.executemany("INSERT INTO d VALUES (?, ?, ?, ?)",
                         [(i + 1, 0, "cv.docx", "0" * 64), (i + 1, 1, "scan.pdf", "1" * 64)])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed / n


def _baseline_pg(url: str, n: int) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id BIGINT PRIMARY KEY, at TIMESTAMPTZ, sender TEXT, "
                     "verdict TEXT, findings TEXT)")
        conn.execute("CREATE TABLE d (tid BIGINT, idx INT, path TEXT, sha TEXT)")
        started = time.perf_counter()
        for i in range(n):
            with conn.transaction():
                conn.execute("INSERT INTO t VALUES (%s, now(), %s, %s, %s)",
                             (i + 1, "a@daknong.gov.vn", "invalid", "[]"))
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO d VALUES (%s, %s, %s, %s)",
                                    [(i + 1, 0, "cv.docx", "0" * 64),
                                     (i + 1, 1, "scan.pdf", "1" * 64)])
        return (time.perf_counter() - started) / n


def _measure(name: str, url: str, baseline_append: float) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    with open_store(url) as store:
        started = time.perf_counter()
        for i in range(APPENDS):
            store.record(_sample(i), env(queue_id=f"Q{i}"), decided_at=t0)
        append = (time.perf_counter() - started) / APPENDS
        for i in range(APPENDS, LOG_SIZE):
            store.record(_sample(i), env(queue_id=f"Q{i}"),
                         decided_at=t0 + timedelta(minutes=i))
        started = time.perf_counter()
        read = sum(1 for _ in store.iter_query())
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        result = store.verify()
        verify_s = time.perf_counter() - started
        assert result.ok and result.checked == read == LOG_SIZE, result
        started = time.perf_counter()
        rep = build_report(store.iter_query(), load_agencies(), ["2026-03", "2026-04"],
                           report_zone())
        report_s = time.perf_counter() - started
        assert rep.total.messages == LOG_SIZE
    print(f"   [{name}] append: {append * 1000:6.2f} ms/message, bare insert "
          f"{baseline_append * 1000:6.2f} ms; ratio {append / baseline_append:.1f}x")
    print(f"   [{name}] verify {LOG_SIZE} records: {verify_s:.2f} s "
          f"({LOG_SIZE / verify_s:,.0f}/s); read only {read_s:.2f} s; "
          f"ratio {verify_s / read_s:.1f}x")
    print(f"   [{name}] report over {LOG_SIZE} decisions: {report_s:.2f} s; "
          f"ratio to read {report_s / read_s:.1f}x")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        base = _baseline_sqlite(Path(tmp) / "base.db", APPENDS)
        _measure("sqlite", f"sqlite:///{Path(tmp) / 'log.db'}", base)
    try:
        from tests.audit.pgserver import find_bindir, start_server
    except ImportError:
        return
    if find_bindir() is None:
        print("   [postgresql] skipped: server binaries not installed")
        return
    server = start_server()
    try:
        base = _baseline_pg(server.create_db("base"), APPENDS)
        _measure("postgresql", server.create_db("log"), base)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
