"""Signed PDFs made here with pyHanko and the test PKI, changed after signing as attackers and
users do; each must come out with the right layer, through the inspector and the pipeline."""

from __future__ import annotations

import io
import re

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import copy_into_new_writer

from gateway.model.findings import Severity
from gateway.model.report import Coverage, DocVerdict, Integrity, Revocation, Trust
from tests.pdfgen import sign as S
from tests.pdfgen.build import born_digital_pdf, form_pdf, scanned_pdf
from tests.pdfgen.check import check, codes, engine_for, inspect
from tests.pdfgen.scans import ScanSpec, page_image


@pytest.fixture(scope="module")
def engine(pki):
    return engine_for(pki)


@pytest.fixture(scope="module")
def base() -> bytes:
    return born_digital_pdf(1)


@pytest.fixture(scope="module")
def signed(pki, base):
    return S.sign(base, pki.leaf, pki.chain(pki.leaf))


def _only_sig(result):
    assert len(result.signatures) == 1, result.signatures
    return result.signatures[0]


def test_valid_signature_is_intact_whole_trusted_and_the_document_valid(pki, engine, signed):
    res = inspect(signed, pki=pki, trust=engine)
    s = _only_sig(res)
    assert (s.integrity, s.coverage, s.trust, s.revocation) == (
        Integrity.INTACT, Coverage.WHOLE, Trust.TRUSTED, Revocation.GOOD)
    assert s.format == "pades"
    assert "Nguyễn Văn A" in (s.signer or "")
    assert s.signing_time is not None
    fact = res.facts["pdf_signatures"][0]
    assert fact["coverage"] == "entire-file" and fact["modification_level"] == "none"
    assert fact["path"][-1].startswith("CN=Hople Test Root CA")
    report, doc = check(signed, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.VALID and report.verdict.value == "valid"
    assert "PDF_SIGNED_VALID" in codes(doc)
    js = report.to_json()["documents"][0]
    assert js["class"] == "non-editable"
    assert js["signatures"][0]["integrity"] == "intact"
    assert js["facts"]["layout"] == "born-digital"


def test_adbe_pkcs7_detached_is_validated_too(pki, engine, base):
    data = S.sign(base, pki.leaf, pki.chain(pki.leaf), subfilter="pkcs7")
    s = _only_sig(inspect(data, pki=pki, trust=engine))
    assert s.format == "pdf-pkcs7" and s.is_good


def test_bytes_appended_after_signing_are_not_covered(pki, engine, signed):
    data = S.append_bytes(signed)
    s = _only_sig(inspect(data, pki=pki, trust=engine))
    assert s.integrity is Integrity.INTACT and s.coverage is Coverage.PARTIAL
    assert "PDF_SIGNATURE_COVERAGE" in {f.code for f in s.findings}
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID
    assert "PDF_SIGNATURE_NOT_CONFIRMED" in codes(doc)


def test_page_added_in_an_incremental_update_is_a_forbidden_change(pki, engine, signed):
    data = S.add_page(signed)
    res = inspect(data, pki=pki, trust=engine)
    s = _only_sig(res)
    assert s.integrity is Integrity.INTACT  # the signed revision itself is untouched
    assert s.coverage is Coverage.PARTIAL
    assert "PDF_MODIFIED_AFTER_SIGNING" in {f.code for f in s.findings}
    assert res.facts["pdf_signatures"][0]["modification_level"] == "other"
    assert res.facts["pages"] == 2
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID


def test_form_filled_after_signing_is_allowed(pki, engine):
    signed_form = S.sign(form_pdf(), pki.leaf, pki.chain(pki.leaf))
    data = S.fill_field(signed_form)
    res = inspect(data, pki=pki, trust=engine)
    s = _only_sig(res)
    assert s.coverage is Coverage.WHOLE and s.is_good
    assert res.facts["pdf_signatures"][0]["modification_level"] == "form-filling"
    assert "PDF_UPDATED_AFTER_SIGNING" in {f.code for f in s.findings}
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.VALID


def test_form_fill_is_refused_when_the_rules_allow_no_change(pki, engine, tmp_path):
    data = S.fill_field(S.sign(form_pdf(), pki.leaf, pki.chain(pki.leaf)))
    s = _only_sig(inspect(data, pki=pki, trust=engine, pdf={"allowed_after_signing": "none"}))
    assert s.coverage is Coverage.PARTIAL
    _, doc = check(data, pki=pki, trust=engine, tmp_path=tmp_path,
                   rules_text='[pdf]\nallowed-after-signing = "none"\n')
    assert doc.verdict is DocVerdict.INVALID


def test_form_fill_breaks_a_certification_that_allows_no_change(pki, engine):
    from pyhanko.sign.fields import MDPPerm

    certified = S.sign(form_pdf(), pki.leaf, pki.chain(pki.leaf), certify=True,
                       docmdp=MDPPerm.NO_CHANGES)
    s = _only_sig(inspect(S.fill_field(certified), pki=pki, trust=engine))
    assert s.coverage is Coverage.PARTIAL
    assert "DocMDP" in " ".join(f.en for f in s.findings)


def test_content_stream_replaced_is_a_forbidden_change(pki, engine, signed):
    data = S.replace_content(signed)
    s = _only_sig(inspect(data, pki=pki, trust=engine))
    assert s.coverage is Coverage.PARTIAL
    assert "PDF_MODIFIED_AFTER_SIGNING" in {f.code for f in s.findings}
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID


def test_bytes_changed_inside_the_signed_range_break_integrity(pki, engine, signed):
    data = signed.replace(b"(Test document)", b"(Test documenX)", 1)
    assert data != signed
    s = _only_sig(inspect(data, pki=pki, trust=engine))
    assert s.integrity is Integrity.BROKEN
    assert "PDF_SIGNATURE_BROKEN" in {f.code for f in s.findings}


def test_untrusted_signer(pki, engine, base):
    data = S.sign(base, pki.other_leaf)
    s = _only_sig(inspect(data, pki=pki, trust=engine))
    assert s.integrity is Integrity.INTACT and s.trust is Trust.UNTRUSTED
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID
    bad = [f for f in doc.findings if f.code == "PDF_SIGNATURE_NOT_CONFIRMED"]
    assert bad and "certificate chain not trusted [chain-untrusted]" in bad[0].en
    assert "[chain-untrusted]" in bad[0].vi and "tin cậy" in bad[0].vi
    assert doc.signatures[0].reasons == ("chain-untrusted",)


def test_revoked_signer(pki, engine, base):
    data = S.sign(base, pki.revoked, pki.chain(pki.revoked))
    s = _only_sig(inspect(data, pki=pki, trust=engine))
    assert s.revocation is Revocation.REVOKED
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID
    assert "revoked" in [f for f in doc.findings if f.code == "PDF_SIGNATURE_NOT_CONFIRMED"][0].en


def test_without_a_trust_engine_trust_is_unknown_and_nothing_passes(pki, signed):
    s = _only_sig(inspect(signed, pki=pki, trust=None))
    assert s.integrity is Integrity.INTACT and s.trust is Trust.UNKNOWN
    _, doc = check(signed, pki=pki, trust=None)
    assert doc.verdict is DocVerdict.INVALID


def test_unsupported_subfilter_is_unverifiable_never_unsigned(pki, engine, signed):
    data = S.set_subfilter(signed, b"/adbe.x509.rsa_sha1")
    s = _only_sig(inspect(data, pki=pki, trust=engine))
    assert s.integrity is Integrity.UNVERIFIABLE
    f = [f for f in s.findings if f.code == "PDF_SUBFILTER_UNSUPPORTED"]
    assert f and "adbe.x509.rsa_sha1" in f[0].en
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID
    assert "PDF_BORN_DIGITAL_UNSIGNED" not in codes(doc)  # not treated as unsigned
    assert "PDF_SIGNATURE_NOT_CONFIRMED" in codes(doc)


def test_legacy_sha1_subfilter_is_checked_and_refused_by_the_algorithm_policy(pki, engine, base,
                                                                             tmp_path):
    data = S.sign_sha1_subfilter(base, pki.leaf, pki.chain(pki.leaf))
    res = inspect(data, pki=pki, trust=engine)
    s = _only_sig(res)
    assert s.integrity is Integrity.INTACT  # the mathematics hold; the policy refuses SHA-1
    assert "ALG_DIGEST_NOT_ALLOWED" in {f.code for f in s.findings}
    assert s.reasons == ("digest-not-allowed",)
    assert res.facts["pdf_signatures"][0]["sha1_digest_matches"] is True
    sha1_ok = {"algorithms": {"digests": ["sha1", "sha256"]}}
    assert _only_sig(inspect_with(data, pki, engine, sha1_ok)).counts
    _, doc = check(data, pki=pki, trust=engine, tmp_path=tmp_path,
                   rules_text='[algorithms]\ndigests = ["sha1", "sha256"]\n')
    assert doc.verdict is DocVerdict.VALID


def test_legacy_sha1_subfilter_with_a_wrong_digest_is_broken(pki, engine, base):
    data = S.sign_sha1_subfilter(base, pki.leaf, pki.chain(pki.leaf), tamper_digest=True)
    s = _only_sig(inspect_with(data, pki, engine, {"algorithms": {"digests": ["sha1", "sha256"]}}))
    assert s.integrity is Integrity.BROKEN
    assert "integrity-broken" in s.reasons


def inspect_with(data, pki, engine, options):
    from gateway.inspect.base import InspectContext
    from gateway.inspect.pdf import inspect_pdf
    from gateway.model.document import Document
    from gateway.model.report import DocClass

    ctx = InspectContext(at=pki.now, options=options, trust=engine)
    return inspect_pdf(Document("v.pdf", "v.pdf", data, "application/pdf", "pdf",
                                DocClass.NON_EDITABLE), ctx)


def test_damaged_signature_contents_give_a_finding_not_a_crash(pki, engine, signed):
    m = re.search(rb"/Contents\s*<([0-9a-fA-F]{200})", signed)
    assert m
    start = m.start(1) + 40
    damaged = signed[:start] + b"0" * 120 + signed[start + 120:]
    s = _only_sig(inspect(damaged, pki=pki, trust=engine))
    assert s.integrity in (Integrity.BROKEN, Integrity.UNVERIFIABLE)
    assert not s.is_good
    _, doc = check(damaged, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID


def test_truncated_signed_pdf_never_passes(pki, engine, signed):
    for cut in (len(signed) // 2, len(signed) - 40, 300):
        _, doc = check(signed[:cut], pki=pki, trust=engine)
        assert doc.verdict is DocVerdict.INVALID, cut


def test_signature_detached_from_the_form_is_reported(pki, engine, signed):
    w = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    del w.root["/AcroForm"]
    w.update_root()
    out = io.BytesIO()
    w.write(out)
    res = inspect(out.getvalue(), pki=pki, trust=engine)
    assert "PDF_SIGNATURE_ORPHANED" in {f.code for f in res.findings}
    assert res.signatures and not res.signatures[0].is_good
    _, doc = check(out.getvalue(), pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID


def test_two_signatures_both_checked(pki, engine, signed):
    twice = S.sign(signed, pki.leaf, pki.chain(pki.leaf), field="Signature2")
    res = inspect(twice, pki=pki, trust=engine)
    assert len(res.signatures) == 2 and all(s.is_good for s in res.signatures)
    _, doc = check(twice, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.VALID
    second_untrusted = S.sign(signed, pki.other_leaf, field="Signature2")
    _, doc = check(second_untrusted, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID


def test_signed_scan_keeps_layout_and_seal_facts(pki, engine):
    scan = scanned_pdf([page_image(ScanSpec(seed=5))])
    res = inspect(S.sign(scan, pki.leaf, pki.chain(pki.leaf)), pki=pki, trust=engine)
    assert res.signatures[0].is_good
    assert res.facts["layout"] == "scanned" and res.facts["seal"]


def _encrypted(data: bytes, user: str) -> bytes:
    w = copy_into_new_writer(PdfFileReader(io.BytesIO(data)))
    w.encrypt("owner-secret", user)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def test_password_protected_pdf_is_invalid_with_a_clear_finding(base):
    data = _encrypted(base, "user-secret")
    res = inspect(data)
    assert [f.code for f in res.findings] == ["PDF_ENCRYPTED"]
    _, doc = check(data)
    assert doc.verdict is DocVerdict.INVALID
    assert any(f.code == "PDF_ENCRYPTED" and f.severity is Severity.ERROR for f in doc.findings)


def test_pdf_encrypted_with_an_empty_user_password_is_read(base):
    res = inspect(_encrypted(base, ""))
    assert res.facts["encrypted"] == "permissions-only"
    assert res.facts["layout"] == "born-digital"


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n", b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n",
                                  b"%PDF-1.7\n" + bytes(range(256)) * 20])
def test_garbage_pdf_is_unreadable_not_a_crash(data):
    res = inspect(data)
    assert any(f.code == "PDF_UNREADABLE" for f in res.findings)
    if data:  # (empty bytes are not even identified as a PDF by intake)
        _, doc = check(data)
        assert doc.verdict is DocVerdict.INVALID


def test_changing_a_field_that_was_filled_when_signed_is_a_forbidden_change(pki, engine):
    # filling an empty field is allowed; replacing what was signed (the "shadow replace"
    # attack changes a filled field's value or appearance) is not
    prefilled = S.fill_field(form_pdf(), value="So tien: 1.000.000 dong")
    signed_form = S.sign(prefilled, pki.leaf, pki.chain(pki.leaf))
    res = inspect(S.fill_field(signed_form, value="So tien: 9.000.000 dong"), pki=pki, trust=engine)
    s = _only_sig(res)
    assert s.coverage is Coverage.PARTIAL
    assert res.facts["pdf_signatures"][0]["changed_signed_fields"] == ["ghi_chu"]
    assert "PDF_MODIFIED_AFTER_SIGNING" in {f.code for f in s.findings}
