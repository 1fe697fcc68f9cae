"""Deterministic corpora of provincial mail for the Postfix benchmark.

``mix`` is the realistic mix (shares of the messages):

* 40 % an Office document signed by the test signer (DOCX 70 %, XLSX 30 %), 50 KB–2 MB
  (log-uniform): Vietnamese text in the main part plus a scanned-looking image;
* 20 % a scanned PDF of 1–5 MB (page images from ``tests/pdfgen``, JPEG, with seal and
  signature);
* 10 % a born-digital PDF signed by the test signer (PAdES);
* 15 % text only, 2–40 KB, a third of them in a legacy encoding (TCVN3 bytes behind
  ISO-8859-1, Windows-1258 declared, VNI bytes behind ISO-8859-1);
* 10 % from a free-mail sender (half with a small document);
* 5 % a 10–25 MB attachment (a scanned PDF padded to that size).

Single-kind corpora: ``text110k`` (110 KB Vietnamese UTF-8 text bodies), ``docx1m`` (one
1 MB signed DOCX each), ``big26m`` (one 26 MB attachment, about 36 MB on the wire).

Everything is drawn from ``random.Random(seed)``: the same seed gives the same messages,
kinds, texts and sizes, except the signature bytes (fresh RSA keys each run) and the pixel
grain of scanned pages (drawn by ``tests/pdfgen`` without a seed).
``scale`` (< 1 for the quick mode) shrinks every attachment size.
"""

from __future__ import annotations

import io
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

AGENCY = "van-thu@stc.daknong.gov.vn"
RECIPIENT = "ubnd@daknong.gov.vn"
FREEMAIL = ("nguyenvana@gmail.com", "tranthib@yahoo.com.vn", "lec@outlook.com")
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

MIX = (("office", 0.40), ("scan", 0.20), ("signed_pdf", 0.10), ("text", 0.15),
       ("freemail", 0.10), ("big", 0.05))
KINDS = ("mix", "text110k", "docx1m", "big26m")
PAGE_BYTES = 420_000
"""About the size of one scanned page (A4, 150 dpi, JPEG quality 75, with grain)."""


@dataclass
class Mail:
    kind: str
    sender: str
    data: bytes
    """CRLF wire bytes."""


@dataclass
class Signer:
    key: Any
    cert: Any
    issued: Any
    chain: list[bytes]
    rules: str
    """Rules override that makes the gateway trust the test PKI."""


def make_signer(base: Path) -> Signer:
    """The test PKI under ``base`` and a signer valid around the real clock (the gateway in
    the lab checks signatures at "now")."""
    from tests.pki import REVOKED_AT, crl_der, generate, issue, make_crl

    pki = generate(base)
    now = datetime.now(UTC)
    # CRLs current at the real clock (the test PKI's own are dated for its fixed test clock)
    crls = base / "crls-now"
    crls.mkdir()
    this_update, next_update = now - timedelta(days=1), now + timedelta(days=30)
    (crls / "intermediate.crl").write_bytes(crl_der(make_crl(
        pki.intermediate, [(pki.revoked, REVOKED_AT)], number=2, this_update=this_update,
        next_update=next_update)))
    (crls / "root.crl").write_bytes(crl_der(make_crl(
        pki.root, number=2, this_update=this_update, next_update=next_update)))
    who = issue("bench", "Văn thư Sở Tài chính", 0x2F11, pki.intermediate,
                now - timedelta(days=2), now + timedelta(days=60), org="Sở Tài chính")
    rules = (f'[trust]\nanchors = ["{pki.anchors_dir}"]\n'
             f'intermediates = ["{pki.intermediates_dir}"]\ncrl-cache = "{crls}"\n')
    return Signer(who.key, who.cert, who, [pki.intermediate.der], rules)


# ------------------------------------------------------------------------------------------
# Pieces


def _words() -> list[str]:
    """The vocabulary: the tests' own Vietnamese texts (not the regulation, which is only
    present beside some checkouts: the corpus must not depend on where it is built)."""
    from gateway.inspect.text.vietnamese import WORD_RE
    from tests.textgen.samples import VIETNAMESE

    return WORD_RE.findall("\n".join(VIETNAMESE.values()))


