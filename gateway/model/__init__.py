"""Pure data shared by every layer: findings, verdicts, reports. Imports nothing of ours."""

from gateway.model.catalog import CATALOG, CodeSpec, make_finding
from gateway.model.findings import Action, Finding, Severity
from gateway.model.report import (
    Coverage,
    DocClass,
    DocumentReport,
    DocVerdict,
    Integrity,
    MessageReport,
    Revocation,
    SignatureReport,
    SmtpReply,
    Trust,
    Verdict,
)

__all__ = [
    "CATALOG", "Action", "CodeSpec", "Coverage", "DocClass", "DocVerdict", "DocumentReport",
    "Finding", "Integrity", "MessageReport", "Revocation", "Severity", "SignatureReport",
    "SmtpReply", "Trust", "Verdict", "make_finding",
]
