"""Rendering a notice from a report: Vietnamese first and correct, every failing document
listed with its own findings (layer, article) and the remedy its articles call for; and the
notice as a MIME message (RFC 2047 subject, RFC 3834 headers, marker, threading)."""

from __future__ import annotations

import base64
import io
import re
import unicodedata
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from gateway.model.catalog import make_finding
from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.model.report import DocClass, DocumentReport, DocVerdict, MessageReport, Verdict
from gateway.notices.marker import verify_marker
from gateway.notices.outbox import OutboxEntry
from gateway.notices.render import NoticeFacts, decoded_subject, entries, render_notice
from gateway.notices.sender import compose
from gateway.notices.templates import load_templates, shipped_directory

T = load_templates(shipped_directory())
AT = datetime(2026, 3, 2, 8, 31, tzinfo=UTC)
SECRET = b"k" * 32
ROOT = Path(__file__).resolve().parents[2]

HEADERS = [
    ("From", b"Van thu <van-thu@stc.daknong.gov.vn>"),
    ("Subject", b"=?utf-8?b?" + base64.b64encode("Kế hoạch hội nghị tháng 3".encode()) + b"?="),
    ("Date", b"Mon, 02 Mar 2026 08:30:00 +0700"),
    ("Message-ID", b"<orig-1@stc.daknong.gov.vn>"),
    ("References", b"<earlier@x.gov.vn>"),
]
ENV = Envelope(sender="van-thu@stc.daknong.gov.vn",
               recipients=("ubnd@daknong.gov.vn", "sotc@daknong.gov.vn"), queue_id="4XyZ12")


def _doc(path: str, verdict: DocVerdict, *findings, cls: DocClass = DocClass.EDITABLE
         ) -> DocumentReport:
    return DocumentReport(path=path, sha256="0" * 64, size=10, media_type="x/y", doc_class=cls,
                          verdict=verdict, findings=tuple(findings))


def _invalid_report() -> MessageReport:
    return MessageReport(
        input="4XyZ12", kind="message", verdict=Verdict.INVALID, action=Action.ACCEPT,
        findings=(make_finding("ENCODING_LEGACY_CHARSET", where="Tiêu đề thư",
                               charset="windows-1258", snippet="Kế hoạch"),),
        documents=(
            _doc("Kế hoạch.docx", DocVerdict.INVALID,
                 make_finding("EDITABLE_NOT_SIGNED", name="Kế hoạch.docx")),
            _doc("Giấy mời.pdf", DocVerdict.VALID,
                 make_finding("NON_EDITABLE_ACCEPTED", name="Giấy mời.pdf"),
                 cls=DocClass.NON_EDITABLE),
            _doc("Báo cáo.pdf", DocVerdict.INVALID,
                 make_finding("PDF_BORN_DIGITAL_UNSIGNED", name="Báo cáo.pdf"),
                 cls=DocClass.NON_EDITABLE),
            _doc("Tờ trình.docx", DocVerdict.INVALID,
                 make_finding("TEXT_LEGACY_FONT", name="Tờ trình.docx", font=".VnTime",
                              encoding="TCVN3", count=12, place="đoạn 1", snippet="Tê trình"),
                 make_finding("EDITABLE_NOT_SIGNED", name="Tờ trình.docx")),
        ),
    )


def _facts(headers=HEADERS, env=ENV) -> NoticeFacts:
    return NoticeFacts.from_message(env, headers, decision_id=42, decided_at=AT)


def _blocks(section: str) -> dict[str, str]:
    """``N. name: verdict`` blocks of one language section, by name."""
    out: dict[str, str] = {}
    for m in re.finditer(r"^(\d+)\. (.+?): .*?(?=^\d+\. |\Z)", section, re.M | re.S):
        out[m.group(2)] = m.group(0)
    return out


def _split(body: str) -> tuple[str, str]:
    vi, en = body.split("\nEnglish\n", 1)
    return vi, en


def test_subject_is_decoded_from_rfc2047() -> None:
    assert decoded_subject(HEADERS) == "Kế hoạch hội nghị tháng 3"
    assert decoded_subject([("Subject", b"=?bogus?q?x?=")]) == "=?bogus?q?x?="
    assert decoded_subject([]) == ""


