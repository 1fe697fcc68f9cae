"""A signature whose trust or revocation could not be established says why: never
``unknown`` in silence (no trust engine configured, an OCSP response that cannot be
verified)."""

from __future__ import annotations

import logging

import pytest
from cryptography.x509.ocsp import OCSPCertStatus

from gateway.model.report import Revocation, Trust
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from gateway.trust import build_engine
from tests.pdfgen import sign as P
from tests.pdfgen.build import born_digital_pdf
from tests.pki import issue, make_ca, t
from tests.unit.test_trust_engine import _ocsp


@pytest.fixture(scope="module")
def no_crl_engine(pki):
    return build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.empty_crl_dir])


def test_an_unverifiable_revoked_ocsp_response_is_the_reason_for_unknown(no_crl_engine, pki,
                                                                        caplog):
    url = "http://ocsp.hople.test.invalid/"
    gone = issue("ocspgone2", "OCSP Revoked Two", 0x2202, pki.intermediate, t(2024), t(2027),
                 ocsp_url=url)
    impostor = make_ca("ocspimp2", "Hople Test Issuing CA", 0x2203, t(2020), t(2035))
    forged = _ocsp(pki, gone, OCSPCertStatus.REVOKED, t(2025, 3, 1), signer=impostor,
                   by_name=True)
    with caplog.at_level(logging.INFO, logger="gateway.trust"):
        r = no_crl_engine.validate_chain(gone.der, [], t(2025, 2, 1), ocsps=[forged],
                                         crls=[pki.root_crl_der])
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.UNKNOWN)
    (f,) = [f for f in r.findings if f.code == "REVOCATION_UNKNOWN"]
    assert "OCSP response" in f.params["reason"] and "InvalidSignature" in f.params["reason"]
    assert "InvalidSignature" in caplog.text


def test_a_pdf_signature_checked_without_a_trust_engine_says_so(pki):
    data = P.sign(born_digital_pdf(1), pki.leaf, pki.chain(pki.leaf))
    report = Checker(load_policy(), clock=lambda: pki.now).check_document("a.pdf", data)
    (sig,) = report.documents[-1].signatures
    assert sig.trust is Trust.UNKNOWN
    assert "SIG_TRUST_NOT_CHECKED" in [f.code for f in sig.findings]
    assert "trust-unknown" in sig.reasons


def test_unreadable_certificates_and_revocation_data_are_logged_with_the_reason(
        no_crl_engine, pki, caplog):
    with caplog.at_level(logging.INFO, logger="gateway.trust"):
        no_crl_engine.validation_context(pki.now, extra_certs=[b"\x30\x03junk"])
        r = no_crl_engine.validate_chain(pki.leaf.der, [], pki.now, crls=[b"\x30\x03bad"])
    lines = [rec.getMessage() for rec in caplog.records]
    assert any(m.startswith("certificate beside a signature ignored: unreadable: ")
               for m in lines), lines
    assert any(m.startswith(("ignoring unreadable revocation data: ",
                             "ignoring unreadable CRL: ")) and "Error" in m for m in lines), lines
    assert r.trust is Trust.TRUSTED  # the good data still counts
