"""Damaged but readable PDFs: strict reading first, then tolerant, then a reconstructed
cross-reference table; a repair is said in a finding and never hides a change after signing
(signatures are checked on the original bytes, with the same coverage and change analysis)."""

from __future__ import annotations

import logging

import pytest

from gateway.inspect.pdf import repair
from gateway.model.findings import Severity
from gateway.model.report import Coverage, DocVerdict, Integrity
from tests.pdfgen import damage, ltv
from tests.pdfgen import sign as S
from tests.pdfgen.build import born_digital_pdf
from tests.pdfgen.check import check, codes, engine_for, inspect


@pytest.fixture(scope="module")
def engine(pki):
    return engine_for(pki)


@pytest.fixture(scope="module")
def signed(pki) -> bytes:
    return S.sign(born_digital_pdf(1), pki.leaf, pki.chain(pki.leaf))


def _repair(res):
    found = [f for f in res.findings if f.code == "PDF_STRUCTURE_REPAIRED"]
    assert len(found) == 1, [f.code for f in res.findings]
    assert found[0].severity is Severity.WARNING
    return found[0]


def test_an_intact_file_is_read_strictly_without_a_repair_finding(pki, engine, signed):
    res = inspect(signed, pki=pki, trust=engine)
    assert "pdf_read_mode" not in res.facts
    assert "PDF_STRUCTURE_REPAIRED" not in {f.code for f in res.findings}


def test_a_signed_file_with_a_wrong_startxref_is_read_tolerantly_and_decided(pki, engine):
    data = S.sign(damage.shift_startxref(born_digital_pdf(1)), pki.leaf, pki.chain(pki.leaf))
    with pytest.raises(Exception):  # noqa: B017 - the strict reader refuses it
        repair.open_reader(data, "strict").root  # noqa: B018
    res = inspect(data, pki=pki, trust=engine)
    assert res.facts["pdf_read_mode"] == "tolerant"
    assert _repair(res).params["mode"] == "tolerant"
    assert res.signatures[0].is_good
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.VALID
    assert "PDF_STRUCTURE_REPAIRED" in codes(doc)


def test_a_broken_xref_after_signing_is_reconstructed_and_decided(pki, engine):
    # B-LT whose DSS update has two swapped cross-reference offsets: neither the strict nor
    # the tolerant reader can read the DSS revision; the reconstructed table can.
    data = damage.swap_last_xref_offsets(ltv.sign_ltv(born_digital_pdf(1), pki, "B-LT"))
    tolerant = repair.open_reader(data, "tolerant")
    with pytest.raises(Exception):  # noqa: B017 - the entry points at another object
        tolerant.get_object(tolerant.root_ref).get_object()["/DSS"].get_object()
    res = inspect(data, pki=pki, trust=engine)
    assert res.facts["pdf_read_mode"] == "reconstructed"
    assert len(res.facts["pdf_repairs"]) == 2
    assert _repair(res).params["mode"] == "reconstructed"
    s = res.signatures[0]
    assert s.integrity is Integrity.INTACT and s.coverage is Coverage.WHOLE and s.is_good
    assert res.facts["pdf_signatures"][0]["level"] == "B-LT"
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.VALID


@pytest.mark.parametrize("change", [S.add_page, S.replace_content], ids=["page", "content"])
def test_a_repair_never_hides_a_change_after_signing(pki, engine, signed, change):
    data = damage.swap_last_xref_offsets(change(signed))
    res = inspect(data, pki=pki, trust=engine)
    assert res.facts["pdf_read_mode"] == "reconstructed"
    _repair(res)
    s = res.signatures[0]
    assert s.coverage is Coverage.PARTIAL
    assert "PDF_MODIFIED_AFTER_SIGNING" in {f.code for f in s.findings}
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID


def test_appended_bytes_stay_uncovered_after_a_repair(pki, engine, signed):
    data = S.append_bytes(damage.swap_last_xref_offsets(S.add_page(signed)))
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID


def test_reconstruction_refuses_two_different_bodies_of_one_object_in_a_revision():
    data = born_digital_pdf(1)
    pos = data.index(b"\nxref")
    # a second, different object 6 in the same revision, and a table entry pointing at neither
    twin = b"\n6 0 obj\n<< /Title (Other) >>\nendobj"
    broken = damage.shift_startxref(data[:pos] + twin + data[pos:], by=len(twin))
    table = broken.rindex(b"\nxref")
    entry = broken.rindex(b" 00000 n", table)  # the last entry: object 6
    broken = broken[:entry - 10] + b"0000000015" + broken[entry:]
    reader = repair.open_reader(broken, "tolerant")
    with pytest.raises(repair.RepairRefused):
        repair.reconstruct_xrefs(reader, broken)
    assert repair.is_read_error(repair.RepairRefused("x"))


def test_a_file_no_mode_can_read_is_unreadable_not_unsigned(pki, engine, caplog):
    caplog.set_level(logging.INFO)
    res = inspect(b"%PDF-1.7\n" + b"\x00" * 200, pki=pki, trust=engine)
    assert "PDF_UNREADABLE" in {f.code for f in res.findings}
    _, doc = check(b"%PDF-1.7\n" + b"\x00" * 200, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID


def test_a_repair_refuses_a_hidden_later_definition_a_viewer_would_show(pki, engine, signed):
    # the page's content redefined in a later update without a table entry, then that update's
    # table broken: a viewer that rebuilds the table takes the last definition (new text),
    # while the tables say the content is unchanged; such a reading is refused, not trusted
    reader = repair.open_reader(signed, "strict")
    content = reader.root["/Pages"]["/Kids"][0].get_object().raw_get("/Contents")
    body = b"<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 720 Td (Noi dung moi) Tj ET\nendstream"
    hidden = damage.hidden_redefinition(signed, content.idnum, body)
    data = damage.swap_last_xref_offsets(ltv.add_dss(hidden, pki))
    with pytest.raises(repair.RepairRefused):
        repair.open_reader(data, "reconstructed")
    res = inspect(data, pki=pki, trust=engine)
    assert res.facts["pdf_read_mode"] == "refused"
    assert "PDF_UNREADABLE" in {f.code for f in res.findings}
    _, doc = check(data, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.INVALID
    # the same update without the hidden definition is repaired and valid
    clean = damage.swap_last_xref_offsets(ltv.add_dss(signed, pki))
    _, doc = check(clean, pki=pki, trust=engine)
    assert doc.verdict is DocVerdict.VALID
