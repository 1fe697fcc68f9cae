"""Intake on literal messages: file names, type sniffing, nesting, archives and their limits."""

from __future__ import annotations

import io
import sys
import zipfile
from email.message import EmailMessage
from typing import Any

import pytest

from gateway.intake.mime import Walker
from gateway.intake.sniff import sniff
from gateway.model.report import DocClass
from gateway.policy.schema import Documents, Limits

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def png_bytes() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0\xff\0\0")) + chunk(b"IEND", b""))


def docx_bytes() -> bytes:
    import docx

    buf = io.BytesIO()
    d = docx.Document()
    d.add_paragraph("Công văn")
    d.save(buf)
    return buf.getvalue()


def walk(raw: bytes, **limits: Any):
    return Walker(Limits(**limits), Documents()).walk_message(io.BytesIO(raw))


def test_rfc2231_vietnamese_file_name() -> None:
    raw = (
        b"From: a@x.vn\r\nTo: b@y.vn\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=BB\r\n\r\n"
        b"--BB\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--BB\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; "
        b"filename*=utf-8''C%C3%B4ng%20v%C4%83n%20s%E1%BB%91%2012.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + __import__("base64").encodebytes(PDF) + b"--BB--\r\n"
    )
    parsed = walk(raw)
    assert [i.document.name for i in parsed.items] == ["Công văn số 12.pdf"]
    assert parsed.items[0].document.fmt == "pdf"
    assert parsed.text_parts and parsed.text_parts[0].raw.strip() == b"hi"


def test_rfc2047_in_quotes_file_name() -> None:
    raw = (
        b"From: a@x.vn\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB\r\n\r\n"
        b"--BB\r\nContent-Type: application/pdf; name=\"=?UTF-8?B?QsOhbyBjw6FvLnBkZg==?=\"\r\n"
        b"Content-Disposition: attachment; filename=\"=?UTF-8?B?QsOhbyBjw6FvLnBkZg==?=\"\r\n\r\n"
        + PDF + b"\r\n--BB--\r\n"
    )
    assert walk(raw).items[0].document.name == "Báo cáo.pdf"


def test_name_lies_about_content() -> None:
    m = EmailMessage()
    m["From"] = "a@x.vn"
    m.set_content("x")
    m.add_attachment(docx_bytes(), maintype="application", subtype="pdf", filename="report.pdf")
    item = walk(m.as_bytes()).items[0]
    assert item.document.fmt == "docx"
    assert item.document.doc_class is DocClass.EDITABLE
    assert [f.code for f in item.findings] == ["TYPE_MISMATCH"]
    assert "docx" in item.findings[0].en and "pdf" in item.findings[0].en


def test_docm_named_docx_is_not_a_mismatch() -> None:
    walker = Walker(Limits(), Documents())
    parsed = walker.walk_document("a.docx", docx_bytes())
    assert parsed.items[0].findings == ()


def test_attached_message_is_walked() -> None:
    inner = EmailMessage()
    inner["From"] = "c@x.vn"
    inner.set_content("inner")
    inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="inner.pdf")
    outer = EmailMessage()
    outer["From"] = "a@x.vn"
    outer.set_content("fwd")
    outer.add_attachment(inner)
    parsed = walk(outer.as_bytes())
    names = [i.document.path for i in parsed.items]
    assert any(p.endswith("inner.pdf") for p in names)


def test_inline_logo_is_not_a_document() -> None:
    m = EmailMessage()
    m["From"] = "a@x.vn"
    m.set_content("plain")
    m.add_alternative("<p>html <img src='cid:logo'></p>", subtype="html")
    _, html = m.iter_parts()
    html.add_related(png_bytes(), maintype="image", subtype="png", cid="<logo>")
    parsed = walk(m.as_bytes())
    assert parsed.items == []
    assert len(parsed.text_parts) == 2


