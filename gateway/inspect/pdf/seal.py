"""Seal evidence (con dấu): a red, roughly circular stamp on a scanned page.

The page image is brought to a working scale of a few pixels per millimetre (a JPEG page is
decoded at the reduced DCT scale nearest to it, and an image already near it is searched at
its own scale rather than resized), red-dominant pixels are masked, nearby red marks are
joined into candidate regions, and each region of a seal's size (about 24–65 mm across,
near-square bounding box) is scored on how a seal impression looks: red all around a circle
(the outer ring, even where a signature crosses it), nothing red outside that circle, and a
hollow interior (ring text and a star, not a filled disc). Red headings, red logos,
rectangular urgency stamps and small round emblems fail on size, shape or fill.

This is evidence for the auditor, not proof: a seal can be printed, and a greyscale scan
shows none.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageChops, ImageFilter

WORK_PX_PER_MM = 3.0
GRID_MM = 1.0
MIN_SEAL_MM = 24.0
MAX_SEAL_MM = 65.0
NATIVE_SCALE = (0.85, 1.2)
"""Images between these multiples of the working scale are searched at their own scale."""
MAX_DECODE_PIXELS = 80_000_000
"""Images with more pixels than this are not decoded (a scan at 600 dpi of A3 is ~70 MP);
it is below Pillow's own decompression-bomb bound, which stays in force."""


@dataclass(frozen=True)
class SealEvidence:
    page: int
    x: float
    """Centre, as a share of the page width from the left (0..1)."""
    y: float
    """Centre, as a share of the page height from the top (0..1)."""
    diameter_mm: float
    confidence: float

    @property
    def position(self) -> str:
        v = "top" if self.y < 1 / 3 else ("middle" if self.y < 2 / 3 else "bottom")
        h = "left" if self.x < 1 / 3 else ("centre" if self.x < 2 / 3 else "right")
        return f"{v}-{h}"

    def to_json(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "position": self.position,
            "x": round(self.x, 3),
            "y": round(self.y, 3),
            "diameter_mm": round(self.diameter_mm, 1),
            "confidence": round(self.confidence, 2),
        }


def is_colour(img: Image.Image) -> bool:
    return img.mode not in ("1", "L", "LA", "I", "I;16", "F")


def red_mask(img: Image.Image) -> Image.Image:
    """255 where the pixel is clearly red (R well above both G and B), else 0."""
    if img.mode != "RGB":
        img = img.convert("RGB")
    r, g, b = img.split()
    excess = ImageChops.darker(ImageChops.subtract(r, g), ImageChops.subtract(r, b))
    strong = excess.point(lambda v: 255 if v >= 45 else 0)
    bright = r.point(lambda v: 255 if v >= 100 else 0)
    return ImageChops.multiply(strong, bright)


def _components(grid: Image.Image) -> list[tuple[int, int, int, int, int]]:
    """Connected components (8-neighbour) of a small binary image: (x0, y0, x1, y1, cells)."""
    w, h = grid.size
    data = grid.tobytes()
    seen = bytearray(len(data))
    out = []
    start = -1
    while True:
        # the next set cell (a grid holds 0 or 255): found in C, not cell by cell
        start = data.find(b"\xff", start + 1)
        if start < 0:
            break
        if seen[start]:
            continue
        seen[start] = 1
        stack = [start]
        x0 = x1 = start % w
        y0 = y1 = start // w
        cells = 0
        while stack:
            p = stack.pop()
            cells += 1
            px, py = p % w, p // w
            if px < x0:
                x0 = px
            elif px > x1:
                x1 = px
            if py < y0:
                y0 = py
            elif py > y1:
                y1 = py
            for dy in (-1, 0, 1):
                ny = py + dy
                if ny < 0 or ny >= h:
                    continue
                base = ny * w
                for dx in (-1, 0, 1):
                    nx = px + dx
                    if 0 <= nx < w:
                        q = base + nx
                        if data[q] and not seen[q]:
                            seen[q] = 1
                            stack.append(q)
        out.append((x0, y0, x1 + 1, y1 + 1, cells))
    return out


