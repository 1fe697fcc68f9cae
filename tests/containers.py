"""Builders of the containers senders wrap documents in, written from the formats' own
specifications so that tests need no downloads: TNEF (MS-OXTNEF), uuencode, office packages
with a missing marker member, hostile MIME nesting, and polyglots."""

from __future__ import annotations

import binascii
import io
import struct
import zipfile

# -- TNEF (MS-OXTNEF 2.1.3) ----------------------------------------------------------------------

TNEF_SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 0x01, 0x02
# attribute types (high word of the attribute ID) and IDs (low word)
ATP_STRING, ATP_TEXT, ATP_WORD, ATP_DWORD, ATP_BYTE = 0x0001, 0x0002, 0x0007, 0x0008, 0x0006
ATT_TNEF_VERSION, ATT_OEM_CODEPAGE, ATT_MESSAGE_CLASS = 0x9006, 0x9007, 0x8008
ATT_BODY, ATT_MSG_PROPS = 0x800C, 0x9003
ATT_ATTACH_REND_DATA, ATT_ATTACH_TITLE, ATT_ATTACH_DATA, ATT_ATTACHMENT = (
    0x9002, 0x8010, 0x800F, 0x9005)
PT_STRING8, PT_UNICODE, PT_BINARY = 0x001E, 0x001F, 0x0102
PID_TAG_RTF_COMPRESSED, PID_TAG_ATTACH_LONG_FILENAME = 0x1009, 0x3707


def tnef_attribute(level: int, attr_id: int, attr_type: int, data: bytes,
                   bad_checksum: bool = False) -> bytes:
    """Level, ID (type in the high word), length, data, checksum (sum of the data bytes
    modulo 65536)."""
    checksum = (sum(data) + (1 if bad_checksum else 0)) & 0xFFFF
    return (struct.pack("<BHHI", level, attr_id, attr_type, len(data)) + data
            + struct.pack("<H", checksum))


def mapi_props(props: list[tuple[int, int, bytes]]) -> bytes:
    """A MAPI property list (MS-OXTNEF 2.1.3.4) of variable-length values (one each)."""
    out = struct.pack("<I", len(props))
    for ptype, pid, value in props:
        pad = b"\0" * (-len(value) % 4)
        out += struct.pack("<HHII", ptype, pid, 1, len(value)) + value + pad
    return out


def tnef(attachments: list[tuple[str, bytes]], body: bytes | None = b"",
         rtf: bytes | None = None, bad_checksum: bool = False, codepage: int = 1252) -> bytes:
    """A winmail.dat as Outlook writes it: version, code page, class, body, then per
    attachment its rendering data, title, data and MAPI properties (long file name)."""
    out = struct.pack("<IH", TNEF_SIGNATURE, 0x0001)
    out += tnef_attribute(LVL_MESSAGE, ATT_TNEF_VERSION, ATP_DWORD, struct.pack("<I", 0x10000))
    out += tnef_attribute(LVL_MESSAGE, ATT_OEM_CODEPAGE, ATP_BYTE, struct.pack("<II", codepage, 0))
    out += tnef_attribute(LVL_MESSAGE, ATT_MESSAGE_CLASS, ATP_WORD, b"IPM.Microsoft Mail.Note\0")
    if body:
        out += tnef_attribute(LVL_MESSAGE, ATT_BODY, ATP_TEXT, body, bad_checksum)
    if rtf is not None:
        from compressed_rtf import compress

        props = mapi_props([(PT_BINARY, PID_TAG_RTF_COMPRESSED, compress(rtf, compressed=True))])
        out += tnef_attribute(LVL_MESSAGE, ATT_MSG_PROPS, ATP_BYTE, props)
    for name, data in attachments:
        short = name.encode("cp1252", "replace")[:255] + b"\0"
        out += tnef_attribute(LVL_ATTACHMENT, ATT_ATTACH_REND_DATA, ATP_BYTE,
                              struct.pack("<HiiI", 1, -1, -1, 0) + b"\0\0")
        out += tnef_attribute(LVL_ATTACHMENT, ATT_ATTACH_TITLE, ATP_STRING, short)
        out += tnef_attribute(LVL_ATTACHMENT, ATT_ATTACH_DATA, ATP_BYTE, data)
        long_name = (name + "\0").encode("utf-16-le")
        out += tnef_attribute(LVL_ATTACHMENT, ATT_ATTACHMENT, ATP_BYTE,
                              mapi_props([(PT_UNICODE, PID_TAG_ATTACH_LONG_FILENAME, long_name)]))
    return out


