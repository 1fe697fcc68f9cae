"""Legacy DOC/XLS/PPT: a signature is detected and reported unverifiable, never unsigned
and never valid; VBA project signatures alone do not count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.model.report import Integrity, Verdict
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from tests.signer import ole

DOC = {"WordDocument": b"\xec\xa5" + b"\x00" * 100, "1Table": b"\x00" * 10}
XLS = {"Workbook": b"\x09\x08" + b"\x00" * 100}
PPT = {"PowerPoint Document": b"\x00" * 100, "Current User": b"\x00" * 20}


@pytest.fixture(scope="module")
def checker():
    return Checker(load_policy(), clock=lambda: datetime(2025, 6, 1, tzinfo=UTC))


def check(checker, streams, name):
    report = checker.check_document(name, ole.build(streams))
    (doc,) = report.documents
    codes = [f.code for f in doc.findings] + [f.code for s in doc.signatures for f in s.findings]
    return report, doc, codes


@pytest.mark.parametrize("base,name", [(DOC, "cong-van.doc"), (XLS, "bang.xls"),
                                       (PPT, "trinh-chieu.ppt")])
@pytest.mark.parametrize("extra,kind", [
    ({"_signatures": b"\x01\x00\x00\x00signature"}, "CryptoAPI"),
    ({"_xmlsignatures/1234": b"<Signature/>"}, "XML-DSig"),
])
def test_legacy_signature_is_unverifiable_never_unsigned_never_valid(checker, base, name, extra,
                                                                     kind):
    report, doc, codes = check(checker, {**base, **extra}, name)
    assert report.verdict is Verdict.INVALID
    (sig,) = doc.signatures
    assert sig.format == "legacy-office" and sig.integrity is Integrity.UNVERIFIABLE
    assert not sig.is_good
    assert "SIG_LEGACY_UNVERIFIABLE" in codes
    assert "EDITABLE_SIGNATURE_UNVERIFIED" in codes and "EDITABLE_NOT_SIGNED" not in codes
    finding = next(f for f in sig.findings if f.code == "SIG_LEGACY_UNVERIFIABLE")
    assert kind in finding.en and "DOCX" in finding.en and "PDF" in finding.vi


def test_unsigned_legacy_file_is_unsigned(checker):
    report, doc, codes = check(checker, DOC, "cong-van.doc")
    assert report.verdict is Verdict.INVALID
    assert doc.signatures == () and "EDITABLE_NOT_SIGNED" in codes


def test_vba_signature_alone_is_not_a_document_signature(checker):
    streams = {**DOC, "Macros/VBA/dir": b"\x01", "Macros/\x05DigitalSignature": b"sig"}
    report, doc, codes = check(checker, streams, "cong-van.doc")
    assert report.verdict is Verdict.INVALID
    assert doc.signatures == ()
    assert {"SIG_MACRO_SIGNATURE_ONLY", "EDITABLE_NOT_SIGNED"} <= set(codes)


def test_vba_and_document_signature_reports_the_document_one(checker):
    streams = {**XLS, "_VBA_PROJECT_CUR/\x05DigitalSignatureEx": b"sig", "_signatures": b"s"}
    report, doc, codes = check(checker, streams, "bang.xls")
    assert len(doc.signatures) == 1 and "SIG_MACRO_SIGNATURE_ONLY" not in codes


def test_damaged_compound_file_is_a_finding(checker):
    data = ole.build({**DOC, "_signatures": b"x"})
    report = checker.check_document("hong.doc", data[:1500])
    (doc,) = report.documents
    assert report.verdict is Verdict.INVALID
    codes = [f.code for f in doc.findings]
    assert "INSPECTION_FAILED" not in codes
