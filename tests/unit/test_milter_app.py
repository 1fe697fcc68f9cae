"""The pymilter adapter driven by pymilter's own TestCtx (no MTA): what it collects, what it
hands to the engine, what it tells the MTA, and that a large message spools to disk with
bounded memory."""

from __future__ import annotations

import io
import os
import time
import tracemalloc
from pathlib import Path
from typing import Any

import Milter
import pytest
from Milter import testctx

from gateway.milter.app import GatewayMilter
from gateway.milter.engine import Decision, Engine, MessageData
from gateway.model.findings import Action
from gateway.model.report import MessageReport, SmtpReply, Verdict
from gateway.notices.marker import make_marker

NR_BITS = (Milter.P_NR_CONN | Milter.P_NR_HELO | Milter.P_NR_MAIL | Milter.P_NR_RCPT
           | Milter.P_NR_DATA | Milter.P_NR_UNKN | Milter.P_NR_EOH | Milter.P_NR_BODY
           | Milter.P_NR_HDR)


class Ctx(testctx.TestCtx):
    """TestCtx offers every no-reply bit, so a @noreply callback answers NOREPLY and
    TestCtx stops feeding the message; real MTAs handle that. Take the bits back."""

    def __init__(self) -> None:
        super().__init__()
        self.quarantined: str | None = None

    def _negotiate(self) -> int:
        rc = super()._negotiate()
        if self._priv is not None:
            self._priv._protocol &= ~NR_BITS
        return rc

    def quarantine(self, reason: str) -> None:
        self.quarantined = reason


