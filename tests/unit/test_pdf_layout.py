"""Scanned vs born-digital vs mixed, from page structure, and the 9.2b / 9.3 judgement."""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Sequence

import pytest
from PIL import Image

from gateway.inspect.pdf import DEFAULTS, open_reader
from gateway.inspect.pdf.layout import classify
from gateway.model.findings import Severity
from gateway.model.report import DocVerdict
from gateway.policy.schema import Pdf
from tests.pdfgen.build import (
    LOREM,
    Page,
    PdfBuilder,
    PlacedImage,
    born_digital_pdf,
    build_pdf,
    scanned_pdf,
)
from tests.pdfgen.check import check, codes, inspect
from tests.pdfgen.scans import ScanSpec, page_image


@pytest.fixture(scope="module")
def sealed() -> Image.Image:
    return page_image(ScanSpec(seed=7))


@pytest.fixture(scope="module")
def unsealed() -> Image.Image:
    return page_image(ScanSpec(seal=False, seed=8))


def test_inspector_defaults_match_the_rules_schema() -> None:
    assert DEFAULTS == dataclasses.asdict(Pdf())


def test_image_only_pages_are_scanned(sealed):
    lay = classify(open_reader(scanned_pdf([sealed, sealed])))
    assert lay.kind == "scanned" and lay.total_pages == 2
    assert all(p.image_coverage == 1.0 and p.visible_chars == 0 for p in lay.pages)


def test_invisible_ocr_text_over_the_image_is_still_a_scan(sealed):
    lay = classify(open_reader(scanned_pdf([sealed], ocr=True)))
    assert lay.kind == "scanned"
    assert lay.pages[0].invisible_chars > 1000 and lay.pages[0].visible_chars == 0


def test_visible_text_over_a_full_page_image_is_not_a_scan(sealed):
    data = build_pdf([Page(images=[PlacedImage(sealed)], text=LOREM)])
    assert classify(open_reader(data)).kind == "born-digital"


def test_born_digital_text(sealed):
    lay = classify(open_reader(born_digital_pdf(3)))
    assert lay.kind == "born-digital"
    assert lay.to_facts()["born_digital_pages"] == "1-3"


def test_born_digital_page_with_a_small_logo_stays_born_digital(sealed):
    data = build_pdf([Page(images=[PlacedImage(sealed, box=(40, 760, 60, 60))], text=LOREM)])
    assert classify(open_reader(data)).kind == "born-digital"


def test_mixed_pages_are_reported_with_their_numbers(sealed):
    data = build_pdf([Page(images=[PlacedImage(sealed)]), Page(text=LOREM),
                      Page(images=[PlacedImage(sealed)], ocr_text=LOREM)])
    lay = classify(open_reader(data))
    assert lay.kind == "mixed"
    facts = lay.to_facts()
    assert facts["born_digital_pages"] == "2" and facts["scanned_page_list"] == "1,3"


def test_blank_pages_do_not_change_the_layout(sealed):
    data = build_pdf([Page(images=[PlacedImage(sealed)]), Page()])
    assert classify(open_reader(data)).kind == "scanned"
    assert classify(open_reader(build_pdf([Page(), Page()]))).kind == "empty"


def test_flate_image_and_a_threshold_from_the_rules(sealed):
    data = build_pdf([Page(images=[PlacedImage(sealed.resize((200, 280)), box=(0, 0, 595, 600),
                                                encoding="flate")])])
    assert classify(open_reader(data)).kind == "scanned"  # 71 % covered, no text at all
    assert classify(open_reader(data), min_coverage=0.6).kind == "scanned"
    typed = build_pdf([Page(images=[PlacedImage(sealed, box=(0, 0, 595, 600))], text=LOREM[:1])])
    assert classify(open_reader(typed), min_coverage=0.9).kind == "born-digital"
    assert classify(open_reader(typed), min_coverage=0.7).kind == "scanned"


