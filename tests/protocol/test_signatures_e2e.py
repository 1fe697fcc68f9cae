"""Signed DOCX through a real Postfix: a trusted signature is tagged valid; the same file
with one byte of word/document.xml changed is tagged invalid (Article 9.2a)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.lab import Lab
from tests import signer as S
from tests.pki import issue
from tests.protocol.delivery import deliver, report_header, wait_notice_about

pytestmark = pytest.mark.postfix

AGENCY = "van-thu@stc.daknong.gov.vn"
RCPT = "ubnd@daknong.gov.vn"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture(scope="module")
def signed_docx(pki) -> bytes:
    # A signer valid around the real clock (the gateway in the lab checks at "now").
    now = datetime.now(UTC)
    who = issue("e2e", "Văn thư Sở Tài chính", 0x2F01, pki.intermediate,
                now - timedelta(days=2), now + timedelta(days=60), org="Sở Tài chính")
    parts = S.sign_ooxml(S.make_ooxml("docx", body="Công văn số 12/STC"), who.key, who.cert,
                         chain=[pki.intermediate.der], signing_time=now - timedelta(minutes=5))
    return S.zip_package(parts)


def _one_byte_changed(data: bytes) -> bytes:
    parts = S.unzip_package(data)
    body = bytearray(parts["word/document.xml"])
    pos = body.index(b"12/STC")
    body[pos] = ord("9")  # "12/STC" -> "92/STC": one byte
    parts["word/document.xml"] = bytes(body)
    return S.zip_package(parts)


def _deliver(mta: Lab, new_message, name: str, data: bytes):
    m = new_message(sender=AGENCY, to=RCPT, attachments=[(name, data, DOCX)])
    got, _ = deliver(mta, m, AGENCY, RCPT)
    return got, report_header(got)


def test_trusted_signed_docx_valid_and_one_byte_changed_invalid(mta: Lab, new_message, pki,
                                                                 signed_docx) -> None:
    mta.set_rules(
        "[trust]\n"
        f'anchors = ["{pki.anchors_dir}"]\n'
        f'intermediates = ["{pki.intermediates_dir}"]\n'
        f'crl-cache = "{pki.crl_dir}"\n'
    )
    got, report = _deliver(mta, new_message, "cong-van-ky-so.docx", signed_docx)
    assert got.get_all("X-Legal-Validity") == ["valid"], report
    assert "cong-van-ky-so.docx" in report and "verdict=valid" in report

    tampered = _one_byte_changed(signed_docx)
    assert len(tampered) > 0 and tampered != signed_docx
    got, report = _deliver(mta, new_message, "cong-van-ky-so.docx", tampered)
    assert got.get_all("X-Legal-Validity") == ["invalid"], report
    assert "EDITABLE_SIGNATURE_UNVERIFIED" in report or "SIG_DIGEST_MISMATCH" in report


def test_refused_signature_notice_names_the_reason(mta: Lab, new_message, pki) -> None:
    """A SHA-1 signature is refused by the algorithm policy: the header names the reason code
    and the notice to the sender names it in Vietnamese and English."""


    now = datetime.now(UTC)
    who = issue("e2e-sha1", "Văn thư Sở Tài chính", 0x2F02, pki.intermediate,
                now - timedelta(days=2), now + timedelta(days=60), org="Sở Tài chính")
    parts = S.sign_ooxml(S.make_ooxml("docx", body="Công văn số 13/STC"), who.key, who.cert,
                         chain=[pki.intermediate.der], digest="sha1",
                         signing_time=now - timedelta(minutes=5))
    mta.set_rules(
        "[trust]\n"
        f'anchors = ["{pki.anchors_dir}"]\n'
        f'intermediates = ["{pki.intermediates_dir}"]\n'
        f'crl-cache = "{pki.crl_dir}"\n'
    )
    got, report = _deliver(mta, new_message, "cong-van-sha1.docx", S.zip_package(parts))
    assert got.get_all("X-Legal-Validity") == ["invalid"], report
    assert "reasons=digest-not-allowed" in report
    mid = got["Message-ID"]
    body = wait_notice_about(mta, mid).get_content()
    vi, en = body.split("\nEnglish\n", 1)
    assert "thuật toán băm không được chấp nhận [digest-not-allowed]" in vi
    assert "digest algorithm not allowed [digest-not-allowed]" in en
    assert "ALG_DIGEST_NOT_ALLOWED" in body and "SHA-1" in en
