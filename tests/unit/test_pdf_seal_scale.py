"""The seal search on PDF page images decoded at a reduced JPEG (DCT) scale and searched at
their own scale near the working one: the same seals, sizes in millimetres and verdicts as
the full decoding resized to the working scale."""

from __future__ import annotations

import random

import pytest
from PIL import Image

from gateway.inspect.base import InspectContext
from gateway.inspect.pdf import inspect_pdf, open_reader
from gateway.inspect.pdf.layout import classify, resolve
from gateway.inspect.pdf.seal import (
    WORK_PX_PER_MM,
    _components,
    decode_pdf_image,
    find_seals,
    near_working_scale,
)
from gateway.model.document import Document
from gateway.model.report import DocClass
from tests.pdfgen.build import scanned_pdf
from tests.pdfgen.scans import ScanSpec, page_image, seal_dataset
from tests.pki import NOW


def _inspect(data: bytes) -> dict:
    doc = Document("scan.pdf", "scan.pdf", data, "application/pdf", "pdf", DocClass.NON_EDITABLE)
    return dict(inspect_pdf(doc, InspectContext(at=NOW)).facts)


def _page_image(data: bytes) -> Image.Image:
    page = classify(open_reader(data)).pages[0]
    (_, stream), = page.image_refs
    img = decode_pdf_image(resolve(stream), (630, 891))
    assert img is not None
    return img


@pytest.mark.parametrize("dpi", [150, 200, 300])
def test_seal_found_and_measured_through_the_reduced_decoding(dpi: int) -> None:
    img = page_image(ScanSpec(seed=33, seal_at=(0.8, 0.8)), dpi=dpi)
    data = scanned_pdf([img], quality=75)
    decoded = _page_image(data)
    assert decoded.size[0] <= img.size[0] // 2 + 1  # the JPEG was decoded at 1/2 or less
    assert decoded.size[0] >= 0.85 * 630
    (seal,) = _inspect(data)["seal"]
    (full,) = find_seals(img, 1, 210, 297)  # the full image, resized to the working scale
    assert seal["position"] == full.position == "bottom-right"
    assert abs(seal["diameter_mm"] - full.diameter_mm) <= 1.5
    assert abs(seal["x"] - full.x) <= 0.01 and abs(seal["y"] - full.y) <= 0.01
    assert seal["confidence"] >= 0.5


def test_precision_and_recall_through_the_pdf_page_images() -> None:
    """The generated seals and look-alikes at 150 dpi, each as a scanned page in a PDF."""
    wrong = []
    for name, img, has in seal_dataset(150):
        found = bool(_inspect(scanned_pdf([img], quality=75))["seal"])
        if found != has:
            wrong.append(name)
    assert wrong == []


def test_the_working_scale_band() -> None:
    w, h = 210.0, 297.0
    assert near_working_scale((620, 877), w, h)  # 1/2 of a 150 dpi A4 page
    assert near_working_scale((int(w * WORK_PX_PER_MM), int(h * WORK_PX_PER_MM)), w, h)
    assert not near_working_scale((827, 1169), w, h)  # 100 dpi: resized
    assert not near_working_scale((310, 439), w, h)  # 1/4 of 150 dpi: too coarse
    assert not near_working_scale((620, 1754), w, h)  # one axis out of the band
    assert not near_working_scale((620, 877), 0, h)


def _components_reference(grid: Image.Image) -> list[tuple[int, int, int, int, int]]:
    """Every set cell in row order, each new one flooding its 8-neighbour component."""
    w, h = grid.size
    px = grid.load()
    assert px is not None
    seen: set[tuple[int, int]] = set()
    out = []
    for y in range(h):
        for x in range(w):
            if not px[x, y] or (x, y) in seen:
                continue
            seen.add((x, y))
            todo, cells = [(x, y)], []
            while todo:
                cx, cy = todo.pop()
                cells.append((cx, cy))
                for nx in (cx - 1, cx, cx + 1):
                    for ny in (cy - 1, cy, cy + 1):
                        if 0 <= nx < w and 0 <= ny < h and px[nx, ny] and (nx, ny) not in seen:
                            seen.add((nx, ny))
                            todo.append((nx, ny))
            xs, ys = [c[0] for c in cells], [c[1] for c in cells]
            out.append((min(xs), min(ys), max(xs) + 1, max(ys) + 1, len(cells)))
    return out


def test_components_are_those_of_the_plain_flood_fill() -> None:
    rng = random.Random(5)
    for density in (0.0, 0.05, 0.3, 0.6, 1.0):
        for w, h in ((1, 1), (7, 3), (23, 17)):
            data = bytes(255 if rng.random() < density else 0 for _ in range(w * h))
            grid = Image.frombytes("L", (w, h), data)
            assert _components(grid) == _components_reference(grid)
