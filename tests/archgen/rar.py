"""Stored-file (method 0) RAR archives written from the formats' technotes.

There is no free RAR writer, so the tests write the few header types they need: the RAR 5
main, file, encryption and end-of-archive headers (vint fields, CRC32 of each header), and the
RAR 4 marker, main, file and end blocks (16-bit header CRC). Only storing is implemented; an
"encrypted" member or header carries the right flags and records around random bytes, which is
all a reader that cannot decrypt ever sees.
"""

from __future__ import annotations

import os
import re
import struct
import unicodedata
import zlib
from dataclasses import dataclass

RAR5_SIGNATURE = b"Rar!\x1a\x07\x01\x00"
RAR4_SIGNATURE = b"Rar!\x1a\x07\x00"


def vint(value: int) -> bytes:
    """RAR 5 variable-length integer: 7 bits per byte, lowest first, high bit = more."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _rar5_block(htype: int, flags: int, fields: bytes, extra: bytes = b"",
                data: bytes | None = None) -> bytes:
    """One RAR 5 header: CRC32, size, type, flags, [extra size], [data size], fields, extra."""
    if extra:
        flags |= 0x0001
    if data is not None:
        flags |= 0x0002
    body = vint(htype) + vint(flags)
    if extra:
        body += vint(len(extra))
    if data is not None:
        body += vint(len(data))
    body += fields + extra
    sized = vint(len(body)) + body
    return struct.pack("<I", zlib.crc32(sized)) + sized + (data or b"")


@dataclass(frozen=True)
class Member:
    name: str
    data: bytes
    encrypted: bool = False
    directory: bool = False


def rar5(members: list[Member], *, encrypted_headers: bool = False,
         corrupt_crc: bool = False, volume: bool = False, compression: int = 0) -> bytes:
    """A RAR 5 archive of stored members; ``encrypted_headers`` writes the archive
    encryption header (type 4) followed by random bytes, as ``rar -hp`` does. ``compression``
    is the raw compression-information field (0: version 0, stored), to declare others."""
    out = bytearray(RAR5_SIGNATURE)
    if encrypted_headers:
        fields = vint(0) + vint(0x0001) + bytes([15]) + os.urandom(16) + os.urandom(12)
        out += _rar5_block(4, 0, fields)
        out += os.urandom(16) + os.urandom(96)  # IV and AES-encrypted headers
        return bytes(out)
    out += _rar5_block(1, 0, vint(0x0001 if volume else 0))  # main header: archive flags
    for m in members:
        name = m.name.encode("utf-8")
        file_flags = 0x0004  # CRC32 present
        if m.directory:
            file_flags = 0x0001
        extra = b""
        payload = m.data
        if m.encrypted:
            record = vint(0x01) + vint(0) + vint(0x0001) + bytes([15]) + os.urandom(16) \
                + os.urandom(16) + os.urandom(12)
            extra = vint(len(record)) + record
            payload = os.urandom((len(m.data) + 15) // 16 * 16)
        fields = vint(file_flags) + vint(len(m.data)) + vint(0x20)  # archive attribute
        if not m.directory:
            crc = zlib.crc32(m.data)
            if corrupt_crc:
                crc ^= 0xFFFFFFFF
            fields += struct.pack("<I", crc)
        fields += vint(compression) + vint(0) + vint(len(name)) + name  # Windows, name
        out += _rar5_block(2, 0, fields, extra, None if m.directory else payload)
    out += _rar5_block(5, 0, vint(0x0001 if volume else 0))  # 1: not the last volume
    return bytes(out)


def _rar4_block(htype: int, flags: int, fields: bytes, data: bytes = b"") -> bytes:
    size = 7 + len(fields)
    head = struct.pack("<BHH", htype, flags, size) + fields
    crc = zlib.crc32(head) & 0xFFFF
    return struct.pack("<H", crc) + head + data


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def cp1258_bytes(name: str) -> bytes:
    """A Vietnamese name as Windows-1258 writes it: letters with circumflex, breve or horn
    precomposed, tone marks as combining characters after them."""
    out = []
    for cluster in re.findall(r".[\u0300-\u036f]*", unicodedata.normalize("NFD", name), re.S):
        tones = "".join(c for c in cluster[1:] if c in _TONES)
        rest = "".join(c for c in cluster if c not in _TONES)
        out.append(unicodedata.normalize("NFC", rest) + tones)
    return "".join(out).encode("cp1258")


def _rar4_unicode(name: str) -> bytes:
    """RAR 3.x "encoded" Unicode name: high byte 0, then every character as a full 16-bit
    pair (operation 2 in each 2-bit slot of the flag bytes)."""
    units = name.encode("utf-16-le")
    chars = [units[i:i + 2] for i in range(0, len(units), 2)]
    out = bytearray([0])
    for i in range(0, len(chars), 4):
        group = chars[i:i + 4]
        flags = 0
        for j in range(len(group)):
            flags |= 2 << (6 - 2 * j)
        out.append(flags)
        for ch in group:
            out += ch
    return bytes(out)


def rar4(members: list[Member], *, name_encoding: str = "unicode",
         encrypted_headers: bool = False, volume: bool = False) -> bytes:
    """A RAR 4 (RAR 2.9 format) archive of stored members.

    ``name_encoding`` is ``unicode`` (an ASCII fallback name, a zero byte and the encoded
    Unicode name, as WinRAR 3+ writes), or a code page such as ``cp1258`` / ``cp437`` for the
    names of old WinRAR versions and DOS RAR (no Unicode flag)."""
    out = bytearray(RAR4_SIGNATURE)
    main_flags = (0x0080 if encrypted_headers else 0) | (0x0001 if volume else 0)
    out += _rar4_block(0x73, main_flags, b"\0" * 6)
    if encrypted_headers:
        out += os.urandom(8) + os.urandom(64)  # salt, then encrypted blocks
        return bytes(out)
    for m in members:
        flags = 0x8000  # LONG_BLOCK: ADD_SIZE (packed size) present
        if m.name.isascii():
            name = m.name.encode("ascii")
        elif name_encoding == "cp1258":
            name = cp1258_bytes(m.name)
        elif name_encoding != "unicode":
            name = m.name.encode(name_encoding)
        else:
            flags |= 0x0200
            fallback = m.name.encode("ascii", "replace")
            name = fallback + b"\0" + _rar4_unicode(m.name)
        payload = m.data
        if m.encrypted:
            flags |= 0x0004
            payload = os.urandom((len(m.data) + 15) // 16 * 16)
        fields = struct.pack(
            "<IIBIIBBHI", len(payload), len(m.data), 2, zlib.crc32(m.data), 0x5A210000,
            29, 0x30, len(name), 0x20,
        ) + name
        if m.encrypted:
            fields += os.urandom(8)  # salt
            flags |= 0x0400
        out += _rar4_block(0x74, flags, fields, payload)
    out += _rar4_block(0x7B, 0x4000, b"")
    return bytes(out)
