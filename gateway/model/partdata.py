"""A part's decoded bytes as the inspectors get them: ``bytes``, or for a large part decoded into
a private temp file, a :class:`PartFile`: that file mapped read-only.

A mapping behaves as bytes for what the inspectors do with a part (``len``, slices, ``find``,
``rfind``, regular expressions, ``hashlib``, ``in``, ``==``, ``startswith``) without being
read into memory: a page of it counts in the worker's memory only once something touches it
(a slice of the head or the tail, a match at a known offset). So that nothing touches all of
it:

* libraries that read a file (pyHanko, pdfminer, ``zipfile``, olefile, Pillow, pyHanko's
  detached CMS validation) get :func:`open_stream`: the part's file opened again, read in
  buffered pieces through the page cache (``io.BytesIO`` over a mapping would copy it whole);
* a search or a digest over the whole part goes through :func:`find_all` and :func:`digest`,
  which read the file into one buffer of ``WINDOW`` bytes at a time;
* a library that takes only ``bytes`` gets :func:`to_bytes`, one copy read from the file.

Whoever made a :class:`PartFile` closes it (``gateway.intake.parsed.ParsedMessage.close``);
its file was unlinked when it was created, so nothing is left on disk even if the process
is killed mid-check.
"""

from __future__ import annotations

import hashlib
import io
import mmap
import os
from collections.abc import Iterator
from typing import IO, BinaryIO

WINDOW = 4 << 20
"""How much of a mapped part a search or a digest holds in memory at once."""


class PartFile(mmap.mmap):
    """A read-only mapping of a decoded part's private (unlinked) temp file, which it owns."""

    file: IO[bytes]
    streams: list[BinaryIO]
    """The files :func:`open_stream` opened on it."""

    def __new__(cls, file: IO[bytes]) -> PartFile:
        """Map ``file`` (its whole length, which must not be 0: an empty part is ``b""``)."""
        self = super().__new__(cls, file.fileno(), 0, access=mmap.ACCESS_READ)
        self.file = file
        self.streams = []
        return self

    def __contains__(self, sub: object) -> bool:
        """``sub in part`` as for bytes (a plain mapping compares single byte values)."""
        if isinstance(sub, int):
            sub = bytes([sub])
        if not isinstance(sub, (bytes, bytearray, memoryview)):
            raise TypeError(f"a bytes-like object is required, not {type(sub).__name__!r}")
        return next(find_all(self, bytes(sub)), None) is not None

    def __eq__(self, other: object) -> bool:
        """The same bytes (a plain mapping is equal only to itself)."""
        if other is self:
            return True
        if not isinstance(other, (bytes, bytearray, memoryview, mmap.mmap)):
            return NotImplemented
        with memoryview(self) as mine, memoryview(other) as theirs:
            return mine.nbytes == theirs.nbytes and mine == theirs

    __hash__ = mmap.mmap.__hash__

    def startswith(self, prefix: bytes) -> bool:
        return self[: len(prefix)] == prefix

    def release(self) -> None:
        """Give back the pages of the mapping the process touched (they are read again from
        the file if touched again)."""
        if not self.closed:
            self.madvise(mmap.MADV_DONTNEED)

    def close(self) -> None:
        """Unmap the part and close its file and the streams opened on it. A view still held
        elsewhere (a ``memoryview``) keeps the mapping until it is gone; the files are closed
        all the same."""
        try:
            super().close()
        except BufferError:
            self.release()
        finally:
            for fp in self.streams:
                fp.close()
            self.file.close()


Data = bytes | PartFile
"""A part's decoded bytes."""


def open_stream(data: Data) -> BinaryIO:
    """A binary file over ``data`` for a library that reads a file: a mapped part's file opened
    again (a position of its own, closed with the part), read in pieces; bytes through
    ``io.BytesIO``, which shares them. The file has no name: it is opened through the
    process's own ``/proc/self/fd`` (which ``ProcSubset=pid`` and ``ProtectProc=invisible`` of
    the service leave); a failure is an ``OSError``, so the inspector's error finding."""
    if isinstance(data, PartFile):
        fp = open(f"/proc/self/fd/{data.file.fileno()}", "rb")  # noqa: SIM115 - closed with it
        data.streams.append(fp)
        return fp
    return io.BytesIO(data)


def find_all(data: Data, sub: bytes, start: int = 0) -> Iterator[int]:
    """Every offset of ``sub`` in ``data`` from ``start`` (overlapping ones too), in order; a
    mapped part is searched in one window-sized buffer read from its file again and again
    (its mapping untouched)."""
    if not sub:
        raise ValueError("empty search")
    if not isinstance(data, PartFile):
        at = data.find(sub, start)
        while at >= 0:
            yield at
            at = data.find(sub, at + 1)
        return
    size = len(data)
    window = max(1, min(WINDOW, size - start))
    buf = bytearray(window + len(sub) - 1)  # a match that starts in the window ends in it
    lo = start
    while lo < size:
        got = os.preadv(data.file.fileno(), [buf], lo)
        if got < min(len(buf), size - lo):
            raise OSError(f"a part's file gave {got} bytes at {lo} of its {size}")
        at = buf.find(sub, 0, got)
        while 0 <= at < window:
            yield lo + at
            at = buf.find(sub, at + 1, got)
        lo += window


def digest(data: Data, algo: str = "sha256") -> bytes:
    """The ``hashlib`` digest ``algo`` of ``data``; a mapped part is read from its file a
    window at a time. :raises ValueError: an algorithm ``hashlib`` does not know."""
    h = hashlib.new(algo)
    if not isinstance(data, PartFile):
        h.update(data)
        return h.digest()
    buf, pos = bytearray(min(WINDOW, len(data))), 0
    while pos < len(data):
        got = os.preadv(data.file.fileno(), [buf], pos)
        if not got:
            raise OSError(f"a part's file ended at {pos} of its {len(data)} bytes")
        h.update(buf if got == len(buf) else buf[:got])
        pos += got
    return h.digest()


def sha256(data: Data) -> str:
    """SHA-256 of ``data`` in hex."""
    return digest(data).hex()


def to_bytes(data: Data) -> bytes:
    """``data`` as ``bytes``, for a library that takes nothing else: a mapped part is read from
    its file (the mapping stays untouched: one copy in memory, not two)."""
    if not isinstance(data, PartFile):
        return data
    got = os.pread(data.file.fileno(), len(data), 0)
    if len(got) != len(data):
        raise OSError(f"a part's file gave {len(got)} of its {len(data)} bytes")
    return got


__all__ = ["Data", "PartFile", "digest", "find_all", "open_stream", "sha256", "to_bytes"]
