"""Prometheus metrics from the decision log: parsed back with the reference parser and
compared with the log's content; incremental scrapes, the outbox depth with and without an
outbox table, damaged records."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.audit.metrics import BUCKETS, OUTBOX_TABLE, LogMetrics
from gateway.audit.store import DecisionStore, open_store
from tests.web.data import _reports, populate


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "decisions.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[DecisionStore]:
    s = open_store(f"sqlite:///{db_path}")
    try:
        yield s
    finally:
        s.close()


def scrape(metrics: LogMetrics) -> dict[str, list[Any]]:
    """name → samples, from the text the endpoint serves."""
    text = metrics.render().decode("utf-8")
    out: dict[str, list[Any]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append(sample)
    return out


def by_labels(samples: list[Any], *keys: str) -> dict[tuple[str, ...], float]:
    return {tuple(s.labels[k] for k in keys): s.value for s in samples}


def expected(store: DecisionStore) -> tuple[Counter[tuple[str, str]], Counter[str],
                                            Counter[tuple[str, str]], list[float]]:
    decisions: Counter[tuple[str, str]] = Counter()
    codes: Counter[str] = Counter()
    docs: Counter[tuple[str, str]] = Counter()
    durations = []
    for d in store.iter_query():
        decisions[(d.verdict, d.action_taken or d.action)] += 1
        codes.update(d.codes)
        docs.update((doc.doc_class, doc.verdict) for doc in d.documents)
        durations.append(d.duration_ms / 1000)
    return decisions, codes, docs, durations


def test_metrics_text_matches_the_log(store: DecisionStore) -> None:
    populate(store)
    m = scrape(LogMetrics(store))
    decisions, codes, docs, durations = expected(store)
    assert by_labels(m["hople_decisions_total"], "verdict", "action") == \
        {k: float(v) for k, v in decisions.items()}
    assert by_labels(m["hople_findings_total"], "code") == \
        {(k,): float(v) for k, v in codes.items()}
    assert by_labels(m["hople_documents_total"], "class", "verdict") == \
        {k: float(v) for k, v in docs.items()}
    assert decisions[("rejected", "reject")] == 1 and codes["EDITABLE_NOT_SIGNED"] == 3
    buckets = by_labels(m["hople_decision_duration_seconds_bucket"], "le")
    assert len(buckets) == len(BUCKETS) + 1
    for bound in BUCKETS:
        assert buckets[(repr(float(bound)),)] == sum(1 for x in durations if x <= bound)
    assert buckets[("+Inf",)] == len(durations) == 6
    values = [buckets[(repr(float(b)),)] for b in BUCKETS]
    assert values == sorted(values)  # cumulative
    assert m["hople_decision_duration_seconds_count"][0].value == 6
    assert m["hople_decision_duration_seconds_sum"][0].value == pytest.approx(sum(durations))
    assert m["hople_decision_log_head_seq"][0].value == 6
    assert m["hople_decision_log_unreadable_records_total"][0].value == 0


def test_scrapes_add_only_new_records(store: DecisionStore) -> None:
    metrics = LogMetrics(store)
    empty = scrape(metrics)
    assert "hople_decisions_total" not in empty
    assert empty["hople_decision_duration_seconds_count"][0].value == 0
    populate(store)
    first = scrape(metrics)
    again = scrape(metrics)
    assert by_labels(first["hople_decisions_total"], "verdict", "action") == \
        by_labels(again["hople_decisions_total"], "verdict", "action")
    name, env, report, at = _reports()[2]  # the free-mail rejection once more
    store.record(report, env, decided_at=at, action_taken="reject")
    after = scrape(metrics)
    assert by_labels(after["hople_decisions_total"], "verdict", "action")[
        ("rejected", "reject")] == 2
    assert by_labels(after["hople_findings_total"], "code")[("SENDER_FREEMAIL",)] == 2
    assert after["hople_decision_duration_seconds_count"][0].value == 7
    assert metrics.last_id == 7


def test_several_processes_writing_one_log_are_all_counted(store: DecisionStore,
                                                          db_path: Path) -> None:
    other = open_store(f"sqlite:///{db_path}")  # a second gateway on the same log
    try:
        populate(store)
        populate(other)
    finally:
        other.close()
    m = scrape(LogMetrics(store))
    assert sum(s.value for s in m["hople_decisions_total"]) == 12


def test_outbox_depth_without_and_with_an_outbox_table(store: DecisionStore,
                                                       db_path: Path) -> None:
    raw = sqlite3.connect(db_path)
    raw.execute(f"DROP TABLE IF EXISTS {OUTBOX_TABLE}")
    raw.commit()
    m = scrape(LogMetrics(store))
    assert m["hople_notice_outbox_present"][0].value == 0
    assert m["hople_notice_outbox_depth"][0].value == 0
    assert "hople_notice_outbox_messages" not in m
    raw.execute(f"CREATE TABLE {OUTBOX_TABLE} (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")
    raw.executemany(f"INSERT INTO {OUTBOX_TABLE} (state) VALUES (?)",
                    [("pending",)] * 3 + [("sent",)] * 5 + [("failed",), ("suppressed",)])
    raw.commit()
    raw.close()
    m = scrape(LogMetrics(store))
    assert m["hople_notice_outbox_present"][0].value == 1
    assert m["hople_notice_outbox_depth"][0].value == 3
    assert by_labels(m["hople_notice_outbox_messages"], "state") == {
        ("pending",): 3, ("sent",): 5, ("failed",): 1, ("suppressed",): 1}


def test_a_damaged_record_is_counted_not_fatal(store: DecisionStore, db_path: Path) -> None:
    populate(store)
    raw = sqlite3.connect(db_path)
    raw.execute("UPDATE decisions SET findings = '{broken' WHERE id = 2")
    raw.execute("UPDATE documents SET signatures = 'null' WHERE decision_id = 3")
    raw.commit()
    raw.close()
    m = scrape(LogMetrics(store))
    assert m["hople_decision_log_unreadable_records_total"][0].value == 2
    assert sum(s.value for s in m["hople_decisions_total"]) == 6
    assert m["hople_decision_duration_seconds_count"][0].value == 5


def test_a_replaced_database_starts_the_counters_again(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    s = open_store(f"sqlite:///{path}")
    try:
        populate(s)
        metrics = LogMetrics(s)
        assert sum(x.value for x in scrape(metrics)["hople_decisions_total"]) == 6
        raw = sqlite3.connect(path)
        raw.execute("DELETE FROM documents")
        raw.execute("DELETE FROM decisions")
        raw.execute("UPDATE chain_head SET seq = 1")
        raw.execute("INSERT INTO decisions SELECT * FROM decisions WHERE 0")
        raw.commit()
        raw.close()
        name, env, report, at = _reports()[0]
        s.record(report, env, decided_at=datetime(2026, 5, 1, tzinfo=UTC))
        m = scrape(metrics)
        assert by_labels(m["hople_decisions_total"], "verdict", "action") == \
            {("no-documents", "accept"): 1}
    finally:
        s.close()
