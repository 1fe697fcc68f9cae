"""The document security store reader: entries with the revision that introduced them, and an
unreadable entry named (a finding), never dropped silently."""

from __future__ import annotations

import pytest

from gateway.inspect.pdf import repair
from gateway.inspect.pdf.dss import read_dss
from gateway.model.findings import Severity
from tests.pdfgen import ltv
from tests.pdfgen.build import born_digital_pdf
from tests.pdfgen.check import engine_for, inspect


@pytest.fixture(scope="module")
def blt(pki) -> bytes:
    return ltv.sign_ltv(born_digital_pdf(1), pki, "B-LT")


def test_the_store_lists_certificates_and_crls_with_their_revision(pki, blt):
    dss = read_dss(repair.open_reader(blt, "strict"))
    assert dss.present and not dss.problems
    assert len(dss.certs) == 4 and len(dss.crls) == 2 and not dss.ocsps
    assert {i.revision for i in dss.crls} == {2}  # the update after the signed revision
    assert set(dss.revinfo().crls) == set(pki.crls_der)


def test_an_unreadable_crl_is_named_in_a_finding_and_not_used(pki, blt):
    # garble the first byte of a CRL stream (same length: the file stays readable)
    der = pki.intermediate_crl_der
    pos = blt.index(der)
    data = blt[:pos] + b"\x00" + blt[pos + 1:]
    dss = read_dss(repair.open_reader(data, "strict"))
    assert len(dss.crls) == 1 and dss.problems and "/CRLs" in dss.problems[0]
    res = inspect(data, pki=pki, trust=engine_for(pki))
    # it could have hidden a revocation: an error that prevents valid, never dropped silently
    found = [f for f in res.findings if f.code == "SIG_REVOCATION_DATA_UNREADABLE"]
    assert found and found[0].severity is Severity.ERROR
    # without the intermediate's CRL in the document the level is not B-LT
    assert res.facts["pdf_signatures"][0]["level"] == "B-T"