def test_invalid_notice_vietnamese_first_with_message_facts() -> None:
    n = render_notice(T, "invalid", _invalid_report(), _facts())
    assert n.subject == ("Văn bản chưa có giá trị pháp lý / Documents not legally valid: "
                         "Kế hoạch hội nghị tháng 3")
    assert unicodedata.is_normalized("NFC", n.body)
    vi, en = _split(n.body)
    assert vi.startswith("Kính gửi van-thu@stc.daknong.gov.vn,")
    assert "nhưng 3 văn bản đính kèm CHƯA CÓ GIÁ TRỊ PHÁP LÝ" in vi
    assert "Quyết định số 12/2012/QĐ-UBND" in vi
    for line in ("Tiêu đề:       Kế hoạch hội nghị tháng 3",
                 "Gửi đến:       ubnd@daknong.gov.vn, sotc@daknong.gov.vn",
                 "Ngày gửi:      Mon, 02 Mar 2026 08:30:00 +0700",
                 "Message-ID:    <orig-1@stc.daknong.gov.vn>",
                 "Mã hàng đợi:   4XyZ12"):
        assert line in vi
    assert "phần “nơi nhận”" in vi
    assert en.lstrip().startswith("Dear van-thu@stc.daknong.gov.vn,")
    assert "Queue ID:      4XyZ12" in en
    assert "3 attached document(s) are NOT LEGALLY VALID" in en


def test_findings_are_listed_per_document_with_layer_and_article() -> None:
    n = render_notice(T, "invalid", _invalid_report(), _facts())
    vi, en = _split(n.body)
    blocks = _blocks(vi)
    # the message's own warning first, then only the documents that failed, in order
    assert list(blocks) == ["(nội dung thư)", "Kế hoạch.docx", "Báo cáo.pdf", "Tờ trình.docx"]
    assert "Giấy mời.pdf" not in n.body  # valid, with only an information finding
    k = blocks["Kế hoạch.docx"]
    assert k.startswith("2. Kế hoạch.docx: CHƯA CÓ GIÁ TRỊ PHÁP LÝ")
    assert "[lỗi] Tệp Kế hoạch.docx là định dạng có thể chỉnh sửa nhưng không có chữ ký số" in k
    assert ("Lớp kiểm tra: Tiêu chuẩn giá trị pháp lý của tệp chỉnh sửa được. Căn cứ: điểm a "
            "khoản 2 Điều 9 (Tệp chỉnh sửa được phải có chữ ký số được xác nhận). "
            "Mã: EDITABLE_NOT_SIGNED.") in k
    assert "PDF_BORN_DIGITAL_UNSIGNED" not in k and "TEXT_LEGACY_FONT" not in k
    b = blocks["Báo cáo.pdf"]
    assert "Mã: PDF_BORN_DIGITAL_UNSIGNED." in b and "Căn cứ: khoản 3 Điều 9" in b
    t = blocks["Tờ trình.docx"]
    assert "Mã: TEXT_LEGACY_FONT." in t and "Mã: EDITABLE_NOT_SIGNED." in t
    assert "Lớp kiểm tra: Bộ mã chữ Việt của văn bản." in t
    msg = blocks["(nội dung thư)"]
    assert msg.startswith("1. (nội dung thư): cảnh báo") and "windows-1258" in msg
    en_blocks = _blocks(en)
    assert list(en_blocks) == ["(the message itself)", "Kế hoạch.docx", "Báo cáo.pdf",
                               "Tờ trình.docx"]
    assert "[error] File Kế hoạch.docx is editable but carries no digital signature" in \
        en_blocks["Kế hoạch.docx"]
    assert "Rule: Article 9.2a (Editable files need a verified signature)" in \
        en_blocks["Kế hoạch.docx"]


