"""What the decision log keeps: one record per message and one per document.

The log never holds message bodies or document text (Article 3.3): only envelope facts,
the verdict, finding codes (with article, severity and where they apply), file names,
digests, sizes, types and a summary of each signature. Finding *texts* are not stored;
they are rendered from the catalogue when shown.

The canonical form of a record (:func:`canonical_decision`) is what the tamper-evident
chain hashes. It is built from the same :class:`Decision` object the store writes and reads
back, so any change to a stored column changes the recomputed hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.model.envelope import Envelope
from gateway.model.findings import Finding
from gateway.model.report import DocumentReport, MessageReport, SignatureReport

__all__ = [
    "CANONICAL_VERSION",
    "Checkpoint",
    "Decision",
    "DocumentRecord",
    "FindingRecord",
    "GENESIS",
    "canonical_checkpoint",
    "canonical_decision",
    "canonical_decision_json",
    "chain_hash",
    "decision_from_report",
    "format_time",
    "parse_time",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first record of a log."""

CANONICAL_VERSION = 1

MAX_TEXT = 1000
"""Longest stored string (header values, paths); longer values are cut and marked."""
MAX_RECIPIENTS = 1000
MAX_DOCUMENTS = 1000
MAX_FINDINGS = 200


def clean_text(value: object, limit: int = MAX_TEXT) -> str | None:
    """Make a value storable everywhere: valid UTF-8, no NUL (PostgreSQL text refuses it),
    bounded length."""
    if value is None:
        return None
    if type(value) is str and len(value) <= limit and value.isascii() and "\x00" not in value:
        return value  # what the conversion below would return, without the round trip
    text = str(value).encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def utc(value: datetime) -> datetime:
    """An aware UTC time; a naive time is taken as local time (as ``hople check --at`` does)."""
    if value.tzinfo is None:
        value = value.astimezone()
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """Fixed-width UTC ISO form: sorts as text and round-trips exactly."""
    return utc(value).isoformat(timespec="microseconds")


def parse_time(text: str) -> datetime:
    return utc(datetime.fromisoformat(text))


@dataclass(frozen=True)
class FindingRecord:
    code: str
    article: str
    severity: str
    action: str
    place: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "article": self.article,
            "severity": self.severity,
            "action": self.action,
            "place": self.place,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FindingRecord:
        return cls(
            code=str(data["code"]),
            article=str(data["article"]),
            severity=str(data["severity"]),
            action=str(data["action"]),
            place=data.get("place"),
        )

    @classmethod
    def of(cls, f: Finding) -> FindingRecord:
        return cls(
            code=clean_text(f.code, 100) or "",
            article=clean_text(f.article, 50) or "",
            severity=f.severity.label,
            action=f.action.label,
            place=clean_text(f.place),
        )


def _findings(items: Iterable[Finding]) -> tuple[FindingRecord, ...]:
    return tuple(FindingRecord.of(f) for f in list(items)[:MAX_FINDINGS])


def _signature(s: SignatureReport) -> dict[str, Any]:
    return {
        "format": clean_text(s.format, 100),
        "integrity": s.integrity.value,
        "coverage": s.coverage.value,
        "trust": s.trust.value,
        "revocation": s.revocation.value,
        "signer": clean_text(s.signer),
        "signing_time": format_time(s.signing_time) if s.signing_time else None,
        "findings": [clean_text(f.code, 100) for f in s.findings[:MAX_FINDINGS]],
    }


@dataclass(frozen=True)
class DocumentRecord:
    """One attached document as logged: never its content."""

    idx: int
    path: str
    sha256: str
    size: int
    media_type: str
    doc_class: str
    verdict: str
    findings: tuple[FindingRecord, ...] = ()
    signatures: tuple[dict[str, Any], ...] = ()
    """Per signature: format, integrity, coverage, trust, revocation, signer, signing_time,
    finding codes."""

    @property
    def codes(self) -> tuple[str, ...]:
        out = [f.code for f in self.findings]
        for s in self.signatures:
            out.extend(s.get("findings") or ())
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "idx": self.idx,
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
            "class": self.doc_class,
            "verdict": self.verdict,
            "findings": [f.to_json() for f in self.findings],
            "signatures": [dict(s) for s in self.signatures],
        }

    @classmethod
    def of(cls, idx: int, d: DocumentReport) -> DocumentRecord:
        return cls(
            idx=idx,
            path=clean_text(d.path) or "",
            sha256=clean_text(d.sha256, 128) or "",
            size=int(d.size),
            media_type=clean_text(d.media_type, 200) or "",
            doc_class=d.doc_class.value,
            verdict=d.verdict.value,
            findings=_findings(d.findings),
            signatures=tuple(_signature(s) for s in d.signatures[:MAX_FINDINGS]),
        )