def zip_of(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def with_attachment(data: bytes, name: str) -> bytes:
    m = EmailMessage()
    m["From"] = "a@x.vn"
    m.set_content("x")
    m.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return m.as_bytes()


def test_zip_members_become_documents() -> None:
    raw = with_attachment(zip_of({"hồ sơ/a.docx": docx_bytes(), "b.pdf": PDF}), "hs.zip")
    parsed = walk(raw)
    paths = {i.document.path: i.document.doc_class for i in parsed.items}
    assert paths["hs.zip"] is DocClass.ARCHIVE
    assert paths["hs.zip/hồ sơ/a.docx"] is DocClass.EDITABLE
    assert paths["hs.zip/b.pdf"] is DocClass.NON_EDITABLE


def test_zip_bomb_ratio_is_refused() -> None:
    raw = with_attachment(zip_of({"zeros.txt": b"\0" * (5 << 20)}), "bomb.zip")
    parsed = walk(raw)
    assert [i.document.path for i in parsed.items] == ["bomb.zip"]
    (item,) = parsed.items
    assert [f.code for f in item.findings] == ["ARCHIVE_LIMIT"]
    assert "compresses" in item.findings[0].en


def test_zip_member_count_and_depth_limits() -> None:
    many = zip_of({f"f{i}.pdf": PDF for i in range(12)})
    parsed = walk(with_attachment(many, "many.zip"), archive_max_members=10)
    assert [f.code for f in parsed.items[0].findings] == ["ARCHIVE_LIMIT"]
    nested = zip_of({"1.zip": zip_of({"2.zip": zip_of({"3.zip": zip_of({"x.pdf": PDF})})})})
    parsed = walk(with_attachment(nested, "0.zip"), archive_max_depth=2)
    limited = [i for i in parsed.items if i.findings]
    assert limited and limited[-1].findings[0].code == "ARCHIVE_LIMIT"
    assert not any(i.document.name == "x.pdf" for i in parsed.items)


def test_damaged_and_encrypted_zip() -> None:
    broken = zip_of({"a.pdf": PDF})[:-30]
    item = walk(with_attachment(broken, "a.zip")).items[0]
    assert [f.code for f in item.findings] == ["ARCHIVE_UNREADABLE"]

    data = bytearray(zip_of({"secret.pdf": PDF}, zipfile.ZIP_STORED))
    # set the "encrypted" flag bit in both the local and the central header
    data[6] |= 1
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 8] |= 1
    item = walk(with_attachment(bytes(data), "enc.zip")).items[0]
    # the same finding as an encrypted RAR or 7z: the remedy is to send it without a password
    assert [f.code for f in item.findings] == ["ARCHIVE_ENCRYPTED"]
    assert "secret.pdf" in item.findings[0].en and "without a password" in item.findings[0].en


def test_mime_depth_and_part_limits() -> None:
    m = EmailMessage()
    m["From"] = "a@x.vn"
    m.set_content("x")
    for i in range(30):
        m.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"{i}.pdf")
    parsed = walk(m.as_bytes(), mime_max_parts=10)
    assert [f.code for f in parsed.findings] == ["MIME_LIMIT"]
    assert len(parsed.items) < 10

    msg = EmailMessage()
    msg["From"] = "a@x.vn"
    msg.set_content("deep")
    for _ in range(6):
        outer = EmailMessage()
        outer["From"] = "a@x.vn"
        outer.set_content("wrap")
        outer.add_attachment(msg)
        msg = outer
    parsed = walk(msg.as_bytes(), mime_max_depth=3)
    assert "MIME_LIMIT" in [f.code for f in parsed.findings] + [
        f.code for i in parsed.items for f in i.findings
    ] or any(f.code == "ARCHIVE_LIMIT" for i in parsed.items for f in i.findings)


def test_oversized_attachment_is_not_inspected() -> None:
    raw = with_attachment(PDF + b"\0" * 5000, "big.pdf")
    (item,) = walk(raw, attachment_max_bytes=1000).items
    assert [f.code for f in item.findings] == ["ATTACHMENT_TOO_LARGE"]
    assert item.inspect is False
    assert item.findings[0].smtp == "552 5.3.4"


def test_members_of_an_archive_are_not_attachments_for_the_size_rule() -> None:
    raw = with_attachment(zip_of({"a.pdf": PDF + b" " * 3000}), "a.zip")
    items = walk(raw, attachment_max_bytes=2500).items
    assert not any(f.code == "ATTACHMENT_TOO_LARGE" for i in items for f in i.findings)