def _score(mask: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, float, float, float]:
    """(confidence, centre x, centre y, diameter px) of a candidate in working pixels."""
    x0, y0, x1, y1 = box
    crop = mask.crop(box)
    w, h = crop.size
    cx, cy = w / 2, h / 2
    radius = (w + h) / 4
    if radius < 3:
        return 0.0, 0, 0, 0
    data = crop.tobytes()
    sectors = [0] * 36
    ring = inside = outside = total = 0
    r_in2, r_ring0, r_ring1, r_out = ((0.6 * radius) ** 2, (0.8 * radius) ** 2,
                                      (1.1 * radius) ** 2, (1.2 * radius) ** 2)
    for i in range(0, len(data)):
        if not data[i]:
            continue
        total += 1
        dx = (i % w) + 0.5 - cx
        dy = (i // w) + 0.5 - cy
        d2 = dx * dx + dy * dy
        if d2 > r_out:
            outside += 1
        elif r_ring0 <= d2 <= r_ring1:
            ring += 1
            sectors[int((math.atan2(dy, dx) + math.pi) / (2 * math.pi) * 36) % 36] += 1
        elif d2 < r_in2:
            inside += 1
    if total == 0:
        return 0.0, 0, 0, 0
    ring_cov = sum(1 for s in sectors if s) / 36
    outside_frac = outside / total
    fill = total / (math.pi * radius * radius)
    ring_area = math.pi * radius * radius * (1.1 ** 2 - 0.8 ** 2)
    in_area = math.pi * (0.6 * radius) ** 2
    ring_density = ring / ring_area
    inner_density = inside / in_area
    aspect = min(w, h) / max(w, h)
    conf = ring_cov ** 1.5
    conf *= max(0.0, 1 - 4 * outside_frac)
    conf *= 1.0 if 0.03 <= fill <= 0.55 else 0.35
    conf *= 1.0 if ring_density >= inner_density * 0.9 else 0.6
    conf *= min(1.0, max(0.0, (aspect - 0.6) / 0.25))
    return conf, x0 + cx, y0 + cy, 2 * radius


def near_working_scale(size: tuple[int, int], width_mm: float, height_mm: float) -> bool:
    """Whether an image of ``size`` pixels spanning ``width_mm`` × ``height_mm`` is close
    enough to the working scale to be searched as it is, at its own scale, rather than
    resized (a resize costs more than the search; a JPEG page decoded at a reduced DCT scale
    usually lands in this band)."""
    if width_mm <= 0 or height_mm <= 0:
        return False
    lo, hi = WORK_PX_PER_MM * NATIVE_SCALE[0], WORK_PX_PER_MM * NATIVE_SCALE[1]
    return lo <= size[0] / width_mm <= hi and lo <= size[1] / height_mm <= hi


def find_seals(img: Image.Image, page: int, width_mm: float, height_mm: float,
               min_confidence: float = 0.5) -> list[SealEvidence]:
    """Seal candidates on one page image that spans ``width_mm`` × ``height_mm``."""
    if not is_colour(img):
        return []
    if img.mode != "RGB":
        img = img.convert("RGB")
    tw = max(1, int(width_mm * WORK_PX_PER_MM))
    th = max(1, int(height_mm * WORK_PX_PER_MM))
    ppm = WORK_PX_PER_MM
    if img.size != (tw, th):
        if near_working_scale(img.size, width_mm, height_mm):
            tw, th = img.size
            ppm = (tw / width_mm + th / height_mm) / 2
        else:
            img = img.resize((tw, th), Image.Resampling.BILINEAR, reducing_gap=2.0)
    mask = red_mask(img)
    if mask.getbbox() is None:
        return []
    step = max(1, int(round(ppm * GRID_MM)))
    cell_mm = step / ppm
    grid = mask.reduce(step).point(lambda v: 255 if v >= 20 else 0)
    grid = grid.filter(ImageFilter.MaxFilter(3))  # join marks up to ~2 mm apart (ring letters)
    out: list[SealEvidence] = []
    for gx0, gy0, gx1, gy1, _cells in _components(grid):
        wmm, hmm = (gx1 - gx0) * cell_mm, (gy1 - gy0) * cell_mm
        if not (MIN_SEAL_MM <= max(wmm, hmm) <= MAX_SEAL_MM and min(wmm, hmm) >= MIN_SEAL_MM * 0.7):
            continue
        box = (gx0 * step, gy0 * step, min(tw, gx1 * step), min(th, gy1 * step))
        # the dilation grew the region by about a grid cell on each side: trim it back
        tight = mask.crop(box).getbbox()
        if tight is None:
            continue
        box = (box[0] + tight[0], box[1] + tight[1], box[0] + tight[2], box[1] + tight[3])
        conf, cx, cy, diam = _score(mask, box)
        if conf >= min_confidence:
            out.append(SealEvidence(page, cx / tw, cy / th, diam / ppm, conf))
    out.sort(key=lambda s: -s.confidence)
    return out


# -- page images out of a PDF ------------------------------------------------------------------


def _filters(stream: Any) -> list[str]:
    from gateway.inspect.pdf.layout import resolve

    f = resolve(stream.get("/Filter"))
    if f is None:
        return []
    if isinstance(f, list):
        return [str(resolve(x)) for x in f]
    return [str(f)]


def decode_pdf_image(stream: Any, target_px: tuple[int, int] | None = None) -> Image.Image | None:
    """A PDF image XObject as a Pillow image, or None when it has no colour to look at
    (bi-level fax/JBIG2, image masks) or cannot be decoded within limits."""

    from gateway.inspect.pdf.layout import resolve as res

    if res(stream.get("/ImageMask")):
        return None
    try:
        width, height = int(res(stream["/Width"])), int(res(stream["/Height"]))
    except (KeyError, TypeError, ValueError):
        return None
    if width <= 0 or height <= 0 or width * height > MAX_DECODE_PIXELS:
        return None
    filters = _filters(stream)
    last = filters[-1] if filters else None
    if last in ("/CCITTFaxDecode", "/JBIG2Decode", "/CCF"):
        return None
    if last in ("/DCTDecode", "/DCT", "/JPXDecode"):
        raw = stream.encoded_data if len(filters) == 1 else _partial_decode(stream)
        if raw is None:
            return None
        img: Image.Image = Image.open(io.BytesIO(raw))
        if target_px and last in ("/DCTDecode", "/DCT"):
            # the JPEG decoder's own reduction (1/2 to 1/8 of the size, several times faster
            # than a full decoding): the smallest that keeps the search at its working scale
            img.draft("RGB", (math.ceil(target_px[0] * NATIVE_SCALE[0]),
                              math.ceil(target_px[1] * NATIVE_SCALE[0])))
        img.load()
        if img.mode == "CMYK":
            # Adobe CMYK JPEGs are stored inverted
            app = getattr(img, "app", {}) or {}
            if "ADOBE" in app:
                img = ImageChops.invert(img)
            img = img.convert("RGB")
        return img
    bpc = int(res(stream.get("/BitsPerComponent", 8)) or 8)
    cs = res(stream.get("/ColorSpace"))
    mode, palette = _mode(cs, res)
    if mode is None or bpc != 8:
        return None
    need = width * height * {"L": 1, "RGB": 3, "CMYK": 4, "P": 1}[mode]
    data = stream.data
    if len(data) < need:
        return None
    img = Image.frombytes(mode, (width, height), data[:need])
    if palette is not None:
        img.putpalette(palette)
        img = img.convert("RGB")
    elif mode == "CMYK":
        img = img.convert("RGB")
    return img


def _partial_decode(stream: Any) -> bytes | None:
    return None  # a JPEG inside another filter: rare in scans, not decoded


def _mode(cs: Any, res: Any) -> tuple[str | None, bytes | None]:
    name = str(cs) if not isinstance(cs, list) else str(res(cs[0]))
    if name in ("/DeviceRGB", "/CalRGB", "/RGB"):
        return "RGB", None
    if name in ("/DeviceGray", "/CalGray", "/G"):
        return "L", None
    if name in ("/DeviceCMYK", "/CMYK"):
        return "CMYK", None
    if name == "/ICCBased" and isinstance(cs, list) and len(cs) > 1:
        try:
            n = int(res(cs[1]).get("/N", 3))
        except (AttributeError, KeyError, TypeError, ValueError, IndexError):
            n = 3  # an unreadable ICC profile: assume RGB (only the seal search uses it)
        return {1: "L", 3: "RGB", 4: "CMYK"}.get(n), None
    if name in ("/Indexed", "/I") and isinstance(cs, list) and len(cs) == 4:
        base, _ = _mode(res(cs[1]), res)
        lookup = res(cs[3])
        table = lookup.data if hasattr(lookup, "data") else bytes(lookup)
        if base == "RGB":
            return "P", table[: 256 * 3]
        return None, None
    return None, None
