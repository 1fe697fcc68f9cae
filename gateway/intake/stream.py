"""Read a message from its file with bounded memory: large leaf bodies stay in the file (their
place is noted), the rest (every header, the structure, small bodies) becomes a *skeleton*.

:func:`split` reads the message line by line with the standard library parser's own rules
(its header-line pattern, its boundary pattern, the boundaries of every enclosing multipart
ending a part, each header block interpreted by the parser itself, ``multipart/digest``
defaults), measures the structure on the way (``structure.Scanner``), and replaces each leaf
body larger than ``spill_bytes`` by one token line. The skeleton is then parsed as before;
:func:`verify` checks that the parser placed every token exactly where the split took its
body from, as the whole payload of a part with the same type under the same boundaries. When
anything disagrees the caller reads the whole message as before: the split saves memory, it
never decides what a message contains. Spilled bodies are read back and decoded by
:class:`gateway.intake.spills.Spills`.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from typing import BinaryIO

from gateway.intake.structure import (
    PARSE_MAX_DEPTH,
    POLICY,
    Scanner,
    Structure,
)

log = logging.getLogger(__name__)

SPILL_BYTES = 256 * 1024
""":func:`split`'s default: a leaf body larger than this is left in the message file, to be
decoded from it in chunks (``gateway.intake.spills``); smaller ones are parsed with the
message."""
TOKEN_BYTES = 16 * 1024
"""A leaf body larger than this (or than ``SPILL_BYTES``) is left out of the skeleton when
:class:`gateway.intake.mime.Walker` reads a message: the parser reads a body line by line
and as text (then encodes it back), while :class:`Spills` reads it as bytes, in blocks."""
CHUNK = 1 << 20
"""Bytes read from the message (and decoded) at a time."""

_HEADER_RE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")  # email.feedparser.headerRE
_NL = re.compile(rb"\r\n|\r|\n")


def _eol(data: bytes) -> bytes:
    """The line ending ``data`` ends with (``b""`` when none)."""
    if data.endswith(b"\r\n"):
        return b"\r\n"
    if data.endswith((b"\n", b"\r")):
        return data[-1:]
    return b""


class DashLines:
    """Where the lines that start with ``--`` begin in one block (the only lines that can
    delimit a body): ``bytes.find`` of ``--`` (a byte base64 never contains), then a look at
    the byte before it."""

    def __init__(self, block: bytes) -> None:
        self.block = block
        self.found = -1
        """The last line start found, so a block of many short parts is searched once."""

    def next(self, pos: int) -> int:
        """The start of the first line after ``pos`` that begins with ``--``, or the block's
        end (``pos`` itself is the start of a line that does not)."""
        block = self.block
        if self.found > pos:
            return self.found
        at = pos + 1
        if block.find(b"-", at) < 0:  # one byte: a plain memchr (base64 has no "-" at all)
            self.found = len(block)
            return self.found
        while True:
            at = block.find(b"--", at)
            if at < 0:
                self.found = len(block)
                return self.found
            if block[at - 1] in b"\r\n":
                self.found = at
                return at
            at += 1


@dataclass
class Spill:
    token: str
    path: tuple[int, ...]
    """Child indexes from the top message to the part, as the parser numbers them."""
    content_type: str
    boundaries: tuple[str, ...]
    """The boundaries of the multiparts on the way (outermost first)."""
    offset: int
    size: int
    """Where the raw body is in the message file, without its last line ending (the skeleton
    keeps that after the token, so the parser decides whether it belongs to the body)."""


@dataclass
class _Multi:
    path: tuple[int, ...]
    boundary: str
    digest: bool
    spill: bool
    children: int = 0
    in_parts: bool = True
    """False in the epilogue: the parser no longer looks for this boundary there."""


@dataclass
class Split:
    skeleton: bytes | None
    """None when a header block was larger than the cap (the limits decide without it)."""
    structure: Structure
    spills: dict[str, Spill] = field(default_factory=dict)
    source: BinaryIO | None = None
    """The message file the spilled bodies are read from again (it stays the caller's)."""


def _blocks(fp: BinaryIO) -> Iterator[bytes]:
    """``fp`` read ``CHUNK`` bytes at a time, each block ending at the end of a line (a
    ``\r`` at the end of a block waits for a possible ``\n``), the last one at the end. A
    line is never cut: a body without line ends is held whole (as the parser would)."""
    carry: list[bytes] = []
    while True:
        block = fp.read(CHUNK)
        if not block:
            break
        cut = max(block.rfind(b"\n"), block.rfind(b"\r", 0, len(block) - 1)) + 1
        if cut == 0 and not (carry and carry[-1].endswith(b"\r")):
            carry.append(block)  # no line end yet
            continue
        data = b"".join(carry) + block if carry else block
        if cut == 0:  # the "\r" that ended the carried text
            cut = 1 + len(data) - len(block) if block.startswith(b"\n") else len(data) - len(block)
        else:
            cut += len(data) - len(block)
        carry = [data[cut:]] if cut < len(data) else []
        if cut:
            yield data[:cut]
    if carry:
        yield b"".join(carry)


class _Splitter:
    def __init__(self, spill_bytes: int, header_cap: int, start: int) -> None:
        self.spill_bytes = spill_bytes
        self.header_cap = header_cap
        self.scanner = Scanner()
        self.out: list[bytes] | None = []
        self.spills: dict[str, Spill] = {}
        self.offset = start
        """Where in the message file the block being fed starts."""
        self.line_at = start
        """Where the line being fed starts."""
        self.prefix = secrets.token_hex(12)
        self.multis: list[_Multi] = []
        self.by_boundary: dict[str, list[int]] = {}
        """Boundary without its trailing blanks → indexes in ``multis`` of those open."""
        # the entity being read
        self.state = "header"  # header | leaf | opaque | multi
        self.header: list[bytes] = []
        self.header_size = 0
        self.path: tuple[int, ...] = ()
        self.spill_ok = True
        self.digest_child = False
        self.after_separator: _Multi | None = None
        self.unsafe = False
        """A line the parser may read otherwise than the split: the split is not used."""
        self.leaf_type = ""
        self.body_at = 0
        # a leaf body
        self.body: list[bytes] = []
        self.body_size = 0
        self.spilling: Spill | None = None
        self.pending_eol = b""

    # -- output ------------------------------------------------------------------------

    def _emit(self, data: bytes) -> None:
        if self.out is not None:
            self.out.append(data)

    def _spilled(self, size: int) -> None:
        """The body being spilled goes on for ``size`` more bytes of the message file."""
        assert self.spilling is not None
        self.spilling.size += size

    # -- lines -----------------------------------------------------------------------------

    def feed_block(self, block: bytes) -> None:
        """Feed the lines of ``block``; inside a body (a leaf's, a preamble, an epilogue),
        everything up to the next line that starts with ``--`` at once: no other line can end
        a body or count in the scan, so no Python work is done per line there."""
        pos, n = 0, len(block)
        dashes = DashLines(block)
        while pos < n:
            self.line_at = self.offset + pos
            if (self.state != "header" or self.out is None) and not self.scanner.in_header \
                    and not block.startswith(b"--", pos):
                end = dashes.next(pos)
                self.after_separator = None
                if self.state == "leaf":
                    self._leaf_line(block[pos:end])
                else:
                    self._emit(block[pos:end])
                pos = end
                continue
            m = _NL.search(block, pos)
            end = m.end() if m else n
            self.feed(block[pos:end])
            pos = end
        self.offset += n

    def feed(self, line: bytes) -> None:
        self.scanner.feed(line)
        if self.out is None:
            return  # no skeleton: only the scan counts
        if line.startswith(b"--"):
            hit = self._delimiter(line)
            if hit is not None:
                if self.after_separator is not self.multis[hit[0]]:
                    self.after_separator = None
                    self._end_entity()
                self._delimit(hit, line)
                return
        self.after_separator = None
        if self.state == "header":
            self._header_line(line)
        elif self.state == "leaf":
            self._leaf_line(line)
        else:
            self._emit(line)

    def _delimiter(self, line: bytes) -> tuple[int, bool] | None:
        """Which open multipart ``line`` delimits, and whether it closes it: the parser's
        pattern for a boundary ``b`` is ``--b(--)?[ \t]*`` then the line ending, so only the
        multiparts whose boundary, without its trailing blanks, is the line's text without
        them (or without them and a final ``--``) can match; they are looked up by that key,
        not each open multipart tried with a pattern in turn."""
        content = line[2:].decode("ascii", "surrogateescape").rstrip("\r\n")
        bare = content.rstrip(" \t")
        multis = self.multis
        hits = [(i, False) for i in self.by_boundary.get(bare, ())
                if multis[i].in_parts and content.startswith(multis[i].boundary)]
        if bare.endswith("--"):
            closing = bare[:-2]
            hits += [(i, True) for i in self.by_boundary.get(closing.rstrip(" \t"), ())
                     if multis[i].in_parts and multis[i].boundary == closing]
        hits.sort(reverse=True)
        if len(hits) > 1:  # which one the parser takes depends on its state: do not guess
            self.unsafe = True
        return hits[0] if hits else None

    def _push(self, multi: _Multi) -> None:
        self.by_boundary.setdefault(multi.boundary.rstrip(" \t"), []).append(len(self.multis))
        self.multis.append(multi)

    def _pop_to(self, index: int) -> None:
        """The multiparts inside the one at ``index`` end."""
        for m in self.multis[index + 1:]:
            self.by_boundary[m.boundary.rstrip(" \t")].pop()
        del self.multis[index + 1:]

    def _delimit(self, hit: tuple[int, bool], line: bytes) -> None:
        index, close = hit
        m = self.multis[index]
        self._emit(line)
        if self.after_separator is m:
            return  # a delimiter right after one (even a closing one): the parser skips it
        self._pop_to(index)
        if close:
            m.in_parts = False
            self.state = "opaque"  # the epilogue
            return
        self.path = m.path + (m.children,)
        m.children += 1
        self.spill_ok = m.spill
        self.digest_child = m.digest
        self.header, self.header_size = [], 0
        self.state = "header"
        self.after_separator = m

    def _header_line(self, line: bytes) -> None:
        if _HEADER_RE.match(line.decode("ascii", "surrogateescape")):
            if self.out is None:
                return  # no skeleton: what follows only counts in the scan
            self.header.append(line)
            self.header_size += len(line)
            if self.header_size > self.header_cap:
                self.out = None  # the limits decide without parsing
            self._emit(line)
            return
        blank = _NL.match(line) is not None
        self._body_starts()
        if blank:
            self._emit(line)
        else:
            self.feed_body(line)

    def feed_body(self, line: bytes) -> None:
        """The first line after a header block that the parser did not take as a header."""
        if self.state == "header":  # an attached message: its header starts (and ends) here
            self._header_line(line)
        elif self.state == "leaf":
            self._leaf_line(line)
        else:
            self._emit(line)

    def _body_starts(self) -> None:
        """The header block ended: what the parser will expect next."""
        if self.scanner.max_depth > PARSE_MAX_DEPTH:
            self.out = None  # never given to the parser: the scan alone decides
            self.header, self.header_size, self.state = [], 0, "opaque"
            return
        try:
            msg = BytesParser(policy=POLICY).parsebytes(
                b"".join(self.header), headersonly=True)
            if self.digest_child:
                msg.set_default_type("message/rfc822")
            ctype = msg.get_content_type()
            maintype = msg.get_content_maintype()
            boundary = msg.get_boundary() if maintype == "multipart" else None
        except Exception as exc:  # noqa: BLE001 - not swallowed: the whole message is then
            # parsed as before, where the same header meets the same outcome
            log.debug("header block not split: %s", type(exc).__name__)
            self.unsafe = True
            ctype, maintype, boundary = "application/octet-stream", "application", None
        self.header, self.header_size = [], 0
        if ctype == "message/delivery-status":
            self.state = "opaque"
        elif maintype == "message":
            self.spill_ok = self.spill_ok and ctype in ("message/rfc822", "message/global")
            self.path = self.path + (0,)
            self.digest_child = False
            self.state = "header"
        elif maintype == "multipart":
            if boundary is None:
                self.state = "opaque"
            else:
                self._push(_Multi(self.path, boundary, ctype == "multipart/digest",
                                  self.spill_ok))
                self.state = "opaque"  # the preamble, until the first delimiter
        else:
            self.state = "leaf"
            self.leaf_type = ctype
            self.body, self.body_size, self.spilling, self.pending_eol = [], 0, None, b""

    def _leaf_line(self, line: bytes) -> None:
        if self.out is None:
            return  # no skeleton: nothing to keep
        if self.spilling is not None:
            eol = _eol(line)
            self._spilled(len(self.pending_eol) + len(line) - len(eol))
            self.pending_eol = eol
            return
        if not self.body:
            self.body_at = self.line_at
        self.body.append(line)
        self.body_size += len(line)
        if self.body_size > self.spill_bytes and self.spill_ok:
            self._start_spill()

    def _start_spill(self) -> None:
        token = f"HopleSpill.{self.prefix}.{len(self.spills)}"
        self.spilling = Spill(token, self.path, self.leaf_type,
                              tuple(m.boundary for m in self.multis), self.body_at, 0)
        self.spills[token] = self.spilling
        lines, self.body, self.body_size = self.body, [], 0
        for ln in lines:
            self._leaf_line(ln)

    def _end_entity(self) -> None:
        """A delimiter or the end of the message ends the leaf being read."""
        if self.state == "leaf":
            if self.spilling is not None:
                self._emit(self.spilling.token.encode("ascii") + self.pending_eol)
                self.spilling = None
            else:
                for ln in self.body:
                    self._emit(ln)
            self.body, self.body_size = [], 0
        elif self.state == "header" and self.header:
            self._body_starts()  # a header block cut by a delimiter: its (empty) body
            self._end_entity()
        self.state = "opaque"


def split(fp: BinaryIO, spill_bytes: int | None = None, header_cap: int = 1 << 20) -> Split:
    """Read ``fp`` (seekable) from where it is to its end (see the module's description)."""
    s = _Splitter(SPILL_BYTES if spill_bytes is None else spill_bytes, header_cap, fp.tell())
    for block in _blocks(fp):
        s.feed_block(block)
    s._end_entity()
    skeleton = b"".join(s.out) if s.out is not None and not s.unsafe else None
    return Split(skeleton, s.scanner.result(), s.spills, fp if s.spills else None)


def verify(msg: Message, got: Split) -> str | None:
    """None when the parser read the skeleton as the split did, else what differs."""
    for spill in got.spills.values():
        node = msg
        seen: list[str] = []
        for index in spill.path:
            payload = node.get_payload()
            if not node.is_multipart() or not isinstance(payload, list) \
                    or index >= len(payload):
                return f"{spill.token}: no part at {spill.path}"
            if node.get_content_maintype() == "multipart":
                seen.append(str(node.get_boundary()))
            child = payload[index]
            if not isinstance(child, Message):
                return f"{spill.token}: no part at {spill.path}"
            node = child
        if node.is_multipart() or node.get_content_type() != spill.content_type:
            return f"{spill.token}: the part at {spill.path} is {node.get_content_type()}"
        if tuple(seen) != spill.boundaries:
            return f"{spill.token}: other boundaries"
        payload = node.get_payload()
        if not isinstance(payload, str) or payload.rstrip("\r\n") != spill.token \
                or len(payload) - len(spill.token) > 2:
            return f"{spill.token}: not the whole payload"
    return None


__all__ = ["CHUNK", "SPILL_BYTES", "TOKEN_BYTES", "Spill", "Split", "split", "verify"]