def _raw_pdf(content: bytes, extra_objects: Sequence[bytes] = (),
             resources: bytes = b"") -> bytes:
    b = PdfBuilder()
    cat = b.reserve()
    pages = b.reserve()
    stream = b.stream(b"", content)
    for body in extra_objects:
        b.add(body)
    page = b.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 600 800] /Resources << %s >> "
                 b"/Contents %d 0 R >>" % (pages, resources, stream))
    b.set(pages, b"<< /Type /Pages /Kids [%d 0 R] /Count 1 >>" % page)
    b.set(cat, b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    return b.serialize(cat)


def test_image_inside_a_form_xobject_is_followed():
    # scanner software often wraps the page image in a form XObject
    img = (b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray "
           b"/BitsPerComponent 8 /Length 4 >>\nstream\n\x00\x10\x20\x30\nendstream")
    form = (b"<< /Type /XObject /Subtype /Form /BBox [0 0 1 1] "
            b"/Resources << /XObject << /I 4 0 R >> >> "
            b"/Length 8 >>\nstream\n/I Do   \nendstream")
    data = _raw_pdf(b"q 600 0 0 800 0 0 cm /Fm Do Q", [img, form], b"/XObject << /Fm 5 0 R >>")
    lay = classify(open_reader(data))
    assert lay.kind == "scanned" and lay.pages[0].images == 1


def test_inline_image_with_binary_data_is_skipped_correctly():
    content = (b"q 600 0 0 800 0 0 cm BI /W 4 /H 1 /CS /G /BPC 8 ID \x00(Tj)\xff EI Q\n"
               b"BT /F1 10 Tf (x) Tj ET")
    lay = classify(open_reader(_raw_pdf(content)))
    assert lay.pages[0].images == 1 and lay.pages[0].visible_chars == 1
    assert lay.kind == "scanned"  # one visible character is under the threshold


def test_text_render_mode_switches_are_followed():
    content = b"BT /F1 9 Tf 3 Tr (hidden text) Tj 0 Tr (shown) Tj 7 Tr [(clip)] TJ ET"
    page = classify(open_reader(_raw_pdf(content))).pages[0]
    assert page.visible_chars == len("shown")
    assert page.invisible_chars == len("hidden text") + len("clip")


def test_hostile_content_streams_do_not_crash_or_hang():
    bomb = zlib.compress(b"0 0 m " * 10_000_000)  # 60 MB of path operators, cut at the cap
    b = PdfBuilder()
    cat, pages = b.reserve(), b.reserve()
    stream = b.add(b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(bomb) + bomb
                   + b"\nendstream")
    junk = b.stream(b"", bytes(range(256)) * 50 + b"((( [[[ << /x ) BI ID")
    page = b.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 600 800] "
                 b"/Contents [%d 0 R %d 0 R] >>" % (pages, stream, junk))
    b.set(pages, b"<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count 2 >>" % (page, page))
    b.set(cat, b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    lay = classify(open_reader(b.serialize(cat)))
    assert lay.truncated
    assert lay.total_pages == 1  # the page listed twice is counted once


def test_a_hundred_page_scan(unsealed):
    small = unsealed.resize((300, 424))
    lay = classify(open_reader(scanned_pdf([small] * 100, ocr=True)))
    assert lay.kind == "scanned" and lay.total_pages == 100
    assert len(lay.pages_of("scanned")) == 100


# -- the judgement -----------------------------------------------------------------------------


def test_scanned_pdf_is_valid_with_the_seal_reported(sealed):
    res = inspect(scanned_pdf([page_image(ScanSpec(seal=False, seed=1)), sealed]))
    assert res.facts["layout"] == "scanned" and res.facts["pages"] == 2
    seal = res.facts["seal"]
    assert len(seal) == 1 and seal[0]["page"] == 2 and seal[0]["position"].startswith("bottom")
    assert 32 <= seal[0]["diameter_mm"] <= 44 and seal[0]["confidence"] >= 0.5
    report, doc = check(scanned_pdf([sealed]))
    assert doc.verdict is DocVerdict.VALID and report.verdict.value == "valid"
    assert {"NON_EDITABLE_ACCEPTED", "SEAL_FOUND"} <= codes(doc)
    assert report.to_json()["documents"][0]["facts"]["seal"][0]["page"] == 1


def test_scan_without_seal_is_valid_by_default_and_invalid_when_the_rules_require_one(
        unsealed, tmp_path):
    _, doc = check(scanned_pdf([unsealed]))
    assert doc.verdict is DocVerdict.VALID and "SEAL_NOT_FOUND" in codes(doc)
    _, doc = check(scanned_pdf([unsealed]), rules_text="[pdf]\nrequire-seal = true\n",
                   tmp_path=tmp_path)
    assert doc.verdict is DocVerdict.INVALID and "SEAL_REQUIRED_MISSING" in codes(doc)


def test_greyscale_scan_says_the_seal_cannot_show(tmp_path):
    grey = page_image(ScanSpec(seed=9, grayscale=True))
    res = inspect(scanned_pdf([grey]))
    assert res.facts["seal"] == [] and res.facts["seal_colour_pages"] == 0
    _, doc = check(scanned_pdf([grey]), rules_text="[pdf]\nrequire-seal = true\n",
                   tmp_path=tmp_path)
    missing = [f for f in doc.findings if f.code == "SEAL_REQUIRED_MISSING"]
    assert missing and "greyscale" in missing[0].en


def test_born_digital_unsigned_is_invalid_with_the_93_remedy(tmp_path):
    report, doc = check(born_digital_pdf(1))
    assert doc.verdict is DocVerdict.INVALID and report.verdict.value == "invalid"
    f = [f for f in doc.findings if f.code == "PDF_BORN_DIGITAL_UNSIGNED"][0]
    assert f.article == "9.3" and f.severity is Severity.ERROR
    assert "scan" in f.en and "quét" in f.vi
    _, doc = check(born_digital_pdf(1), rules_text='[pdf]\nborn-digital = "warn"\n',
                   tmp_path=tmp_path)
    assert doc.verdict is DocVerdict.VALID
    assert [f.severity for f in doc.findings
            if f.code == "PDF_BORN_DIGITAL_UNSIGNED"] == [Severity.WARNING]


def test_mixed_unsigned_follows_the_rules(sealed, tmp_path):
    data = build_pdf([Page(images=[PlacedImage(sealed)]), Page(text=LOREM)])
    _, doc = check(data)
    assert doc.verdict is DocVerdict.INVALID
    f = [f for f in doc.findings if f.code == "PDF_MIXED_UNSIGNED"][0]
    assert "2" in f.en
    _, doc = check(data, rules_text='[pdf]\nmixed = "scanned"\n', tmp_path=tmp_path)
    assert doc.verdict is DocVerdict.VALID


def test_empty_pdf_is_invalid():
    _, doc = check(build_pdf([Page()]))
    assert doc.verdict is DocVerdict.INVALID and "PDF_EMPTY" in codes(doc)


def test_bad_pdf_rules_are_refused(tmp_path):
    from gateway.policy.load import load_policy
    from gateway.policy.strict import RulesError

    for text in ('[pdf]\nborn-digital = "accept"\n', "[pdf]\nscanned-min-image-coverage = 1.5\n",
                 '[pdf]\nallowed-after-signing = "pages"\n', "[pdf]\nno-such-key = 1\n"):
        f = tmp_path / "bad.toml"
        f.write_text("schema = 1\n" + text)
        with pytest.raises(RulesError):
            load_policy(f)
