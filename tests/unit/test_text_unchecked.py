"""Text that could not be read is never a silent pass: a document that has text (an office
package, a born-digital or mixed PDF) whose text could not be extracted or checked, because it
is damaged, over a limit or the reader failed, is not valid, since its secrecy stamp (8.2) and
its character set (9.5) were not checked. A scan has no text layer (no OCR): judged as today."""

from __future__ import annotations

import pytest

from gateway.inspect.text import extract as text_extract
from gateway.inspect.text.extract import Unreadable
from gateway.model.report import DocVerdict, Verdict
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from tests.pdfgen.build import LOREM, Page, PlacedImage, build_pdf, scanned_pdf
from tests.pdfgen.check import engine_for
from tests.pdfgen.scans import ScanSpec, page_image
from tests.unit.test_fail_closed import _check, _docx, _odt, _pdf


@pytest.fixture
def engine(pki):
    return engine_for(pki)


SIGNED = {"van-ban.docx": _docx, "van-ban.odt": _odt, "van-ban.pdf": _pdf}


def _unreadable(*_a, **_k):
    raise Unreadable("injected damage")


@pytest.mark.parametrize("name", list(SIGNED))
def test_a_signed_document_whose_text_cannot_be_read_is_not_valid(pki, engine, name,
                                                                  monkeypatch):
    data = SIGNED[name](pki)
    report, doc, codes = _check(pki, engine, name, data)
    assert report.verdict is Verdict.VALID, codes  # valid when its text is read
    reader = {"docx": "docx", "odt": "odf", "pdf": "pdf"}[name.rsplit(".", 1)[1]]
    monkeypatch.setattr(text_extract, reader, _unreadable)
    report, doc, codes = _check(pki, engine, name, data)
    assert report.verdict is not Verdict.VALID and doc.verdict is DocVerdict.INVALID, codes
    (f,) = [f for f in doc.findings if f.code == "TEXT_UNCHECKED"]
    assert "injected damage" in f.en and "send it again" in f.en and f.vi


def test_a_signed_package_over_the_text_limit_is_not_valid(pki, engine, tmp_path):
    rules = tmp_path / "site.toml"
    rules.write_text("[text]\nmax-chars = 3\n", encoding="utf-8")
    report = Checker(load_policy(rules), trust=engine,
                     clock=lambda: pki.now).check_document("van-ban.docx", _docx(pki))
    doc = report.documents[-1]
    assert doc.verdict is DocVerdict.INVALID, [f.code for f in doc.findings]
    assert "TEXT_UNCHECKED" in [f.code for f in doc.findings]


def test_a_scan_without_a_text_layer_is_judged_as_a_scan(pki, engine, monkeypatch):
    data = scanned_pdf([page_image(ScanSpec(seed=5))])
    monkeypatch.setattr(text_extract, "pdf", _unreadable)
    report, doc, codes = _check(pki, engine, "scan.pdf", data)
    assert doc.verdict is DocVerdict.VALID, codes
    assert "TEXT_UNCHECKED" not in codes and doc.facts["text_unchecked"] == "injected damage"


def test_a_mixed_pdf_whose_text_cannot_be_read_is_not_valid(pki, engine, monkeypatch,
                                                           tmp_path):
    rules = tmp_path / "site.toml"
    rules.write_text('[pdf]\nmixed = "scanned"\n', encoding="utf-8")  # mixed counts as a scan
    data = build_pdf([Page(images=[PlacedImage(page_image(ScanSpec(seed=6)))]),
                      Page(text=LOREM)])
    checker = Checker(load_policy(rules), trust=engine, clock=lambda: pki.now)
    assert checker.check_document("mixed.pdf", data).documents[-1].verdict is DocVerdict.VALID
    monkeypatch.setattr(text_extract, "pdf", _unreadable)
    doc = checker.check_document("mixed.pdf", data).documents[-1]
    assert doc.verdict is DocVerdict.INVALID
    assert "TEXT_UNCHECKED" in [f.code for f in doc.findings]


def _rules(tmp_path, text: str):
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def test_text_on_pages_past_the_page_limit_is_not_valid(pki, engine, tmp_path):
    from tests.pdfgen import sign as P
    from tests.pdfgen.build import born_digital_pdf

    data = P.sign(born_digital_pdf(3), pki.leaf, pki.chain(pki.leaf))
    for pages, verdict in ((3, DocVerdict.VALID), (2, DocVerdict.INVALID)):
        checker = Checker(_rules(tmp_path, f"[text]\npdf-max-pages = {pages}\n"), trust=engine,
                          clock=lambda: pki.now)
        doc = checker.check_document("dai.pdf", data).documents[-1]
        assert doc.verdict is verdict, (pages, [f.code for f in doc.findings])
    (f,) = [f for f in doc.findings if f.code == "TEXT_UNCHECKED"]
    assert "first 2 pages" in f.en


def test_a_long_scan_is_not_held_to_the_page_limit(pki, engine, tmp_path):
    data = scanned_pdf([page_image(ScanSpec(seed=s)) for s in (1, 2, 3)])
    checker = Checker(_rules(tmp_path, "[text]\npdf-max-pages = 1\n"), trust=engine,
                      clock=lambda: pki.now)
    doc = checker.check_document("scan.pdf", data).documents[-1]
    assert doc.verdict is DocVerdict.VALID, [f.code for f in doc.findings]


def test_a_text_attachment_read_only_in_part_says_so(pki, engine, tmp_path):
    data = ("Kính gửi các đơn vị.\n" * 40).encode()
    checker = Checker(_rules(tmp_path, "[text]\nmax-chars = 100\n"), trust=engine,
                      clock=lambda: pki.now)
    doc = checker.check_document("ghi-chu.txt", data).documents[-1]
    # the limit cuts a character in two: still UTF-8, not legacy text
    assert [f.code for f in doc.findings if f.code.startswith("TEXT_")] == ["TEXT_UNCHECKED"]
    whole = Checker(load_policy(), trust=engine, clock=lambda: pki.now)
    read_whole = whole.check_document("ghi-chu.txt", data).documents[-1]
    assert "TEXT_UNCHECKED" not in [f.code for f in read_whole.findings]


def test_an_rtf_body_that_cannot_be_read_is_an_error_not_a_warning() -> None:
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from gateway.inspect.base import InspectContext
    from gateway.inspect.text.message import check_message
    from gateway.model.findings import Severity

    deep = b"{\\rtf1 " + b"{" * 5000 + b"MAT" + b"}" * 5001  # nested past the reader's depth
    body = SimpleNamespace(media_type="text/rtf", path="winmail.dat/body.rtf", raw=deep,
                           charset=None)
    parsed = SimpleNamespace(text_parts=[body], subject="", items=[])
    found = check_message(parsed, InspectContext(at=datetime.now(UTC), options={}))
    (f,) = [f for f in found if f.code == "TEXT_UNCHECKED"]
    assert f.severity is Severity.ERROR and "nested" in f.en
