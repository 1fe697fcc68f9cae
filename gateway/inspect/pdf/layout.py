"""Scanned, born-digital or mixed: read from the page structure, not by rendering.

For each page the content stream is read once, an operation at a time (``content``; its
operands tokenised only for the operators that use them; form XObjects followed, with limits),
to measure: how much of the page image XObjects cover (through the current transformation
matrix), how much text is painted visibly (render modes other than 3 "invisible" and 7
"clip"), and how many vector paths are drawn. A scanner's page is one image covering the page,
perhaps with an invisible OCR text layer; a page made by software paints text. A page image
written in plain form is recognised from its object's bytes (``peek``), any other XObject is
read by pyHanko.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError

from gateway.inspect.pdf.content import INLINE_END, OPERATION, operands, shown_chars
from gateway.inspect.pdf.peek import plain_image

_READ_ERRORS = (PdfError, KeyError, TypeError, ValueError, AttributeError, IndexError,
                RecursionError)
"""What pyHanko raises for a dangling or malformed object."""

MAX_CONTENT_BYTES = 32 * 1024 * 1024
"""Largest decoded content stream read for one page (streams are cut there)."""
MAX_FORM_DEPTH = 8
MAX_OPS_PER_PAGE = 2_000_000

_PAINT = frozenset({b"f", b"F", b"f*", b"S", b"s", b"B", b"B*", b"b", b"b*"})
_SHOW = frozenset({b"Tj", b"TJ", b"'", b'"'})
_MEASURED = _PAINT | _SHOW | {b"q", b"Q", b"cm", b"Tr", b"Tf", b"EI", b"Do"}
"""The operators that change what a page is measured to paint; the others are counted only."""

Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _matrix(six: list[float]) -> Matrix:
    """Six numbers (counted by the caller) as a matrix."""
    a, b, c, d, e, f = six
    return (a, b, c, d, e, f)


def _mul(m: Matrix, n: Matrix) -> Matrix:
    """m × n (PDF row-vector convention: apply m, then n)."""
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
            e * A + f * C + E, e * B + f * D + F)


def _unit_bbox(m: Matrix) -> tuple[float, float, float, float]:
    a, b, c, d, e, f = m
    xs = (e, a + e, c + e, a + c + e)
    ys = (f, b + f, d + f, b + d + f)
    return min(xs), min(ys), max(xs), max(ys)


@dataclass
class PageStats:
    number: int
    width: float = 0.0
    height: float = 0.0
    image_area: float = 0.0
    """Area painted by images, clipped to the page box (points²; overlaps counted twice)."""
    images: int = 0
    image_refs: list[Any] = field(default_factory=list)
    """The page's image XObjects with their painted area: (area, stream) for seal search."""
    visible_chars: int = 0
    invisible_chars: int = 0
    paths: int = 0
    fonts: set[bytes] = field(default_factory=set)
    truncated: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def image_coverage(self) -> float:
        area = self.width * self.height
        return min(1.0, self.image_area / area) if area > 0 else 0.0

    def kind(self, min_coverage: float, max_visible: int) -> str:
        """``scanned``, ``born-digital``, ``blank``, or ``unreadable``: a page that would pass
        as a scan (or blank) although part of its content could not be read — text hidden
        in an unreadable stream must not make typed text look like a scan."""
        got = self._kind(min_coverage, max_visible)
        return "unreadable" if self.errors and got in ("scanned", "blank") else got

    def _kind(self, min_coverage: float, max_visible: int) -> str:
        if self.image_coverage >= min_coverage and self.visible_chars <= max_visible:
            return "scanned"
        if self.visible_chars == 0 and self.paths == 0 and self.images == 0:
            return "blank"
        if self.visible_chars == 0 and self.paths == 0 and self.image_coverage < min_coverage:
            # only small pictures: a partial scan (a cut-out) is still not typed text
            return "scanned" if self.image_coverage >= 0.25 else "born-digital"
        return "born-digital"

    def to_json(self) -> dict[str, Any]:
        return {
            "page": self.number,
            "image_coverage": round(self.image_coverage, 3),
            "images": self.images,
            "visible_chars": self.visible_chars,
            "invisible_chars": self.invisible_chars,
            "paths": self.paths,
        }


