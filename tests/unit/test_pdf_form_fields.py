"""The check for a form field changed after signing fails closed: when the fields filled at
signing cannot be read, the changes after signing are not confirmed and the document is not
valid (never "no field was filled", which would let a signed value be changed unnoticed)."""

from __future__ import annotations

import pytest

from gateway.inspect.pdf import coverage as covmod
from gateway.model.report import Coverage, DocVerdict
from tests.pdfgen import sign as S
from tests.pdfgen.build import born_digital_pdf, form_pdf
from tests.pdfgen.check import check, codes, engine_for, inspect


@pytest.fixture(scope="module")
def engine(pki):
    return engine_for(pki)


@pytest.fixture(scope="module")
def filled_after_signing(pki) -> bytes:
    """An empty field filled after signing: permitted form filling when analysed."""
    return S.fill_field(S.sign(form_pdf(), pki.leaf, pki.chain(pki.leaf)))


def test_form_filling_after_signing_is_valid_when_the_fields_can_be_read(
        pki, engine, filled_after_signing):
    _, doc = check(filled_after_signing, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.VALID
    assert "PDF_CHANGES_UNCHECKED" not in codes(doc)


def test_a_failure_to_read_the_signed_fields_makes_the_document_not_valid(
        pki, engine, filled_after_signing, monkeypatch):
    def broken(*_a, **_k):
        raise RuntimeError("injected: field dictionary unreadable")

    monkeypatch.setattr(covmod, "_field_entry", broken)
    res = inspect(filled_after_signing, pki=pki, trust=engine)
    s = res.signatures[0]
    assert s.coverage is Coverage.UNKNOWN and not s.is_good
    assert "PDF_CHANGES_UNCHECKED" in {f.code for f in s.findings}
    assert "injected" in res.facts["pdf_signatures"][0]["changes_unchecked"]
    _, doc = check(filled_after_signing, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID


def test_filled_fields_at_raises_instead_of_returning_nothing(pki, monkeypatch):
    from gateway.inspect.pdf import open_reader

    prefilled = S.fill_field(form_pdf(), value="So tien: 1.000.000 dong")
    reader = open_reader(S.sign(prefilled, pki.leaf, pki.chain(pki.leaf)))
    last = reader.xrefs.total_revisions - 1
    assert covmod.filled_fields_at(reader, last) == {"ghi_chu"}
    # a document without a form has no filled field: not an error
    assert covmod.filled_fields_at(open_reader(born_digital_pdf(1)), 0) == set()
    monkeypatch.setattr(covmod, "MAX_FORM_FIELDS", 0)
    with pytest.raises(covmod.FieldAnalysisError):
        covmod.filled_fields_at(reader, last)
