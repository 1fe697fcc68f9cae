"""Page images like a scanner's: typed text, a red round seal with text around the ring, a blue
signature; and counter-examples with red that is not a seal (headings, logos, urgency boxes).

Sizes are in millimetres at ``dpi`` so the seal has its real size (Vietnamese agency seals are
about 35–42 mm across). Everything is drawn with Pillow from a seed: reproducible, no files.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

RED = (205, 35, 45)
BLUE = (25, 45, 165)
INK = (30, 30, 30)
PAPER = (246, 244, 238)


def _font(px: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=px)


@dataclass(frozen=True)
class ScanSpec:
    """What to draw on one page (all optional)."""

    seal: bool = True
    signature: bool = True
    red_heading: bool = False
    red_logo: bool = False
    red_box: bool = False
    """A red rectangular urgency stamp (KHẨN), a red shape that is not round."""
    small_red_ring_logo: bool = False
    """A small red ring (an emblem of 15 mm): round and red, but far smaller than a seal."""
    red_disc_logo: bool = False
    """A filled red disc emblem of 30 mm with a white star: seal-sized and round, but solid."""
    faded_seal: bool = False
    seal_mm: float = 38.0
    seal_at: tuple[float, float] = (0.62, 0.78)
    """Seal centre as a share of page width and height."""
    grayscale: bool = False
    seed: int = 0


def mm(dpi: int, value: float) -> int:
    return int(round(value / 25.4 * dpi))


def draw_seal(img: Image.Image, cx: int, cy: int, diameter: int, rng: random.Random,
              color: tuple[int, int, int] = RED, faded: bool = False) -> None:
    """A round seal: two rings, the unit's name around the ring, a star and a line inside."""
    layer = Image.new("L", img.size, 0)
    d = ImageDraw.Draw(layer)
    r = diameter // 2
    w_outer = max(3, diameter // 45)
    d.ellipse((cx - r, cy - r, cx + r, cy + r), outline=255, width=w_outer)
    ri = int(r * 0.70)
    d.ellipse((cx - ri, cy - ri, cx + ri, cy + ri), outline=255, width=max(2, w_outer // 2))
    # text around the ring, letter by letter, rotated to follow the circle
    text = "UY BAN NHAN DAN TINH * SO NOI VU * "
    fpx = max(10, int(r * 0.17))
    font = _font(fpx)
    rt = (r + ri) / 2
    for i, ch in enumerate(text):
        ang = -math.pi / 2 + 2 * math.pi * i / len(text)
        glyph = Image.new("L", (fpx * 2, fpx * 2), 0)
        ImageDraw.Draw(glyph).text((fpx // 2, fpx // 3), ch, fill=255, font=font)
        glyph = glyph.rotate(-math.degrees(ang) - 90, resample=Image.Resampling.BILINEAR)
        gx = int(cx + rt * math.cos(ang)) - fpx
        gy = int(cy + rt * math.sin(ang)) - fpx
        layer.paste(glyph, (gx, gy), glyph)
    # star and the unit's short name in the centre
    star = []
    for k in range(10):
        rr = r * (0.22 if k % 2 == 0 else 0.09)
        a = -math.pi / 2 + k * math.pi / 5
        star.append((cx + rr * math.cos(a), cy - r * 0.18 + rr * math.sin(a)))
    d.polygon(star, fill=255)
    d.text((cx - int(r * 0.45), cy + int(r * 0.12)), "SO NOI VU", fill=255,
           font=_font(max(9, int(r * 0.16))))
    if faded:
        noise = Image.effect_noise(img.size, 90).point(lambda v: 255 if v > 110 else 0)
        layer = Image.composite(layer, Image.new("L", img.size, 0), noise)
    layer = layer.filter(ImageFilter.GaussianBlur(0.8))
    # ink darkens the paper (multiply), as a stamp over a signature does
    ink = Image.new("RGB", img.size, color)
    mixed = Image.composite(ink, img, layer.point(lambda v: int(v * 0.85)))
    img.paste(mixed)


def draw_signature(img: Image.Image, x: int, y: int, width: int, rng: random.Random) -> None:
    d = ImageDraw.Draw(img)
    pts = []
    for i in range(60):
        t = i / 59
        pts.append((x + t * width + rng.uniform(-6, 6),
                    y + math.sin(t * math.pi * 5 + rng.uniform(0, 0.5)) * width * 0.08
                    + rng.uniform(-4, 4)))
    d.line(pts, fill=BLUE, width=3, joint="curve")
    d.line([(x + width * 0.1, y + 20), (x + width * 0.9, y - 15)], fill=BLUE, width=2)


def page_image(spec: ScanSpec = ScanSpec(), dpi: int = 100) -> Image.Image:
    rng = random.Random(spec.seed)
    w, h = mm(dpi, 210), mm(dpi, 297)
    img = Image.new("RGB", (w, h), PAPER)
    d = ImageDraw.Draw(img)
    body = _font(max(9, mm(dpi, 3.2)))
    margin = mm(dpi, 25)
    y = mm(dpi, 20)
    if spec.red_logo:
        # a red emblem: triangle and bar (not round), like a party or union logo
        s = mm(dpi, 16)
        d.polygon([(margin, y + s), (margin + s // 2, y), (margin + s, y + s)], fill=RED)
        d.rectangle((margin, y + s + 4, margin + s, y + s + mm(dpi, 3)), fill=RED)
    if spec.small_red_ring_logo:
        s = mm(dpi, 15)
        x0 = w - margin - s
        d.ellipse((x0, y, x0 + s, y + s), outline=RED, width=max(2, s // 12))
        d.ellipse((x0 + s // 3, y + s // 3, x0 + 2 * s // 3, y + 2 * s // 3), fill=RED)
    if spec.red_disc_logo:
        s = mm(dpi, 30)
        x0 = w // 2 - s // 2
        d.ellipse((x0, y + mm(dpi, 40), x0 + s, y + mm(dpi, 40) + s), fill=RED)
        c = (x0 + s / 2, y + mm(dpi, 40) + s / 2)
        angles = [-math.pi / 2 + k * 4 * math.pi / 5 for k in range(5)]
        d.polygon([(c[0] + s * 0.3 * math.cos(a), c[1] + s * 0.3 * math.sin(a)) for a in angles],
                  fill=(250, 230, 60))
    d.text((margin + mm(dpi, 22), y), "UY BAN NHAN DAN TINH", fill=INK, font=body)
    d.text((w // 2, y), "CONG HOA XA HOI CHU NGHIA VIET NAM", fill=INK, font=body)
    y += mm(dpi, 14)
    if spec.red_heading:
        big = _font(mm(dpi, 7))
        d.text((w // 2 - mm(dpi, 40), y), "QUYET DINH KHAN", fill=RED, font=big)
        d.line((margin, y + mm(dpi, 10), w - margin, y + mm(dpi, 10)), fill=RED, width=3)
        y += mm(dpi, 14)
    if spec.red_box:
        bx, by = w - margin - mm(dpi, 40), mm(dpi, 40)
        d.rectangle((bx, by, bx + mm(dpi, 36), by + mm(dpi, 14)), outline=RED, width=4)
        d.text((bx + mm(dpi, 6), by + mm(dpi, 3)), "HOA TOC", fill=RED, font=_font(mm(dpi, 6)))
    words = ("thuc hien chi dao cua uy ban nhan dan tinh ve cong tac van thu luu tru so noi vu "
             "de nghi cac co quan don vi ra soat bao cao ket qua truoc ngay").split()
    line_h = mm(dpi, 6)
    while y < h * 0.66:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(9, 13)))
        d.text((margin, y), line.capitalize(), fill=INK, font=body)
        y += line_h
    sx, sy = int(w * spec.seal_at[0]), int(h * spec.seal_at[1])
    d.text((sx - mm(dpi, 20), sy - mm(dpi, 28)), "GIAM DOC", fill=INK, font=body)
    if spec.signature:
        draw_signature(img, sx - mm(dpi, 12), sy, mm(dpi, 40), rng)
    if spec.seal:
        draw_seal(img, sx - mm(dpi, 14), sy, mm(dpi, spec.seal_mm), rng, faded=spec.faded_seal)
    d.text((sx - mm(dpi, 18), sy + mm(dpi, 24)), "Nguyen Van A", fill=INK, font=body)
    # scanner: slight blur and noise
    img = img.filter(ImageFilter.GaussianBlur(0.6))
    noise = Image.effect_noise(img.size, 12).convert("RGB")
    img = Image.blend(img, noise, 0.04)
    if spec.grayscale:
        img = img.convert("L")
    return img


def seal_dataset(dpi: int = 100) -> list[tuple[str, Image.Image, bool]]:
    """Labelled pages for measuring the seal detector: (name, image, has_seal)."""
    out: list[tuple[str, Image.Image, bool]] = []
    for seed in range(4):
        out.append((f"seal-{seed}", page_image(ScanSpec(seed=seed), dpi), True))
    out.append(("seal-small-32mm", page_image(ScanSpec(seal_mm=32, seed=11), dpi), True))
    out.append(("seal-large-45mm", page_image(ScanSpec(seal_mm=45, seed=12), dpi), True))
    out.append(("seal-faded", page_image(ScanSpec(faded_seal=True, seed=13), dpi), True))
    out.append(("seal-red-heading", page_image(ScanSpec(red_heading=True, seed=14), dpi), True))
    out.append(("seal-left", page_image(ScanSpec(seal_at=(0.35, 0.8), seed=15), dpi), True))
    out.append(("no-seal", page_image(ScanSpec(seal=False, seed=20), dpi), False))
    out.append(("no-seal-no-signature",
                page_image(ScanSpec(seal=False, signature=False, seed=21), dpi), False))
    out.append(("red-heading",
                page_image(ScanSpec(seal=False, red_heading=True, seed=22), dpi), False))
    out.append(("red-logo", page_image(ScanSpec(seal=False, red_logo=True, seed=23), dpi), False))
    out.append(("red-urgency-box",
                page_image(ScanSpec(seal=False, red_box=True, seed=24), dpi), False))
    out.append(("small-red-ring-logo",
                page_image(ScanSpec(seal=False, small_red_ring_logo=True, seed=25), dpi), False))
    out.append(("red-disc-emblem",
                page_image(ScanSpec(seal=False, red_disc_logo=True, seed=27), dpi), False))
    out.append(("all-red-distractors",
                page_image(ScanSpec(seal=False, red_heading=True, red_logo=True, red_box=True,
                                    small_red_ring_logo=True, seed=26), dpi), False))
    return out
