"""A minimal OLE2 compound-file writer for tests (legacy .doc/.xls/.ppt layouts).

Version 3 files, 512-byte sectors, no mini stream: every stream is padded to 4096 bytes so
it lives in regular sectors. Enough to give the gateway realistic storage/stream trees
(``_signatures``, ``_xmlsignatures``, VBA ``\\x05DigitalSignature``); not a general writer.
"""

from __future__ import annotations

import struct

SECTOR = 512
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
MIN_STREAM = 4096


class _Node:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        self.name, self.kind, self.data = name, kind, data
        self.children: list[_Node] = []
        self.sid = 0
        self.start = ENDOFCHAIN
        self.size = 0


def build(streams: dict[str, bytes]) -> bytes:
    """``{"WordDocument": b"...", "_xmlsignatures/sig1": b"..."}`` → compound file bytes
    (storages are created from the ``/``-separated paths)."""
    root = _Node("Root Entry", 5)
    for path, data in streams.items():
        node = root
        parts = path.split("/")
        for storage in parts[:-1]:
            found = next((c for c in node.children if c.name == storage and c.kind == 1), None)
            if found is None:
                found = _Node(storage, 1)
                node.children.append(found)
            node = found
        node.children.append(_Node(parts[-1], 2, data))

    order: list[_Node] = []

    def walk(n: _Node) -> None:
        n.sid = len(order)
        order.append(n)
        for c in n.children:
            walk(c)

    walk(root)
    fat: list[int] = []
    body = bytearray()

    def chain(data: bytes) -> int:
        count = max(1, -(-len(data) // SECTOR))
        start = len(fat)
        for i in range(count):
            fat.append(start + i + 1 if i < count - 1 else ENDOFCHAIN)
        body.extend(data.ljust(count * SECTOR, b"\x00"))
        return start

    for n in order:
        if n.kind == 2:
            data = n.data.ljust(MIN_STREAM, b"\x00")
            n.size = len(data)
            n.start = chain(data)
    dir_bytes = b"".join(_entry(n) for n in order)
    dir_bytes = dir_bytes.ljust(-(-len(dir_bytes) // SECTOR) * SECTOR, b"\x00")
    dir_start = chain(dir_bytes)
    # FAT sectors: enough to describe every sector including themselves.
    n_fat = 1
    while (len(fat) + n_fat) > n_fat * (SECTOR // 4):
        n_fat += 1
    fat_start = len(fat)
    fat.extend([FATSECT] * n_fat)
    fat.extend([FREESECT] * (n_fat * (SECTOR // 4) - len(fat)))
    body.extend(struct.pack(f"<{len(fat)}I", *fat))
    difat = list(range(fat_start, fat_start + n_fat)) + [FREESECT] * (109 - n_fat)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", b"\x00" * 16, 0x3E, 3, 0xFFFE, 9, 6, b"\x00" * 6,
        0, n_fat, dir_start, 0, MIN_STREAM, ENDOFCHAIN, 0, ENDOFCHAIN, 0,
    ) + struct.pack("<109I", *difat)
    return header.ljust(SECTOR, b"\x00") + bytes(body)


def _entry(n: _Node) -> bytes:
    name = n.name.encode("utf-16-le") + b"\x00\x00"
    # Siblings form a right-leaning chain (a valid, if unbalanced, tree).
    return struct.pack(
        "<64sHBBIII16sIQQIQ",
        name, len(name), n.kind, 1, NOSTREAM, _right(n), _child(n), b"\x00" * 16, 0, 0, 0,
        n.start if n.kind == 2 else (ENDOFCHAIN if n.kind == 5 else 0), n.size,
    )



def _child(n: _Node) -> int:
    if not n.children:
        return NOSTREAM
    for i, c in enumerate(n.children):
        c._next = n.children[i + 1].sid if i + 1 < len(n.children) else NOSTREAM  # type: ignore[attr-defined]
    return n.children[0].sid


def _right(n: _Node) -> int:
    return getattr(n, "_next", NOSTREAM)


__all__ = ["build"]
