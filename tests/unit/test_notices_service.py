"""Notices as the milter uses them: which decisions call for which notice, the engine hook
(the outbox row carries the decision id; suppression and the rate limit are recorded; a
broken notifier never fails the mail), the optional subject tag applied at end of message,
the service built from settings, and ``hople notices list|show|retry``."""

from __future__ import annotations

import dataclasses
import io
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import Milter
import pytest
from Milter import testctx

from gateway.audit.store import DecisionStore, open_store
from gateway.cli import main
from gateway.milter.app import GatewayMilter
from gateway.milter.engine import Engine, MessageData
from gateway.model.catalog import make_finding
from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.model.report import DocClass, DocumentReport, DocVerdict, MessageReport, Verdict
from gateway.notices.outbox import Outbox
from gateway.notices.service import (
    NoticeRules,
    NoticeService,
    notice_kinds,
    subject_with_tag,
    templates_for,
)
from gateway.policy.strict import RulesError

AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
AGENCY = "van-thu@stc.daknong.gov.vn"
CONTACT = "baomat@daknong.gov.vn"
TEMPLATES = templates_for(NoticeRules())


def _doc(*findings, verdict: DocVerdict = DocVerdict.INVALID) -> DocumentReport:
    return DocumentReport(path="Kế hoạch.docx", sha256="0" * 64, size=1, media_type="x/y",
                          doc_class=DocClass.EDITABLE, verdict=verdict, findings=findings)


def invalid_report() -> MessageReport:
    return MessageReport(input="Q", kind="message", verdict=Verdict.INVALID,
                         action=Action.ACCEPT,
                         documents=(_doc(make_finding("EDITABLE_NOT_SIGNED",
                                                      name="Kế hoạch.docx")),))


def held_report(classified: bool) -> MessageReport:
    f = (make_finding("SECRET_STAMP", name="Kế hoạch.docx", level="MẬT", place="đoạn 1",
                      contact=CONTACT) if classified else
         dataclasses.replace(make_finding("EDITABLE_NOT_SIGNED", name="Kế hoạch.docx"),
                             action=Action.HOLD))
    return MessageReport(input="Q", kind="message", verdict=Verdict.HELD, action=Action.HOLD,
                         documents=(_doc(f),))


def test_which_decisions_call_for_which_notice() -> None:
    assert notice_kinds(invalid_report(), Action.ACCEPT) == ["invalid"]
    assert notice_kinds(held_report(False), Action.HOLD) == ["held"]
    assert notice_kinds(held_report(True), Action.HOLD) == ["held", "security"]
    rejected = dataclasses.replace(invalid_report(), verdict=Verdict.REJECTED,
                                   action=Action.REJECT)
    assert notice_kinds(rejected, Action.REJECT) == []  # the SMTP reply explains it
    assert notice_kinds(invalid_report(), Action.TEMPFAIL) == []
    for verdict in (Verdict.VALID, Verdict.NO_DOCUMENTS, Verdict.UNCHECKED):
        r = dataclasses.replace(invalid_report(), verdict=verdict)
        assert notice_kinds(r, Action.ACCEPT) == []


class FakeRunner:
    def __init__(self, report: MessageReport) -> None:
        self.report = report

    def run(self, *a: Any, **k: Any) -> MessageReport:
        return self.report


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[DecisionStore, Outbox]]:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    decisions = open_store(url)
    notices = open_store(url)
    try:
        yield decisions, Outbox(notices)
    finally:
        decisions.close()
        notices.close()


def _service(outbox: Outbox, **rules: Any) -> NoticeService:
    base: dict[str, Any] = {"security_contact": CONTACT}
    base.update(rules)
    return NoticeService(NoticeRules(**base), TEMPLATES, outbox,
                         from_address="kiemtra@daknong.gov.vn", clock=lambda: AT)


