"""Signed PDFs and CMS files made by other software (../shared/interop), against the verdict
their source project's own tests assert (MANIFEST ``expected``).

Trust is not part of those verdicts (the files chain to their projects' test CAs), so the
comparison uses the technical layers — integrity, coverage, changes after signing — and the
gateway is also run with a trust layer that accepts every chain: then an ``invalid`` or
``partial`` file coming out valid would be a real miss. Skipped where the folder is absent.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from gateway.inspect.base import InspectContext
from gateway.inspect.cms import inspect_cms, verify_detached
from gateway.inspect.pdf import inspect_pdf
from gateway.model.chain import ChainResult
from gateway.model.document import Document
from gateway.model.report import DocClass, Integrity, Revocation, Trust
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from tests.pki import NOW

INTEROP = Path(__file__).resolve().parents[2] / ".." / "shared" / "interop"
pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not (INTEROP / "MANIFEST.tsv").is_file(), reason="../shared/interop absent"),
]

FORMATS = ("pdf", "p7s", "p7m")


def _rows() -> list[dict[str, str]]:
    if not (INTEROP / "MANIFEST.tsv").is_file():
        return []
    with (INTEROP / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["format"] in FORMATS]


class TrustEveryChain:
    """A trust layer that accepts any certificate: isolates the technical layers."""

    def validate_chain(self, leaf, intermediates, at, **kw):
        return ChainResult(Trust.TRUSTED, Revocation.GOOD, "(interop signer)", ())


def technical(signatures, findings) -> str:
    """The verdict on the layers MANIFEST ``expected`` speaks of."""
    doc_codes = {f.code for f in findings}
    if doc_codes & {"PDF_SIGNATURE_ORPHANED", "PDF_DOC_TIMESTAMP_BROKEN", "PDF_UNREADABLE",
                    "PDF_ENCRYPTED", "CMS_UNREADABLE"}:
        return "invalid"
    if not signatures:
        return "unsigned"
    codes = {f.code for s in signatures for f in s.findings}
    if (any(s.integrity is not Integrity.INTACT for s in signatures)
            or "PDF_MODIFIED_AFTER_SIGNING" in codes):
        return "invalid"
    if "PDF_SIGNATURE_COVERAGE" in codes:
        return "partial"
    return "valid"


RESULTS: dict[str, tuple[str, str, str]] = {}


def _ctx(trust=None) -> InspectContext:
    return InspectContext(at=NOW, options=load_policy().options(), trust=trust)


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["file"])
def test_interop_document(row: dict[str, str]) -> None:
    path = INTEROP / row["file"]
    data = path.read_bytes()
    expected = row["expected"]
    name = path.name
    if row["format"] == "pdf":
        doc = Document(name, name, data, "application/pdf", "pdf", DocClass.NON_EDITABLE)
        res = inspect_pdf(doc, _ctx(TrustEveryChain()))
        got = technical(res.signatures, res.findings)
        checker = Checker(load_policy(), trust=TrustEveryChain(), clock=lambda: NOW)
        report = checker.check_document(name, data)
        gateway = report.documents[0].verdict.value
        # nothing signed passes without a trust engine
        plain = Checker(load_policy(), clock=lambda: NOW).check_document(name, data)
        if res.signatures:
            assert plain.documents[0].verdict.value == "invalid"
    else:
        doc = Document(name, name, data, "application/pkcs7-signature", row["format"],
                       DocClass.OTHER)
        content = INTEROP / "eu-dss" / "_content" / (name + ".content")
        if content.is_file():
            sig = verify_detached(data, content.read_bytes(), _ctx(TrustEveryChain()), name)
            got = technical([sig], [])
            wrong = content.with_name(name + ".wrong-content")
            if wrong.is_file():
                bad = verify_detached(data, wrong.read_bytes(), _ctx(TrustEveryChain()), name)
                assert bad.integrity is Integrity.BROKEN
        else:
            res = inspect_cms(doc, _ctx(TrustEveryChain()))
            got = (technical(res.signatures, res.findings) if res.signatures
                   else "unverified-detached")
        gateway = "valid" if got == "valid" else "invalid"
    RESULTS[row["file"]] = (expected, got, gateway)
    print(f"{row['file']}: expected {expected}, technical {got}, gateway {gateway}")
    if expected in ("invalid", "partial"):
        assert got != "valid", f"{row['file']} is {expected} but came out valid"
        assert gateway != "valid"


def test_interop_agreement_summary() -> None:
    rows = _rows()
    missing = [r["file"] for r in rows if r["file"] not in RESULTS]
    for r in rows:
        if r["file"] in missing:
            test_interop_document(r)
    decided = {f: v for f, v in RESULTS.items() if v[0] != "unknown"}
    agree = sum(1 for exp, got, _ in decided.values()
                if exp == got or (exp == "invalid" and got in ("invalid", "partial")))
    out = io.StringIO()
    print(f"PDF/CMS interop agreement: {agree}/{len(decided)} "
          f"(+{len(RESULTS) - len(decided)} 'unknown' inputs run without a crash)", file=out)
    for f, (exp, got, _) in sorted(decided.items()):
        if exp != got:
            print(f"  differs: {f}: expected {exp}, technical {got}", file=out)
    print(out.getvalue())
    unsafe = [f for f, (exp, got, gw) in decided.items() if exp in ("invalid", "partial") and
              (got == "valid" or gw == "valid")]
    assert not unsafe
