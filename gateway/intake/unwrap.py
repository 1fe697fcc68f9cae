"""Containers that mail clients wrap documents in, other than archives: TNEF (winmail.dat),
uuencoded blocks in text bodies, and CMS that carries its content (``.p7m``).

Each reader is a pure function from bytes to what is inside; the walker (``mime.py``) turns
the members into documents with the usual limits.
"""

from __future__ import annotations

import binascii
import logging
import re
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


class UnwrapError(ValueError):
    """The container cannot be read (the message says why)."""


# -- TNEF (MS-OXTNEF) ----------------------------------------------------------------------------


@dataclass
class Tnef:
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    body_text: bytes | None = None
    """The plain-text body (``attBody`` or ``PidTagBody``), in ``charset``."""
    body_html: bytes | None = None
    body_rtf: bytes | None = None
    """The RTF body, decompressed (``PidTagRtfCompressed``)."""
    charset: str | None = None


def read_tnef(data: bytes) -> Tnef:
    """The attachments and body of a TNEF stream.

    :raises UnwrapError: not TNEF, a bad checksum, or a stream the parser cannot read.
    """
    from tnefparse.tnef import TNEF

    _tnef_framing(data)
    try:
        tnef = TNEF(data, do_checksum=True)
    except ValueError as exc:
        raise UnwrapError(str(exc)[:200]) from None
    # tnefparse raises many types on damaged streams; every one of them means "unreadable"
    except Exception as exc:  # noqa: BLE001 - reported as a finding by the caller
        log.info("TNEF not readable: %s: %s", type(exc).__name__, exc)
        raise UnwrapError(f"{type(exc).__name__}: {str(exc)[:160]}") from None
    bad = [o for o in tnef.objects if not o.good_checksum]
    if bad:
        raise UnwrapError(f"{len(bad)} attribute(s) with a wrong checksum")
    out = Tnef(charset=tnef.codepage)
    for i, att in enumerate(tnef.attachments, 1):
        try:
            name = att.long_filename() or att.name
        except (UnicodeDecodeError, AttributeError):
            name = ""
        if isinstance(name, bytes):
            name = name.decode(tnef.codepage or "cp1252", "replace")
        name = str(name).strip("\x00").replace("\\", "/").rsplit("/", 1)[-1].strip()
        out.attachments.append((name or f"attachment-{i}", bytes(att.data or b"")))
    body = tnef.body
    if isinstance(body, str):
        out.body_text, out.charset = body.encode("utf-8"), "utf-8"
    elif body:
        out.body_text = bytes(body)
    html = tnef.htmlbody
    out.body_html = html.encode("utf-8") if isinstance(html, str) else html
    if getattr(tnef, "_rtfbody", None):
        try:
            from compressed_rtf import decompress

            out.body_rtf = decompress(tnef._rtfbody + b"\x00")
        except Exception as exc:  # noqa: BLE001 - a damaged RTF body is a damaged TNEF
            raise UnwrapError(f"RTF body: {type(exc).__name__}: {str(exc)[:120]}") from None
    return out


def _tnef_framing(data: bytes) -> None:
    """Every attribute (level, ID, length, data, checksum) lies wholly inside the stream and
    the stream ends with the last one: the parser would silently skip a truncated tail."""
    import struct

    if len(data) < 6:
        raise UnwrapError("shorter than the TNEF header")
    offset = 6
    count = 0
    while offset < len(data):
        if offset + 9 > len(data):
            raise UnwrapError(f"truncated attribute header at byte {offset}")
        (length,) = struct.unpack_from("<I", data, offset + 5)
        end = offset + 9 + length + 2
        if end > len(data):
            raise UnwrapError(f"attribute at byte {offset} runs past the end ({length} bytes)")
        offset = end
        count += 1
    if count == 0:
        raise UnwrapError("no attributes")


# -- uuencode ------------------------------------------------------------------------------------

_BEGIN = re.compile(rb"^begin(?:-base64)? [0-7]{3,4} (.+?)\r?$", re.M)