def _data(sender: str | None = AGENCY, extra: list[tuple[str, bytes]] | None = None,
          qid: str = "4ABC", mid: str = "<orig-1@stc.daknong.gov.vn>") -> MessageData:
    headers = [("From", AGENCY.encode()), ("Subject", b"=?utf-8?q?B=C3=A1o_c=C3=A1o?="),
               ("Message-ID", mid.encode()), *(extra or [])]
    env = Envelope(sender=sender, recipients=("ubnd@daknong.gov.vn",), queue_id=qid,
                   message_id=mid)
    return MessageData(env, headers, "bytes", b"", 0)


def _engine(report: MessageReport, store: DecisionStore, notifier: Any) -> Engine:
    return Engine(FakeRunner(report), store, clock=lambda: AT, notifier=notifier)


def test_engine_queues_a_notice_with_the_decision_id(db) -> None:
    decisions, box = db
    eng = _engine(invalid_report(), decisions, _service(box))
    d = eng.decide(_data())
    assert d.action is Action.ACCEPT and d.subject is None
    (row,) = box.list()
    (logged,) = decisions.query()
    assert row.decision_id == logged.id and row.queue_id == "4ABC"
    assert row.kind == "invalid" and row.state == "pending" and row.recipient == AGENCY
    assert row.in_reply_to == "<orig-1@stc.daknong.gov.vn>"
    assert row.subject.endswith(": Báo cáo")
    assert "EDITABLE_NOT_SIGNED" in row.body and "Kế hoạch.docx" in row.body
    assert row.message_id.startswith("<hople-notice.") and row.message_id.endswith(
        "@daknong.gov.vn>")


@pytest.mark.parametrize(
    ("sender", "extra", "reason"),
    [
        ("", [], "null sender"),
        (AGENCY, [("List-Id", b"<cbcc.daknong.gov.vn>")], "mailing list (List-Id)"),
        (AGENCY, [("Precedence", b"bulk")], "Precedence: bulk"),
        (AGENCY, [("Auto-Submitted", b"auto-generated")], "Auto-Submitted: auto-generated"),
    ],
)
def test_suppressed_notices_are_recorded_with_the_reason(db, sender: str, extra, reason: str
                                                         ) -> None:
    decisions, box = db
    _engine(invalid_report(), decisions, _service(box)).decide(_data(sender, extra))
    (row,) = box.list()
    assert row.state == "suppressed" and row.reason == reason
    assert row.body == "" and row.subject == "" and row.next_attempt_at is None
    assert box.counts()["pending"] == 0


def test_rate_limit_through_the_engine(db) -> None:
    decisions, box = db
    eng = _engine(invalid_report(), decisions, _service(box, rate_limit_per_hour=2))
    for i in range(3):
        eng.decide(_data(qid=f"Q{i}", mid=f"<orig-{i}@stc.daknong.gov.vn>"))
    states = [r.state for r in reversed(box.list())]
    assert states == ["pending", "pending", "suppressed"]


def test_rejected_message_gets_no_notice(db) -> None:
    decisions, box = db
    f = make_finding("SENDER_FREEMAIL", domain="gmail.com")
    report = MessageReport(input="Q", kind="message", verdict=Verdict.REJECTED,
                           action=Action.REJECT, findings=(f,))
    d = _engine(report, decisions, _service(box)).decide(_data())
    assert d.action is Action.REJECT
    assert box.list() == []


def test_held_classified_also_tells_the_security_contact(db) -> None:
    decisions, box = db
    eng = _engine(held_report(True), decisions, _service(box))
    eng.decide(_data())
    rows = {r.kind: r for r in box.list()}
    assert set(rows) == {"held", "security"}
    assert rows["held"].recipient == AGENCY and rows["held"].state == "pending"
    assert rows["security"].recipient == CONTACT and rows["security"].state == "pending"
    assert "SECRET_STAMP" in rows["security"].body
    # the security report goes out even when the sender cannot be told
    box.store._db.execute("DELETE FROM notice_outbox")
    eng.decide(_data(sender=""))
    rows = {r.kind: r for r in box.list()}
    assert rows["held"].state == "suppressed" and rows["security"].state == "pending"
    # and is not rate-limited with the sender's notices
    eng2 = _engine(held_report(True), decisions, _service(box, rate_limit_per_hour=1))
    for _ in range(2):
        eng2.decide(_data())
    assert all(r.state == "pending" for r in box.list() if r.kind == "security")


