"""MIME charset labels of Vietnamese text: the legacy encodings they name, and a body decoded
with its declared charset."""

from __future__ import annotations

from gateway.inspect.text import legacy

LEGACY_CHARSETS = {
    "windows-1258": "cp1258", "cp1258": "cp1258", "x-cp1258": "cp1258", "cp-1258": "cp1258",
    "viscii": "viscii", "csviscii": "viscii", "x-viet-viscii": "viscii", "viscii1.1-1": "viscii",
    "tcvn": "tcvn3", "tcvn3": "tcvn3", "tcvn-5712": "tcvn3", "tcvn5712-1": "tcvn3",
    "tcvn5712-3": "tcvn3", "x-viet-tcvn5712": "tcvn3", "tcvn-3": "tcvn3", "abc": "tcvn3",
    "vps": "vps", "x-viet-vps": "vps", "vni": "vni", "x-viet-vni": "vni", "vni-windows": "vni",
    "viqr": "viqr", "x-viet-viqr": "viqr", "csviqr": "viqr",
}
UNICODE_CHARSETS = frozenset({"utf-8", "utf8", "utf-16", "utf-16le", "utf-16be", "utf-32",
                              "utf-32le", "utf-32be", "unicode-1-1-utf-8"})
ASCII_CHARSETS = frozenset({"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us"})


def legacy_charset(charset: str | None) -> str | None:
    """The legacy Vietnamese encoding a MIME charset label names, if any."""
    if not charset:
        return None
    return LEGACY_CHARSETS.get(charset.strip().strip('"').lower())


def decode_declared(data: bytes, charset: str | None) -> tuple[str, bool]:
    """Decode with the declared charset; ``(text, ok)`` where ok is False when the bytes do
    not fit it (then the text is the Windows-1252 view of the bytes)."""
    cs = (charset or "us-ascii").strip().strip('"').lower()
    enc = legacy_charset(cs)
    if enc is not None:
        return legacy.decode_bytes(data, enc), True
    if cs in ASCII_CHARSETS:
        try:
            return data.decode("ascii"), True
        except UnicodeDecodeError:
            return legacy.cp1252_view(data), False
    try:
        return data.decode(cs), True
    except (LookupError, UnicodeError, ValueError):  # unknown or malformed charset name
        return legacy.cp1252_view(data), False
