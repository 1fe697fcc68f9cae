"""A page image recognised from its object's bytes: only plain forms, and the classification of
every page the same as when pyHanko reads the object (errors included), on literal objects."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.inspect.pdf import layout, repair
from gateway.inspect.pdf.peek import plain_image
from tests.pdfgen.build import PdfBuilder

DATA = b"\x00\x10\x20\x30"
HEAD = b"/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray " \
       b"/BitsPerComponent 8"

PLAIN = {
    "plain": b"<< " + HEAD + b" /Length 4 >>\nstream\n" + DATA + b"\nendstream",
    "crlf": b"<< " + HEAD + b" /Length 4 >>\r\nstream\r\n" + DATA + b"\r\nendstream",
    "compact": b"<</Subtype/Image/Width 2/Height 2/BitsPerComponent 8/Length 4>>stream\n"
               + DATA + b"endstream",
    "nested": b"<< " + HEAD + b" /DecodeParms << /K -1 /Columns 2 /BlackIs1 true >> "
              b"/Decode [1 0] /Interpolate false /SMask 9 0 R /Length 4 >>\nstream\n" + DATA
              + b"\nendstream",
    "endstream in the data": b"<< " + HEAD + b" /Length 14 >>\nstream\nendstream\n\x00\x10"
                             b"\x20\x30\nendstream",
}

OTHER = {
    "length one too long": b"<< " + HEAD + b" /Length 6 >>\nstream\n" + DATA + b"\nendstream",
    "length far too long": b"<< " + HEAD + b" /Length 400 >>\nstream\n" + DATA + b"\nendstream",
    "length too short": b"<< " + HEAD + b" /Length 2 >>\nstream\n" + DATA + b"\nendstream",
    "no length": b"<< " + HEAD + b" >>\nstream\n" + DATA + b"\nendstream",
    "negative length": b"<< " + HEAD + b" /Length -4 >>\nstream\n" + DATA + b"\nendstream",
    "indirect length": b"<< " + HEAD + b" /Length 3 0 R >>\nstream\n" + DATA + b"\nendstream",
    "form first": b"<< /Subtype /Form /Subtype /Image /BBox [0 0 1 1] /Length 4 >>\nstream\n"
                  b"0 0 m\nendstream",
    "image twice": b"<< " + HEAD + b" /Subtype /Image /Length 4 >>\nstream\n" + DATA
                   + b"\nendstream",
    "key twice inside": b"<< " + HEAD + b" /DecodeParms << /K 1 /K 2 >> /Length 4 >>\nstream\n"
                        + DATA + b"\nendstream",
    "escaped name": b"<< /Subtype /Im#61ge /Width 2 /Height 2 /Length 4 >>\nstream\n" + DATA
                    + b"\nendstream",
    "form": b"<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] /Length 25 >>\nstream\n"
            b"BT /F1 9 Tf (typed) Tj ET\nendstream",
    "comment in the dictionary": b"<< /Subtype % a comment\n /Image /Width 2 /Height 2 "
                                 b"/Length 4 >>\nstream\n" + DATA + b"\nendstream",
    "string value": b"<< " + HEAD + b" /Name (x) /Length 4 >>\nstream\n" + DATA
                    + b"\nendstream",
    "space after stream": b"<< " + HEAD + b" /Length 4 >>\nstream \n" + DATA + b"\nendstream",
    "no stream": b"<< " + HEAD + b" /Length 4 >>",
    "long reference": b"<< " + HEAD + b" /SMask 123456789012 0 R /Length 4 >>\nstream\n"
                      + DATA + b"\nendstream",
    "reference within a number": b"<< " + HEAD + b" /W2 5 0 Rx /Length 4 >>\nstream\n" + DATA
                                 + b"\nendstream",
    "no endobj": b"<< " + HEAD + b" /Length 4 >>\nstream\n" + DATA + b"\nendstream\nxxx",
    "image subtype by reference": b"<< /Subtype 3 0 R /Width 2 /Height 2 /Length 4 >>\nstream\n"
                                  + DATA + b"\nendstream",
}


def _pdf(image: bytes, *, update: bytes | None = None, header: bytes | None = None) -> bytes:
    """One 600 x 800 page painting XObject 4 over the whole page; object 3 is the number 4,
    object 5 is the image as given (``update``: redefined in an incremental update)."""
    b = PdfBuilder()
    cat, pages = b.reserve(), b.reserve()
    b.add(b"4")
    content = b.stream(b"", b"q 600 0 0 800 0 0 cm /Im Do Q", compress=False)
    assert content == 4
    num = b.add(image)
    page = b.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 600 800] "
                 b"/Resources << /XObject << /Im %d 0 R >> >> /Contents %d 0 R >>"
                 % (pages, num, content))
    b.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    b.set(cat, b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    data = b.serialize(cat)
    if header is not None:
        data = data.replace(b"\n5 0 obj\n", b"\n" + header + b"\n", 1)
    if update is not None:
        prev = int(data[data.rindex(b"startxref") + 9:].split()[0])
        off = len(data)
        body = b"5 0 obj\n" + update + b"\nendobj\n"
        data += (body + b"xref\n5 1\n%010d 00000 n \ntrailer\n<< /Size 7 /Root 1 0 R /Prev %d >>"
                 b"\nstartxref\n%d\n%%%%EOF\n" % (off, prev, off + len(body)))
    return data


def _outcome(data: bytes, mode: str) -> tuple[Any, ...]:
    lay = layout.classify(repair.open_reader(data, mode))
    return (lay.kind, lay.page_kinds, [(p.images, p.image_area, p.errors, p.paths,
                                        p.visible_chars, [r.idnum for _a, r in p.image_refs])
                                       for p in lay.pages])


def _same_as_pyhanko(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """The classification with the peek, after checking it equals the one without."""
    got = {}
    for peek in (True, False):
        with monkeypatch.context() as m:
            if not peek:
                m.setattr(layout, "plain_image", lambda raw: None)
            got[peek] = tuple(_outcome(data, mode) for mode in ("strict", "tolerant"))
    assert got[True] == got[False]
    return got[True]


def _peek(data: bytes) -> bool | None:
    reader = repair.open_reader(data, "tolerant")
    raw = reader.root["/Pages"]["/Kids"][0]["/Resources"]["/XObject"].raw_get("/Im")
    reader.stream.seek(7)
    answer = plain_image(raw)
    assert reader.stream.tell() == 7  # the reader's position is left as it was
    return answer


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain_image_objects_are_recognised(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _pdf(PLAIN[name])
    assert _peek(data) is True
    strict, tolerant = _same_as_pyhanko(data, monkeypatch)
    assert strict[0] == tolerant[0] == "scanned"
    assert strict[2][0][-1] == [5]  # the page image is kept by reference, for the seal search


@pytest.mark.parametrize("name", sorted(OTHER))
def test_other_objects_are_left_to_the_reader(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _pdf(OTHER[name])
    assert _peek(data) is None
    _same_as_pyhanko(data, monkeypatch)


def test_what_the_reader_makes_of_damaged_images_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    far = _same_as_pyhanko(_pdf(OTHER["length far too long"]), monkeypatch)
    assert far[1][0] == "unreadable" and far[1][2][0][2]  # an error, never a scan by guess
    assert _same_as_pyhanko(_pdf(OTHER["form"]), monkeypatch)[1][0] == "born-digital"
    assert _same_as_pyhanko(_pdf(OTHER["escaped name"]), monkeypatch)[1][0] == "scanned"


def test_an_object_header_that_is_not_the_one_referenced(monkeypatch: pytest.MonkeyPatch) -> None:
    data = _pdf(PLAIN["plain"], header=b"8 0 obj")
    assert _peek(data) is None
    strict, tolerant = _same_as_pyhanko(data, monkeypatch)
    assert strict[0] == tolerant[0] == "unreadable"


@pytest.mark.parametrize(("first", "update", "kind"), [
    (PLAIN["plain"], OTHER["form"], "born-digital"),
    (OTHER["form"], PLAIN["plain"], "scanned"),
])
def test_the_latest_definition_is_the_one_read(first: bytes, update: bytes, kind: str,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    data = _pdf(first, update=update)
    assert _peek(data) is (True if update is PLAIN["plain"] else None)
    strict, tolerant = _same_as_pyhanko(data, monkeypatch)
    assert strict[0] == tolerant[0] == kind


def test_an_image_already_read_is_not_peeked_again() -> None:
    data = _pdf(PLAIN["plain"])
    reader = repair.open_reader(data, "tolerant")
    raw = reader.root["/Pages"]["/Kids"][0]["/Resources"]["/XObject"].raw_get("/Im")
    raw.get_object()
    assert plain_image(raw) is None
    assert plain_image(reader.root.raw_get("/Pages")) is None  # not an image at all
    assert plain_image(layout.resolve(raw)) is None  # a direct object, not a reference