def test_held_without_classified_findings_or_contact(db) -> None:
    decisions, box = db
    _engine(held_report(False), decisions, _service(box)).decide(_data())
    assert [r.kind for r in box.list()] == ["held"]
    box.store._db.execute("DELETE FROM notice_outbox")
    _engine(held_report(True), decisions, _service(box, security_contact="")).decide(_data())
    assert [r.kind for r in box.list()] == ["held"]


def test_a_failing_notifier_never_fails_the_mail(db, caplog: pytest.LogCaptureFixture
                                                 ) -> None:
    decisions, _box = db

    class Broken:
        def subject_for(self, *a: Any) -> None:
            return None

        def after_decision(self, *a: Any) -> None:
            raise RuntimeError("outbox unavailable")

    d = _engine(invalid_report(), decisions, Broken()).decide(_data())
    assert d.action is Action.ACCEPT and d.add_headers
    assert len(decisions.query()) == 1
    assert "notice not queued: RuntimeError: outbox unavailable" in caplog.text


def test_disabled_notices_queue_nothing(db) -> None:
    decisions, box = db
    _engine(invalid_report(), decisions, _service(box, enabled=False)).decide(_data())
    assert box.list() == []


# -- annotate-delivered: the subject tag ------------------------------------------------------


def _decoded(value: str) -> str:
    return str(make_header(decode_header(value)))


def test_subject_tag_values() -> None:
    tag = "[Văn bản chưa hợp lệ]"
    plain = subject_with_tag([("Subject", b"Bao cao thang 3")], tag)
    assert plain is not None and plain.isascii()
    assert _decoded(plain) == "[Văn bản chưa hợp lệ] Bao cao thang 3"
    encoded = subject_with_tag([("Subject", b"=?utf-8?q?B=C3=A1o_c=C3=A1o?=")], tag)
    assert encoded is not None and _decoded(encoded) == "[Văn bản chưa hợp lệ] Báo cáo"
    assert _decoded(subject_with_tag([], tag) or "") == tag
    assert subject_with_tag([("Subject", encoded.encode())], tag) is None  # tagged once
    assert subject_with_tag([("Subject", b"Hi")], "[INVALID]") == "[INVALID] Hi"


class Ctx(testctx.TestCtx):
    NR = (Milter.P_NR_CONN | Milter.P_NR_HELO | Milter.P_NR_MAIL | Milter.P_NR_RCPT
          | Milter.P_NR_DATA | Milter.P_NR_UNKN | Milter.P_NR_EOH | Milter.P_NR_BODY
          | Milter.P_NR_HDR)

    def __init__(self) -> None:
        super().__init__()
        self.changed: list[tuple[str, int, str]] = []

    def _negotiate(self) -> int:
        rc = super()._negotiate()
        if self._priv is not None:
            self._priv._protocol &= ~self.NR
        return rc

    def chgheader(self, field: str, idx: int, value: str) -> None:
        self.changed.append((field, idx, value))
        super().chgheader(field, idx, value)


MSG = (b"From: van-thu@stc.daknong.gov.vn\nTo: ubnd@daknong.gov.vn\n"
       b"Subject: =?utf-8?q?B=C3=A1o_c=C3=A1o?=\nMessage-ID: <m1@stc.daknong.gov.vn>\n\nx\n")


def _feed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> Ctx:
    monkeypatch.setattr(Milter, "factory", lambda: GatewayMilter(engine, str(tmp_path), 1 << 20))
    ctx = Ctx()
    ctx._setsymval("i", "4ABC")
    assert ctx._connect(host="mail.stc.daknong.gov.vn", ip="10.1.2.3") == Milter.CONTINUE
    assert ctx._feedFile(io.BytesIO(MSG), AGENCY, "ubnd@daknong.gov.vn") == Milter.ACCEPT
    return ctx


