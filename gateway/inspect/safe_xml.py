"""Hardened XML parsing for every inspector that reads XML from a document.

Attachments are hostile input. The parser here never loads a DTD, never resolves an entity,
never touches the network, refuses any document that declares a ``DOCTYPE`` (a legitimate
OOXML/ODF part never has one), and enforces a size limit before parsing. Depth and text-node
size are bounded by libxml2 itself as long as ``huge_tree`` stays off (256 levels of
nesting, 10 MB per text node); both are kept off on purpose.
"""

from __future__ import annotations

import re

from lxml import etree

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class XmlError(ValueError):
    """The XML is malformed, too large, or uses a forbidden construct. ``str()`` is short."""


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers are not thread-safe and keep error logs.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


_DOCTYPE_MARKERS = (b"<!DOCTYPE", "<!DOCTYPE".encode("utf-16-le"), "<!DOCTYPE".encode("utf-16-be"))


_EXTERNAL_DOCTYPE = re.compile(
    rb"<!DOCTYPE\s+[A-Za-z_:][-A-Za-z0-9._:]*"
    rb"(?:\s+(?:SYSTEM\s+(?:\"[^\"]*\"|'[^']*')"
    rb"|PUBLIC\s+(?:\"[^\"]*\"|'[^']*')\s+(?:\"[^\"]*\"|'[^']*')))?\s*>")
_PROLOG_ITEM = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->)", re.S)


def _strip_external_doctype(data: bytes) -> bytes | None:
    """``data`` without a prolog DOCTYPE that has no internal subset, or None if the
    DOCTYPE is anything else (an internal subset can declare entities: refused).

    Old OpenOffice.org streams (Basic modules, embedded objects) name an external DTD
    that no consumer loads; dropping the declaration gives the same canonical form."""
    pos = 0
    if data.startswith(b"\xef\xbb\xbf"):
        pos = 3
    while True:
        m = _PROLOG_ITEM.match(data, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    while pos < len(data) and data[pos:pos + 1].isspace():
        pos += 1
    m = _EXTERNAL_DOCTYPE.match(data, pos)
    if not m:
        return None
    rest = data[m.end():]
    if any(marker in rest for marker in _DOCTYPE_MARKERS):
        return None
    return data[: m.start()] + b" " * (m.end() - m.start()) + rest


def _mentions_doctype(data: bytes) -> bool:
    """Whether the bytes contain a DOCTYPE marker anywhere (UTF-8 or UTF-16).

    Checked before parsing because libxml2 still opens an external subset named by a
    DOCTYPE (a local file read) even with DTD loading off. Outside a DOCTYPE the marker can
    only occur in a comment or CDATA section; refusing those rare parts is the safe side.
    """
    return any(m in data for m in _DOCTYPE_MARKERS)


def parse_tree(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "XML",
               allow_external_doctype: bool = False) -> etree._ElementTree:
    """Parse ``data`` into a tree, refusing DTDs, entities and oversized input.

    ``allow_external_doctype``: accept (and ignore, never load) a DOCTYPE that only names
    an external DTD, as old OpenOffice.org streams carry; an internal subset is refused.

    :raises XmlError: with a one-line reason naming ``what``.
    """
    if len(data) > max_bytes:
        raise XmlError(f"{what}: {len(data)} bytes, over the limit of {max_bytes}")
    if _mentions_doctype(data):
        stripped = _strip_external_doctype(data) if allow_external_doctype else None
        if stripped is None:
            raise XmlError(f"{what}: a DOCTYPE declaration is not allowed")
        data = stripped
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"{what}: not well-formed XML ({_short(exc)})") from None
    except (ValueError, TypeError) as exc:
        raise XmlError(f"{what}: unreadable XML ({exc})") from None
    tree = root.getroottree()
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise XmlError(f"{what}: a DOCTYPE declaration is not allowed")
    return tree


def parse(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, what: str = "XML",
          allow_external_doctype: bool = False) -> etree._Element:
    """Like :func:`parse_tree` but returns the root element."""
    return parse_tree(data, max_bytes=max_bytes, what=what,
                      allow_external_doctype=allow_external_doctype).getroot()


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


def local(tag: object) -> str:
    """The local name of an element tag (``{ns}name`` → ``name``); '' for comments/PIs."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


__all__ = ["DEFAULT_MAX_BYTES", "XmlError", "local", "parse", "parse_tree"]
