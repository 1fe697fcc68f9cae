"""PDFs through a real Postfix: a scan of the signed and sealed original is tagged valid
(Article 9.2b); a software-made PDF without a signature is tagged invalid with the 9.3 remedy."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

import pytest

from gateway.lab import Lab
from tests.pdfgen.build import born_digital_pdf, scanned_pdf
from tests.pdfgen.scans import ScanSpec, page_image

pytestmark = pytest.mark.postfix

AGENCY = "van-thu@stc.daknong.gov.vn"
RCPT = "ubnd@daknong.gov.vn"


def _report_header(raw: bytes) -> str:
    got = message_from_bytes(raw, policy=policy.default)
    (report,) = got.get_all("X-Legal-Validity-Report") or []
    return re.sub(r"\s+", "", str(report))  # folded code lists read "A,B, C" once unfolded


def _deliver(mta: Lab, new_message, name: str, data: bytes):
    m = new_message(sender=AGENCY, to=RCPT, attachments=[(name, data, "application/pdf")])
    mid = m["Message-ID"]
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    raw = mta.wait_delivered(mid)
    rows = [d for d in mta.store().query(limit=200) if d.message_id == mid]
    return message_from_bytes(raw, policy=policy.default), raw, rows


def test_scanned_pdf_is_tagged_valid_with_the_seal_reported(mta: Lab, new_message) -> None:
    data = scanned_pdf([page_image(ScanSpec(seal=False, seed=1)), page_image(ScanSpec(seed=2))],
                       ocr=True)
    got, raw, rows = _deliver(mta, new_message, "cong-van-quet.pdf", data)
    assert got.get_all("X-Legal-Validity") == ["valid"]
    header = _report_header(raw)
    assert "cong-van-quet.pdfclass=non-editableverdict=valid" in header
    assert "NON_EDITABLE_ACCEPTED" in header and "SEAL_FOUND" in header
    (row,) = rows
    assert row.verdict == "valid"
    assert "SEAL_FOUND" in row.codes


def test_unsigned_born_digital_pdf_is_tagged_invalid_with_the_93_finding(
        mta: Lab, new_message) -> None:
    got, raw, rows = _deliver(mta, new_message, "cong-van.pdf", born_digital_pdf(1))
    assert got.get_all("X-Legal-Validity") == ["invalid"]
    header = _report_header(raw)
    assert "cong-van.pdfclass=non-editableverdict=invalid" in header
    assert "PDF_BORN_DIGITAL_UNSIGNED" in header
    (row,) = rows
    assert row.verdict == "invalid" and "PDF_BORN_DIGITAL_UNSIGNED" in row.codes