def stream_bytes(stream: generic.StreamObject, cap: int = MAX_CONTENT_BYTES) -> tuple[bytes, bool]:
    """Decoded stream data, at most ``cap`` bytes: ``(data, truncated)``.

    Plain Flate streams are inflated incrementally so a compression bomb stops at the cap;
    other filter chains are decoded by pyHanko.
    """
    filters = _dict_get(stream, "/Filter")
    if isinstance(filters, generic.ArrayObject) and len(filters) == 1:
        filters = resolve(filters[0])
    if filters == "/FlateDecode" and "/DecodeParms" not in stream:
        raw = stream.encoded_data
        d = zlib.decompressobj()
        try:
            out = d.decompress(raw, cap)
        except zlib.error:
            if raw[:1] != b"x":
                # not a zlib header at all: an encrypted file's stream, decrypted by pyHanko
                data = stream.data
                return data[:cap], len(data) > cap
            # damaged streams are common; keep what inflates (as viewers do)
            d = zlib.decompressobj()
            out = b""
            for i in range(0, len(raw), 4096):
                try:
                    out += d.decompress(raw[i:i + 4096], cap - len(out))
                except zlib.error:
                    break
                if len(out) >= cap:
                    break
            return out, len(out) >= cap
        return out, bool(d.unconsumed_tail)
    data = stream.data
    return data[:cap], len(data) > cap


def _num(tok: bytes) -> float:
    try:
        return float(tok)
    except ValueError:
        return 0.0


def resolve(obj: Any) -> Any:
    """Follow references and unwrap the proxies pyHanko uses for objects of encrypted files."""
    for _ in range(32):
        if isinstance(obj, generic.IndirectObject):
            ref: generic.Dereferenceable = obj  # IndirectObject's override is not annotated
            obj = ref.get_object()
        elif isinstance(obj, generic.DecryptedObjectProxy):
            obj = obj.decrypted
        else:
            break
    return obj


def _dict_get(d: Any, key: str) -> Any:
    try:
        return resolve(d.get(key)) if d is not None else None
    except _READ_ERRORS:  # an unresolvable entry reads as absent (never as content)
        return None


