"""Fail closed, visibly: a failure injected into each inspector (or into what it relies on:
the trust engine, embedded revocation data, a content stream) never leaves a document
``valid``, and says what failed."""

from __future__ import annotations

import io
import logging
from datetime import timedelta

import pytest

from gateway.inspect.pdf import layout as layout_mod
from gateway.inspect.pdf import signatures as pdf_signatures
from gateway.inspect.pdf.dss import Dss
from gateway.inspect.pdf.signer import RevInfo
from gateway.inspect.xmldsig import verify as dsig_verify
from gateway.model.report import DocVerdict, Verdict
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from tests import signer as S
from tests.pdfgen import sign as P
from tests.pdfgen.build import born_digital_pdf, scanned_pdf
from tests.pdfgen.check import engine_for
from tests.pdfgen.scans import ScanSpec, page_image
from tests.signer import ole


class Boom(RuntimeError):
    pass


def _boom(*_a, **_k):
    raise Boom("injected")


@pytest.fixture
def engine(pki):
    return engine_for(pki)  # per test: some tests break it


def _check(pki, engine, name: str, data: bytes):
    report = Checker(load_policy(), trust=engine, clock=lambda: pki.now).check_document(name, data)
    # a .p7m envelope is opened: the content it carries, judged with the envelope's signature,
    # is the last document (the only one for every other format)
    doc = report.documents[-1]
    codes = [f.code for f in doc.findings] + [f.code for s in doc.signatures for f in s.findings]
    return report, doc, codes


def _docx(pki) -> bytes:
    return S.zip_package(S.sign_ooxml(S.make_ooxml(), pki.leaf.key, pki.leaf.cert,
                                      chain=pki.chain(pki.leaf),
                                      signing_time=pki.now - timedelta(days=1)))


def _odt(pki) -> bytes:
    return S.zip_package(S.sign_odf(S.make_odt(), pki.leaf.key, pki.leaf.cert,
                                    chain=pki.chain(pki.leaf),
                                    signing_time=pki.now - timedelta(days=1)), first="mimetype")


def _pdf(pki) -> bytes:
    return P.sign(born_digital_pdf(1), pki.leaf, pki.chain(pki.leaf))


def _p7m(pki) -> bytes:
    import asyncio

    signer = P.signer_for(pki.leaf, pki.chain(pki.leaf))
    return asyncio.run(signer.async_sign_general_data(born_digital_pdf(1), "sha256",
                                                      detached=False)).dump()


MAKE = {"van-ban.docx": _docx, "van-ban.odt": _odt, "van-ban.pdf": _pdf,
        "van-ban.pdf.p7m": _p7m}


@pytest.mark.parametrize("name", list(MAKE))
def test_each_signed_format_is_valid_before_any_injection(pki, engine, name):
    report, doc, codes = _check(pki, engine, name, MAKE[name](pki))
    assert report.verdict is Verdict.VALID, codes


@pytest.mark.parametrize("name", list(MAKE))
def test_a_trust_engine_failure_is_a_finding_never_unknown_in_silence(
        pki, engine, name, monkeypatch, caplog):
    data = MAKE[name](pki)
    monkeypatch.setattr(engine, "validate_chain", _boom)
    with caplog.at_level(logging.WARNING):
        report, doc, codes = _check(pki, engine, name, data)
    assert report.verdict is not Verdict.VALID and doc.verdict is DocVerdict.INVALID
    assert "SIG_TRUST_CHECK_FAILED" in codes
    assert "check-failed" in doc.signatures[0].reasons
    assert "Boom" in caplog.text  # the exception's type is in the log


@pytest.mark.parametrize("name", ["van-ban.pdf", "van-ban.pdf.p7m"])
def test_a_failing_pyhanko_context_makes_the_signature_unverifiable(pki, engine, name,
                                                                   monkeypatch):
    data = MAKE[name](pki)
    monkeypatch.setattr(engine, "validation_context", _boom)
    report, doc, codes = _check(pki, engine, name, data)
    assert doc.verdict is DocVerdict.INVALID
    assert {"PDF_SIGNATURE_UNVERIFIABLE", "CMS_SIGNATURE_UNVERIFIABLE"} & set(codes)
    assert any("Boom" in f.en for s in doc.signatures for f in s.findings)


