"""RAR 5 headers, for what libarchive 3.6 does not report: whether the headers or a file's
data are encrypted (it would hand out the ciphertext as the file's content), and whether the
archive is one volume of a split archive. Layout from the RAR 5 technote: each header is a
CRC32, a vint size, then type, flags, optional extra-area and data-area sizes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass


def _vint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    for i in range(10):
        if pos + i >= len(data):
            raise IndexError("vint past the end")
        byte = data[pos + i]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos + i + 1
        shift += 7
    raise IndexError("vint too long")


@dataclass(frozen=True)
class Rar5Headers:
    headers_encrypted: bool = False
    encrypted: frozenset[bytes] = frozenset()
    """Raw names of the files whose data is encrypted."""
    volume: bool = False
    """One part of a multi-volume archive."""


def rar5_headers(data: bytes) -> Rar5Headers:
    """Walk RAR 5 headers for what libarchive 3.6 does not report: encryption (of the
    headers or of a file's data) and volumes. Stops quietly at damage, which libarchive then
    reports."""
    names: set[bytes] = set()
    volume = False
    pos = 8
    try:
        while pos + 5 < len(data):
            size, body = _vint(data, pos + 4)
            end = body + size
            if end > len(data) or zlib.crc32(data[pos + 4:end]) != int.from_bytes(
                    data[pos:pos + 4], "little"):
                break  # damaged: libarchive says so
            htype, p = _vint(data, body)
            if htype == 4:  # archive encryption header: everything after it is ciphertext
                return Rar5Headers(True, frozenset(names), volume)
            flags, p = _vint(data, p)
            extra_size = data_size = 0
            if flags & 0x1:
                extra_size, p = _vint(data, p)
            if flags & 0x2:
                data_size, p = _vint(data, p)
            if htype == 1:
                volume = bool(_vint(data, p)[0] & 0x1)
            elif htype == 2:
                file_flags, p = _vint(data, p)
                p = _vint(data, _vint(data, p)[1])[1]  # unpacked size, attributes
                p += 4 * bool(file_flags & 0x2) + 4 * bool(file_flags & 0x4)
                p = _vint(data, _vint(data, p)[1])[1]  # compression info, host OS
                name_len, p = _vint(data, p)
                name = data[p:p + name_len]
                extra, q = data[end - extra_size:end], 0
                while q < len(extra):
                    rsize, r = _vint(extra, q)
                    if _vint(extra, r)[0] == 0x01:  # file encryption record
                        names.add(name)
                    q = r + rsize
            if htype == 5 or size == 0:
                break
            pos = end + data_size
    except IndexError:
        pass
    return Rar5Headers(False, frozenset(names), volume)
