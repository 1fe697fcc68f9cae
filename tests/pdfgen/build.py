"""A small PDF writer for tests: exact control over page structure, no external tools.

Pages are described by :class:`Page`: an optional full-page (or partial) image, visible text,
invisible OCR text (text render mode 3), vector paths, and form fields. The output is a
classic (xref table) PDF 1.7 that pyHanko can sign incrementally.
"""

from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field

from PIL import Image

A4 = (595.0, 842.0)


def _esc(text: str) -> bytes:
    data = text.encode("latin-1", "replace")
    return data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


@dataclass
class PlacedImage:
    image: Image.Image
    box: tuple[float, float, float, float] | None = None
    """x, y, width, height in points; None = the whole page."""
    encoding: str = "jpeg"
    """``jpeg`` (DCTDecode) or ``flate`` (FlateDecode RGB/gray)."""
    quality: int = 60


@dataclass
class Page:
    size: tuple[float, float] = A4
    images: list[PlacedImage] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    """Visible text lines (Helvetica 11 pt), top to bottom."""
    ocr_text: list[str] = field(default_factory=list)
    """Invisible text (render mode 3), as an OCR engine lays over a scan."""
    rules: int = 0
    """Number of vector lines (table rules) drawn."""
    text_field: str | None = None
    """Name of a text form field placed on this page."""


class PdfBuilder:
    def __init__(self) -> None:
        self.objects: list[bytes | None] = []

    def reserve(self) -> int:
        self.objects.append(None)
        return len(self.objects)

    def set(self, num: int, body: bytes) -> int:
        self.objects[num - 1] = body
        return num

    def add(self, body: bytes) -> int:
        self.objects.append(body)
        return len(self.objects)

    def stream(self, entries: bytes, data: bytes, compress: bool = True) -> int:
        if compress:
            data = zlib.compress(data)
            entries += b" /Filter /FlateDecode"
        return self.add(b"<< " + entries + b" /Length %d >>\nstream\n" % len(data) + data
                        + b"\nendstream")

    def serialize(self, root: int, info: int | None = None) -> bytes:
        out = io.BytesIO()
        out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, body in enumerate(self.objects, start=1):
            assert body is not None, f"object {i} reserved but never set"
            offsets.append(out.tell())
            out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
        xref = out.tell()
        out.write(b"xref\n0 %d\n" % (len(self.objects) + 1))
        out.write(b"0000000000 65535 f \n")
        for off in offsets:
            out.write(b"%010d 00000 n \n" % off)
        trailer = b"<< /Size %d /Root %d 0 R" % (len(self.objects) + 1, root)
        if info:
            trailer += b" /Info %d 0 R" % info
        out.write(b"trailer\n" + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref)
        return out.getvalue()


def _image_xobject(b: PdfBuilder, placed: PlacedImage) -> int:
    img = placed.image
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    cs = b"/DeviceRGB" if img.mode == "RGB" else b"/DeviceGray"
    head = (b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
            b"/BitsPerComponent 8" % (img.width, img.height, cs))
    if placed.encoding == "jpeg":
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=placed.quality)
        return b.stream(head + b" /Filter /DCTDecode", buf.getvalue(), compress=False)
    return b.stream(head, img.tobytes())


