"""PDFs through a real Postfix: a scan of the signed and sealed original is tagged valid
(Article 9.2b); a software-made PDF without a signature is tagged invalid with the 9.3 remedy."""

from __future__ import annotations

import pytest

from gateway.lab import Lab
from tests.pdfgen.build import born_digital_pdf, scanned_pdf
from tests.pdfgen.scans import ScanSpec, page_image
from tests.protocol.delivery import deliver, report_header

pytestmark = pytest.mark.postfix

AGENCY = "van-thu@stc.daknong.gov.vn"
RCPT = "ubnd@daknong.gov.vn"


def _deliver(mta: Lab, new_message, name: str, data: bytes):
    m = new_message(sender=AGENCY, to=RCPT, attachments=[(name, data, "application/pdf")])
    got, raw = deliver(mta, m, AGENCY, RCPT)
    rows = [d for d in mta.store().query(limit=200) if d.message_id == m["Message-ID"]]
    return got, raw, rows


def test_scanned_pdf_is_tagged_valid_with_the_seal_reported(mta: Lab, new_message) -> None:
    data = scanned_pdf([page_image(ScanSpec(seal=False, seed=1)), page_image(ScanSpec(seed=2))],
                       ocr=True)
    got, raw, rows = _deliver(mta, new_message, "cong-van-quet.pdf", data)
    assert got.get_all("X-Legal-Validity") == ["valid"]
    header = report_header(got)
    assert "cong-van-quet.pdfclass=non-editableverdict=valid" in header
    assert "NON_EDITABLE_ACCEPTED" in header and "SEAL_FOUND" in header
    (row,) = rows
    assert row.verdict == "valid"
    assert "SEAL_FOUND" in row.codes


def test_unsigned_born_digital_pdf_is_tagged_invalid_with_the_93_finding(
        mta: Lab, new_message) -> None:
    got, raw, rows = _deliver(mta, new_message, "cong-van.pdf", born_digital_pdf(1))
    assert got.get_all("X-Legal-Validity") == ["invalid"]
    header = report_header(got)
    assert "cong-van.pdfclass=non-editableverdict=invalid" in header
    assert "PDF_BORN_DIGITAL_UNSIGNED" in header
    (row,) = rows
    assert row.verdict == "invalid" and "PDF_BORN_DIGITAL_UNSIGNED" in row.codes


def test_b_lta_pdf_is_valid_and_with_its_timestamp_altered_invalid(mta: Lab, new_message,
                                                                  pki) -> None:
    """Long-term PAdES through Postfix: signature, signature timestamp and DSS from the test PKI
    (dated before the test clock), then a document timestamp by a TSA valid around the real
    clock (the gateway checks the newest timestamp's authority now)."""
    from datetime import UTC, datetime, timedelta

    from cryptography import x509

    from tests.pdfgen import ltv
    from tests.pki import SIGNING_USAGE, issue

    now = datetime.now(UTC)
    tsa = issue("e2e-tsa", "Hople Test TSA (e2e)", 0x2F10, pki.intermediate,
                pki.now - timedelta(days=30), now + timedelta(days=60),
                usage=dict(SIGNING_USAGE, content_commitment=False),
                eku=[x509.oid.ExtendedKeyUsageOID.TIME_STAMPING])
    lta = ltv.add_doc_timestamp(ltv.sign_ltv(born_digital_pdf(1), pki, "B-LT"), pki, tsa=tsa,
                                at=pki.now - timedelta(days=1))
    mta.set_rules(
        "[trust]\n"
        f'anchors = ["{pki.anchors_dir}"]\n'
        f'intermediates = ["{pki.intermediates_dir}"]\n'
        f'crl-cache = "{pki.crl_dir}"\n'
    )
    got, raw, rows = _deliver(mta, new_message, "quyet-dinh-lta.pdf", lta)
    header = report_header(got)
    assert got.get_all("X-Legal-Validity") == ["valid"], header
    assert "quyet-dinh-lta.pdfclass=non-editableverdict=valid" in header
    (row,) = rows
    assert row.verdict == "valid" and "PDF_DOC_TIMESTAMP_BROKEN" not in row.codes

    altered = ltv.alter_last_token(lta, "signature")
    assert len(altered) == len(lta) and altered != lta
    got, raw, rows = _deliver(mta, new_message, "quyet-dinh-lta.pdf", altered)
    header = report_header(got)
    assert got.get_all("X-Legal-Validity") == ["invalid"], header
    assert "PDF_DOC_TIMESTAMP_BROKEN" in header
    (row,) = rows
    assert row.verdict == "invalid" and "PDF_DOC_TIMESTAMP_BROKEN" in row.codes
