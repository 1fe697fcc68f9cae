"""Prometheus metrics computed from the decision log.

The figures come from the log itself, not from counters inside one process, so every gateway
writing to the log (several Postfix relays on one PostgreSQL log) and every restart is
covered. :class:`LogMetrics` reads only the records appended since its last scrape, so a
scrape costs little after the first one.

Exposed (text format 0.0.4):

- ``hople_decisions_total{verdict, action}``: messages decided, by verdict and by the action
  taken (``accept``, ``hold``, ``reject``, ``tempfail``, ``accept-unchecked``);
- ``hople_documents_total{class, verdict}``: attached documents judged;
- ``hople_findings_total{code}``: finding codes, every occurrence (message, document and
  signature findings);
- ``hople_decision_duration_seconds``: histogram of the time taken by each check;
- ``hople_notice_outbox_depth``: notices waiting in the outbox (any state other than a final
  one), with ``hople_notice_outbox_messages{state}`` per state and
  ``hople_notice_outbox_present`` (0 when the log has no outbox table: depth is then 0);
- ``hople_decision_log_head_seq``: the chain head's sequence number;
- ``hople_decision_log_unreadable_records_total``: records that no longer parse (altered
  directly: run ``hople audit verify``).

Counters restart from what the log holds when the process starts; records removed by a
purge stay counted until then (Prometheus handles counter resets).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterable
from typing import Any

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from gateway.audit.store import DecisionStore

__all__ = ["BUCKETS", "CONTENT_TYPE", "LogMetrics", "OUTBOX_FINAL_STATES", "OUTBOX_TABLE"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
"""Upper bounds (seconds) of the decision-duration histogram; +Inf is added."""

OUTBOX_TABLE = "notice_outbox"
OUTBOX_FINAL_STATES = frozenset({"sent", "failed", "suppressed"})
"""Outbox states that are no longer waiting (the outbox's states are ``pending``, ``sent``,
``failed`` and ``suppressed``); any other state counts towards the depth."""

BATCH = 2000


class LogMetrics(Collector):
    """A Prometheus collector over one open store. Thread-safe."""

    def __init__(self, store: DecisionStore) -> None:
        # Raw reads of the log's own tables through the store's connection and lock (the
        # store has no aggregate API); only columns of schema migration 1 are read.
        self._db = store.database
        self._lock = store.lock
        self._mu = threading.Lock()
        self._reset()
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(self)

    def _reset(self) -> None:
        self.last_id = 0
        self.decisions: Counter[tuple[str, str]] = Counter()
        self.documents: Counter[tuple[str, str]] = Counter()
        self.findings: Counter[str] = Counter()
        self.buckets = [0] * len(BUCKETS)
        self.duration_sum = 0.0
        self.duration_count = 0
        self.unreadable = 0
        self.head_seq = 0

    # -- reading the log ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Fold in the records appended since the last call."""
        with self._mu:
            with self._lock:
                head = self._db.execute("SELECT seq FROM chain_head WHERE id = 1")
            head_seq = int(head[0][0]) if head else 0
            if head_seq < self.last_id:
                self._reset()  # another database behind the same URL
            self.head_seq = head_seq
            while True:
                with self._lock, self._db.read_tx():
                    rows = self._db.execute(
                        "SELECT id, verdict, action, action_taken, findings, duration_ms "
                        "FROM decisions WHERE id > ? ORDER BY id LIMIT ?", (self.last_id, BATCH))
                    docs = self._db.execute(
                        "SELECT decision_id, doc_class, verdict, findings, signatures "
                        "FROM documents WHERE decision_id > ? AND decision_id <= ?",
                        (self.last_id, int(rows[-1][0]))) if rows else []
                for r in rows:
                    self._decision(r)
                for r in docs:
                    self._document(r)
                if rows:
                    self.last_id = int(rows[-1][0])
                if len(rows) < BATCH:
                    return

    def _decision(self, r: tuple[Any, ...]) -> None:
        verdict, action, taken = str(r[1]), str(r[2]), r[3]
        self.decisions[(verdict, str(taken or action))] += 1
        try:
            seconds = float(r[5]) / 1000.0
            codes = [str(f["code"]) for f in json.loads(r[4])]
        except (ValueError, TypeError, KeyError):
            self.unreadable += 1
            return
        self.findings.update(codes)
        self.duration_sum += seconds
        self.duration_count += 1
        for i, bound in enumerate(BUCKETS):
            if seconds <= bound:
                self.buckets[i] += 1

    def _document(self, r: tuple[Any, ...]) -> None:
        self.documents[(str(r[1]), str(r[2]))] += 1
        try:
            codes = [str(f["code"]) for f in json.loads(r[3])]
            for s in json.loads(r[4]):
                codes.extend(str(c) for c in (s.get("findings") or ()))
        except (ValueError, TypeError, KeyError, AttributeError):
            self.unreadable += 1
            return
        self.findings.update(codes)

    def outbox(self) -> dict[str, int] | None:
        """Rows of the notice outbox per state, or None when the log has no outbox table."""
        with self._lock:
            if self._db.name == "sqlite":
                present = self._db.execute(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                    (OUTBOX_TABLE,))
            else:
                present = self._db.execute("SELECT to_regclass(?) IS NOT NULL",
                                           (OUTBOX_TABLE,))
                present = present if present and present[0][0] else []
            if not present:
                return None
            rows = self._db.execute(
                f"SELECT state, count(*) FROM {OUTBOX_TABLE} GROUP BY state")
        return {str(state): int(n) for state, n in rows}

    # -- exposition ---------------------------------------------------------------------------

    def collect(self) -> Iterable[Metric]:
        self.refresh()
        outbox = self.outbox()
        with self._mu:
            m = CounterMetricFamily("hople_decisions", "Messages decided, by verdict and action "
                                    "taken", labels=["verdict", "action"])
            for (verdict, action), n in sorted(self.decisions.items()):
                m.add_metric([verdict, action], n)
            yield m
            m = CounterMetricFamily("hople_documents", "Attached documents judged, by class "
                                    "and verdict", labels=["class", "verdict"])
            for (cls, verdict), n in sorted(self.documents.items()):
                m.add_metric([cls, verdict], n)
            yield m
            m = CounterMetricFamily("hople_findings", "Finding codes raised (every occurrence)",
                                    labels=["code"])
            for code, n in sorted(self.findings.items()):
                m.add_metric([code], n)
            yield m
            buckets = [(_le(b), n) for b, n in zip(BUCKETS, self.buckets, strict=True)]
            buckets.append(("+Inf", self.duration_count))
            yield HistogramMetricFamily(
                "hople_decision_duration_seconds", "Time taken to check a message",
                buckets=buckets, sum_value=self.duration_sum)
            yield GaugeMetricFamily("hople_decision_log_head_seq",
                                    "Sequence number of the decision log's chain head",
                                    value=self.head_seq)
            yield CounterMetricFamily("hople_decision_log_unreadable_records",
                                      "Log records that no longer parse (altered directly)",
                                      value=self.unreadable)
        yield GaugeMetricFamily("hople_notice_outbox_present",
                                "1 when the decision log has a notice outbox table",
                                value=0 if outbox is None else 1)
        states = GaugeMetricFamily("hople_notice_outbox_messages",
                                   "Notices in the outbox, by state", labels=["state"])
        for state, n in sorted((outbox or {}).items()):
            states.add_metric([state], n)
        yield states
        depth = sum(n for s, n in (outbox or {}).items() if s not in OUTBOX_FINAL_STATES)
        yield GaugeMetricFamily("hople_notice_outbox_depth",
                                "Notices waiting to be sent (0 without an outbox table)",
                                value=depth)

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self._registry)


def _le(bound: float) -> str:
    return repr(float(bound))