class RecordingEngine:
    """Stands in for the Engine: records what it was given, returns a fixed decision."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        self.seen: list[dict[str, Any]] = []

    def decide(self, data: MessageData, progress: Any = None, apply: Any = None) -> Decision:
        if data.kind == "path":
            content = Path(data.source).read_bytes()
            exists = os.path.exists(data.source)
        else:
            content, exists = data.source, None
        self.seen.append({"data": data, "content": content, "exists": exists})
        if apply is not None:
            apply(self.decision)
        return self.decision


def _milter(engine: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
            memory: int = 1024 * 1024) -> Ctx:
    monkeypatch.setattr(Milter, "factory", lambda: GatewayMilter(engine, str(tmp_path), memory))
    ctx = Ctx()
    ctx._setsymval("i", "4ABCDEF")
    ctx._setsymval("{auth_authen}", "clerk1")
    assert ctx._connect(host="mail.agency.gov.vn", ip="10.1.2.3") == Milter.CONTINUE
    ctx._stage = -1  # callbacks called directly below read macros without a stage filter
    return ctx


MSG = (
    b"From: =?utf-8?b?U+G7nyBUw6BpIGNow61uaA==?= <a@stc.gov.vn>\n"
    b"To: b@ubnd.gov.vn\n"
    b"Subject: =?utf-8?q?B=C3=A1o_c=C3=A1o?=\n"
    b"Message-ID: <m1@stc.gov.vn>\n"
    b"X-Legal-Validity: valid\n"
    b"X-Legal-Validity-Report: forged\n"
    b"\n"
    b"Body line\n"
)


def _valid_decision() -> Decision:
    report = MessageReport(input="4ABCDEF", kind="message", verdict=Verdict.VALID,
                           action=Action.ACCEPT)
    return Decision(Action.ACCEPT, report=report,
                    add_headers=(("X-Legal-Validity", "valid"),
                                 ("X-Legal-Validity-Report",
                                  "a.pdf class=non-editable\r\n verdict=valid")))


def test_collects_envelope_headers_and_body(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    eng = RecordingEngine(_valid_decision())
    ctx = _milter(eng, tmp_path, monkeypatch)
    rc = ctx._feedFile(io.BytesIO(MSG), "a@stc.gov.vn", "b@ubnd.gov.vn", "c@ubnd.gov.vn")
    assert rc == Milter.ACCEPT
    (seen,) = eng.seen
    env = seen["data"].envelope
    assert env.sender == "a@stc.gov.vn"
    assert env.recipients == ("b@ubnd.gov.vn", "c@ubnd.gov.vn")
    assert env.queue_id == "4ABCDEF"
    assert env.sasl_user == "clerk1"
    assert env.client_addr == "10.1.2.3" and env.client_name == "mail.agency.gov.vn"
    assert env.message_id == "<m1@stc.gov.vn>"
    assert env.from_header.endswith("<a@stc.gov.vn>")
    assert seen["data"].kind == "bytes"
    content = seen["content"]
    assert content.startswith(b"From: =?utf-8?b?U+G7nyBUw6BpIGNow61uaA==?= <a@stc.gov.vn>\r\n")
    assert b"\r\n\r\nBody line" in content
    import email
    import email.policy

    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert str(parsed["Subject"]) == "Báo cáo"
    assert parsed.get_content().strip() == "Body line"


def test_accept_strips_forged_and_adds_headers(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _milter(RecordingEngine(_valid_decision()), tmp_path, monkeypatch)
    assert ctx._feedFile(io.BytesIO(MSG), "a@stc.gov.vn", "b@ubnd.gov.vn") == Milter.ACCEPT
    assert ctx._headerschanged
    assert ctx._msg.get_all("X-Legal-Validity") == ["valid"]
    report = ctx._msg.get_all("X-Legal-Validity-Report")
    assert report == ["a.pdf class=non-editable\n verdict=valid"]  # LF folding for libmilter
    assert "forged" not in str(report)


def test_reject_sets_the_reply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reply = SmtpReply("550", "5.7.1",
                      "Van ban tu hop thu mien phi (Dieu 9.4) / Free mail (Article 9.4)")
    ctx = _milter(RecordingEngine(Decision(Action.REJECT, reply=reply)), tmp_path, monkeypatch)
    assert ctx._feedFile(io.BytesIO(MSG), "x@gmail.com", "b@ubnd.gov.vn") == Milter.REJECT
    assert ctx._reply == ("550", "5.7.1", reply.text)
    assert ctx._msg.get_all("X-Legal-Validity") == ["valid"]  # nothing changed on a reject
    assert not ctx._headerschanged


def test_tempfail_sets_the_reply(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reply = SmtpReply("451", "4.3.0", "try later")
    ctx = _milter(RecordingEngine(Decision(Action.TEMPFAIL, reply=reply)), tmp_path, monkeypatch)
    assert ctx._feedFile(io.BytesIO(MSG)) == Milter.TEMPFAIL
    assert ctx._reply == ("451", "4.3.0", "try later")


def test_hold_quarantines_and_accepts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = Decision(Action.HOLD, add_headers=(("X-Legal-Validity", "held"),),
                 quarantine_reason="hople: held by rules (X)")
    ctx = _milter(RecordingEngine(d), tmp_path, monkeypatch)
    assert ctx._feedFile(io.BytesIO(MSG)) == Milter.ACCEPT
    assert ctx.quarantined == "hople: held by rules (X)"
    assert ctx._msg.get_all("X-Legal-Validity") == ["held"]


def test_skipped_notice_is_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _milter(RecordingEngine(Decision(Action.ACCEPT, skipped=True)), tmp_path, monkeypatch)
    assert ctx._feedFile(io.BytesIO(MSG)) == Milter.ACCEPT
    assert not ctx._headerschanged
    assert ctx._msg.get_all("X-Legal-Validity") == ["valid"]


def test_engine_exception_propagates_to_the_exception_policy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """pymilter turns an exception into the exception policy (TEMPFAIL, set by serve());
    the spool is closed anyway."""

    class Boom:
        def decide(self, data: MessageData, progress: Any = None, apply: Any = None
                   ) -> Decision:
            raise RuntimeError("boom")

    ctx = _milter(Boom(), tmp_path, monkeypatch)
    with pytest.raises(RuntimeError):
        ctx._feedFile(io.BytesIO(MSG))
    assert list(tmp_path.iterdir()) == []


def test_two_messages_on_one_connection_do_not_mix(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    eng = RecordingEngine(_valid_decision())
    ctx = _milter(eng, tmp_path, monkeypatch)
    ctx._feedFile(io.BytesIO(MSG), "a@stc.gov.vn", "b@ubnd.gov.vn")
    second = MSG.replace(b"<m1@stc.gov.vn>", b"<m2@stc.gov.vn>")
    ctx._feedFile(io.BytesIO(second), "z@stc.gov.vn", "y@ubnd.gov.vn")
    a, b = (s["data"] for s in eng.seen)
    assert a.envelope.recipients == ("b@ubnd.gov.vn",)
    assert b.envelope.recipients == ("y@ubnd.gov.vn",) and b.envelope.sender == "z@stc.gov.vn"
    assert b.envelope.message_id == "<m2@stc.gov.vn>"
    assert [h for h, _ in b.headers].count("Message-ID") == 1


def test_raw_8bit_headers_survive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    eng = RecordingEngine(_valid_decision())
    ctx = _milter(eng, tmp_path, monkeypatch)
    m = GatewayMilter(eng, str(tmp_path), 1024)
    m._setctx(ctx)
    m.envfrom("<a@x>")
    m.header_bytes("Subject", "Thử nghiệm".encode())
    m.header_bytes("X-Latin1", b"caf\xe9")
    m.eoh()
    m.body(b"x\r\n")
    assert m.spool is not None
    kind, source = m.spool.contents_for_worker()
    assert b"Subject: Th\xe1\xbb\xad nghi\xe1\xbb\x87m\r\n" in source
    assert b"X-Latin1: caf\xe9\r\n" in source


@pytest.mark.parametrize("body", [[b"line 1\r\n", b"line 2\r\n"], []])
def test_blank_line_between_headers_and_body_without_an_eoh_step(
        body: list[bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No end-of-headers step is negotiated: the blank line is spooled before the first body
    chunk, or at the end of a message without body, exactly once."""
    eng = RecordingEngine(Decision(Action.ACCEPT, skipped=True))  # nothing to apply
    ctx = _milter(eng, tmp_path, monkeypatch)
    m = ctx.getpriv()
    m.envfrom("<a@x>")
    m.header_bytes("Subject", b"s")
    m.header_bytes("X-Folded", b"a\n\tb")
    for chunk in body:
        m.body(chunk)
    assert m.eom() == Milter.ACCEPT
    (seen,) = eng.seen
    assert seen["content"] == b"Subject: s\r\nX-Folded: a\r\n\tb\r\n\r\n" + b"".join(body)