def build_pdf(pages: list[Page], *, title: str = "Test document") -> bytes:
    b = PdfBuilder()
    catalog = b.reserve()
    pages_num = b.reserve()
    font = b.add(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    page_nums: list[int] = []
    fields: list[int] = []
    for page in pages:
        w, h = page.size
        ops: list[bytes] = []
        xobjects: list[bytes] = []
        for i, placed in enumerate(page.images):
            num = _image_xobject(b, placed)
            xobjects.append(b"/Im%d %d 0 R" % (i, num))
            x, y, bw, bh = placed.box or (0.0, 0.0, w, h)
            ops.append(b"q %.2f 0 0 %.2f %.2f %.2f cm /Im%d Do Q" % (bw, bh, x, y, i))
        if page.rules:
            ops.append(b"q 0.5 w 0 0 0 RG")
            for i in range(page.rules):
                yy = h - 120 - i * 18
                ops.append(b"60 %.1f m %.1f %.1f l S" % (yy, w - 60, yy))
            ops.append(b"Q")
        if page.text:
            ops.append(b"BT /F1 11 Tf 14 TL 60 %.1f Td" % (h - 80))
            for line in page.text:
                ops.append(b"(" + _esc(line) + b") Tj T*")
            ops.append(b"ET")
        if page.ocr_text:
            ops.append(b"BT 3 Tr /F1 10 Tf")
            for i, line in enumerate(page.ocr_text):
                ops.append(b"1 0 0 1 50 %.1f Tm (" % (h - 60 - i * 13) + _esc(line) + b") Tj")
            ops.append(b"ET")
        content = b.stream(b"", b"\n".join(ops))
        res = b"/Font << /F1 %d 0 R >>" % font
        if xobjects:
            res += b" /XObject << " + b" ".join(xobjects) + b" >>"
        page_num = b.reserve()
        annots = b""
        if page.text_field:
            ap = b.stream(b"/Type /XObject /Subtype /Form /BBox [0 0 200 20]", b"")
            fnum = b.add(
                b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (" + _esc(page.text_field)
                + b") /Rect [60 60 260 80] /F 4 /P %d 0 R /DA (/Helv 10 Tf 0 g) "
                  b"/AP << /N %d 0 R >> >>" % (page_num, ap))
            fields.append(fnum)
            annots = b" /Annots [%d 0 R]" % fnum
        b.set(page_num, b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] "
              b"/Resources << %s >> /Contents %d 0 R%s >>"
              % (pages_num, w, h, res, content, annots))
        page_nums.append(page_num)
    kids = b" ".join(b"%d 0 R" % n for n in page_nums)
    b.set(pages_num, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_nums)))
    acro = b""
    if fields:
        helv = b.add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        acro = (b" /AcroForm << /Fields [%s] /DR << /Font << /Helv %d 0 R >> >> "
                b"/DA (/Helv 10 Tf 0 g) >>" % (b" ".join(b"%d 0 R" % f for f in fields), helv))
    b.set(catalog, b"<< /Type /Catalog /Pages %d 0 R%s >>" % (pages_num, acro))
    info = b.add(b"<< /Title (" + _esc(title) + b") /Producer (hople test generator) >>")
    return b.serialize(catalog, info)


LOREM = [
    "UY BAN NHAN DAN TINH - SO NOI VU",
    "Cong van so 123/SNV-VP ve viec trien khai ke hoach nam",
    "Kinh gui: Cac co quan, don vi tren dia ban tinh",
    "Thuc hien chi dao cua Uy ban nhan dan tinh ve cong tac van thu, luu tru,",
    "So Noi vu de nghi cac co quan, don vi thuc hien mot so noi dung sau day.",
    "1. Ra soat he thong van ban quy pham phap luat thuoc linh vuc quan ly.",
    "2. Bao cao ket qua thuc hien ve So Noi vu truoc ngay 30 thang 6.",
    "3. Cac don vi chiu trach nhiem to chuc thuc hien nghiem tuc noi dung tren.",
]


def born_digital_pdf(n_pages: int = 1, *, rules: int = 4) -> bytes:
    return build_pdf([Page(text=LOREM * 3, rules=rules) for _ in range(n_pages)])


def scanned_pdf(images: list[Image.Image], *, ocr: bool = False, quality: int = 60,
                encoding: str = "jpeg") -> bytes:
    pages = []
    for img in images:
        pages.append(Page(images=[PlacedImage(img, quality=quality, encoding=encoding)],
                          ocr_text=LOREM * 4 if ocr else []))
    return build_pdf(pages)


def form_pdf() -> bytes:
    """A born-digital page with one text field (for fill-after-signing tests)."""
    return build_pdf([Page(text=LOREM, text_field="ghi_chu"), Page(text=LOREM)])
