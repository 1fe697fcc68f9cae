"""Regenerate the message corpus: ``python -m tests.corpus.make_corpus``.

Each message is written to ``messages/NAME.eml`` and its expected outcome lives in
``expected.toml`` (kept by hand: regenerating messages must not change what they mean).
"""

from __future__ import annotations

import io
import random
import zipfile
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "messages"
DATE = format_datetime(datetime(2026, 3, 2, 8, 30, tzinfo=UTC))


def png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + body))
        return struct.pack(">I", len(body)) + kind + body + crc

    raw = b"".join(b"\0" + b"\xff\xff\xff" * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def docx() -> bytes:
    import docx as python_docx

    d = python_docx.Document()
    d.add_paragraph("ỦY BAN NHÂN DÂN TỈNH")
    d.add_paragraph("Kế hoạch tổ chức hội nghị tổng kết năm 2026.")
    buf = io.BytesIO()
    d.core_properties.created = datetime(2026, 3, 1, tzinfo=UTC)
    d.core_properties.modified = datetime(2026, 3, 1, tzinfo=UTC)
    d.save(buf)
    return buf.getvalue()


def base(sender: str, subject: str, n: int) -> EmailMessage:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "vanthu@lamdong.gov.vn"
    m["Subject"] = subject
    m["Date"] = DATE
    m["Message-ID"] = f"<corpus-{n}@hople.test>"
    m.set_content("Kính gửi: Văn phòng UBND tỉnh.\nĐề nghị quý cơ quan xem tệp đính kèm.\n")
    return m


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, (2026, 3, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def build() -> dict[str, bytes]:
    out: dict[str, EmailMessage | bytes] = {}
    m = base("Văn phòng Sở TT&TT <stttt@daknong.gov.vn>", "Lịch công tác tuần", 1)
    out["text-only"] = m

    m = base("stttt@daknong.gov.vn", "Công văn scan", 2)
    m.add_attachment(png(), maintype="image", subtype="png", filename="Công văn 15-STTTT.png")
    out["scan-image"] = m

    m = base("stttt@daknong.gov.vn", "Kế hoạch (bản Word)", 3)
    m.add_attachment(docx(), maintype="application",
                     subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                     filename="Kế hoạch hội nghị.docx")
    out["unsigned-docx"] = m

    m = base("Nguyễn Văn A <nguyenvana@gmail.com>", "Gửi văn bản", 4)
    m.add_attachment(docx(), maintype="application",
                     subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                     filename="Báo cáo.docx")
    out["freemail-docx"] = m

    m = base("Người dân <dan@yahoo.com.vn>", "Kiến nghị của công dân", 5)
    out["freemail-citizen"] = m

    m = base("ubnd@zing.vn", "Giấy mời", 6)
    m.add_attachment(png(), maintype="image", subtype="png", filename="giaymoi.png")
    out["freemail-vn-list"] = m

    m = base("stttt@daknong.gov.vn", "Hồ sơ nén", 7)
    m.add_attachment(zip_bytes({"hồ sơ/scan1.png": png(), "hồ sơ/dự thảo.docx": docx()}),
                     maintype="application", subtype="zip", filename="hồ sơ.zip")
    out["zip-with-docx"] = m

    m = base("stttt@daknong.gov.vn", "Tệp nén lạ", 8)
    m.add_attachment(zip_bytes({"zeros.bin": b"\0" * (8 << 20)}), maintype="application",
                     subtype="zip", filename="data.zip")
    out["zip-bomb"] = m

    m = base("stttt@daknong.gov.vn", "Tệp PDF giả", 9)
    m.add_attachment(docx(), maintype="application", subtype="pdf", filename="quyet-dinh.pdf")
    out["docx-named-pdf"] = m

    inner = base("vp@daknong.gov.vn", "Văn bản gốc", 10)
    inner.add_attachment(docx(), maintype="application",
                         subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                         filename="goc.docx")
    m = base("stttt@daknong.gov.vn", "Chuyển tiếp: Văn bản gốc", 11)
    m.add_attachment(inner)
    out["forwarded-docx"] = m

    m = base("stttt@daknong.gov.vn", "Thông báo", 12)
    m["X-Legal-Validity"] = "valid"
    out["forged-verdict-header"] = m

    out.update(containers())
    out.update(archives(docx(), png()))
    result: dict[str, bytes] = {}
    for name, msg in out.items():
        result[name] = msg.as_bytes() if isinstance(msg, EmailMessage) else msg
    return result


def containers() -> dict[str, EmailMessage | bytes]:
    """The containers senders wrap documents in, and hostile structure (tests/containers.py)."""
    from tests.containers import HEAD, nested_multipart, odt, rezip, tnef, uuencode

    out: dict[str, EmailMessage | bytes] = {}
    m = base("stttt@daknong.gov.vn", "Kế hoạch (Outlook định dạng RTF)", 13)
    m.add_attachment(tnef([("Kế hoạch hội nghị.docx", docx())], body=b"Kinh gui"),
                     maintype="application", subtype="ms-tnef", filename="winmail.dat")
    out["tnef-docx"] = m

    m = base("stttt@daknong.gov.vn", "Kế hoạch (uuencode)", 14)
    m.set_content("Kính gửi,\n\n" + uuencode("Ke hoach.docx", docx()).decode() + "\nTrân trọng.\n")
    out["uuencoded-docx"] = m

    m = base("stttt@daknong.gov.vn", "Kế hoạch (gói hỏng)", 15)
    m.add_attachment(rezip(docx(), drop=("[Content_Types].xml",)), maintype="application",
                     subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                     filename="Kế hoạch.docx")
    out["docx-no-content-types"] = m

    m = base("stttt@daknong.gov.vn", "Kế hoạch (ODT không có mimetype)", 16)
    m.add_attachment(odt(None), maintype="application",
                     subtype="vnd.oasis.opendocument.text", filename="Kế hoạch.odt")
    out["odt-no-mimetype"] = m

    m = base("stttt@daknong.gov.vn", "Dữ liệu", 17)
    m.add_attachment(random.Random(7).randbytes(3000), maintype="application",
                     subtype="octet-stream",
                     filename="du-lieu.dat")
    out["unidentified-attachment"] = m

    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("dự thảo.docx", docx())
    m = base("stttt@daknong.gov.vn", "Bản scan", 18)
    m.add_attachment(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n" + zbuf.getvalue(),
                     maintype="application", subtype="pdf", filename="scan.pdf")
    out["pdf-zip-polyglot"] = m

    inner = base("vp@daknong.gov.vn", "Văn bản gốc", 20)
    inner.add_attachment(docx(), maintype="application", subtype="octet-stream",
                         filename="goc.docx")
    m = base("stttt@daknong.gov.vn", "Chuyển tiếp (đính kèm thư)", 21)
    m.add_attachment(inner, filename="Văn bản gốc.eml")
    out["forwarded-named-docx"] = m

    out["message-partial"] = (
        HEAD.replace(b"<deep@hople.test>", b"<corpus-22@hople.test>")
        + b'Content-Type: message/partial; id="corpus-22@hople.test"; number=1; total=2\r\n\r\n'
        b"Content-Type: application/octet-stream; name=a.docx\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nUEsDBBQAAAAIAA==\r\n")

    out["deep-nesting"] = nested_multipart(1000, HEAD.replace(b"<deep@hople.test>",
                                                              b"<corpus-19@hople.test>"))
    return out


def archives(word: bytes, scan: bytes) -> dict[str, EmailMessage]:
    """Documents in the containers read through libarchive."""
    from tests.archgen.build import compress, seven_zip, tar
    from tests.archgen.rar import Member, rar5

    out: dict[str, EmailMessage] = {}
    m = base("stttt@daknong.gov.vn", "Hồ sơ nén RAR", 23)
    m.add_attachment(rar5([Member("hồ sơ/scan1.png", scan), Member("hồ sơ/dự thảo.docx", word)]),
                     maintype="application", subtype="vnd.rar", filename="hồ sơ.rar")
    out["rar-with-docx"] = m
    m = base("stttt@daknong.gov.vn", "Bản quét nén tar.gz", 24)
    m.add_attachment(tar({"Công văn 15.png": scan}, compression="gz"), maintype="application",
                     subtype="gzip", filename="cong-van.tar.gz")
    out["targz-scan"] = m
    m = base("stttt@daknong.gov.vn", "Hồ sơ có mật khẩu", 25)
    m.add_attachment(seven_zip({"Kế hoạch.docx": word}, password="123", header_encryption=True),
                     maintype="application", subtype="x-7z-compressed", filename="ho-so.7z")
    out["7z-encrypted"] = m
    m = base("stttt@daknong.gov.vn", "Tờ trình (nén gzip)", 26)
    m.add_attachment(compress(word, "gz"), maintype="application", subtype="gzip",
                     filename="Tờ trình.docx.gz")
    out["docx-gz"] = m
    return out


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, data in build().items():
        (OUT / f"{name}.eml").write_bytes(data)
        print(f"wrote messages/{name}.eml ({len(data)} bytes)")


if __name__ == "__main__":
    main()
