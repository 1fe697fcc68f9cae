"""Archives through the private Postfix: an unsigned DOCX inside a RAR arrives tagged invalid
and its sender gets a notice naming the member; a scanned PDF inside a 7z arrives valid; an
encrypted 7z is invalid with the finding that asks for it without a password."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

import pytest

from gateway.demo import sample_docx
from gateway.lab import Lab
from tests.archgen.build import seven_zip
from tests.archgen.rar import Member, rar5
from tests.pdfgen.build import scanned_pdf
from tests.pdfgen.scans import ScanSpec, page_image
from tests.protocol.delivery import deliver, report_header, wait_notice_about

pytestmark = pytest.mark.postfix

AGENCY = "van-thu@stc.daknong.gov.vn"
RCPT = "ubnd@daknong.gov.vn"
INNER = "Kế hoạch hội nghị.docx"


def _deliver(mta: Lab, new_message: Callable[..., EmailMessage], name: str, data: bytes,
             mime: str) -> tuple[EmailMessage, str, str]:
    m = new_message(sender=AGENCY, to=RCPT, attachments=[(name, data, mime)])
    got, _ = deliver(mta, m, AGENCY, RCPT)
    return got, report_header(got), m["Message-ID"]




def test_unsigned_docx_inside_a_rar_is_invalid_with_a_notice(mta: Lab, new_message) -> None:
    data = rar5([Member(f"Hồ sơ/{INNER}", sample_docx())])
    got, header, mid = _deliver(mta, new_message, "ho-so.rar", data, "application/vnd.rar")
    assert got.get_all("X-Legal-Validity") == ["invalid"]
    assert "EDITABLE_NOT_SIGNED" in header
    (row,) = [d for d in mta.store().query(limit=200) if d.message_id == mid]
    assert row.verdict == "invalid" and "EDITABLE_NOT_SIGNED" in row.codes
    body = wait_notice_about(mta, mid).get_content()
    assert f"ho-so.rar/Hồ sơ/{INNER}" in body and "EDITABLE_NOT_SIGNED" in body


def test_scanned_pdf_inside_a_7z_is_valid(mta: Lab, new_message) -> None:
    pdf = scanned_pdf([page_image(ScanSpec(seed=2))], ocr=True)
    got, header, _ = _deliver(mta, new_message, "cong-van.7z", seven_zip({"Công văn.pdf": pdf}),
                              "application/x-7z-compressed")
    assert got.get_all("X-Legal-Validity") == ["valid"]
    assert "NON_EDITABLE_ACCEPTED" in header


def test_encrypted_7z_is_invalid_never_no_documents(mta: Lab, new_message) -> None:
    data = seven_zip({INNER: sample_docx()}, password="123456", header_encryption=True)
    got, header, _ = _deliver(mta, new_message, "mat.7z", data, "application/x-7z-compressed")
    assert got.get_all("X-Legal-Validity") == ["invalid"]
    assert "ARCHIVE_ENCRYPTED" in header
