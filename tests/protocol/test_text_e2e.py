"""Articles 9.5 and 8.2 through a real Postfix: a TCVN3 document is tagged invalid with the
9.5 finding in the report header; classified mail goes to the hold queue, undelivered."""

from __future__ import annotations

import re
import subprocess
import time
from email import message_from_bytes, policy

import pytest

from gateway.lab import Lab
from tests.textgen.docs import R, make_docx

pytestmark = pytest.mark.postfix

AGENCY = "van-thu@stc.daknong.gov.vn"
RCPT = "ubnd@daknong.gov.vn"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _queued_as(text: str) -> str:
    m = re.search(r"queued as ([0-9A-Za-z]+)", text)
    assert m, text
    return m.group(1)


def _report(raw: bytes) -> tuple[str, str]:
    got = message_from_bytes(raw, policy=policy.default)
    (verdict,) = got.get_all("X-Legal-Validity") or []
    (report,) = got.get_all("X-Legal-Validity-Report") or []
    return str(verdict), re.sub(r"\s+", "", str(report))


def _wait_held(mta: Lab, qid: str) -> bool:
    end = time.monotonic() + 15
    while time.monotonic() < end:
        if qid in mta.held():
            return True
        time.sleep(0.1)
    return False


def _drop(mta: Lab, qid: str) -> None:
    subprocess.run(["/usr/sbin/postsuper", "-c", str(mta.config_dir), "-d", qid, "hold"],
                   capture_output=True, timeout=60)


def test_tcvn3_docx_is_tagged_invalid_with_the_9_5_finding(mta: Lab, new_message) -> None:
    data = make_docx([[R("ỦY BAN NHÂN DÂN TỈNH ĐẮK NÔNG", ".VnTimeH")],
                      [R("Quyết định về việc ban hành quy chế sử dụng thư điện tử", ".VnTime")]])
    m = new_message(sender=AGENCY, to=RCPT, attachments=[("QuyetDinh.docx", data, DOCX)])
    mid = m["Message-ID"]
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    verdict, report = _report(mta.wait_delivered(mid))
    assert verdict == "invalid"
    entry = next(e for e in report.split(";") if e.startswith("QuyetDinh.docx"))
    assert "TEXT_LEGACY_FONT" in entry  # Art. 9.5, not only the unsigned-document finding
    (row,) = mta.store().query(queue_id=_queued_as(text))
    assert row.verdict == "invalid"


def test_unicode_docx_has_no_9_5_finding(mta: Lab, new_message) -> None:
    data = make_docx([[R("Quyết định về việc ban hành quy chế", "Times New Roman")]])
    m = new_message(sender=AGENCY, to=RCPT, attachments=[("QuyetDinhUnicode.docx", data, DOCX)])
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    _, report = _report(mta.wait_delivered(m["Message-ID"]))
    assert "TEXT_" not in report and "SECRET_" not in report


def test_tuyet_mat_stamp_is_held_not_delivered(mta: Lab, new_message) -> None:
    data = make_docx([[R("Kế hoạch bảo vệ bí mật nhà nước năm 2026")]],
                     textbox=[R("TUYỆT MẬT")])
    m = new_message(sender=AGENCY, to=RCPT, attachments=[("KeHoach.docx", data, DOCX)])
    mid = m["Message-ID"]
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    qid = _queued_as(text)
    try:
        assert _wait_held(mta, qid)
        assert mta.delivered_queue_id(mid) is None
        (row,) = mta.store().query(queue_id=qid)
        assert row.verdict == "held" and row.action_taken == "hold"
    finally:
        _drop(mta, qid)


def test_subject_stamp_is_held_and_prose_is_not(mta: Lab, new_message) -> None:
    m = new_message(sender=AGENCY, to=RCPT, subject="[TỐI MẬT] Báo cáo tình hình")
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    qid = _queued_as(text)
    try:
        assert _wait_held(mta, qid)
    finally:
        _drop(mta, qid)
    m = new_message(sender=AGENCY, to=RCPT, subject="Đổi mật khẩu hộp thư, bảo mật thông tin",
                    body="Đề nghị các đồng chí giữ bí mật mật khẩu.\nKHẨN\n")
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    verdict, _ = _report(mta.wait_delivered(m["Message-ID"]))
    assert verdict == "no-documents"
