"""Costs of the auditors' page and the metrics, as ratios against baselines measured in the
same run on one SQLite log:

- first scrape: ``LogMetrics`` folding the whole log into counters, against reading the same
  decisions with their documents (``iter_query``);
- next scrape: after 100 new records, against reading those 100;
- list page: ``GET /decisions`` (session check, query, template, access-log row) against the
  store query behind it;
- export: ``GET /export.csv`` of the whole log against ``hople audit query --csv``'s rows
  (the same rows written to a buffer).
"""

from __future__ import annotations

import csv
import io
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.timing import best_of
from gateway.audit import render
from gateway.audit.metrics import LogMetrics
from gateway.audit.reports import report_zone
from gateway.audit.store import open_store
from gateway.audit.web.app import WebConfig, create_app
from gateway.policy.agencies import load_agencies
from tests.web.data import _reports

LOG_SIZE = 2000
REPEAT = 5


def main() -> None:
    samples = _reports()
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'log.db'}")
        try:
            for i in range(LOG_SIZE):
                _, env, report, _ = samples[i % len(samples)]
                store.record(report, env, decided_at=t0 + timedelta(minutes=i))
            read_all = best_of(lambda: sum(1 for _ in store.iter_query()), repeat=REPEAT)
            first = best_of(lambda: LogMetrics(store).render(), repeat=REPEAT)
            print(f"   metrics first scrape over {LOG_SIZE} decisions: {first * 1000:.0f} ms, "
                  f"{first / read_all:.2f} x reading them ({read_all * 1000:.0f} ms)")

            metrics = LogMetrics(store)
            metrics.render()
            added = 100
            for i in range(added):
                _, env, report, _ = samples[i % len(samples)]
                store.record(report, env, decided_at=t0 + timedelta(days=60, minutes=i))
            since = t0 + timedelta(days=59)
            read_new = best_of(lambda: sum(1 for _ in store.iter_query(since=since)), repeat=REPEAT)
            started = time.perf_counter()
            metrics.render()
            incremental = time.perf_counter() - started
            print(f"   metrics scrape after {added} new decisions: {incremental * 1000:.1f} ms, "
                  f"{incremental / read_new:.2f} x reading them ({read_new * 1000:.1f} ms)")

            agencies = load_agencies()
            app = create_app(store, WebConfig(agencies=agencies, zone=report_zone()))
            accounts = app.extensions["hople"]["accounts"]
            accounts.add("bench", "Bench#Mark1", must_change=False)
            token, _ = accounts.create_session("bench")
            from gateway.audit.web.security import sign

            client = app.test_client()
            client.set_cookie("hople_session", sign(app.extensions["hople"]["config"].secret,
                                                    token))
            assert client.get("/decisions").status_code == 200
            page = best_of(lambda: client.get("/decisions"), repeat=REPEAT)
            query = best_of(lambda: store.query(limit=50), repeat=REPEAT)
            print(f"   list page: {page * 1000:.1f} ms, {page / query:.2f} x its store query "
                  f"({query * 1000:.1f} ms)")

            def cli_rows() -> None:
                w = csv.writer(io.StringIO(), lineterminator="\r\n")
                w.writerow(render.QUERY_COLUMNS)
                for d in store.iter_query():
                    w.writerow(render.decision_csv_row(d, agencies))

            export = best_of(lambda: client.get("/export.csv").data, repeat=3)
            baseline = best_of(cli_rows, repeat=3)
            print(f"   export of {LOG_SIZE + added} decisions: {export * 1000:.0f} ms, "
                  f"{export / baseline:.2f} x the command line's rows ({baseline * 1000:.0f} ms)")
        finally:
            store.close()


if __name__ == "__main__":
    main()
