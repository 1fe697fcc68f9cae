"""Migration 4: the session latency of a decision (from the first byte the milter saw) is
stored, read back, covered by the hash chain, and rows without it still verify."""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.audit.store import open_store
from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.model.report import MessageReport, Verdict

AT = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def _report() -> MessageReport:
    return MessageReport(input="Q", kind="message", verdict=Verdict.NO_DOCUMENTS,
                         action=Action.ACCEPT, rules_hash="h", duration_ms=12.5)


def test_session_ms_round_trip_and_chain(backend_url: str) -> None:
    store = open_store(backend_url)
    try:
        env = Envelope(sender="a@x.gov.vn", recipients=("b@x.gov.vn",), queue_id="Q1")
        old = store.record(_report(), env, decided_at=AT, action_taken="accept")
        new = store.record(_report(), env, decided_at=AT, action_taken="accept",
                           session_ms=1280.4567)
        rows = {r.id: r for r in store.query()}
        assert rows[old].session_ms is None
        assert rows[new].session_ms == 1280.457 and rows[new].duration_ms == 12.5
        assert store.verify().ok
        # the value is covered by the chain: changing it breaks verification
        store.database.execute("UPDATE decisions SET session_ms = 5 WHERE id = ?", (new,))
        assert not store.verify().ok
    finally:
        store.close()
