"""Image attachments (JPEG, PNG, TIFF…): non-editable scans under Article 9.2b.

Intake classes images as non-editable when the rule ``documents.images-are-scans`` is on
(the default). This inspector checks that the image decodes (within a pixel bound), counts
its pages (multi-page TIFF) and looks for the red seal on the last pages, as for a scanned
PDF. Facts: ``layout: scanned``, ``pages``, ``image`` (size, mode, dpi), ``seal``.
"""

from __future__ import annotations

import logging
from typing import Any

from PIL import Image, ImageSequence

from gateway.inspect.base import InspectContext, InspectionResult
from gateway.inspect.pdf import pdf_options
from gateway.inspect.pdf.seal import MAX_DECODE_PIXELS, find_seals, is_colour
from gateway.inspect.pdf.signer import short
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.partdata import open_stream

log = logging.getLogger(__name__)

A4_SHORT_MM = 210.0
MAX_FRAMES = 2000


def physical_size_mm(img: Image.Image) -> tuple[float, float]:
    """The image's size on paper: from its resolution when plausible, else the short side
    is taken as an A4 page width (photos of a page carry no useful resolution)."""
    dpi = img.info.get("dpi")
    w, h = img.size
    try:
        dx, dy = float(dpi[0]), float(dpi[1])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        dx = dy = 0.0
    if 70 <= dx <= 2400 and 70 <= dy <= 2400:
        wmm, hmm = w / dx * 25.4, h / dy * 25.4
        if 50 <= max(wmm, hmm) <= 1300:
            return wmm, hmm
    scale = A4_SHORT_MM / max(1, min(w, h))
    return w * scale, h * scale


def inspect_image(doc: Document, ctx: InspectContext) -> InspectionResult:
    opts = pdf_options(ctx)
    name = doc.path
    try:
        img = Image.open(open_stream(doc.data))
        w, h = img.size
        if w * h > MAX_DECODE_PIXELS:
            raise ValueError(f"{w}×{h} pixels is over the limit of {MAX_DECODE_PIXELS}")
        frames = int(getattr(img, "n_frames", 1) or 1)
        img.load()
    except Exception as exc:  # noqa: BLE001 - damaged, truncated, bomb: a finding with its type
        log.info("%s unreadable: %r", name, exc)
        return InspectionResult(
            findings=(make_finding("IMAGE_UNREADABLE", place=name, name=name,
                                   reason=f"{type(exc).__name__}: {short(exc)}"),),
            facts={"layout": "unknown"},
        )
    facts: dict[str, Any] = {
        "layout": "scanned",
        "pages": frames,
        "image": {"width": w, "height": h, "mode": img.mode,
                  "format": img.format or doc.fmt},
    }
    want = int(opts["seal_search_pages"])
    min_conf = float(opts["seal_min_confidence"])
    seals: list[dict[str, Any]] = []
    searched = colour = 0
    if want and frames <= MAX_FRAMES:
        first = max(0, frames - want)
        for index, frame in enumerate(ImageSequence.Iterator(img)):
            if index < first:
                continue
            searched += 1
            try:
                convertible = frame.mode in ("P", "PA", "RGBA", "CMYK", "LA", "YCbCr")
                fr = frame.convert("RGB") if convertible else frame
                if not is_colour(fr):
                    continue
                colour += 1
                wmm, hmm = physical_size_mm(fr)
                seals.extend(s.to_json() for s in find_seals(fr, index + 1, wmm, hmm, min_conf))
            except Exception as exc:  # noqa: BLE001 - no seal evidence: never a pass, only less
                log.info("seal search on %s frame %d failed: %r", name, index + 1, exc)
    facts.update(seal=seals, seal_searched_pages=searched, seal_colour_pages=colour)
    return InspectionResult(facts=facts)


__all__ = ["inspect_image", "physical_size_mm"]
