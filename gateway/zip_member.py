"""Inflating one ZIP member without trusting its header: the one capped read under every ZIP
reader (the MIME walk in ``intake/mime.py``, :class:`gateway.inspect.safe_zip.SafeZip` and
the text extractor's packages).

A member's declared size is whatever the sender wrote, so the read stops as soon as more
than ``cap`` bytes have come out, and every way :mod:`zipfile` and its decompressors fail
on damaged or hostile data (bad CRC, truncated stream, unknown method, zlib, bz2 and LZMA
errors) becomes one exception, :class:`MemberUnreadable`, so a caller can turn it into a
finding without a broad ``except``.

Imports nothing of the project: both ``intake`` and ``inspect`` use it.
"""

from __future__ import annotations

import io
import lzma
import struct
import zipfile
import zlib
from collections.abc import Iterator

CHUNK = 1 << 20

_DAMAGE: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
    NotImplementedError, RuntimeError, zlib.error, lzma.LZMAError, struct.error,
)


class MemberUnreadable(ValueError):
    """The member cannot be inflated: damaged, encrypted, an unknown method, or over the cap
    (:attr:`over_cap`). ``str()`` is the reason, without the member's name."""

    def __init__(self, reason: str, *, over_cap: bool = False) -> None:
        super().__init__(reason)
        self.over_cap = over_cap


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Inflate ``info`` (CRC checked by :mod:`zipfile`), never holding more than ``cap`` + one
    chunk of bytes.

    :raises MemberUnreadable: the member inflates past ``cap`` bytes or cannot be read.
    """
    buf = io.BytesIO()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    break
                buf.write(chunk)
                if buf.tell() > cap:
                    raise MemberUnreadable(f"inflates past {cap} bytes", over_cap=True)
    except MemberUnreadable:
        raise
    except _DAMAGE as exc:
        raise MemberUnreadable(str(exc) or type(exc).__name__) from None
    return buf.getvalue()


def iter_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> Iterator[bytes]:
    """The inflated chunks of ``info``, for a caller that hashes them as they come instead
    of holding the member (the same cap, CRC check and errors as :func:`read_member`).

    :raises MemberUnreadable: the member inflates past ``cap`` bytes or cannot be read.
    """
    total = 0
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(CHUNK)
                if not chunk:
                    return
                total += len(chunk)
                if total > cap:
                    raise MemberUnreadable(f"inflates past {cap} bytes", over_cap=True)
                yield chunk
    except MemberUnreadable:
        raise
    except _DAMAGE as exc:
        raise MemberUnreadable(str(exc) or type(exc).__name__) from None


__all__ = ["MemberUnreadable", "iter_member", "read_member"]
