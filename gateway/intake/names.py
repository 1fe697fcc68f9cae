"""File names and header values as people wrote them: RFC 2047 and RFC 2231 decoded, in NFC,
never raising on what the email package cannot parse."""

from __future__ import annotations

import email.header
import email.utils
import re
import unicodedata
from email.message import Message


def to_nfc(text: str) -> str:
    """``text`` in NFC, the form every name and header value is shown and compared in."""
    return unicodedata.normalize("NFC", text)


_PLAIN_MESSAGE_ID = re.compile(r"<[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*"
                               r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*>")
"""A Message-ID of letters, digits and dots only, as nearly every mailer writes it: the
email package's parse (about 30 us, for a value new in every message) gives it back as
written."""


def header_value(msg: Message, name: str, raw: str) -> str:
    """A header's value decoded (RFC 2047) in NFC; a header the email package cannot parse
    is decoded leniently, never raising."""
    if _PLAIN_MESSAGE_ID.fullmatch(raw) and name.lower() == "message-id":
        return raw
    try:
        return to_nfc(str(msg.policy.header_fetch_parse(name, raw)))
    except Exception:  # noqa: BLE001 - the email package raises many types; decoded below
        pass
    text = str(raw)
    try:
        return to_nfc(str(email.header.make_header(email.header.decode_header(text))))
    except Exception:  # noqa: BLE001 - the raw text is the value then
        return to_nfc(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def _may_be_named(part: Message) -> bool:
    """False when no header can give ``part`` a name: no Content-Disposition and no
    parameter called name (or name*, name*0…) in Content-Type. Every read of a parameter
    parses the header's parameters again."""
    return "content-disposition" in part or "name" in str(part.get("content-type", "")).lower()


def part_filename(part: Message) -> str | None:
    """The file name from Content-Disposition or Content-Type, decoded (RFC 2231 and the
    common RFC 2047-in-quotes form), in NFC."""
    try:
        if not _may_be_named(part):
            return None
        name = part.get_filename() or part.get_param("name", header="content-type")
    except Exception:  # noqa: BLE001 - unnamed then; the part is still judged by its content
        return None
    if isinstance(name, tuple):  # an undecoded RFC 2231 triple
        name = email.utils.collapse_rfc2231_value(name)
    if not name:
        return None
    name = str(name)
    if "=?" in name:
        try:
            name = str(email.header.make_header(email.header.decode_header(name)))
        except Exception:  # noqa: BLE001 - the name as written then
            pass
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return to_nfc(name) or None


__all__ = ["header_value", "part_filename"]