class _Scanner:
    def __init__(self, page: PageStats, page_box: tuple[float, float, float, float]) -> None:
        self.page = page
        self.box = page_box
        self.ops = 0
        self.seen_forms: set[int] = set()

    def _image_painted(self, ctm: Matrix, ref: Any) -> None:
        x0, y0, x1, y1 = _unit_bbox(ctm)
        bx0, by0, bx1, by1 = self.box
        w = max(0.0, min(x1, bx1) - max(x0, bx0))
        h = max(0.0, min(y1, by1) - max(y0, by0))
        self.page.image_area += w * h
        self.page.images += 1
        if ref is not None:
            self.page.image_refs.append((w * h, ref))

    def run(self, data: bytes, resources: Any, ctm: Matrix, depth: int) -> None:
        """Measure one content stream, an operation at a time: the operands are read only for
        the operators that use them (text shown, ``cm``, ``Tr``, ``Tf``, ``Do``)."""
        page = self.page
        stack: list[Matrix] = []
        tr = 0
        xobjects = _dict_get(resources, "/XObject")
        operation = OPERATION.match
        pos, end = 0, len(data)
        while pos < end:
            m = operation(data, pos)
            if m is None:
                return
            first, last, op = pos, m.start(1), m.group(1)
            pos = m.end()
            if op == b"ID":  # inline image data: skip to EI
                e = INLINE_END.search(data, pos)
                pos = e.end() if e else end
                op = b"EI"
            self.ops += 1
            if self.ops > MAX_OPS_PER_PAGE:
                page.truncated = True
                return
            if op not in _MEASURED:
                continue
            if op in _SHOW:
                n = shown_chars(data, first, last)
                if tr in (3, 7):
                    page.invisible_chars += n
                else:
                    page.visible_chars += n
            elif op == b"q":
                stack.append(ctm)
                if len(stack) > 256:
                    del stack[0]
            elif op == b"Q":
                ctm = stack.pop() if stack else ctm
            elif op == b"cm":
                nums = [_num(t) for k, t in operands(data, first, last)[-6:] if k == "num"]
                if len(nums) == 6:
                    ctm = _mul(_matrix(nums), ctm)
            elif op == b"Tr":
                ops = operands(data, first, last)
                if ops and ops[-1][0] == "num":
                    tr = int(_num(ops[-1][1]))
            elif op == b"Tf":
                for k, t in operands(data, first, last)[-2:]:
                    if k == "name":
                        page.fonts.add(t)
            elif op in _PAINT:
                page.paths += 1
            elif op == b"EI":  # inline image
                self._image_painted(ctm, None)
            elif op == b"Do":
                ops = operands(data, first, last)
                if ops and ops[-1][0] == "name":
                    self._do(ops[-1][1], xobjects, ctm, depth)

    def _do(self, name: bytes, xobjects: Any, ctm: Matrix, depth: int) -> None:
        if xobjects is None:
            return
        key = "/" + name[1:].decode("latin-1")
        try:
            raw = xobjects.raw_get(key) if hasattr(xobjects, "raw_get") else None
            if plain_image(raw):  # a page image in plain form: not parsed, not copied
                self._image_painted(ctm, raw)
                return
            xo = resolve(raw)
        except _READ_ERRORS as exc:  # painted but unreadable: the page is not judged a scan
            self.page.errors.append(f"XObject {key}: {type(exc).__name__}")
            return
        if not isinstance(xo, generic.StreamObject):
            return
        subtype = _dict_get(xo, "/Subtype")
        if subtype == "/Image":
            self._image_painted(ctm, _unpinned(raw, xo))
        elif subtype == "/Form":
            if depth >= MAX_FORM_DEPTH:
                self.page.truncated = True
                return
            ident = id(xo) if not isinstance(raw, generic.IndirectObject) else raw.idnum
            if ident in self.seen_forms:
                return  # painted again: its content was measured once already
            self.seen_forms.add(ident)
            m = _dict_get(xo, "/Matrix")
            fm: Matrix = _IDENTITY
            if isinstance(m, generic.ArrayObject) and len(m) == 6:
                try:
                    fm = _matrix([float(resolve(v)) for v in m])
                except (TypeError, ValueError):
                    fm = _IDENTITY
            try:
                data, cut = stream_bytes(xo)
            except Exception as exc:  # noqa: BLE001 - recorded: the page is not judged a scan
                self.page.errors.append(f"form XObject: {type(exc).__name__}")
                return
            self.page.truncated |= cut
            res = _dict_get(xo, "/Resources")
            self.run(data, res, _mul(fm, ctm), depth + 1)


def _unpinned(raw: Any, xo: Any) -> Any:
    """A painted image as its reference, dropped from the reader's object cache: the pages of
    a scan are not all held in memory at once (the seal search reads its few pages again)."""
    if not isinstance(raw, generic.IndirectObject):
        return xo
    reader = getattr(raw.reference, "pdf", None)
    cache = getattr(reader, "resolved_objects", None)
    if isinstance(cache, dict):
        cache.pop((raw.generation, raw.idnum), None)
    return raw


def iter_pages(reader: Any, max_pages: int) -> Iterator[tuple[int, Any, Any, list[float]]]:
    """(number, page dict, inherited resources, media box) for each page, in order."""
    root = reader.root
    pages = _dict_get(root, "/Pages")
    if pages is None:
        raise ValueError("no page tree")
    count = 0
    seen: set[int] = set()
    todo: list[tuple[Any, Any, Any]] = [(root.raw_get("/Pages"), None, None)]
    while todo:
        ref, res, box = todo.pop(0)
        node = resolve(ref)
        if isinstance(ref, generic.IndirectObject):
            if ref.idnum in seen:
                continue
            seen.add(ref.idnum)
        if not isinstance(node, generic.DictionaryObject):
            continue
        res = _dict_get(node, "/Resources") if "/Resources" in node else res
        box = _dict_get(node, "/MediaBox") if "/MediaBox" in node else box
        kids = _dict_get(node, "/Kids")
        ntype = _dict_get(node, "/Type")
        if ntype == "/Pages" or (kids is not None and ntype != "/Page"):
            if isinstance(kids, generic.ArrayObject):
                todo[0:0] = [(k, res, box) for k in kids]
            continue
        count += 1
        if count > max_pages:
            return
        crop = _dict_get(node, "/CropBox")
        use = crop if isinstance(crop, generic.ArrayObject) and len(crop) == 4 else box
        try:
            fbox = ([float(resolve(v)) for v in use] if use is not None and len(use) == 4
                    else [0.0, 0.0, 595.0, 842.0])
        except (TypeError, ValueError):
            fbox = [0.0, 0.0, 595.0, 842.0]
        yield count, node, res, fbox