def test_large_message_spools_to_disk_with_bounded_memory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """30 MiB of body in Postfix-sized chunks: the spool rolls over to a 0600 file in the
    spool directory, Python allocations stay far below the message size, the worker gets a
    path, and the file is gone after the message."""
    eng = RecordingEngine(_valid_decision())
    ctx = _milter(eng, tmp_path, monkeypatch)
    m = ctx.getpriv()
    assert m.envfrom("<a@stc.gov.vn>") == Milter.CONTINUE
    m.envrcpt("<b@ubnd.gov.vn>")
    m.header_bytes("Message-ID", b"<big@x>")
    m.header_bytes("Content-Type", b"application/octet-stream")
    m.eoh()
    chunk = (b"A" * 74 + b"\r\n") * (65535 // 76)
    total = 30 * 1024 * 1024
    sent = 0
    tracemalloc.start()
    try:
        while sent < total:
            m.body(chunk)
            sent += len(chunk)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    spool = m.spool
    assert spool.rolled, "the spool must roll over to disk past 1 MiB"
    path = Path(spool.path)
    assert path.parent == tmp_path
    assert (path.stat().st_mode & 0o777) == 0o600
    assert path.stat().st_size == spool.size
    assert peak < 4 * 1024 * 1024, f"peak Python allocations {peak} bytes while streaming {sent}"
    import email.message

    ctx._stage = Milter.M_EOM
    ctx._body = io.BytesIO(b"x")
    ctx._msg = email.message.Message()
    assert m.eom() == Milter.ACCEPT
    (seen,) = eng.seen
    assert seen["data"].kind == "path" and seen["exists"] is True
    assert len(seen["content"]) == seen["data"].size > total
    assert not path.exists(), "the spool file is removed after the message"


def _spool_path(m: GatewayMilter) -> Path:
    """The file a message went to (the spool exists and rolled over to disk)."""
    assert m.spool is not None and m.spool.path is not None
    return Path(m.spool.path)


def test_abort_and_close_remove_the_spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = _milter(RecordingEngine(_valid_decision()), tmp_path, monkeypatch, memory=10)
    m = ctx.getpriv()
    m.envfrom("<a@x>")
    m.header_bytes("Subject", b"s")
    m.eoh()
    m.body(b"x" * 100)
    path = _spool_path(m)
    assert path.exists()
    m.abort()
    assert not path.exists() and m.spool is None
    m.envfrom("<a@x>")
    m.body(b"y" * 100)
    path = _spool_path(m)
    m.close()
    assert not path.exists()


def test_with_the_real_engine_and_a_marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The adapter with the real Engine: a valid notice marker skips the runner."""

    class NeverRun:
        def run(self, *a: Any, **k: Any) -> Any:
            raise AssertionError("a notice must not be checked")

    secret = b"k" * 32
    eng = Engine(NeverRun(), None, notice_secret=secret)
    ctx = _milter(eng, tmp_path, monkeypatch)
    msg = (b"From: gw@agency.gov.vn\nMessage-ID: <n1@gw>\nX-Hople-Notice: "
           + make_marker(secret, "<n1@gw>", now=time.time()).encode() + b"\n\nnotice\n")
    assert ctx._feedFile(io.BytesIO(msg)) == Milter.ACCEPT
    assert not ctx._headerschanged


# -- negotiation, macros per message, spool failures, answers that cannot be applied ----------


def test_negotiation_asks_only_for_the_actions_used() -> None:
    m = GatewayMilter(RecordingEngine(_valid_decision()), "/tmp", 1024)
    every_action = 0x1FF
    opts = [every_action, 0x1FFFFF, 0, 0]
    assert m.negotiate(opts) == Milter.CONTINUE
    assert opts[0] == Milter.ADDHDRS | Milter.CHGHDRS | Milter.QUARANTINE
    for never in (Milter.CHGBODY, Milter.ADDRCPT, Milter.DELRCPT, Milter.CHGFROM):
        assert not opts[0] & never
    # steps the gateway does not use are skipped (end of headers too: the blank line is
    # spooled before the first body chunk); header lines and body chunks are streamed by the
    # MTA without waiting for an answer, MAIL FROM and the end of message are answered
    assert opts[1] & Milter.P_NOHELO and opts[1] & Milter.P_NODATA and opts[1] & Milter.P_NOEOH
    assert not opts[1] & (Milter.P_NOMAIL | Milter.P_NOHDRS | Milter.P_NOBODY)
    assert opts[1] & Milter.P_NR_HDR and opts[1] & Milter.P_NR_BODY
    assert not opts[1] & (Milter.P_NR_MAIL | Milter.P_NR_EOH)
    # the connection step only records the client: the MTA does not wait for its answer
    assert opts[1] & Milter.P_NR_CONN and not opts[1] & Milter.P_NOCONNECT


@pytest.mark.parametrize("withheld", [Milter.ADDHDRS, Milter.CHGHDRS, Milter.QUARANTINE])
def test_negotiation_refuses_an_mta_without_a_needed_action(
        withheld: int, caplog: pytest.LogCaptureFixture) -> None:
    eng = RecordingEngine(_valid_decision())
    m = GatewayMilter(eng, "/tmp", 1024)
    opts = [0x1FF & ~withheld, 0x1FFFFF, 0, 0]
    assert m.negotiate(opts) == Milter.REJECT
    assert "refusing the MTA at negotiation" in caplog.text
    assert eng.seen == []


def test_mail_stage_macros_are_read_per_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                ) -> None:
    """libmilter keeps the previous message's MAIL-stage macros when the MTA sends none (as
    TestCtx does): the second message must not inherit the first one's queue id or login."""
    eng = RecordingEngine(_valid_decision())
    ctx = _milter(eng, tmp_path, monkeypatch)
    ctx._feedFile(io.BytesIO(MSG), "a@stc.gov.vn", "b@ubnd.gov.vn")
    ctx._feedFile(io.BytesIO(MSG.replace(b"<m1@", b"<m2@")), "z@stc.gov.vn", "y@ubnd.gov.vn")
    ctx._setsymval("i", "5NEWQID")
    ctx._setsymval("{auth_authen}", "clerk2")
    ctx._feedFile(io.BytesIO(MSG.replace(b"<m1@", b"<m3@")), "z@stc.gov.vn", "y@ubnd.gov.vn")
    first, second, third = (s["data"].envelope for s in eng.seen)
    assert (first.queue_id, first.sasl_user) == ("4ABCDEF", "clerk1")
    assert (second.queue_id, second.sasl_user) == (None, None)
    assert (third.queue_id, third.sasl_user) == ("5NEWQID", "clerk2")