def test_remedy_per_article_under_each_document() -> None:
    n = render_notice(T, "invalid", _invalid_report(), _facts())
    vi, en = _split(n.body)
    blocks = _blocks(vi)
    sign = "=> Cách khắc phục (điểm a khoản 2 Điều 9): Ký số tệp bằng chứng thư số của đơn vị"
    paper = "scan thành tệp PDF và gửi bản scan vào hộp thư của tất cả cơ quan, cá nhân có " \
            "tên trong phần “nơi nhận”"
    assert sign in blocks["Kế hoạch.docx"] and paper in blocks["Kế hoạch.docx"]
    assert "=> Cách khắc phục (khoản 3 Điều 9): Tệp PDF tạo bằng phần mềm phải được ký số" in \
        blocks["Báo cáo.pdf"]
    assert sign not in blocks["Báo cáo.pdf"]
    tt = blocks["Tờ trình.docx"]
    assert "=> Cách khắc phục (khoản 5 Điều 9): Chuyển văn bản sang bộ mã Unicode theo " \
           "TCVN 6909:2001" in tt
    assert sign in tt
    assert tt.index("Chuyển văn bản sang bộ mã Unicode") < tt.index(sign)  # order of findings
    # a warning is listed without a remedy of its own
    assert "=>" not in blocks["(nội dung thư)"]
    en_blocks = _blocks(en)
    assert "=> Remedy (Article 9.5): Convert the text to Unicode (TCVN 6909:2001)" in \
        en_blocks["Tờ trình.docx"]
    assert "=> Remedy (Article 9.3): A PDF made by software must be signed" in \
        en_blocks["Báo cáo.pdf"]


def test_held_and_security_notices() -> None:
    report = MessageReport(
        input="Q", kind="message", verdict=Verdict.HELD, action=Action.HOLD,
        documents=(
            _doc("Công văn mật.docx", DocVerdict.INVALID,
                 make_finding("SECRET_STAMP", name="Công văn mật.docx", level="MẬT",
                              place="đoạn 1", contact="baomat@daknong.gov.vn"),
                 make_finding("EDITABLE_NOT_SIGNED", name="Công văn mật.docx")),
        ),
    )
    held = render_notice(T, "held", report, _facts())
    assert held.subject.startswith("Thư bị giữ lại, chưa chuyển đến người nhận")
    vi, _en = _split(held.body)
    assert "đã GIỮ LẠI thư dưới đây" in vi
    assert "Căn cứ: khoản 2 Điều 8 (Không lưu chuyển văn bản, tài liệu có tính mật)" in vi
    assert "=> Cách khắc phục (khoản 2 Điều 8): Không được gửi văn bản, tài liệu mật" in vi
    assert "EDITABLE_NOT_SIGNED" in vi
    sec = render_notice(T, "security", report, _facts(),
                        security_contact="baomat@daknong.gov.vn")
    assert sec.subject.startswith("Thư nghi có tài liệu mật đã bị giữ lại")
    assert "bộ phận phụ trách bảo mật (baomat@daknong.gov.vn)" in sec.body
    assert "Người gửi:     van-thu@stc.daknong.gov.vn" in sec.body
    assert "Mã quyết định: 42" in sec.body
    assert "SECRET_STAMP" in sec.body
    assert "EDITABLE_NOT_SIGNED" not in sec.body  # only what concerns the security contact
    assert [e.path for e in entries(report, only_articles=frozenset({"8.2"}))] == \
        ["Công văn mật.docx"]


def test_hold_finding_is_listed_even_when_only_informational() -> None:
    import dataclasses

    f = dataclasses.replace(make_finding("NON_EDITABLE_ACCEPTED", name="a.pdf"),
                            action=Action.HOLD)
    report = MessageReport(input="Q", kind="message", verdict=Verdict.HELD, action=Action.HOLD,
                           documents=(_doc("a.pdf", DocVerdict.VALID, f),))
    n = render_notice(T, "held", report, _facts())
    assert "NON_EDITABLE_ACCEPTED" in n.body and "=> Cách khắc phục (điểm b khoản 2 Điều 9)" \
        in n.body


def test_hostile_subject_and_missing_facts_stay_one_line() -> None:
    headers = [("Subject", b"Hello\r\n Bcc: evil@x\x07" + b"A" * 500)]
    env = Envelope(sender="a@b.vn", recipients=tuple(f"r{i}@x.vn" for i in range(30)))
    n = render_notice(T, "invalid", _invalid_report(), _facts(headers, env))
    assert "\n" not in n.subject and "\r" not in n.subject and "\x07" not in n.subject
    assert len(n.subject) <= 250
    assert "Message-ID:    -" in n.body and "Mã hàng đợi:   -" in n.body
    assert "… (+10)" in n.body
    # the date falls back to the decision time
    assert "Ngày gửi:      2026-03-02" in n.body


