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
import threading
from collections import OrderedDict
from dataclasses import dataclass
from email.message import Message
from typing import Any

PARSE_MAX_DEPTH = 64
"""Deeper than this the standard library parser is not used at all (it recurses per level);
between the rules' depth limit and this, it parses and the walker stops at the limit."""


class _CachedHeaders:
    """The default policy's header factory, remembering the header objects it made lately:
    the parser's policy makes a new object (a full RFC 5322 parse) each time a header is
    read, and a part's ``Content-Type`` alone is read five or six times during a walk. The
    objects are immutable. A header object keeps its parse tree, up to about 1.3 KB per
    character of a hostile value, so what is remembered is bounded by the characters of the
    values (``BUDGET``: about 3 MB at worst), not by a count of entries."""

    BUDGET = 2048
    LONGEST = 512
    """Longer values are parsed each time they are read, never remembered."""

    def __init__(self, factory: Any) -> None:
        self._factory = factory
        self._made: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self._types: dict[Any, Any] = {}
        """Registry class → the header class made of it (see ``_make``)."""

    def __call__(self, name: str, value: str) -> Any:
        key = (name, value)
        with self._lock:
            made = self._made.get(key)
            if made is not None:
                self._made.move_to_end(key)
                return made
        made = self._make(name, value)
        if len(value) <= self.LONGEST:
            with self._lock:
                if key not in self._made:
                    self._made[key] = made
                    self._chars += len(name) + len(value)
                    while self._chars > self.BUDGET:
                        (n, v), _ = self._made.popitem(last=False)
                        self._chars -= len(n) + len(v)
        return made

    def __getitem__(self, name: str) -> Any:
        return self._type(name)

    def _type(self, name: str) -> Any:
        """The header class for ``name``: the registry's ``factory[name]`` builds a new class
        (``type(...)``) on every call, which costs more than parsing most values and leaves
        a class for the garbage collector each time; one class per registry class is made
        here, once (the same bases, so the same parsing)."""
        factory = self._factory
        registry = getattr(factory, "registry", None)
        if not isinstance(registry, dict):  # not a HeaderRegistry: its own classes
            return factory[name]
        chosen = registry.get(name.lower(), factory.default_class)
        made = self._types.get(chosen)
        if made is None:
            made = self._types[chosen] = factory[name]
        return made

    def _make(self, name: str, value: str) -> Any:
        return self._type(name)(name, value)


POLICY = email.policy.default.clone(
    header_factory=_CachedHeaders(email.policy.default.header_factory))
"""``email.policy.default`` with header objects remembered (the same values, parsed once)."""

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


class Scanner:
    """The measurement of :func:`scan`, fed one line at a time (keeping its line ending), so
    a message read from a file is measured without holding it. ``in_header`` tells whether
    the next line may belong to a header block (in a body only delimiters count)."""

    def __init__(self) -> None:
        self.stack: list[_Frame] = []
        self.max_depth = self.parts = self.max_header = 0
        self.in_header = True
        self.header: list[bytes] = []
        self.header_size = 0
        self.default_message = False  # the entity being read is in a multipart/digest

    def feed(self, line: bytes) -> None:
        if self.in_header:
            is_blank = line in (b"\r\n", b"\n", b"\r")
            if not is_blank and (line[:1] in (b" ", b"\t") and self.header):
                self.header[-1] += line.strip(b"\r\n")
                self.header_size += len(line)
                return
            if not is_blank and _FIELD.match(line):
                self.header.append(line.rstrip(b"\r\n"))
                self.header_size += len(line)
                return
            # end of this entity's header: decide what its body is
            self.parts += 1
            self.max_header = max(self.max_header, self.header_size)
            maintype, subtype, boundary = _content_type(self.header)
            if not maintype and self.default_message:
                maintype, subtype = b"message", b"rfc822"
            self.header, self.header_size, self.in_header = [], 0, False
            if maintype == b"multipart" and boundary:
                self.stack.append(_Frame(boundary, digest=subtype == b"digest"))
            elif maintype == b"message" and subtype not in (b"delivery-status",
                                                             b"external-body"):
                self.stack.append(_Frame(None))
                self.in_header, self.default_message = True, False
            self.max_depth = max(self.max_depth, len(self.stack))
            if self.in_header or is_blank:
                return
        found = _delimiter(line, self.stack)
        if found is None:
            return
        index, close = found
        self.default_message = self.stack[index].digest
        del self.stack[index + (1 if not close else 0):]
        if not close:
            self.in_header = True

    def result(self) -> Structure:
        parts, max_header = self.parts, self.max_header
        if self.in_header and (self.header or parts == 0):
            parts += 1
            max_header = max(max_header, self.header_size)
        return Structure(self.max_depth, parts, max_header)


def scan(data: bytes) -> Structure:
    """Measure ``data`` (a whole message) in one pass, without recursion."""
    scanner = Scanner()
    for line in data.splitlines(keepends=True):
        if scanner.in_header or line.startswith(b"--"):  # in a body only delimiters count
            scanner.feed(line)
    return scanner.result()


def too_deep(st: Structure) -> str | None:
    """Why a message of structure ``st`` is not given to the parser at all, if it is not."""
    return f"nesting {st.depth} levels deep" if st.depth > PARSE_MAX_DEPTH else None


def parse(data: bytes, st: Structure | None = None) -> tuple[Message | None, str | None]:
    """The message parsed by the standard library, or ``(None, reason)`` when its structure
    (``st``, measured here when not given) is too deep to parse safely (or the parser still
    ran out of stack)."""
    st = st or scan(data)
    deep = too_deep(st)
    if deep is not None:
        return None, deep
    try:
        return email.message_from_bytes(data, policy=POLICY), None
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
        return email.message_from_bytes(data[:end], policy=POLICY)
    except RecursionError:
        return None


__all__ = ["POLICY", "PARSE_MAX_DEPTH", "Scanner", "Structure", "parse", "parse_headers",
           "scan", "too_deep"]
