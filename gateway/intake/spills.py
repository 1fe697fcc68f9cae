"""Spilled bodies read back: :class:`Spills` reads a body that :func:`stream.split` left in the
message file and decodes its transfer encoding (base64, quoted-printable) chunk by chunk,
straight into memory when the decoded body cannot exceed ``MAP_BYTES`` (it would be read back
into memory anyway), otherwise into a private temp file (mapped, or read back as the part's
one copy in memory for a text body), with SHA-256 computed on the way (not for a text body,
whose digest nobody reports); an encoding the chunked decoder cannot reproduce exactly (a
damaged base64 body, uuencode) is decoded by the standard library from the raw body, as before.
Base64 is decoded by ``pybase64`` (SIMD) where it is certain to give what the standard
library's strict decoder gives (``_quanta``, ``_whole_lines``).
"""

from __future__ import annotations

import binascii
import hashlib
import io
import tempfile
from collections.abc import Iterator
from email.message import Message
from typing import IO, Any

import pybase64

from gateway.intake.stream import CHUNK, Spill, Split
from gateway.model.partdata import Data, PartFile

MAP_BYTES = 4 << 20
"""A document body decoded to more than this stays in its temp file, mapped; a smaller one is
read back into memory, where the libraries' many small reads and seeks are faster (1–5 % of
the CPU of the mix of ``bench/``: measured with every spilled body mapped)."""


class Spills:
    """The spilled bodies of one message, decoded on demand; :meth:`close` removes them."""

    def __init__(self, got: Split, spill_dir: str | None = None) -> None:
        self.spill_dir = spill_dir
        self.source = got.source
        self.by_token = got.spills
        self.digests: dict[int, tuple[Data, str]] = {}
        """id(decoded bytes) → (the bytes, their SHA-256): computed while decoding."""
        self.files: list[PartFile] = []
        """The mapped bodies decoded so far: they outlive this object (closed with the
        parsed message)."""

    def close(self) -> None:
        """Nothing more is read from the message file (the caller closes it)."""
        self.source = None

    def find(self, part: Message) -> Spill | None:
        if not self.by_token or part.is_multipart():
            return None
        payload = getattr(part, "_payload", None)  # as parsed, without decoding it
        if isinstance(payload, str) and payload.startswith("HopleSpill."):
            return self.by_token.get(payload.rstrip("\r\n"))
        return None

    def raw_chunks(self, spill: Spill, tail: bytes) -> Iterator[bytes]:
        if self.source is None:
            raise OSError("the message file is no longer open")
        pos, left = spill.offset, spill.size
        while left > 0:
            self.source.seek(pos)
            chunk = self.source.read(min(CHUNK, left))
            if not chunk:
                raise OSError("the message file is shorter than when it was read")
            pos += len(chunk)
            left -= len(chunk)
            yield chunk
        if tail:
            yield tail

    def decoded(self, part: Message, spill: Spill, digest: bool = True) -> Data:
        """``part.get_payload(decode=True)`` of the original body, streamed; with ``digest``,
        its SHA-256 is computed on the way (kept in :attr:`digests`), and a body larger than
        ``MAP_BYTES`` is its temp file, mapped (:class:`PartFile`, kept in :attr:`files`
        for the caller to close): one copy, on disk, read in pieces. A text body is
        read without either (``bytes``): it is a document only when it turns out not to be
        text, and the report then computes the digest of those very bytes
        (``pipeline._sha256``); the text checks read the whole of it."""
        payload = getattr(part, "_payload", "")
        tail = payload[len(spill.token):].encode("ascii")
        cte = str(part.get("content-transfer-encoding", "")).lower()
        h: Any = hashlib.sha256() if digest else _NoDigest()
        data: Data
        out: IO[bytes] = io.BytesIO() if decoded_at_most(spill.size + len(tail), cte) \
            <= MAP_BYTES else tempfile.TemporaryFile(dir=self.spill_dir, prefix="part-")
        try:
            ok = True
            if cte == "base64":
                ok = _b64_stream(self.raw_chunks(spill, tail), out, h)
            elif cte == "quoted-printable":
                _qp_stream(self.raw_chunks(spill, tail), out, h)
            elif cte in ("x-uuencode", "uuencode", "uue", "x-uue"):
                ok = False
            else:
                for chunk in self.raw_chunks(spill, tail):
                    h.update(chunk)
                    out.write(chunk)
            if not ok:  # exactly as the standard library decodes it, from the raw body
                raw = b"".join(self.raw_chunks(spill, tail))
                part.set_payload(raw.decode("ascii", "surrogateescape"))
                try:
                        got = part.get_payload(decode=True)
                finally:
                    part.set_payload(payload)
                del raw
                assert isinstance(got, bytes)
                if digest:
                    self.digests[id(got)] = (got, hashlib.sha256(got).hexdigest())
                return got
            if isinstance(out, io.BytesIO):
                data = out.getvalue()
            elif digest and out.tell() > MAP_BYTES:  # a large document: its file, mapped
                out.flush()
                data = PartFile(out)
                self.files.append(data)
            else:
                out.seek(0)
                data = out.read()
        finally:
            if not self.files or self.files[-1].file is not out:
                out.close()
        if digest:
            self.digests[id(data)] = (data, h.hexdigest())
        return data