def test_notice_from_a_real_check_of_an_unsigned_docx() -> None:
    from gateway.pipeline import Checker
    from gateway.policy.load import load_policy

    raw = (ROOT / "tests" / "corpus" / "messages" / "unsigned-docx.eml").read_bytes()
    report = Checker(load_policy()).check_message(io.BytesIO(raw), ENV, label="4XyZ12")
    assert report.verdict is Verdict.INVALID and report.action is Action.ACCEPT
    msg = message_from_bytes(raw)
    headers = [(k, v.encode()) for k, v in msg.items()]
    n = render_notice(T, "invalid", report, _facts(headers))
    assert n.subject.endswith(": Kế hoạch (bản Word)")
    vi, en = _split(n.body)
    assert "1. Kế hoạch hội nghị.docx: CHƯA CÓ GIÁ TRỊ PHÁP LÝ" in vi
    assert "Mã: EDITABLE_NOT_SIGNED." in vi and "Code: EDITABLE_NOT_SIGNED." in en


def _entry(kind: str = "invalid", **kw: Any) -> OutboxEntry:
    n = render_notice(T, kind, _invalid_report(), _facts())
    base: dict[str, Any] = dict(id=1, created_at=AT, decision_id=42, queue_id="4XyZ12", kind=kind,
                recipient="van-thu@stc.daknong.gov.vn", rate_key="van-thu@stc.daknong.gov.vn",
                subject=n.subject, body=n.body, message_id="<hople-notice.1@gw.daknong.gov.vn>",
                in_reply_to="<orig-1@stc.daknong.gov.vn>", refs="<earlier@x.gov.vn>",
                state="pending", reason=None, attempts=0, next_attempt_at=AT, last_error=None,
                sent_at=None)
    base.update(kw)
    return OutboxEntry(**base)


def test_composed_notice_is_proper_mime() -> None:
    e = _entry()
    raw = compose(e, from_address="kiemtra@daknong.gov.vn", from_name=T.from_name,
                  secret=SECRET, now=AT)
    assert raw.isascii() and b"\r\n" in raw
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    head = raw.split(b"\r\n\r\n", 1)[0].decode()
    assert re.search(r"^Subject: =\?utf-8\?", head, re.M | re.I)  # RFC 2047
    m = message_from_bytes(raw, policy=policy.default)
    assert m["Subject"] == e.subject
    assert m["From"].addresses[0].display_name == "Cổng kiểm tra văn bản điện tử"
    assert m["From"].addresses[0].addr_spec == "kiemtra@daknong.gov.vn"
    assert m["To"] == "van-thu@stc.daknong.gov.vn"
    assert m["Auto-Submitted"] == "auto-replied"
    assert m["In-Reply-To"] == "<orig-1@stc.daknong.gov.vn>"
    assert m["References"] == "<earlier@x.gov.vn> <orig-1@stc.daknong.gov.vn>"
    assert m["Message-ID"] == e.message_id
    assert m["X-Auto-Response-Suppress"] == "All"
    assert verify_marker(SECRET, m["X-Hople-Notice"], e.message_id, now=AT.timestamp())
    assert m.get_content_type() == "text/plain"
    assert m.get_content_charset() == "utf-8"
    assert m["Content-Transfer-Encoding"] == "quoted-printable"
    assert m.get_content().replace("\r\n", "\n") == e.body


def test_security_report_is_auto_generated_and_not_a_reply() -> None:
    e = _entry("security", recipient="baomat@daknong.gov.vn")
    m = message_from_bytes(compose(e, from_address="kiemtra@daknong.gov.vn",
                                   from_name="x", secret=None, now=AT), policy=policy.default)
    assert m["Auto-Submitted"] == "auto-generated"
    assert m["In-Reply-To"] is None
    assert "<orig-1@stc.daknong.gov.vn>" in m["References"]
    assert m["X-Hople-Notice"] is None  # no secret configured: no marker


def test_bad_recipient_is_a_permanent_failure() -> None:
    from gateway.notices.sender import SubmitError

    with pytest.raises(SubmitError) as info:
        compose(_entry(recipient="a@b@c, <x>"), from_address="k@d.vn", from_name="x",
                secret=None, now=AT)
    assert info.value.permanent
