"""A small decision log with known content for the web tests: real reports from the
pipeline on literal messages, plus reports built from model objects for what the pipeline
cannot produce without a PKI (a valid signed document, a held message)."""

from __future__ import annotations

import dataclasses
import functools
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.audit.store import DecisionStore
from gateway.model.catalog import make_finding
from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.model.report import (
    Coverage,
    DocClass,
    DocumentReport,
    Integrity,
    MessageReport,
    Revocation,
    SignatureReport,
    Trust,
    document_verdict,
    message_verdict,
)
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from tests.corpus.make_corpus import base, docx

ADMIN = "kiemtra"
FIRST_PASSWORD = "Tạm-thời#2026"
NEW_PASSWORD = "Đổi@Mới2026x"


@dataclass(frozen=True)
class Known:
    """What the log holds, decision id → facts the tests check."""

    ids: dict[str, int]
    queue_ids: dict[str, str]


def _utc(y: int, m: int, d: int, h: int = 3) -> datetime:
    return datetime(y, m, d, h, 0, tzinfo=UTC)


def _envelope(sender: str, queue_id: str, n: int) -> Envelope:
    return Envelope(sender=sender, recipients=("vanthu@lamdong.gov.vn",), client_addr="10.1.2.3",
                    client_name="mail.daknong.gov.vn", queue_id=queue_id,
                    message_id=f"<web-{n}@hople.test>", from_header=sender)


def _message(sender: str, subject: str, n: int, attach_docx: bool) -> bytes:
    m = base(sender, subject, n)
    if attach_docx:
        m.add_attachment(docx(), maintype="application",
                         subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                         filename="Kế hoạch hội nghị.docx")
    return m.as_bytes()


def _signed_report() -> MessageReport:
    sig = SignatureReport("ooxml-xmldsig", Integrity.INTACT, Coverage.WHOLE, Trust.TRUSTED,
                          Revocation.GOOD, signer="CN=Sở Thông tin và Truyền thông",
                          signing_time=datetime(2026, 3, 4, 1, 2, 3, tzinfo=UTC))
    doc = DocumentReport(path="Quyết định 12-STTTT.docx", sha256="ab" * 32, size=20480,
                         media_type="application/vnd.openxmlformats-officedocument."
                                    "wordprocessingml.document",
                         doc_class=DocClass.EDITABLE, verdict=document_verdict(
                             DocClass.EDITABLE, ()), signatures=(sig,))
    verdict, action = message_verdict((), (doc,))
    return MessageReport(input="signed", kind="message", verdict=verdict, action=action,
                         documents=(doc,), rules_hash="r" * 64, duration_ms=35.0)


def _held_report() -> MessageReport:
    f = dataclasses.replace(make_finding("INSPECTION_FAILED", name="bao-cao.pdf",
                                         reason="test"), action=Action.HOLD)
    doc = DocumentReport(path="bao-cao.pdf", sha256="cd" * 32, size=4096,
                         media_type="application/pdf", doc_class=DocClass.NON_EDITABLE,
                         verdict=document_verdict(DocClass.NON_EDITABLE, (f,)), findings=(f,))
    verdict, action = message_verdict((), (doc,))
    return MessageReport(input="held", kind="message", verdict=verdict, action=action,
                         documents=(doc,), rules_hash="r" * 64, duration_ms=2500.0)


_PLAN = [
    ("text", "stttt@daknong.gov.vn", "Lịch công tác", False, _utc(2026, 1, 15)),
    ("unsigned", "annv.snv@daknong.gov.vn", "Kế hoạch", True, _utc(2026, 2, 10)),
    ("freemail", "nguyenvana@gmail.com", "Gửi văn bản", True, _utc(2026, 2, 11)),
    ("signed", "stttt@daknong.gov.vn", None, None, _utc(2026, 3, 5)),
    ("held", "ketoan.stc@daknong.gov.vn", None, None, _utc(2026, 3, 6)),
    ("unsigned2", "vanthu.snv@daknong.gov.vn", "Báo cáo", True, _utc(2026, 3, 7)),
]


@functools.lru_cache(maxsize=1)
def _reports() -> tuple[tuple[str, Envelope, MessageReport, datetime], ...]:
    """The reports once per test session (checking the messages is the slow part)."""
    checker = Checker(load_policy(None), clock=lambda: _utc(2026, 3, 1))
    out = []
    for n, (name, sender, subject, attach, at) in enumerate(_PLAN, 1):
        qid = f"Q{n}WEB{name.upper()}"
        env = _envelope(sender, qid, n)
        if name == "signed":
            report = _signed_report()
        elif name == "held":
            report = _held_report()
        else:
            assert subject is not None and attach is not None, name
            report = checker.check_message(io.BytesIO(_message(sender, subject, n, attach)),
                                           env, label=qid)
        out.append((name, env, report, at))
    return tuple(out)


def populate(store: DecisionStore) -> Known:
    ids: dict[str, int] = {}
    queue_ids: dict[str, str] = {}
    for name, env, report, at in _reports():
        ids[name] = store.record(report, env, decided_at=at, action_taken=report.action.label)
        queue_ids[name] = env.queue_id or ""
    return Known(ids, queue_ids)