class Gen:
    def __init__(self, seed: int, scale: float, signer: Signer | None) -> None:
        self.rng = random.Random(seed)
        self.scale = scale
        self.signer = signer
        self.words = _words()
        self._pages: list[Any] = []

    def size(self, lo: float, hi: float) -> int:
        """Log-uniform size in [lo, hi] bytes, scaled."""
        return int(math.exp(self.rng.uniform(math.log(lo), math.log(hi))) * self.scale)

    def text(self, n_bytes: int) -> str:
        out: list[str] = []
        size = 0
        while size < n_bytes:
            p = " ".join(self.rng.choice(self.words) for _ in range(self.rng.randint(8, 40)))
            p = p.capitalize() + "."
            out.append(p)
            size += len(p.encode("utf-8")) + 1
        return "\n".join(out) + "\n"

    def noise_png(self, n_bytes: int) -> bytes:
        from PIL import Image

        side = max(8, int(math.sqrt(max(n_bytes, 192) / 3)))
        img = Image.frombytes("RGB", (side, side), self.rng.randbytes(side * side * 3))
        buf = io.BytesIO()
        img.save(buf, "PNG", compress_level=1)
        return buf.getvalue()

    def page(self) -> Any:
        from tests.pdfgen.scans import ScanSpec, page_image

        if len(self._pages) < 4:
            from PIL import Image

            n = len(self._pages)
            img = page_image(ScanSpec(seed=n), dpi=150)
            # scanner grain from its own seeded stream (Pillow's effect_noise is not seeded)
            noise = random.Random(1000 + n).randbytes(img.size[0] * img.size[1])
            grain = Image.frombytes("L", img.size, noise).convert("RGB")
            self._pages.append(Image.blend(img, grain, 0.12))
        return self.rng.choice(self._pages)

    def scanned_pdf(self, n_bytes: int) -> bytes:
        from tests.pdfgen.build import scanned_pdf

        # a fixed page size estimate keeps the draws from the seeded stream the same (the
        # page images carry unseeded grain from tests/pdfgen, so their sizes vary a little)
        pages = max(1, round(n_bytes / PAGE_BYTES))
        return scanned_pdf([self.page() for _ in range(pages)], quality=75)

    def signed_office(self, kind: str, n_bytes: int) -> bytes:
        from tests import signer as S

        assert self.signer is not None
        body = self.text(min(n_bytes // 3, 400_000)).replace("\n", " ")
        media = "word/media/image1.png" if kind == "docx" else "xl/media/image1.png"
        parts = S.make_ooxml(kind, body=body)
        parts[media] = self.noise_png(max(1, n_bytes - len(body.encode("utf-8")) // 3))
        now = datetime.now(UTC)
        signed = S.sign_ooxml(parts, self.signer.key, self.signer.cert, chain=self.signer.chain,
                              signing_time=now - timedelta(minutes=5))
        return S.zip_package(signed)

    def signed_pdf(self) -> bytes:
        from tests.pdfgen.build import born_digital_pdf
        from tests.pdfgen.sign import sign

        assert self.signer is not None
        return sign(born_digital_pdf(self.rng.randint(1, 4)), self.signer.issued,
                    self.signer.chain)


def message(sender: str, subject: str, body: str,
            attachments: Sequence[tuple[str, bytes, str]] = (), charset: str = "utf-8",
            raw_body: bytes | None = None, n: int = 0) -> bytes:
    from gateway.lab import to_bytes

    m = EmailMessage()
    m["From"] = sender
    m["To"] = RECIPIENT
    m["Subject"] = subject
    m["Message-ID"] = f"<bench-{n:06d}@stc.daknong.gov.vn>"
    if raw_body is not None:
        m.set_content(raw_body, maintype="text", subtype="plain", cte="base64")
        m.replace_header("Content-Type", f"text/plain; charset={charset}")
    else:
        m.set_content(body)
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    if m.is_multipart():
        m.set_boundary(f"=_bench_{n:06d}_boundary")  # the default one is random
    return to_bytes(m)


# ------------------------------------------------------------------------------------------
# Corpora


def _one(g: Gen, kind: str, n: int) -> Mail:
    from gateway.inspect.text import legacy

    subject = f"Công văn số {100 + n}/STC-NS về việc báo cáo"
    note = g.text(600)
    if kind == "office":
        fmt = "docx" if g.rng.random() < 0.7 else "xlsx"
        data = g.signed_office(fmt, g.size(50_000, 2_000_000))
        att = [(f"Công văn {n}.{fmt}", data, DOCX if fmt == "docx" else XLSX)]
        return Mail(kind, AGENCY, message(AGENCY, subject, note, att, n=n))
    if kind == "scan":
        data = g.scanned_pdf(g.size(1_000_000, 5_000_000))
        return Mail(kind, AGENCY, message(AGENCY, subject, note,
                                          [(f"Quyết định {n}.pdf", data, "application/pdf")], n=n))
    if kind == "signed_pdf":
        attachment = (f"Tờ trình {n}.pdf", g.signed_pdf(), "application/pdf")
        return Mail(kind, AGENCY, message(AGENCY, subject, note, [attachment], n=n))
    if kind == "text":
        body = g.text(math.ceil(g.size(2_000, 40_000) / g.scale))
        r = g.rng.random()
        if r < 1 / 9:
            return Mail("text-tcvn3", AGENCY, message(
                AGENCY, subject, "", raw_body=legacy.encode_bytes(body, "tcvn3", errors="replace"),
                charset="iso-8859-1", n=n))
        if r < 2 / 9:
            return Mail("text-cp1258", AGENCY, message(
                AGENCY, subject, "", raw_body=legacy.encode_bytes(body, "cp1258", errors="replace"),
                charset="windows-1258", n=n))
        if r < 3 / 9:
            return Mail("text-vni", AGENCY, message(
                AGENCY, subject, "", raw_body=legacy.encode_bytes(body, "vni", errors="replace"),
                charset="iso-8859-1", n=n))
        return Mail(kind, AGENCY, message(AGENCY, subject, body, n=n))
    if kind == "freemail":
        sender = g.rng.choice(FREEMAIL)
        att = []
        if g.rng.random() < 0.5:
            att = [(f"Báo cáo {n}.pdf", g.scanned_pdf(g.size(200_000, 800_000)), "application/pdf")]
        return Mail(kind, sender, message(sender, subject, note, att, n=n))
    if kind == "big":
        return Mail(kind, AGENCY, _big(g, g.size(10_000_000, 25_000_000), n))
    raise ValueError(kind)


def _big(g: Gen, size: int, n: int) -> bytes:
    from gateway.demo import filler

    pdf = g.scanned_pdf(1)
    data = pdf + filler(max(0, size - len(pdf)))
    return message(AGENCY, "Hồ sơ dự án (bản quét)", g.text(600),
                   [(f"Hồ sơ {n}.pdf", data, "application/pdf")], n=n)


def build(kind: str, count: int, *, seed: int = 12, scale: float = 1.0,
          signer: Signer | None = None, first: int = 0) -> list[Mail]:
    """``count`` messages of corpus ``kind`` (see the module doc); Message-IDs are
    ``<bench-NNNNNN@…>`` numbered from ``first``."""
    mails = _build(kind, count, seed, scale, signer)
    if first:
        for i, m in enumerate(mails):
            m.data = m.data.replace(f"<bench-{i:06d}@".encode(),
                                    f"<bench-{first + i:06d}@".encode(), 1)
    return mails


def _build(kind: str, count: int, seed: int, scale: float, signer: Signer | None) -> list[Mail]:
    g = Gen(seed, scale, signer)
    if kind == "mix":
        # exact shares (largest remainder), then a seeded shuffle
        quotas = [(k, share * count) for k, share in MIX]
        counts = {k: int(q) for k, q in quotas}
        for k, _q in sorted(quotas, key=lambda kq: kq[1] - int(kq[1]), reverse=True):
            if sum(counts.values()) >= count:
                break
            counts[k] += 1
        order = [k for k, c in counts.items() for _ in range(c)]
        g.rng.shuffle(order)
        return [_one(g, k, i) for i, k in enumerate(order)]
    if kind == "text110k":
        body = g.text(110 * 1024)
        return [Mail(kind, AGENCY, message(AGENCY, "Báo cáo tình hình", body, n=i))
                for i in range(count)]
    if kind == "docx1m":
        data = g.signed_office("docx", int(1_000_000 * g.scale))
        return [Mail(kind, AGENCY, message(AGENCY, "Công văn", g.text(600),
                                           [("Công văn.docx", data, DOCX)], n=i))
                for i in range(count)]
    if kind == "big26m":
        return [Mail(kind, AGENCY, _big(g, int(26 * 2**20 * scale), i)) for i in range(count)]
    raise ValueError(f"unknown corpus {kind!r}; have {', '.join(KINDS)}")
