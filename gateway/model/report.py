"""Reports: what the gateway concluded about each document and about the message.

``MessageReport.to_json`` is the stable ``hople.report/1`` contract documented in README.md.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.model.findings import Action, Finding, Severity, strongest_action
from gateway.model.reasons import signature_reasons

SCHEMA = "hople.report/1"


class DocClass(str, enum.Enum):
    EDITABLE = "editable"
    NON_EDITABLE = "non-editable"
    ARCHIVE = "archive"
    OTHER = "other"


class DocVerdict(str, enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    NOT_APPLICABLE = "not-applicable"
    UNINSPECTED = "uninspected"
    """Not identified or not opened: it may be a document, nobody can tell."""


class Verdict(str, enum.Enum):
    VALID = "valid"
    INVALID = "invalid"
    REJECTED = "rejected"
    HELD = "held"
    NO_DOCUMENTS = "no-documents"
    UNINSPECTED = "uninspected"
    """A part could not be identified or opened: neither valid nor no-documents can be said."""
    UNCHECKED = "unchecked"
    """Only when the operator chose accept-and-tag on gateway failure."""


class Integrity(str, enum.Enum):
    INTACT = "intact"
    BROKEN = "broken"
    UNVERIFIABLE = "unverifiable"


class Coverage(str, enum.Enum):
    WHOLE = "whole"
    PARTIAL = "partial"
    UNKNOWN = "unknown"


class Trust(str, enum.Enum):
    TRUSTED = "trusted"
    UNTRUSTED = "untrusted"
    UNKNOWN = "unknown"


class Revocation(str, enum.Enum):
    GOOD = "good"
    REVOKED = "revoked"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SignatureReport:
    """One signature found in a document, layer by layer."""

    format: str
    """e.g. ``ooxml-xmldsig``, ``odf-xmldsig``, ``pades``, ``cms``, ``legacy-office``."""
    integrity: Integrity
    coverage: Coverage
    trust: Trust
    revocation: Revocation
    signer: str | None = None
    signing_time: datetime | None = None
    findings: tuple[Finding, ...] = ()
    """What went wrong in this signature, layer by layer."""

    @property
    def is_good(self) -> bool:
        """Intact, whole, trusted and not revoked (revocation ``unknown`` is the rules' call)."""
        return (
            self.integrity is Integrity.INTACT
            and self.coverage is Coverage.WHOLE
            and self.trust is Trust.TRUSTED
            and self.revocation is not Revocation.REVOKED
        )

    @property
    def counts(self) -> bool:
        """Good on every layer and without an error finding: it confirms the document."""
        return self.is_good and not any(f.severity >= Severity.ERROR for f in self.findings)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the signature is not confirmed: codes of ``model.reasons.REASONS``; empty
        when it counts."""
        return () if self.counts else signature_reasons(self)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "integrity": self.integrity.value,
            "coverage": self.coverage.value,
            "trust": self.trust.value,
            "revocation": self.revocation.value,
            "signer": self.signer,
            "signing_time": self.signing_time.isoformat() if self.signing_time else None,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class DocumentReport:
    path: str
    """Where the document sits: its file name, ``archive.zip/inner.docx`` inside archives."""
    sha256: str
    size: int
    media_type: str
    doc_class: DocClass
    verdict: DocVerdict
    signatures: tuple[SignatureReport, ...] = ()
    findings: tuple[Finding, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    """Extra facts an inspector reports (e.g. ``layout: scanned`` for a PDF)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "sha256": self.sha256,
            "size": self.size,
            "media_type": self.media_type,
            "class": self.doc_class.value,
            "verdict": self.verdict.value,
            "signatures": [s.to_json() for s in self.signatures],
            "findings": [f.to_json() for f in self.findings],
        }
        if self.facts:
            out["facts"] = dict(self.facts)
        return out


@dataclass(frozen=True)
class SmtpReply:
    """A reply for a refused message. Codes are checked so a 4xx reject cannot be built."""

    code: str
    status: str
    text: str

    def __post_init__(self) -> None:
        if not (len(self.code) == 3 and self.code[0] in "45" and self.code.isdigit()):
            raise ValueError(f"bad SMTP reply code {self.code!r}")
        if not self.status.startswith(self.code[0] + "."):
            raise ValueError(f"status {self.status!r} does not match code {self.code!r}")

    def __str__(self) -> str:
        return f"{self.code} {self.status} {self.text}"


@dataclass(frozen=True)
class MessageReport:
    input: str
    kind: str
    """``message`` or ``document``."""
    verdict: Verdict
    action: Action
    smtp_reply: SmtpReply | None = None
    findings: tuple[Finding, ...] = ()
    """Message-level findings (sender, structure)."""
    documents: tuple[DocumentReport, ...] = ()
    rules_hash: str = ""
    duration_ms: float = 0.0

    @property
    def all_findings(self) -> tuple[Finding, ...]:
        return every_finding(self.findings, self.documents)

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "input": self.input,
            "kind": self.kind,
            "verdict": self.verdict.value,
            "action": self.action.label,
            "smtp_reply": str(self.smtp_reply) if self.smtp_reply else None,
            "findings": [f.to_json() for f in self.findings],
            "documents": [d.to_json() for d in self.documents],
        }


UNINSPECTED_CODES = frozenset({"PART_UNIDENTIFIED", "CONTAINER_UNSUPPORTED"})
"""Findings that say a part was not identified or not opened (whatever their severity)."""


def document_verdict(doc_class: DocClass, findings: tuple[Finding, ...]) -> DocVerdict:
    """Archives and other files are not judged; any ERROR finding makes a document invalid;
    a part that could not be identified or opened is ``uninspected``."""
    if any(f.severity >= Severity.ERROR for f in findings):
        return DocVerdict.INVALID
    if any(f.code in UNINSPECTED_CODES for f in findings):
        return DocVerdict.UNINSPECTED
    if doc_class in (DocClass.ARCHIVE, DocClass.OTHER):
        return DocVerdict.NOT_APPLICABLE
    return DocVerdict.VALID


def every_finding(
    findings: tuple[Finding, ...], documents: tuple[DocumentReport, ...]
) -> tuple[Finding, ...]:
    """Message findings, then each document's findings and its signatures' findings."""
    out = list(findings)
    for d in documents:
        out.extend(d.findings)
        for s in d.signatures:
            out.extend(s.findings)
    return tuple(out)


def message_verdict(
    findings: tuple[Finding, ...], documents: tuple[DocumentReport, ...]
) -> tuple[Verdict, Action]:
    """Worst wins: the strongest action of every finding, then the document verdicts
    (invalid, then uninspected: ``valid`` and ``no-documents`` promise every part was seen)."""
    action = strongest_action(every_finding(findings, documents))
    if action is Action.REJECT:
        return Verdict.REJECTED, action
    if action is Action.HOLD:
        return Verdict.HELD, action
    judged = [d for d in documents if d.verdict is not DocVerdict.NOT_APPLICABLE]
    if any(d.verdict is DocVerdict.INVALID for d in documents) or any(
        f.severity >= Severity.ERROR for f in findings
    ):
        return Verdict.INVALID, action
    if any(d.verdict is DocVerdict.UNINSPECTED for d in documents) or any(
        f.code in UNINSPECTED_CODES for f in findings
    ):
        return Verdict.UNINSPECTED, action
    if not judged:
        return Verdict.NO_DOCUMENTS, action
    return Verdict.VALID, action
