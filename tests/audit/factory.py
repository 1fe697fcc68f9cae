"""Building blocks for the decision-log tests: reports made from model objects, and direct
database access that bypasses the store (to tamper with the log as an intruder would)."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from gateway.model.catalog import make_finding
from gateway.model.envelope import Envelope
from gateway.model.findings import Action, Finding
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

T0 = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)


def doc(name: str, *, cls: DocClass = DocClass.EDITABLE, signed: bool = False,
        findings: Sequence[Finding] | None = None) -> DocumentReport:
    if findings is None:
        findings = [] if signed or cls is not DocClass.EDITABLE else [
            make_finding("EDITABLE_NOT_SIGNED", place=name, name=name)]
    sigs: tuple[SignatureReport, ...] = ()
    if signed:
        sigs = (SignatureReport("ooxml-xmldsig", Integrity.INTACT, Coverage.WHOLE, Trust.TRUSTED,
                                Revocation.GOOD, signer="CN=Sở Thông tin và Truyền thông",
                                signing_time=datetime(2026, 3, 9, 1, 2, 3, tzinfo=UTC)),)
    media = {DocClass.EDITABLE: "application/vnd.openxmlformats-officedocument."
             "wordprocessingml.document", DocClass.NON_EDITABLE: "application/pdf"}.get(
        cls, "application/octet-stream")
    return DocumentReport(
        path=name, sha256=f"{abs(hash(name)):064x}"[:64], size=1234, media_type=media,
        doc_class=cls, verdict=document_verdict(cls, tuple(findings)), signatures=sigs,
        findings=tuple(findings))


def report(*documents: DocumentReport, findings: Sequence[Finding] = (),
           duration_ms: float = 12.5) -> MessageReport:
    verdict, action = message_verdict(tuple(findings), tuple(documents))
    return MessageReport(input="q", kind="message", verdict=verdict, action=action,
                         findings=tuple(findings), documents=tuple(documents),
                         rules_hash="r" * 64, duration_ms=duration_ms)


def freemail_report(domain: str = "gmail.com") -> MessageReport:
    return report(doc("cv.docx"), findings=[make_finding("SENDER_FREEMAIL", domain=domain)])


def held_report() -> MessageReport:
    f = dataclasses.replace(make_finding("INSPECTION_FAILED", name="x.pdf", reason="test"),
                            action=Action.HOLD)
    return report(doc("x.pdf", cls=DocClass.NON_EDITABLE, findings=[f]))


def env(sender: str | None = "annv.stttt@daknong.gov.vn", *, queue_id: str | None = "4XyZ1",
        **kw: Any) -> Envelope:
    base: dict[str, Any] = dict(recipients=("vp.snv@daknong.gov.vn",), client_addr="10.0.0.5",
                                message_id="<m@daknong.gov.vn>",
                                from_header=f"Nguyễn Văn An <{sender}>")
    base.update(kw)
    return Envelope(sender=sender, queue_id=queue_id, **base)


class Raw:
    """Direct SQL on the log's database, outside the store (``?`` placeholders)."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite://"):
            self.conn: Any = sqlite3.connect(url[len("sqlite:///"):], isolation_level=None)
            self.pg = False
        else:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)
            self.pg = True

    def __call__(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self.pg:
            cur = self.conn.execute(sql.replace("?", "%s"), tuple(params))
            return cur.fetchall() if cur.description else []
        return self.conn.execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        self.conn.close()

    def dump(self) -> str:
        """Every value of every table, as text (to look for what must never be stored)."""
        out = []
        for table in ("decisions", "documents", "checkpoints", "chain_head", "schema_version"):
            for row in self(f"SELECT * FROM {table}"):
                out.append(" ".join(str(v) for v in row))
        return "\n".join(out)