def decoded_at_most(size: int, cte: str) -> int:
    """The most bytes a body of ``size`` bytes in transfer encoding ``cte`` decodes to:
    decoding never makes a body larger, and base64 gives at most 3 bytes for every 4.

    A body that fits in ``MAP_BYTES`` once decoded is decoded straight into memory: through
    a temp file it would be written to disk only to be read back whole."""
    return size * 3 // 4 if cte == "base64" else size


class _NoDigest:
    """Stands for a hash object where no digest is wanted."""

    def update(self, data: bytes) -> None:
        pass


def _b64_stream(chunks: Iterator[bytes], out: IO[bytes], h: Any) -> bool:
    """Decode as ``email._encoded_words.decode_b`` does when its strict first attempt works
    (the common, undamaged case); False whenever that attempt might not (the caller then
    lets the standard library decode the raw body)."""
    buf = b""
    for raw in chunks:
        if not buf:  # whole lines of letters decoded at once, without removing the breaks
            lines, raw = _whole_lines(raw)
            h.update(lines)
            out.write(lines)
        buf += raw.translate(None, b"\r\n")  # the line breaks ``splitlines`` would remove
        cut = (len(buf) - 4) // 4 * 4  # at least 4 characters stay for the end
        if cut > 0:
            head, buf = buf[:cut], buf[cut:]
            piece = _quanta(head)
            if piece is None:
                return False
            h.update(piece)
            out.write(piece)
    pad = len(buf) % 4
    if pad:
        buf += b"==="[: 4 - pad]
    try:
        piece = binascii.a2b_base64(buf, strict_mode=True)
    except binascii.Error:
        return False
    h.update(piece)
    out.write(piece)
    return True


def _quanta(head: bytes) -> bytes | None:
    """Whole base64 quanta decoded as ``binascii.a2b_base64(head, strict_mode=True)`` does, or
    None where that raises or where ``head`` holds padding (``=``) or is not whole quanta.
    Without padding, ``pybase64``'s validating decoder (SIMD: about 9 µs for a 150 KB body
    against 330 µs) accepts and rejects exactly what the strict decoder does: only the 64
    letters of the alphabet, in groups of four."""
    if len(head) % 4 or b"=" in head:
        return None
    try:
        return pybase64.b64decode(head, validate=True)
    except binascii.Error:
        return None


def _whole_lines(data: bytes) -> tuple[bytes, bytes]:
    """The lines of ``data`` of its first line's width, before its first ``=``, decoded as
    ``_quanta`` decodes them once their CR and LF are removed, and what is left of ``data``;
    ``(b"", data)`` when that is not certain. Each of those lines must end where the first
    one does, with the same CR LF or LF (checked with one extended slice per byte, not a
    count of the whole body); ``pybase64``'s lenient decoder discards every character outside
    the alphabet, so when it returns three bytes for every four characters that are not
    those line ends, none was discarded (a stray CR or LF inside a line included), all were
    letters, and the result is the strict one. About 45 µs for a 150 KB body, against 85 µs
    to remove its line breaks first and 90 µs to count them."""
    width = data.find(b"\n") + 1
    eol = b"\r\n" if data[width - 2: width] == b"\r\n" else b"\n"
    if width <= len(eol):  # no line end, or an empty first line
        return b"", data
    eq = data.find(b"=")
    lines = (len(data) if eq < 0 else eq) // width  # whole lines before the padding
    end = lines * width
    if not lines or any(data[width - len(eol) + i: end: width] != eol[i: i + 1] * lines
                        for i in range(len(eol))):
        return b"", data
    letters = end - lines * len(eol)
    if letters % 4:
        return b"", data
    try:
        piece = pybase64.b64decode(memoryview(data)[:end])
    except binascii.Error:
        return b"", data
    if len(piece) != letters // 4 * 3:
        return b"", data
    return piece, data[end:]


def _qp_stream(chunks: Iterator[bytes], out: IO[bytes], h: Any) -> None:
    """``quopri.decodestring`` (``binascii.a2b_qp``) in pieces cut after a line feed."""
    carry = b""
    for raw in chunks:
        data = carry + raw
        cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        if cut:
            piece = binascii.a2b_qp(data[:cut])
            h.update(piece)
            out.write(piece)
    if carry:
        piece = binascii.a2b_qp(carry)
        h.update(piece)
        out.write(piece)


__all__ = ["Spills"]
