"""Seal evidence on generated scans (seals vs red headings, logos, urgency boxes) and image
attachments judged as non-editable scans."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from gateway.inspect.base import InspectContext
from gateway.inspect.images import inspect_image, physical_size_mm
from gateway.inspect.pdf.seal import find_seals, red_mask
from gateway.model.document import Document
from gateway.model.report import DocClass, DocVerdict
from tests.pdfgen.check import check, codes
from tests.pdfgen.scans import ScanSpec, page_image, seal_dataset
from tests.pki import NOW


@pytest.fixture(scope="module")
def dataset():
    return seal_dataset()


def test_precision_and_recall_on_the_generated_scans(dataset):
    tp = fp = fn = 0
    wrong = []
    for name, img, has in dataset:
        found = bool(find_seals(img, 1, 210, 297, 0.5))
        tp += found and has
        fp += found and not has
        fn += has and not found
        if found != has:
            wrong.append(name)
    assert sum(1 for *_, h in dataset if not h) >= 6  # counter-examples are part of the set
    assert fp == 0 and fn == 0, wrong
    assert tp == sum(1 for *_, h in dataset if h)


def test_seal_position_size_and_confidence(dataset):
    img = dict((n, i) for n, i, _ in dataset)["seal-left"]
    (seal,) = find_seals(img, 4, 210, 297)
    assert seal.page == 4 and seal.position == "bottom-left"
    assert 35 <= seal.diameter_mm <= 42 and 0.5 <= seal.confidence <= 1.0
    js = seal.to_json()
    assert set(js) == {"page", "position", "x", "y", "diameter_mm", "confidence"}


def test_a_seal_photographed_at_any_resolution_is_measured_in_millimetres():
    img = page_image(ScanSpec(seed=30), dpi=200)
    (seal,) = find_seals(img, 1, 210, 297)
    assert 34 <= seal.diameter_mm <= 42


def test_red_mask_only_keeps_red():
    img = Image.new("RGB", (4, 1))
    # red, blue, paper, beige
    img.putdata([(210, 30, 40), (30, 30, 200), (240, 240, 240), (180, 150, 130)])
    assert list(red_mask(img).tobytes()) == [255, 0, 0, 0]


def test_greyscale_has_no_seal_evidence():
    grey = page_image(ScanSpec(seed=31)).convert("L")
    assert find_seals(grey, 1, 210, 297) == []


# -- image attachments -------------------------------------------------------------------------


def _ctx(**pdf):
    return InspectContext(at=NOW, options={"pdf": pdf} if pdf else {})


def _doc(data: bytes, name: str = "scan.jpg", fmt: str = "jpeg") -> Document:
    return Document(name, name, data, "image/" + fmt, fmt, DocClass.NON_EDITABLE)


def _encode(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def test_jpeg_scan_with_a_seal_is_valid_and_reports_it():
    data = _encode(page_image(ScanSpec(seed=32)), "JPEG", quality=70, dpi=(100, 100))
    res = inspect_image(_doc(data), _ctx())
    assert res.facts["layout"] == "scanned" and res.facts["pages"] == 1
    assert len(res.facts["seal"]) == 1
    report, doc = check(data, name="cong-van.jpg")
    assert doc.verdict is DocVerdict.VALID and {"NON_EDITABLE_ACCEPTED", "SEAL_FOUND"} <= codes(doc)


def test_png_photo_without_resolution_is_sized_as_an_a4_page():
    img = page_image(ScanSpec(seed=33))
    assert physical_size_mm(img) == pytest.approx((210, 297), rel=0.02)
    res = inspect_image(_doc(_encode(img, "PNG"), "scan.png", "png"), _ctx())
    assert res.facts["seal"] and res.facts["image"]["format"] == "PNG"


def test_multipage_tiff_is_searched_from_the_end():
    pages = [page_image(ScanSpec(seal=False, seed=34)), page_image(ScanSpec(seed=35))]
    data = _encode(pages[0], "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
    res = inspect_image(_doc(data, "scan.tif", "tiff"), _ctx())
    assert res.facts["pages"] == 2
    assert [s["page"] for s in res.facts["seal"]] == [2]
    res = inspect_image(_doc(data, "scan.tif", "tiff"), _ctx(seal_search_pages=0))
    assert res.facts["seal"] == [] and res.facts["seal_searched_pages"] == 0


def test_required_seal_missing_on_an_image(tmp_path):
    data = _encode(page_image(ScanSpec(seal=False, seed=36)), "JPEG")
    _, doc = check(data, name="scan.jpg", rules_text="[pdf]\nrequire-seal = true\n",
                   tmp_path=tmp_path)
    assert doc.verdict is DocVerdict.INVALID and "SEAL_REQUIRED_MISSING" in codes(doc)


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
            + struct.pack(">I", zlib.crc32(chunk)) + b"\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.mark.parametrize("data", [
    _png_header(100_000, 100_000),  # a decompression bomb's header
    _png_header(20, 20),  # no image data
    b"\xff\xd8\xff\xe0" + b"\x00" * 100,  # truncated JPEG
])
def test_damaged_or_oversized_images_are_unreadable_not_a_crash(data):
    res = inspect_image(_doc(data, "scan.png", "png"), _ctx())
    assert [f.code for f in res.findings] == ["IMAGE_UNREADABLE"]
