"""Structural damage real PDF writers produce: wrong cross-reference offsets and a wrong
``startxref`` pointer. The bytes signed by earlier signatures are left alone."""

from __future__ import annotations

import re

_ENTRY = re.compile(rb"(\d{10}) (\d{5}) n")


def swap_last_xref_offsets(data: bytes) -> bytes:
    """Swap the offsets of the first two in-use entries of the LAST xref table (written by
    the last incremental update): each points at the other's object."""
    start = data.rindex(b"\nxref")
    end = data.index(b"trailer", start)
    table = data[start:end]
    entries = [m for m in _ENTRY.finditer(table) if int(m.group(1)) > 0]
    assert len(entries) >= 2, "need two entries in the last table"
    a, b = entries[0], entries[1]
    new = bytearray(table)
    new[a.start(1):a.end(1)] = b.group(1)
    new[b.start(1):b.end(1)] = a.group(1)
    return data[:start] + bytes(new) + data[end:]


def shift_startxref(data: bytes, by: int = 3) -> bytes:
    """Make the last ``startxref`` point ``by`` bytes past the xref keyword (an off-by-n writer
    bug the tolerant reader corrects)."""
    pos = data.rindex(b"startxref")
    m = re.compile(rb"startxref\s+(\d+)").match(data, pos)
    assert m is not None
    value = int(m.group(1)) + by
    return data[:m.start(1)] + str(value).encode() + data[m.end(1):]


def hidden_redefinition(data: bytes, idnum: int, body: bytes) -> bytes:
    """Append a new definition of object ``idnum`` that no cross-reference table lists (a
    viewer rebuilding the table from the last definitions would show it), then an update
    whose table is broken, so that a reader has to rebuild."""
    hidden = b"\n" + str(idnum).encode() + b" 0 obj\n" + body + b"\nendobj\n"
    return data + hidden