# -- uuencode ------------------------------------------------------------------------------------


def uuencode(name: str, data: bytes, mode: str = "644") -> bytes:
    lines = [f"begin {mode} {name}\n".encode()]
    for i in range(0, len(data), 45):
        lines.append(binascii.b2a_uu(data[i:i + 45]))
    lines.append(b"`\nend\n")
    return b"".join(lines)


# -- office packages -----------------------------------------------------------------------------


def rezip(data: bytes, drop: tuple[str, ...] = (), add: dict[str, bytes] | None = None,
          replace: dict[str, bytes] | None = None) -> bytes:
    """``data`` (a ZIP) rewritten without the members ``drop``, with ``add`` and
    ``replace``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename in drop or info.filename in (add or {}):
                continue
            body = (replace or {}).get(info.filename, src.read(info))
            dst.writestr(info.filename, body, zipfile.ZIP_DEFLATED)
        for name, body in (add or {}).items():
            dst.writestr(name, body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (250, 250, 250)).save(buf, "JPEG")
    return buf.getvalue()


def odt(mimetype: str | None = "application/vnd.oasis.opendocument.text") -> bytes:
    """An ODF text document; ``mimetype=None`` leaves the marker member out."""
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.2">\n'
        ' <manifest:file-entry manifest:full-path="/" manifest:version="1.2"'
        ' manifest:media-type="application/vnd.oasis.opendocument.text"/>\n'
        ' <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>\n'
        ' <manifest:file-entry manifest:full-path="Thumbnails/thumbnail.png"'
        ' manifest:media-type="image/png"/>\n'
        '</manifest:manifest>\n')
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        '<office:body><office:text><text:p>Kế hoạch năm 2026</text:p></office:text></office:body>'
        '</office:document-content>')
    from tests.corpus.make_corpus import png

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        if mimetype is not None:
            zf.writestr("mimetype", mimetype, zipfile.ZIP_STORED)
        zf.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        zf.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        zf.writestr("Thumbnails/thumbnail.png", png(), zipfile.ZIP_DEFLATED)
    return buf.getvalue()


# -- MIME ----------------------------------------------------------------------------------------

HEAD = (b"From: stttt@daknong.gov.vn\r\nTo: vanthu@lamdong.gov.vn\r\nSubject: deep\r\n"
        b"Date: Mon, 02 Mar 2026 08:30:00 +0000\r\nMessage-ID: <deep@hople.test>\r\n"
        b"MIME-Version: 1.0\r\n")


def nested_multipart(levels: int, head: bytes = HEAD) -> bytes:
    out = [head]
    for i in range(levels):
        out.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i))
    out.append(b"Content-Type: text/plain\r\n\r\nhello\r\n")
    for i in reversed(range(levels)):
        out.append(b"--b%d--\r\n" % i)
    return b"".join(out)


def nested_messages(levels: int, head: bytes = HEAD) -> bytes:
    out = [head]
    for _ in range(levels):
        out.append(b"Content-Type: message/rfc822\r\n\r\n")
    out.append(b"Content-Type: text/plain\r\n\r\nhello\r\n")
    return b"".join(out)


# -- other formats ---------------------------------------------------------------------------------


def rar5_stored(name: str, data: bytes) -> bytes:
    """The first bytes of a RAR 5 archive storing ``data`` uncompressed: signature, main
    archive header, file header (enough for sniffing: the member's bytes follow the
    header as they do in a real archive)."""

    def vint(n: int) -> bytes:
        out = bytearray()
        while True:
            b = n & 0x7F
            n >>= 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out)

    def block(htype: int, flags: int, body: bytes, extra_area: bytes = b"") -> bytes:
        header = vint(htype) + vint(flags) + body
        size = vint(len(header))
        crc = struct.pack("<I", binascii.crc32(size + header) & 0xFFFFFFFF)
        return crc + size + header + extra_area

    main = block(1, 0, vint(0))
    fname = name.encode()
    # file flags 0x0004: CRC32 present; compression info 0: stored; host OS 0
    file_body = (vint(0x0004) + vint(len(data)) + vint(0o644)
                 + struct.pack("<I", binascii.crc32(data)) + vint(0) + vint(0)
                 + vint(len(fname)) + fname)
    file_hdr = block(2, 0x0002, vint(len(data)) + file_body)
    end = block(5, 0, vint(0))
    return b"Rar!\x1a\x07\x01\x00" + main + file_hdr + data + end


__all__ = ["jpeg", "nested_messages", "nested_multipart", "odt", "rar5_stored", "rezip", "tnef",
           "uuencode"]
