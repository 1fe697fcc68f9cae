"""The milter's decision engine without an MTA: report → action, failure policy, decision log,
notice skip, reply text and header deletion indices."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.milter.engine import (
    Engine,
    MessageData,
    forged_headers,
    reply_lines,
)
from gateway.milter.pool import DeadlineExceeded, WorkerFailed
from gateway.model.catalog import make_finding
from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.model.report import MessageReport, SmtpReply, Verdict
from gateway.notices.marker import make_marker

SECRET = b"s" * 32
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class FakeRunner:
    def __init__(self, result: Any) -> None:
        self.result = result
        self.calls: list[tuple[Any, ...]] = []

    def run(self, kind, source, envelope, label, deadline, progress=None):
        self.calls.append((kind, source, envelope, label, deadline))
        if isinstance(self.result, BaseException):
            raise self.result
        return self.result


class FakeStore:
    def __init__(self, fail: bool = False) -> None:
        self.rows: list[tuple[MessageReport, Envelope, datetime, str | None]] = []
        self.session_ms: list[float | None] = []
        self.fail = fail

    def record(self, report, envelope, *, decided_at, action_taken=None, session_ms=None):
        if self.fail:
            raise OSError("disk full")
        self.rows.append((report, envelope, decided_at, action_taken))
        self.session_ms.append(session_ms)
        return len(self.rows)


def _report(verdict: Verdict, action: Action, reply: SmtpReply | None = None, *codes: str
            ) -> MessageReport:
    findings = tuple(dataclasses.replace(make_finding(c, domain="gmail.com"), action=action)
                     for c in codes)
    return MessageReport(input="Q", kind="message", verdict=verdict, action=action,
                         smtp_reply=reply, findings=findings, rules_hash="h")


def _data(headers: list[tuple[str, bytes]] | None = None, mid: str = "<m1@x>") -> MessageData:
    env = Envelope(sender="a@agency.gov.vn", recipients=("b@x",), queue_id="QID1", message_id=mid)
    return MessageData(env, headers or [("Message-ID", mid.encode())], "bytes", b"msg", 3)


def _engine(result: Any, store: FakeStore | None = None,
            **kw: Any) -> tuple[Engine, FakeRunner, FakeStore]:
    runner = FakeRunner(result)
    store = store if store is not None else FakeStore()
    engine = Engine(runner, store, clock=lambda: AT, notice_secret=SECRET, rules_hash="h", **kw)
    return engine, runner, store


def test_accept_adds_headers_and_records() -> None:
    eng, runner, store = _engine(_report(Verdict.VALID, Action.ACCEPT))
    d = eng.decide(_data())
    assert d.action is Action.ACCEPT and not d.skipped
    assert d.add_headers[0] == ("X-Legal-Validity", "valid")
    assert runner.calls[0][0] == "bytes" and runner.calls[0][3] == "QID1"
    assert len(store.rows) == 1
    report, env, at, taken = store.rows[0]
    assert env.queue_id == "QID1" and at == AT and taken == "accept"


def test_reject_gives_reply_and_no_headers() -> None:
    reply = SmtpReply("550", "5.7.1", "Van ban tu hop thu mien phi / Documents from free mail")
    eng, _, store = _engine(_report(Verdict.REJECTED, Action.REJECT, reply, "SENDER_FREEMAIL"))
    d = eng.decide(_data())
    assert d.action is Action.REJECT and d.reply == reply and d.add_headers == ()
    assert store.rows[0][3] == "reject"


def test_tempfail_from_rules_keeps_its_reply() -> None:
    reply = SmtpReply("451", "4.7.1", "later")
    eng, _, _ = _engine(_report(Verdict.INVALID, Action.TEMPFAIL, reply))
    d = eng.decide(_data())
    assert d.action is Action.TEMPFAIL and d.reply == reply


def test_hold_quarantines_with_headers() -> None:
    eng, _, store = _engine(_report(Verdict.HELD, Action.HOLD, None, "TYPE_MISMATCH"))
    d = eng.decide(_data())
    assert d.action is Action.HOLD
    assert d.quarantine_reason == "hople: held by rules (TYPE_MISMATCH)"
    assert ("X-Legal-Validity", "held") in d.add_headers
    assert store.rows[0][3] == "hold"


@pytest.mark.parametrize("exc", [DeadlineExceeded("too slow"), WorkerFailed("died"),
                                 RuntimeError("x")])
def test_failure_tempfails_by_default_and_is_recorded(exc: Exception) -> None:
    eng, _, store = _engine(exc)
    d = eng.decide(_data())
    assert d.action is Action.TEMPFAIL
    assert d.reply is not None and d.reply.code == "451" and d.reply.status.startswith("4.")
    assert d.add_headers == ()
    report, _, _, taken = store.rows[0]
    assert report.verdict is Verdict.UNCHECKED and report.action is Action.TEMPFAIL
    assert [f.code for f in report.findings] == ["INSPECTION_FAILED"]
    assert type(exc).__name__ in report.findings[0].en
    assert taken == "tempfail"


def test_failure_with_accept_unchecked_tags_the_message() -> None:
    eng, _, store = _engine(DeadlineExceeded("the check did not finish"),
                            on_error="accept-unchecked")
    d = eng.decide(_data())
    assert d.action is Action.ACCEPT
    assert d.add_headers[0] == ("X-Legal-Validity", "unchecked")
    assert "GATEWAY_UNCHECKED" in d.add_headers[1][1]
    report, _, _, taken = store.rows[0]
    assert report.verdict is Verdict.UNCHECKED and taken == "accept-unchecked"


def test_no_accept_without_its_log_row() -> None:
    eng, _, _ = _engine(_report(Verdict.VALID, Action.ACCEPT), store=FakeStore(fail=True))
    d = eng.decide(_data())
    assert d.action is Action.TEMPFAIL and d.downgraded == "decision log: OSError"
    assert d.reply is not None and d.reply.code == "451"
    # a refusal waits for the log too: the retry is refused and logged once it is back
    reply = SmtpReply("550", "5.7.1", "no")
    eng, _, _ = _engine(_report(Verdict.REJECTED, Action.REJECT, reply), store=FakeStore(fail=True))
    d = eng.decide(_data())
    assert d.action is Action.TEMPFAIL and d.reply is not None and d.reply.code == "451"
    # a checked message is not delivered without its row, even with accept-unchecked: its
    # verdict headers were handed over already, the tempfail makes the MTA drop them
    eng, _, _ = _engine(_report(Verdict.VALID, Action.ACCEPT), store=FakeStore(fail=True),
                        on_error="accept-unchecked")
    assert eng.decide(_data()).action is Action.TEMPFAIL
    # a message that could not be checked is tagged unchecked and delivered, as configured
    eng, _, _ = _engine(RuntimeError("x"), store=FakeStore(fail=True), on_error="accept-unchecked")
    d = eng.decide(_data())
    assert d.action is Action.ACCEPT and d.add_headers[0] == ("X-Legal-Validity", "unchecked")


class Unreachable(Exception):
    """What pymilter raises when the MTA has gone away (stand-in)."""


def test_answer_recorded_only_once_handed_over() -> None:
    """The row is written after the answer was applied, and says what was done."""
    eng, _, store = _engine(_report(Verdict.VALID, Action.ACCEPT))
    seen: list[int] = []
    d = eng.decide(_data(), apply=lambda dec: seen.append(len(store.rows)))
    assert seen == [0], "nothing recorded before the answer was applied"
    assert d.action is Action.ACCEPT and d.downgraded is None
    assert store.rows[0][3] == "accept"


@pytest.mark.parametrize("planned", [Action.ACCEPT, Action.HOLD])
def test_answer_that_cannot_be_applied_is_recorded_as_tempfail(planned: Action) -> None:
    """The MTA refused the header change (or went away): the log says tempfail, not
    accept; the report keeps what the rules decided."""
    eng, _, store = _engine(_report(Verdict.VALID, planned))

    def apply(dec):
        raise Unreachable("cannot add header")

    d = eng.decide(_data(), apply=apply)
    assert d.action is Action.TEMPFAIL and "Unreachable: cannot add header" in (d.downgraded or "")
    (report, _, _, taken), = store.rows
    assert taken == "tempfail" and report.action is planned


def test_session_time_is_recorded_from_the_first_byte() -> None:
    import time

    eng, _, store = _engine(_report(Verdict.VALID, Action.ACCEPT))
    data = _data()
    data.received_at = time.monotonic() - 2.0
    eng.decide(data)
    (ms,) = store.session_ms
    assert ms is not None and 2000 <= ms < 60_000
    eng.decide(_data())
    assert store.session_ms[1] is None  # not measured (offline)


def test_own_notice_is_skipped_without_checking() -> None:
    mid = "<notice-1@gw>"
    marker = make_marker(SECRET, mid)
    eng, runner, store = _engine(_report(Verdict.VALID, Action.ACCEPT))
    d = eng.decide(_data([("Message-ID", mid.encode()), ("X-Hople-Notice", marker.encode())], mid))
    assert d.skipped and d.action is Action.ACCEPT and d.add_headers == ()
    assert runner.calls == [] and store.rows == []


def test_forged_notice_marker_is_checked() -> None:
    mid = "<notice-1@gw>"
    bad = make_marker(b"x" * 32, mid)
    eng, runner, _ = _engine(_report(Verdict.VALID, Action.ACCEPT))
    d = eng.decide(_data([("Message-ID", mid.encode()), ("X-Hople-Notice", bad.encode())], mid))
    assert not d.skipped and runner.calls
    # a marker for another Message-ID does not count either
    good_elsewhere = make_marker(SECRET, "<other@gw>")
    d = eng.decide(_data([("Message-ID", mid.encode()),
                          ("X-Hople-Notice", good_elsewhere.encode())], mid))
    assert not d.skipped


def test_without_secret_nothing_is_skipped() -> None:
    runner = FakeRunner(_report(Verdict.VALID, Action.ACCEPT))
    eng = Engine(runner, FakeStore(), notice_secret=None)
    mid = "<n@gw>"
    d = eng.decide(_data([("X-Hople-Notice", make_marker(SECRET, mid).encode())], mid))
    assert not d.skipped and runner.calls


def test_deadline_passed_to_runner() -> None:
    import time

    eng, runner, _ = _engine(_report(Verdict.VALID, Action.ACCEPT), deadline_seconds=7.5)
    before = time.monotonic()
    eng.decide(_data())
    assert before + 7 < runner.calls[0][4] <= time.monotonic() + 7.5


def test_forged_header_indices() -> None:
    headers = [
        ("Received", b"x"),
        ("X-Legal-Validity", b"valid"),
        ("Subject", b"s"),
        ("x-legal-validity", b"valid"),
        ("X-Legal-Validity-Report", b"forged"),
        ("X-Legal-Validity", b"again"),
    ]
    assert forged_headers(headers) == [
        ("X-Legal-Validity", 3), ("x-legal-validity", 2), ("X-Legal-Validity", 1),
        ("X-Legal-Validity-Report", 1),
    ]


def test_reply_lines() -> None:
    assert reply_lines("simple") == ["simple"]
    # a single % would make libmilter drop the reply: every % is doubled, pairs never split
    assert reply_lines("50% done") == ["50%% done"]
    assert reply_lines("%" * 7, width=5) == ["%%%%", "%%%%", "%%%%", "%%"]
    assert reply_lines("Tệp đính kèm vượt giới hạn") == ["Tep dinh kem vuot gioi han"]
    assert reply_lines("a\r\nb\tc\x00d") == ["a b c d"]
    long = " ".join(["word"] * 200)
    lines = reply_lines(long, width=50)
    assert all(len(x) <= 50 for x in lines) and len(lines) <= 10
    assert lines[-1].endswith("...")
    assert all(x.isascii() for x in reply_lines("ĐIỀU 9.4 – miễn phí “x”"))
    assert reply_lines("") == ["-"]


def test_decisions_of_several_connections_reach_the_log_at_once() -> None:
    """The engine holds no lock around the log: records of messages decided at the same time
    reach the store together, so they can share one commit (gateway/audit/group.py)."""
    import threading

    inside = threading.Barrier(2, timeout=10)

    class MeetingStore(FakeStore):
        def record(self, report, envelope, *, decided_at, action_taken=None, session_ms=None):
            inside.wait()  # both callers must be in record() at the same time
            return super().record(report, envelope, decided_at=decided_at,
                                  action_taken=action_taken, session_ms=session_ms)

    store = MeetingStore()
    eng, _, _ = _engine(_report(Verdict.VALID, Action.ACCEPT), store)
    results: list[Action] = []
    threads = [threading.Thread(target=lambda: results.append(eng.decide(_data()).action))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == [Action.ACCEPT, Action.ACCEPT] and len(store.rows) == 2
