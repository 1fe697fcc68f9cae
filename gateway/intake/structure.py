"""Measure a message's MIME structure before the standard library parses it.

``email``'s parser recurses once per nesting level (multiparts and attached messages) and its
header parser once per nested comment, so a hostile message 1,000 levels deep ends in a
``RecursionError``. :func:`scan` reads the raw bytes line by line without recursion and
reports the deepest nesting, the number of parts and the largest header block, as the
parser will see them (a part ends at the delimiter of its own or of any enclosing multipart).
:func:`parse` hands the message to the standard library only when that is safe, and turns a
``RecursionError`` the scan did not foresee into a reason rather than a traceback.
"""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from email.message import Message

PARSE_MAX_DEPTH = 64
"""Deeper than this the standard library parser is not used at all (it recurses per level);
between the rules' depth limit and this, it parses and the walker stops at the limit."""

_BOUNDARY = re.compile(rb"""boundary\s*=\s*(?:"([^"]*)"|([^\s;"]+))""", re.I)
_CTYPE = re.compile(rb"^content-type\s*:\s*([!#-'*+.0-9A-Z^-~]+)/([!#-'*+.0-9A-Z^-~]+)", re.I)
_FIELD = re.compile(rb"^[!-9;-~]+[ \t]*:")


@dataclass(frozen=True)
class Structure:
    depth: int
    """Deepest nesting of multiparts and attached messages (the top entity is level 0)."""
    parts: int
    """Entities (the message, every part, every attached message)."""
    header_bytes: int
    """The largest header block of any one entity."""


@dataclass
class _Frame:
    boundary: bytes | None
    """None for an attached message (``message/*``)."""
    digest: bool = False


def _content_type(header: list[bytes]) -> tuple[bytes, bytes, bytes | None]:
    """``(maintype, subtype, boundary)`` from an entity's unfolded header lines."""
    for line in header:
        m = _CTYPE.match(line)
        if m:
            b = _BOUNDARY.search(line)
            boundary = (b.group(1) if b.group(1) is not None else b.group(2)) if b else None
            return m.group(1).lower(), m.group(2).lower(), boundary or None
    return b"", b"", None


def _delimiter(line: bytes, stack: list[_Frame]) -> tuple[int, bool] | None:
    """``(index in stack, is_close)`` when ``line`` delimits an open multipart."""
    if not line.startswith(b"--"):
        return None
    body = line.rstrip(b"\r\n").rstrip(b" \t")
    for i in range(len(stack) - 1, -1, -1):
        b = stack[i].boundary
        if b is None:
            continue
        if body == b"--" + b:
            return i, False
        if body == b"--" + b + b"--":
            return i, True
    return None


def scan(data: bytes) -> Structure:
    """Measure ``data`` (a whole message) in one pass, without recursion."""
    stack: list[_Frame] = []
    max_depth = parts = max_header = 0
    in_header = True
    header: list[bytes] = []
    header_size = 0
    default_message = False  # the entity being read is in a multipart/digest
    for line in data.splitlines(keepends=True):
        if in_header:
            is_blank = line in (b"\r\n", b"\n", b"\r")
            if not is_blank and (line[:1] in (b" ", b"\t") and header):
                header[-1] += line.strip(b"\r\n")
                header_size += len(line)
                continue
            if not is_blank and _FIELD.match(line):
                header.append(line.rstrip(b"\r\n"))
                header_size += len(line)
                continue
            # end of this entity's header: decide what its body is
            parts += 1
            max_header = max(max_header, header_size)
            maintype, subtype, boundary = _content_type(header)
            if not maintype and default_message:
                maintype, subtype = b"message", b"rfc822"
            header, header_size, in_header = [], 0, False
            if maintype == b"multipart" and boundary:
                stack.append(_Frame(boundary, digest=subtype == b"digest"))
            elif maintype == b"message" and subtype not in (b"delivery-status",
                                                             b"external-body"):
                stack.append(_Frame(None))
                in_header, default_message = True, False
            max_depth = max(max_depth, len(stack))
            if in_header or is_blank:
                continue
        found = _delimiter(line, stack)
        if found is None:
            continue
        index, close = found
        default_message = stack[index].digest
        del stack[index + (1 if not close else 0):]
        if not close:
            in_header = True
    if in_header and (header or parts == 0):
        parts += 1
        max_header = max(max_header, header_size)
    return Structure(max_depth, parts, max_header)


def parse(data: bytes) -> tuple[Message | None, str | None]:
    """The message parsed by the standard library, or ``(None, reason)`` when its structure
    is too deep to parse safely (or the parser still ran out of stack)."""
    st = scan(data)
    if st.depth > PARSE_MAX_DEPTH:
        return None, f"nesting {st.depth} levels deep"
    try:
        return email.message_from_bytes(data, policy=email.policy.default), None
    except RecursionError:
        return None, "nesting too deep for the parser"


def parse_headers(data: bytes) -> Message | None:
    """Only the top header block (for the sender checks when the body cannot be parsed)."""
    end = len(data)
    for sep in (b"\r\n\r\n", b"\n\n"):
        i = data.find(sep)
        if i >= 0:
            end = min(end, i + len(sep))
    try:
        return email.message_from_bytes(data[:end], policy=email.policy.default)
    except RecursionError:
        return None


__all__ = ["PARSE_MAX_DEPTH", "Structure", "parse", "parse_headers", "scan"]