class FullSpool(io.RawIOBase):
    def write(self, b: Any) -> int:
        raise OSError(28, "No space left on device")


def test_spool_write_failure_tempfails_the_message(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC while spooling the body: the spool is gone at once, the rest of the message is
    dropped, and its end is answered TEMPFAIL with a 452 reply; the engine never runs."""
    eng = RecordingEngine(_valid_decision())
    ctx = _milter(eng, tmp_path, monkeypatch, memory=10)
    m = ctx.getpriv()
    assert m.envfrom("<a@x>") == Milter.CONTINUE
    assert m.header_bytes("Subject", b"s") == Milter.CONTINUE
    m.spool._file = FullSpool()  # the disk fills up now
    m.spool._rolled = True
    assert m.body(b"x" * 100) == Milter.CONTINUE  # no answer is awaited for a body chunk
    assert m.spool is None and list(tmp_path.iterdir()) == []
    assert m.body(b"more") == Milter.CONTINUE and m.spool is None  # nothing more is taken
    assert m.eom() == Milter.TEMPFAIL and eng.seen == []
    assert ctx._reply[:2] == ("452", "4.3.1")
    # the next message on the connection starts clean
    assert m.envfrom("<a@x>") == Milter.CONTINUE and m.spool is not None


def test_spool_flush_failure_at_end_of_message_tempfails(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The spool file cannot be flushed for the worker (disk full at the last moment): the
    end of message is answered TEMPFAIL with a 452, the engine never runs, nothing is left."""
    eng = RecordingEngine(_valid_decision())
    ctx = _milter(eng, tmp_path, monkeypatch, memory=10)
    m = ctx.getpriv()
    assert m.envfrom("<a@x>") == Milter.CONTINUE
    m.header_bytes("Subject", b"s")
    m.body(b"x" * 100)
    assert list(tmp_path.iterdir())  # rolled over to a file

    def full() -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(m.spool, "contents_for_worker", full)
    assert m.eom() == Milter.TEMPFAIL and eng.seen == []
    assert ctx._reply[:2] == ("452", "4.3.1")
    assert m.spool is None and list(tmp_path.iterdir()) == []


def test_mail_from_is_refused_when_the_spool_lacks_space(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gateway.milter.app as app

    ctx = _milter(RecordingEngine(_valid_decision()), tmp_path, monkeypatch)
    m = ctx.getpriv()
    free = app.spool_free_bytes(str(tmp_path))
    assert m.envfrom("<a@x>", f"SIZE={free}") == Milter.TEMPFAIL  # free < SIZE + reserve
    assert ctx._reply[:2] == ("452", "4.3.1") and m.spool is None
    monkeypatch.setattr(app, "spool_free_bytes", lambda path: app.SPOOL_RESERVE_BYTES - 1)
    assert m.envfrom("<a@x>") == Milter.TEMPFAIL
    monkeypatch.setattr(app, "spool_free_bytes", lambda path: app.SPOOL_RESERVE_BYTES + 10)
    assert m.envfrom("<a@x>", "SIZE=10") == Milter.CONTINUE


def test_an_answer_the_mta_does_not_allow_becomes_a_recorded_tempfail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If adding the headers fails (action not negotiated, MTA gone), the message is
    tempfailed and the log row says tempfail: never 'accept' for an undelivered message."""
    rows: list[str | None] = []

    class Store:
        def record(self, report, envelope, *, decided_at, action_taken=None, session_ms=None
                   ):
            rows.append(action_taken)
            return len(rows)

    class Runner:
        def run(self, *a: Any, **k: Any) -> MessageReport:
            return MessageReport(input="q", kind="message", verdict=Verdict.NO_DOCUMENTS,
                                 action=Action.ACCEPT)

    ctx = _milter(Engine(Runner(), Store()), tmp_path, monkeypatch)
    ctx.getpriv()._actions = Milter.CHGHDRS | Milter.QUARANTINE  # no ADDHDRS
    assert ctx._feedFile(io.BytesIO(MSG)) == Milter.TEMPFAIL
    assert ctx._reply[:2] == ("451", "4.3.0")
    assert rows == ["tempfail"]