@dataclass(frozen=True)
class UuBlock:
    name: str
    data: bytes
    start: int
    end: int
    """Byte range of the block in the text, ``begin`` to ``end`` inclusive."""
    error: str | None = None


def uu_blocks(text: bytes, max_bytes: int) -> list[UuBlock]:
    """The uuencoded files in a text body (``begin 644 name`` … ``end``)."""
    out: list[UuBlock] = []
    pos = 0
    while True:
        m = _BEGIN.search(text, pos)
        if m is None:
            return out
        name = m.group(1).decode("utf-8", "replace").strip().replace("\\", "/")
        name = name.rsplit("/", 1)[-1] or "uuencoded"
        base64_form = m.group(0).startswith(b"begin-base64")
        chunks: list[bytes] = []
        size = 0
        error = None
        i = m.end() + 1
        end = len(text)
        while i < len(text):
            nl = text.find(b"\n", i)
            line_end = len(text) if nl < 0 else nl
            line = text[i:line_end].rstrip(b"\r")
            nxt = line_end + 1
            if line.strip() in (b"end", b"===="):
                end = line_end
                break
            if line and line != b"`":
                try:
                    chunk = (binascii.a2b_base64(line) if base64_form
                             else binascii.a2b_uu(line))
                except binascii.Error as exc:
                    # a2b_uu is strict about some encoders' padding: trust the length byte
                    try:
                        n = (line[0] - 32) & 63
                        chunk = binascii.a2b_uu(line[: 1 + (n + 2) // 3 * 4])
                    except (binascii.Error, IndexError):
                        error = f"line {len(chunks) + 1}: {exc}"
                        chunk = b""
                size += len(chunk)
                if size > max_bytes:
                    error = f"larger than {max_bytes} bytes"
                    chunks = []
                else:
                    chunks.append(chunk)
            i = nxt
        else:
            error = error or "no end line"
        out.append(UuBlock(name, b"".join(chunks), m.start(), end, error))
        pos = max(end, m.end())


# -- CMS with content (.p7m) ---------------------------------------------------------------------


@dataclass(frozen=True)
class CmsContent:
    content: bytes | None
    """The signed content, or None for a detached signature."""
    encrypted: bool = False


def cms_content(data: bytes) -> CmsContent:
    """What a CMS file carries. :raises UnwrapError: not readable CMS."""
    import base64

    from asn1crypto import cms, core

    raw = data
    if raw[:1] != b"\x30":
        m = re.search(rb"-----BEGIN (?:PKCS7|CMS)-----(.+?)-----END (?:PKCS7|CMS)-----", raw, re.S)
        if m is None:
            raise UnwrapError("neither DER nor PEM")
        try:
            raw = base64.b64decode(b"".join(m.group(1).split()))
        except (binascii.Error, ValueError) as exc:
            raise UnwrapError(f"PEM: {exc}") from None
    try:
        info = cms.ContentInfo.load(raw)
        ctype = info["content_type"].native
        if ctype == "enveloped_data":
            return CmsContent(None, encrypted=True)
        if ctype != "signed_data":
            raise UnwrapError(f"content type {ctype} is not signed data")
        econtent = info["content"]["encap_content_info"]["content"]
        if econtent is None or isinstance(econtent, core.Void):
            return CmsContent(None)
        return CmsContent(bytes(econtent.native if not hasattr(econtent, "parsed")
                                else econtent.contents))
    except UnwrapError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise UnwrapError(f"damaged CMS: {type(exc).__name__}: {str(exc)[:120]}") from None


def looks_like_mime(data: bytes) -> bool:
    """Whether a CMS content is a MIME entity (S/MIME) rather than a file."""
    head = data[:4096].lstrip(b"\r\n")
    block = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
    lines = block.splitlines()
    return bool(lines) and all(re.match(rb"^([!-9;-~]+:|[ \t])", ln) for ln in lines) and (
        re.search(rb"(?im)^content-type\s*:", block) is not None)


__all__ = ["CmsContent", "Tnef", "UnwrapError", "UuBlock", "cms_content", "looks_like_mime",
           "read_tnef", "uu_blocks"]
