"""Reading damaged but readable PDFs: strict first, then tolerant, then with a reconstructed
cross-reference table.

The modes, tried in order until one reads the whole file without a read error:

1. ``strict``: pyHanko's strict reader (a hybrid-reference file, legitimate but refused by
   the strict signature validator, goes straight to the tolerant reader, without a repair);
2. ``tolerant``: ``strict=False``: off-by-n ``startxref`` pointers, size mismatches, objects
   missing from the table read as null;
3. ``reconstructed``: the tolerant reader whose cross-reference entries are re-pointed at the
   objects really present in each revision's bytes (found by scanning for ``N G obj``).

A tolerant or rebuilt reading is refused when an object has a later, different definition in
the file than the one its table gives: a viewer that rebuilds the table itself takes the last
one, so the two readings would show different content.

A repair never changes a byte: the reader keeps the original bytes, so every signature's
ByteRange digest, its coverage (which revision's cross-reference data it covers) and the
analysis of what changed after signing run on the file as sent. Reconstruction only moves an
entry to an object in the same revision's bytes, and refuses when that revision holds two
different bodies for the same object (which one a viewer would show is then a guess).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from gateway.model.partdata import Data, find_all, open_stream

log = logging.getLogger(__name__)

MODES = ("strict", "tolerant", "reconstructed")
MAX_OBJECTS = 500_000
"""Object headers a reconstruction looks at (beyond: the file is not repaired)."""

_OBJ = re.compile(rb"(?:^|[\r\n])[ \t]*(\d{1,10})[ \t\r\n]+(\d{1,5})[ \t\r\n]+obj\b")


class RepairRefused(Exception):
    """The cross-reference table cannot be rebuilt without guessing."""


def is_read_error(exc: BaseException) -> bool:
    """Exceptions that mean the file's structure could not be read (as opposed to a
    signature that is damaged, unsupported or does not verify)."""
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.sign.validation.errors import SignatureValidationError

    if isinstance(exc, SignatureValidationError) and "hybrid" in str(exc):
        return True
    return isinstance(exc, (PdfReadError, KeyError, AssertionError, RepairRefused))


def open_reader(data: Data, mode: str = "tolerant") -> Any:
    """A pyHanko reader over the original bytes in one of :data:`MODES`."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}")
    reader = PdfFileReader(open_stream(data), strict=mode == "strict")
    if mode == "reconstructed":
        fixes = reconstruct_xrefs(reader, data)
        reader.repairs = fixes  # type: ignore[attr-defined]
    if mode != "strict":
        check_no_hidden_bodies(reader, data)
    return reader


def check_no_hidden_bodies(reader: Any, data: Data) -> None:
    """Refuse a reading that differs from what a viewer that rebuilds the table itself
    (taking each object's LAST definition in the file) would show: an object defined again
    later in the file than the table says, with a different body, is a hidden version."""
    from pyhanko.pdf_utils import generic

    last = reader.xrefs.total_revisions - 1
    for (idnum, gen), offsets in _scan(data).items():
        latest = max(offsets)
        try:
            loc = reader.xrefs.get_historical_ref(generic.Reference(idnum, gen), last)
        except KeyError:
            continue
        if not isinstance(loc, int) or loc == latest or _header_at(data, loc) != (idnum, gen):
            continue  # in an object stream, already the last one, or a broken entry (unread)
        if _body(data, loc) != _body(data, latest):
            raise RepairRefused(f"object {idnum} {gen} has a later, different definition at "
                                f"{latest} than the one the table gives ({loc})")


def _header_at(data: Data, offset: int) -> tuple[int, int] | None:
    m = _OBJ.match(data, max(offset - 1, 0))
    if m is None:
        m = _OBJ.match(b"\n" + data[offset:offset + 40])
    return (int(m.group(1)), int(m.group(2))) if m else None


_BEFORE_OBJ = re.compile(rb"[\r\n][ \t]*(\d{1,10})[ \t\r\n]+(\d{1,5})[ \t\r\n]+$")
_BEFORE_OBJ_AT_START = re.compile(rb"(?:^|[\r\n])[ \t]*(\d{1,10})[ \t\r\n]+(\d{1,5})[ \t\r\n]+$")


def _scan(data: Data) -> dict[tuple[int, int], list[int]]:
    """Offsets of every ``N G obj`` header at the start of a line (found from each ``obj``
    keyword backwards: the search itself runs at memory speed on image data, a window at a
    time: ``partdata.find_all``)."""
    out: dict[tuple[int, int], list[int]] = {}
    n = 0
    for pos in find_all(data, b"obj"):
        nxt = data[pos + 3:pos + 4]
        if not (nxt.isalnum() or nxt == b"_"):
            start = max(0, pos - 40)
            pattern = _BEFORE_OBJ_AT_START if start == 0 else _BEFORE_OBJ
            m = pattern.search(data, start, pos)
            if m is not None:
                n += 1
                if n > MAX_OBJECTS:
                    raise RepairRefused(f"more than {MAX_OBJECTS} object headers")
                key = (int(m.group(1)), int(m.group(2)))
                out.setdefault(key, []).append(m.start(1))
    return out


def _body(data: Data, offset: int) -> bytes:
    end = data.find(b"endobj", offset)
    return data[offset:end] if end >= 0 else data[offset:]


def reconstruct_xrefs(reader: Any, data: Data) -> list[str]:
    """Re-point the entries of every revision of ``reader`` (in place) at the objects in that
    revision's bytes; add objects a revision defines but its table forgot. Returns what was
    changed; raises :class:`RepairRefused` when a repair would be a guess."""
    found = _scan(data)
    sections = reader.xrefs._xref_sections  # internal API (pyHanko 0.38, pinned)
    known: set[int] = set()
    for section in sections:
        known.update(section.xref_data.standard_xrefs)
        known.update(section.xref_data.xrefs_in_objstm)
    fixes: list[str] = []
    lo = 0
    for rev, section in enumerate(sections):
        hi = section.meta_info.end_location  # a revision's objects precede its table's end
        xdata = section.xref_data
        for idnum, (gen, offset) in list(xdata.standard_xrefs.items()):
            if _header_at(data, offset) == (idnum, gen):
                continue
            new = _only_body(data, found.get((idnum, gen), []), lo, hi, idnum, gen)
            if new is None:
                continue
            xdata.standard_xrefs[idnum] = (gen, new)
            fixes.append(f"revision {rev}: object {idnum} {gen} at {new}, not {offset}")
        for (idnum, gen), offsets in found.items():
            if idnum in known or idnum == 0:
                continue
            new = _only_body(data, offsets, lo, hi, idnum, gen)
            if new is None:
                continue
            xdata.standard_xrefs[idnum] = (gen, new)
            xdata.explicit_refs_in_revision.add((idnum, gen))
            known.add(idnum)
            fixes.append(f"revision {rev}: object {idnum} {gen} missing from the table, at {new}")
        lo = hi
    reader.resolved_objects.clear()
    reader._historical_resolver_cache.clear()  # internal API (pyHanko 0.38, pinned)
    return fixes


def _only_body(data: Data, offsets: list[int], lo: int, hi: int, idnum: int,
               gen: int) -> int | None:
    here = [o for o in offsets if lo <= o < hi]
    if not here:
        return None
    bodies = {_body(data, o) for o in here}
    if len(bodies) > 1:
        raise RepairRefused(f"object {idnum} {gen} is defined {len(here)} times, differently, "
                            "in one revision")
    return here[-1]