def test_annotate_tags_the_subject_at_end_of_message(db, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    decisions, box = db
    service = _service(box, annotate_delivered=True)
    ctx = _feed(tmp_path, monkeypatch, _engine(invalid_report(), decisions, service))
    subjects = [c for c in ctx.changed if c[0] == "Subject"]
    assert len(subjects) == 1 and subjects[0][1] == 1
    assert _decoded(subjects[0][2]) == "[Văn bản chưa hợp lệ] Báo cáo"
    assert ctx._msg.get_all("X-Legal-Validity") == ["invalid"]
    assert [r.kind for r in box.list()] == ["invalid"]  # the notice is queued too


def test_annotate_off_or_valid_leaves_the_subject(db, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    decisions, box = db
    ctx = _feed(tmp_path, monkeypatch, _engine(invalid_report(), decisions, _service(box)))
    assert not [c for c in ctx.changed if c[0] == "Subject"]
    valid = MessageReport(input="Q", kind="message", verdict=Verdict.VALID, action=Action.ACCEPT,
                          documents=(_doc(verdict=DocVerdict.VALID),))
    ctx = _feed(tmp_path, monkeypatch,
                _engine(valid, decisions, _service(box, annotate_delivered=True)))
    assert not [c for c in ctx.changed if c[0] == "Subject"]


def test_stop_logs_a_log_that_cannot_be_closed_and_returns(
        db: tuple[DecisionStore, Outbox], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """At exit, a database error while closing the outbox's connection is said in the log
    with its type; stop() itself returns."""
    _, box = db
    svc = _service(box)

    def fail() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(box.store, "close", fail)
    with caplog.at_level("WARNING", logger="hople.notices"):
        svc.stop()
    assert "closing the log failed: OperationalError: disk I/O error" in caplog.text


# -- built from settings; the CLI --------------------------------------------------------------


def test_from_config_loads_templates_and_opens_the_outbox(tmp_path: Path) -> None:
    from gateway.policy.load import load_policy
    from gateway.settings import settings_from_dict

    settings = settings_from_dict({
        "store": {"url": f"sqlite:///{tmp_path / 'd.db'}"},
        "notices": {"smtp-port": 2525, "from-address": "kiemtra@daknong.gov.vn",
                    "retry-first-seconds": 5.0},
    })
    svc = NoticeService.from_config(settings, load_policy(), b"s" * 32)
    assert svc is not None and svc.sender is not None and svc.outbox is not None
    try:
        assert svc.sender.config.port == 2525 and svc.sender.config.retry_first == 5.0
        assert svc.sender.config.from_name == "Cổng kiểm tra văn bản điện tử"
        assert svc.rules.security_contact  # from [text] security-contact
    finally:
        svc.stop()
    rules = tmp_path / "local.toml"
    rules.write_text("[notices]\nenabled = false\n", encoding="utf-8")
    assert NoticeService.from_config(settings, load_policy(rules), None) is None
    broken = tmp_path / "tpl"
    broken.mkdir()
    rules.write_text(f'[notices]\ntemplates = "{broken}"\n', encoding="utf-8")
    with pytest.raises(RulesError) as info:
        NoticeService.from_config(settings, load_policy(rules), None)
    assert str(broken / "invalid.txt") in str(info.value)


def test_rules_section_is_strict(tmp_path: Path) -> None:
    from gateway.policy.load import load_policy

    rules = tmp_path / "local.toml"
    for text, reason in (("[notices]\nrate-limit-per-hour = 0\n", "rate-limit-per-hour"),
                         ('[notices]\ntemplates = "rel/dir"\n', "absolute"),
                         ("[notices]\nannotate = true\n", "unknown key"),
                         ('[notices]\nsender-domains = ["a@b"]\n', "not a domain")):
        rules.write_text(text, encoding="utf-8")
        with pytest.raises(RulesError) as info:
            load_policy(rules)
        assert reason in str(info.value) and "notices" in str(info.value)


def test_cli_list_show_retry(db, capsys: pytest.CaptureFixture[str]) -> None:
    decisions, box = db
    url = "sqlite:///" + box.store._db.path
    _engine(invalid_report(), decisions, _service(box)).decide(_data())
    _engine(invalid_report(), decisions, _service(box)).decide(_data(sender=""))
    pending, suppressed = sorted(box.list(), key=lambda r: r.id)
    assert main(["notices", "list", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "outbox: pending 1, sent 0, failed 0, suppressed 1" in out
    assert "null sender" in out and AGENCY in out
    assert main(["notices", "list", "--db", url, "--state", "pending", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and f'"id": {pending.id}' in lines[0]
    assert main(["notices", "show", "--db", url, str(pending.id)]) == 0
    out = capsys.readouterr().out
    assert "Kính gửi van-thu@stc.daknong.gov.vn," in out and "state: pending" in out
    box.mark_attempt_failed(pending.id, "550 no", AT, permanent=True, max_attempts=5,
                            first=1, cap=1)
    assert main(["notices", "retry", "--db", url, "--failed"]) == 0
    assert "re-queued 1 notice(s)" in capsys.readouterr().out
    assert box.get(pending.id).state == "pending"
    assert main(["notices", "show", "--db", url, "999"]) == 2
    assert "no notice 999" in capsys.readouterr().err
    assert main(["notices", "retry", "--db", url]) == 2


def test_serve_refuses_to_start_with_a_broken_template(tmp_path: Path) -> None:
    """``hople serve`` checks the templates before it starts any worker."""
    from gateway.milter.startup import build_engine
    from gateway.settings import settings_from_dict

    broken = tmp_path / "tpl"
    broken.mkdir()
    for f in TEMPLATES.directory.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "held.txt").write_text("Subject: {subjet}\n\n{documents_vi}{documents_en}\n",
                                     encoding="utf-8")
    rules = tmp_path / "local.toml"
    rules.write_text(f'[notices]\ntemplates = "{broken}"\n', encoding="utf-8")
    settings = settings_from_dict({
        "rules": {"override": str(rules)},
        "store": {"url": f"sqlite:///{tmp_path / 'd.db'}"},
        "notices": {"marker-secret-file": str(tmp_path / "absent.key")},
    })
    with pytest.raises(RulesError) as info:
        build_engine(settings)
    assert str(broken / "held.txt") in str(info.value)
    assert "unknown placeholder {subjet}" in str(info.value)


def test_a_retried_message_gets_no_second_notice(db) -> None:
    """The sending MTA retries a message (new queue id, same Message-ID; or the same queue id
    from the local pickup): one notice, not one per attempt."""
    decisions, box = db
    eng = _engine(invalid_report(), decisions, _service(box))
    eng.decide(_data(qid="Q1"))
    eng.decide(_data(qid="Q2"))  # same Message-ID
    eng.decide(_data(qid="Q1", mid="<rewritten@stc.daknong.gov.vn>"))  # same queue id
    assert len(decisions.query()) == 3, "every attempt is still logged"
    (row,) = box.list()
    assert row.queue_id == "Q1" and row.state == "pending"
    eng.decide(_data(qid="Q3", mid="<another@stc.daknong.gov.vn>"))
    assert len(box.list()) == 2, "a different message is notified"


def test_a_tempfailed_answer_queues_no_notice(db) -> None:
    decisions, box = db

    def mta_gone(decision: Any) -> None:
        raise OSError("connection reset")

    d = _engine(invalid_report(), decisions, _service(box)).decide(_data(), apply=mta_gone)
    assert d.action is Action.TEMPFAIL
    assert box.list() == []
    (row,) = decisions.query()
    assert row.action == "accept" and row.action_taken == "tempfail"