def page_stats(number: int, page: Any, resources: Any, box: list[float]) -> PageStats:
    x0, x1 = min(box[0], box[2]), max(box[0], box[2])
    y0, y1 = min(box[1], box[3]), max(box[1], box[3])
    stats = PageStats(number, width=x1 - x0, height=y1 - y0)
    contents = _dict_get(page, "/Contents")
    streams: list[Any] = []
    if isinstance(contents, generic.StreamObject):
        streams = [contents]
    elif isinstance(contents, generic.ArrayObject):
        streams = [resolve(c) for c in contents]
    parts = []
    total = 0
    for s in streams:
        if not isinstance(s, generic.StreamObject):
            continue
        try:
            data, cut = stream_bytes(s, MAX_CONTENT_BYTES - total)
        except Exception as exc:  # noqa: BLE001 - recorded: the page is not judged a scan
            stats.errors.append(f"content stream: {type(exc).__name__}")
            continue
        stats.truncated |= cut
        total += len(data)
        parts.append(data)
    scanner = _Scanner(stats, (x0, y0, x1, y1))
    scanner.run(b"\n".join(parts), resources, _IDENTITY, 0)
    return stats


@dataclass
class Layout:
    kind: str
    """``scanned``, ``born-digital``, ``mixed`` or ``empty``."""
    pages: list[PageStats]
    page_kinds: list[str]
    total_pages: int
    truncated: bool = False

    def pages_of(self, kind: str) -> list[int]:
        return [p.number for p, k in zip(self.pages, self.page_kinds, strict=True) if k == kind]

    def to_facts(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "layout": self.kind,
            "pages": self.total_pages,
            "scanned_pages": len(self.pages_of("scanned")),
            "born_digital_pages": _ranges(self.pages_of("born-digital")),
        }
        if self.kind == "mixed":
            out["scanned_page_list"] = _ranges(self.pages_of("scanned"))
        errors = [f"page {p.number}: {e}" for p in self.pages for e in p.errors]
        if errors:
            out["unreadable_pages"] = _ranges(self.pages_of("unreadable"))
            out["content_errors"] = errors[:10]
        return out


def _ranges(nums: list[int]) -> str:
    """``1-3,5``: the numbers as runs of consecutive ones."""
    runs: list[list[int]] = []  # [first, last]
    for n in nums:
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ",".join(f"{first}" if first == last else f"{first}-{last}" for first, last in runs)


def classify(reader: Any, *, min_coverage: float = 0.85, max_visible: int = 40,
             max_pages: int = 5000) -> Layout:
    stats: list[PageStats] = []
    total = 0
    truncated = False
    for number, page, res, box in iter_pages(reader, max_pages + 1):
        total = number
        if number > max_pages:
            truncated = True
            break
        stats.append(page_stats(number, page, res, box))
    kinds = [s.kind(min_coverage, max_visible) for s in stats]
    content = [k for k in kinds if k != "blank"]
    if not content:
        kind = "empty"
    elif "unreadable" in content:
        kind = "unreadable"
    elif all(k == "scanned" for k in content):
        kind = "scanned"
    elif all(k == "born-digital" for k in content):
        kind = "born-digital"
    else:
        kind = "mixed"
    truncated |= any(s.truncated for s in stats)
    return Layout(kind, stats, kinds, total, truncated)
