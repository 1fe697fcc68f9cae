"""Judge a document from what its inspectors found, under the rules."""

from __future__ import annotations

from gateway.inspect.base import InspectionResult
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.report import DocClass, SignatureReport


def _layers(sig: SignatureReport) -> str:
    bad = []
    if sig.integrity.value != "intact":
        bad.append(f"integrity {sig.integrity.value}")
    if sig.coverage.value != "whole":
        bad.append(f"coverage {sig.coverage.value}")
    if sig.trust.value != "trusted":
        bad.append(f"trust {sig.trust.value}")
    if sig.revocation.value == "revoked":
        bad.append("revoked")
    return ", ".join(bad) or "not confirmed"


def judge(doc: Document, result: InspectionResult) -> list[Finding]:
    """The Article 9.2 findings that follow from the inspectors' facts."""
    out: list[Finding] = []
    sigs = result.signatures
    good = [s for s in sigs if s.is_good]
    if doc.doc_class is DocClass.EDITABLE:
        if not sigs:
            out.append(make_finding("EDITABLE_NOT_SIGNED", place=doc.path, name=doc.path))
        elif not good:
            reason = "; ".join(_layers(s) for s in sigs)
            out.append(make_finding("EDITABLE_SIGNATURE_UNVERIFIED", place=doc.path,
                                    name=doc.path, reason=reason))
    elif doc.doc_class is DocClass.NON_EDITABLE and not sigs:
        out.append(make_finding("NON_EDITABLE_ACCEPTED", place=doc.path, name=doc.path))
    elif doc.doc_class is DocClass.OTHER:
        out.append(make_finding("OTHER_ATTACHMENT", place=doc.path, name=doc.path,
                                media_type=doc.media_type))
    return out