@dataclass(frozen=True)
class Decision:
    """One logged message decision with its documents."""

    id: int
    """Also the record's sequence number in the tamper-evident chain."""
    decided_at: datetime
    """UTC."""
    queue_id: str | None
    message_id: str | None
    sender: str | None
    """Envelope sender; ``""`` is the null sender, ``None`` unknown (offline check)."""
    sender_domain: str
    recipients: tuple[str, ...]
    from_header: str | None
    sasl_user: str | None
    client_addr: str | None
    client_name: str | None
    verdict: str
    action: str
    action_taken: str | None
    smtp_reply: str | None
    findings: tuple[FindingRecord, ...]
    """Message-level findings (sender, structure); document findings are on the documents."""
    rules_hash: str
    duration_ms: float
    documents: tuple[DocumentRecord, ...] = ()
    prev_hash: str = ""
    hash: str = ""
    session_ms: float | None = None
    """Milliseconds from the first byte the milter saw of the message until its answer was
    handed to the MTA (``duration_ms`` counts from end of message); None when not measured."""

    @property
    def seq(self) -> int:
        return self.id

    @property
    def codes(self) -> tuple[str, ...]:
        """Every finding code of the message and its documents, in order."""
        out = [f.code for f in self.findings]
        for d in self.documents:
            out.extend(d.codes)
        return tuple(out)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "decided_at": format_time(self.decided_at),
            "queue_id": self.queue_id,
            "message_id": self.message_id,
            "sender": self.sender,
            "sender_domain": self.sender_domain,
            "recipients": list(self.recipients),
            "from_header": self.from_header,
            "sasl_user": self.sasl_user,
            "client_addr": self.client_addr,
            "client_name": self.client_name,
            "verdict": self.verdict,
            "action": self.action,
            "action_taken": self.action_taken,
            "smtp_reply": self.smtp_reply,
            "findings": [f.to_json() for f in self.findings],
            "rules_hash": self.rules_hash,
            "duration_ms": self.duration_ms,
            "documents": [d.to_json() for d in self.documents],
            "hash": self.hash,
            **({"session_ms": self.session_ms} if self.session_ms is not None else {}),
        }


@dataclass(frozen=True)
class Checkpoint:
    """Written in the chain by a purge: what was removed and the hash that the first
    remaining record links to."""

    seq: int
    created_at: datetime
    purged_before: datetime
    purged_count: int
    purged_through_seq: int
    purged_through_hash: str
    prev_hash: str = ""
    hash: str = ""


def sender_domain(sender: str | None) -> str:
    if not sender:
        return ""
    addr = sender.strip().strip("<>")
    return addr.rsplit("@", 1)[1].lower().rstrip(".") if "@" in addr else ""


def decision_from_report(
    report: MessageReport,
    envelope: Envelope,
    *,
    decided_at: datetime,
    action_taken: str | None,
    seq: int = 0,
    session_ms: float | None = None,
) -> Decision:
    """The record the store will write, normalised exactly as it will be read back."""
    sender = clean_text(envelope.sender)
    return Decision(
        id=seq,
        decided_at=parse_time(format_time(decided_at)),
        queue_id=clean_text(envelope.queue_id, 100),
        message_id=clean_text(envelope.message_id),
        sender=sender,
        sender_domain=clean_text(sender_domain(sender), 255) or "",
        recipients=tuple(clean_text(r) or "" for r in envelope.recipients[:MAX_RECIPIENTS]),
        from_header=clean_text(envelope.from_header),
        sasl_user=clean_text(envelope.sasl_user, 255),
        client_addr=clean_text(envelope.client_addr, 255),
        client_name=clean_text(envelope.client_name, 255),
        verdict=report.verdict.value,
        action=report.action.label,
        action_taken=clean_text(action_taken, 100),
        smtp_reply=clean_text(str(report.smtp_reply)) if report.smtp_reply else None,
        findings=_findings(report.findings),
        rules_hash=clean_text(report.rules_hash, 128) or "",
        duration_ms=round(float(report.duration_ms), 3),
        session_ms=None if session_ms is None else round(float(session_ms), 3),
        documents=tuple(
            DocumentRecord.of(i, d) for i, d in enumerate(report.documents[:MAX_DOCUMENTS])
        ),
    )


_CANONICAL_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""What ``json.dumps`` builds for these options on every call, built once."""


def _dumps(obj: Any) -> bytes:
    return _CANONICAL_JSON.encode(obj).encode("utf-8")


def canonical_decision(d: Decision) -> bytes:
    return canonical_decision_json(d.to_json(), d.id)


def canonical_decision_json(body: dict[str, Any], seq: int) -> bytes:
    """The canonical form of a decision from its ``to_json()``, as the record with sequence
    number (and id) ``seq``; ``body`` is not changed. The writer hashes a draft this way
    before the record with its id exists."""
    canonical = {k: v for k, v in body.items() if k != "hash"}
    canonical["id"] = seq
    canonical["v"] = CANONICAL_VERSION
    canonical["kind"] = "decision"
    canonical["seq"] = seq
    return _dumps(canonical)


def canonical_checkpoint(c: Checkpoint) -> bytes:
    return _dumps(
        {
            "v": CANONICAL_VERSION,
            "kind": "checkpoint",
            "seq": c.seq,
            "created_at": format_time(c.created_at),
            "purged_before": format_time(c.purged_before),
            "purged_count": c.purged_count,
            "purged_through_seq": c.purged_through_seq,
            "purged_through_hash": c.purged_through_hash,
        }
    )


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    h = hashlib.sha256()
    h.update(prev_hash.encode("ascii", "replace"))
    h.update(b"\n")
    h.update(canonical)
    return h.hexdigest()
