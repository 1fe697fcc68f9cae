"""Helpers for tests that run generated PDFs through the inspector or the whole pipeline."""

from __future__ import annotations

from typing import Any

from gateway.inspect.base import InspectContext, InspectionResult
from gateway.inspect.pdf import inspect_pdf
from gateway.model.document import Document
from gateway.model.report import DocClass, DocumentReport, MessageReport


def engine_for(pki: Any) -> Any:
    """The trust engine over the test PKI: its root trusted, its CRLs cached."""
    from gateway.trust import build_engine

    return build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir])


def inspect(data: bytes, *, pki: Any = None, trust: Any = None, pdf: dict[str, Any] | None = None,
            name: str = "van-ban.pdf") -> InspectionResult:
    from tests.pki import NOW

    at = pki.now if pki is not None else NOW
    options = {"pdf": pdf} if pdf else {}
    ctx = InspectContext(at=at, options=options, trust=trust)
    doc = Document(name, name, data, "application/pdf", "pdf", DocClass.NON_EDITABLE)
    return inspect_pdf(doc, ctx)


def check(
    data: bytes, *, pki: Any = None, trust: Any = None, name: str = "van-ban.pdf",
    rules_text: str | None = None, tmp_path: Any = None,
) -> tuple[MessageReport, DocumentReport]:
    """The whole pipeline on one document (``hople check`` without the CLI)."""
    from gateway.pipeline import Checker
    from gateway.policy.load import load_policy
    from tests.pki import NOW

    override = None
    if rules_text is not None:
        assert tmp_path is not None
        override = tmp_path / "site.toml"
        override.write_text("schema = 1\n" + rules_text, encoding="utf-8")
    policy = load_policy(override)
    at = pki.now if pki is not None else NOW
    report = Checker(policy, trust=trust, clock=lambda: at).check_document(name, data)
    return report, report.documents[0]


def codes(doc: DocumentReport) -> set[str]:
    out = {f.code for f in doc.findings}
    for s in doc.signatures:
        out.update(f.code for f in s.findings)
    return out