@pytest.mark.parametrize(
    "data, name, fmt",
    [
        (PDF, "x.bin", "pdf"),
        (b"{\\rtf1\\ansi hello}", "x.doc", "rtf"),
        (png_bytes(), "x", "png"),
        (b"plain words only\n", "notes.txt", "txt"),
        (b"a,b\n1,2\n", "t.csv", "csv"),
        (b"\0\1\2garbage", "x.dat", "other"),
    ],
)
def test_sniff_by_content(data: bytes, name: str, fmt: str) -> None:
    assert sniff(data, name)[1] == fmt


def test_sniff_ooxml_and_odf() -> None:
    assert sniff(docx_bytes(), "x.zip") == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
    odt = io.BytesIO()
    with zipfile.ZipFile(odt, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        zf.writestr("content.xml", "<x/>")
    assert sniff(odt.getvalue(), "a.bin")[1] == "odt"


def test_sniff_falls_back_on_the_bytes_when_libmagic_fails(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import magic

    from gateway.intake import sniff as sniff_mod

    class Failing:
        def from_buffer(self, buf: bytes) -> str:
            raise magic.MagicException(b"could not find any valid magic files")

    def by_bytes() -> None:
        assert sniff(PDF, "x.bin")[1] == "pdf"
        assert sniff(b"{\\rtf1\\ansi hello}", "x.doc")[1] == "rtf"
        assert sniff(docx_bytes(), "x.zip")[1] == "docx"
        assert sniff(b"\0\1\2garbage", "x.dat") == ("application/octet-stream", "other")

    monkeypatch.setattr(sniff_mod, "_magic", Failing)
    by_bytes()
    monkeypatch.setitem(sys.modules, "magic", None)  # libmagic not installed: ImportError
    by_bytes()


def test_headers_the_email_package_cannot_parse_are_kept() -> None:
    # the standard library raises IndexError on these address headers
    raw = (b'From: "Van thu" <\r\nTo: <\r\nSubject: =?utf-8?b?VGjhu60=?=\r\n\r\nbody\r\n')
    parsed = walk(raw)
    assert dict(parsed.headers)["Subject"] == "Thử"
    assert dict(parsed.headers)["From"] == '"Van thu" <'
    assert parsed.findings == []


def test_a_part_that_cannot_be_read_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    from gateway.intake import mime

    def broken(self, part, prefix, depth):
        raise IndexError("string index out of range")

    monkeypatch.setattr(mime.Walker, "_part", broken)
    parsed = walk(with_attachment(PDF, "a.pdf"))
    assert {f.code for f in parsed.findings} == {"MIME_MALFORMED"}
    assert "IndexError" in parsed.findings[0].en


@pytest.mark.parametrize("attachment", [False, True])
def test_a_body_its_decoder_fails_on_is_an_error_not_empty_text(monkeypatch, attachment: bool
                                                                ) -> None:
    """The undecoded body is inspected and the failure prevents valid: before, a text body
    became empty text (no 9.5 or 8.2 check) and an attachment its encoded form."""
    import email.message

    original = email.message.Message.get_payload

    def failing(self, i=None, decode=False):
        if decode:
            raise ValueError("decoder failed")
        return original(self, i, decode)

    monkeypatch.setattr(email.message.Message, "get_payload", failing)
    raw = (b"From: a@x.vn\r\nTo: b@y.vn\r\nSubject: t\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n"
           + (b"Content-Disposition: attachment; filename=a.txt\r\n" if attachment else b"")
           + b"\r\nT\xc3\xa0i li\xe1\xbb\x87u M\xe1\xba\xacT\r\n")
    parsed = walk(raw)
    assert [f.code for f in parsed.findings] == ["MIME_MALFORMED"]
    assert "decodable: ValueError" in parsed.findings[0].en
    if attachment:
        assert parsed.items[0].document.data.startswith("Tài liệu".encode())
    else:
        assert parsed.text_parts[0].raw.startswith("Tài liệu".encode())