def test_unreadable_embedded_revocation_data_is_never_dropped_silently(pki, engine, monkeypatch):
    data = _pdf(pki)
    monkeypatch.setattr(pdf_signatures, "revinfo_from_signed_data",
                        lambda *_a: RevInfo([], [], ["CMS CRLs: ValueError: bad"]))
    report, doc, codes = _check(pki, engine, "van-ban.pdf", data)
    assert doc.verdict is DocVerdict.INVALID
    assert "SIG_REVOCATION_DATA_UNREADABLE" in codes
    assert doc.signatures[0].reasons == ("revocation-data-unreadable",)


def test_unreadable_dss_entry_is_a_document_finding(pki, engine, monkeypatch):
    data = _pdf(pki)
    monkeypatch.setattr(pdf_signatures, "read_dss",
                        lambda _r: Dss(problems=["DSS CRLs entry: PdfReadError"]))
    report, doc, codes = _check(pki, engine, "van-ban.pdf", data)
    assert doc.verdict is DocVerdict.INVALID and "SIG_REVOCATION_DATA_UNREADABLE" in codes


def test_a_bad_xades_revocation_value_is_a_finding(pki, engine):
    parts = S.sign_ooxml(S.make_ooxml(), pki.leaf.key, pki.leaf.cert, chain=pki.chain(pki.leaf),
                         signing_time=pki.now - timedelta(days=1), embed_crls=[b"crl"])
    sig = parts["_xmlsignatures/sig1.xml"]
    # the unsigned XAdES values are outside the signed properties: damage them
    import base64

    good = base64.b64encode(b"crl")
    assert good in sig
    parts["_xmlsignatures/sig1.xml"] = sig.replace(good, b"%%not-base64%%")
    report, doc, codes = _check(pki, engine, "a.docx", S.zip_package(parts))
    assert report.verdict is not Verdict.VALID
    assert "SIG_REVOCATION_DATA_UNREADABLE" in codes


@pytest.mark.parametrize("name", ["van-ban.docx", "van-ban.odt"])
def test_an_xml_signature_verifier_crash_is_not_valid(pki, engine, name, monkeypatch):
    data = MAKE[name](pki)
    monkeypatch.setattr(dsig_verify, "verify", _boom)
    report, doc, codes = _check(pki, engine, name, data)
    assert doc.verdict is DocVerdict.INVALID and "INSPECTION_FAILED" in codes


def test_an_unreadable_content_stream_never_passes_as_a_scan(pki, engine, monkeypatch):
    data = scanned_pdf([page_image(ScanSpec(seed=7))])
    report, doc, codes = _check(pki, engine, "scan.pdf", data)
    assert doc.verdict is DocVerdict.VALID, codes  # a genuine scan is valid
    monkeypatch.setattr(layout_mod, "stream_bytes", _boom)
    report, doc, codes = _check(pki, engine, "scan.pdf", data)
    assert doc.verdict is DocVerdict.INVALID and "PDF_UNREADABLE" in codes
    assert doc.facts["layout"] == "unreadable" and "Boom" in doc.facts["content_errors"][0]


def test_a_legacy_office_reader_failure_is_not_valid(pki, engine, monkeypatch):
    from gateway.inspect import legacy_office

    data = ole.build({"WordDocument": b"\xec\xa5" + b"\x00" * 100, "1Table": b"\x00" * 10})
    monkeypatch.setattr(legacy_office, "_entries", _boom)
    report, doc, codes = _check(pki, engine, "a.doc", data)
    assert doc.verdict is DocVerdict.INVALID and "DOCUMENT_UNREADABLE" in codes


def test_an_image_decoder_failure_is_not_valid(pki, engine, monkeypatch):
    from gateway.inspect import images

    buf = io.BytesIO()
    page_image(ScanSpec(seed=3)).save(buf, "PNG")
    monkeypatch.setattr(images.Image, "open", _boom)
    report, doc, codes = _check(pki, engine, "scan.png", buf.getvalue())
    assert doc.verdict is DocVerdict.INVALID and "IMAGE_UNREADABLE" in codes


def test_a_text_inspector_crash_is_not_valid(pki, engine, monkeypatch):
    from gateway.inspect.text import inspector

    monkeypatch.setattr(inspector, "analyse", _boom)
    report, doc, codes = _check(pki, engine, "van-ban.docx", _docx(pki))
    assert doc.verdict is DocVerdict.INVALID and "INSPECTION_FAILED" in codes
