"""Detached (.p7s beside the file) and enveloping (.p7m around it) CMS signatures."""

from __future__ import annotations

import asyncio
import base64
import io
from email.message import EmailMessage

import pytest

from gateway.inspect.base import InspectContext
from gateway.inspect.cms import inspect_cms, parse_cms, verify_detached
from gateway.model.document import Document
from gateway.model.envelope import Envelope
from gateway.model.report import DocClass, Integrity, Revocation, Trust
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from tests.pdfgen.build import born_digital_pdf
from tests.pdfgen.check import engine_for
from tests.pdfgen.sign import signer_for

CONTENT = born_digital_pdf(1)
P7S = "application/pkcs7-signature"


def _cms(pki, issued, content: bytes, detached: bool) -> bytes:
    signer = signer_for(issued, pki.chain(issued))
    return asyncio.run(signer.async_sign_general_data(content, "sha256", detached=detached)).dump()


@pytest.fixture(scope="module")
def engine(pki):
    return engine_for(pki)


@pytest.fixture(scope="module")
def ctx(pki, engine):
    return InspectContext(at=pki.now, trust=engine)


def _doc(data: bytes, name: str, fmt: str) -> Document:
    return Document(name, name, data, P7S, fmt, DocClass.OTHER)


def test_enveloping_signature_verifies_over_its_content(pki, ctx):
    p7m = _cms(pki, pki.leaf, CONTENT, detached=False)
    assert parse_cms(p7m).content == CONTENT
    res = inspect_cms(_doc(p7m, "van-ban.pdf.p7m", "p7m"), ctx)
    (s,) = res.signatures
    assert (s.format, s.integrity, s.trust, s.revocation) == (
        "cms", Integrity.INTACT, Trust.TRUSTED, Revocation.GOOD)
    assert res.facts["content_format"] == "pdf" and res.facts["content_bytes"] == len(CONTENT)


def test_enveloping_signature_with_altered_content_is_broken(pki, ctx):
    p7m = _cms(pki, pki.leaf, CONTENT, detached=False)
    pos = p7m.find(b"Test document")
    tampered = p7m[:pos] + b"Fake" + p7m[pos + 4:]
    (s,) = inspect_cms(_doc(tampered, "x.p7m", "p7m"), ctx).signatures
    assert s.integrity is Integrity.BROKEN
    assert s.findings[0].code == "CMS_SIGNATURE_BROKEN"


def test_detached_signature_verifies_only_the_right_content(pki, ctx):
    p7s = _cms(pki, pki.leaf, CONTENT, detached=True)
    good = verify_detached(p7s, CONTENT, ctx)
    assert good.integrity is Integrity.INTACT and good.is_good
    bad = verify_detached(p7s, CONTENT + b"%", ctx)
    assert bad.integrity is Integrity.BROKEN and not bad.is_good
    untrusted = verify_detached(_cms(pki, pki.other_leaf, CONTENT, True), CONTENT, ctx)
    assert untrusted.integrity is Integrity.INTACT and untrusted.trust is Trust.UNTRUSTED


def test_pem_and_base64_forms_are_read(pki, ctx):
    p7s = _cms(pki, pki.leaf, CONTENT, detached=True)
    b64 = base64.encodebytes(p7s)
    pem = b"-----BEGIN PKCS7-----\n" + b64 + b"-----END PKCS7-----\n"
    for form in (pem, b64):
        assert verify_detached(form, CONTENT, ctx).integrity is Integrity.INTACT


@pytest.mark.parametrize("data", [b"", b"not a signature", b"\x30\x03\x02\x01\x01",
                                  b"\x30\x82\xff\xff" + b"\x00" * 50])
def test_garbage_is_unreadable_not_a_crash(ctx, data):
    res = inspect_cms(_doc(data, "x.p7s", "p7s"), ctx)
    assert [f.code for f in res.findings] == ["CMS_UNREADABLE"]
    assert verify_detached(data, CONTENT, ctx).integrity is Integrity.BROKEN


def _message(parts: list[tuple[str, bytes, str]]) -> bytes:
    msg = EmailMessage()
    msg["From"] = "vanthu@snv.daknong.gov.vn"
    msg["To"] = "nhan@ubnd.daknong.gov.vn"
    msg["Subject"] = "Cong van"
    msg["Message-ID"] = "<cms-test@snv.daknong.gov.vn>"
    msg.set_content("Kinh gui.")
    for name, data, ctype in parts:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg.as_bytes()


def _check(pki, engine, raw: bytes):
    checker = Checker(load_policy(), trust=engine, clock=lambda: pki.now)
    return checker.check_message(io.BytesIO(raw), Envelope(sender="vanthu@snv.daknong.gov.vn"))


def test_detached_signature_beside_its_file_in_a_message(pki, engine):
    p7s = _cms(pki, pki.leaf, CONTENT, detached=True)
    report = _check(pki, engine, _message([("cong-van.pdf", CONTENT, "application/pdf"),
                                           ("cong-van.pdf.p7s", p7s, P7S)]))
    target = next(d for d in report.documents if d.path == "cong-van.pdf")
    (sig,) = target.signatures
    assert sig.format == "cms-detached" and sig.is_good
    verified = [f for f in sig.findings if f.code == "CMS_DETACHED_VERIFIED"]
    assert verified and verified[0].params["target"] == "cong-van.pdf"
    assert verified[0].params["trust"] == "trusted"
    # the detached signature is the document's signature: the signed file is valid
    assert target.verdict.value == "valid"


def test_detached_signature_over_a_changed_file_makes_the_message_invalid(pki, engine):
    p7s = _cms(pki, pki.leaf, CONTENT, detached=True)
    changed = CONTENT.replace(b"Test document", b"Fake document")
    report = _check(pki, engine, _message([("cong-van.pdf", changed, "application/pdf"),
                                           ("cong-van.p7s", p7s, P7S)]))
    target = next(d for d in report.documents if d.path == "cong-van.pdf")
    assert "CMS_DETACHED_INVALID" in {f.code for s in target.signatures for f in s.findings}
    assert target.verdict.value == "invalid"
    assert report.verdict.value == "invalid"


def test_detached_signature_alone_is_reported_unverified(pki, engine):
    p7s = _cms(pki, pki.leaf, CONTENT, detached=True)
    report = _check(pki, engine, _message([("cong-van.pdf.p7s", p7s, P7S)]))
    missing = [f for f in report.findings if f.code == "CMS_CONTENT_MISSING"]
    assert missing and missing[0].params["expected"] == "cong-van.pdf"


def test_signed_pdf_wrapped_in_cms_is_a_signed_document(pki, engine):
    # intake opens the envelope (CMS by content, not the "%PDF-" inside it): the PDF it
    # carries is the document, and the envelope's signature is its signature
    p7m = _cms(pki, pki.leaf, CONTENT, detached=False)
    report = _check(pki, engine, _message([("cong-van.pdf.p7m", p7m, "application/pkcs7-mime")]))
    envelope, doc = report.documents
    assert envelope.path == "cong-van.pdf.p7m" and envelope.verdict.value == "not-applicable"
    assert doc.path == "cong-van.pdf.p7m/cong-van.pdf" and doc.media_type == "application/pdf"
    assert doc.signatures and doc.signatures[0].integrity is Integrity.INTACT
    assert doc.signatures[0].format == "cms"
    assert doc.verdict.value == "valid" and report.verdict.value == "valid"
    other = _cms(pki, pki.other_leaf, CONTENT, detached=False)
    report = _check(pki, engine, _message([("cong-van.pdf.p7m", other, "application/pkcs7-mime")]))
    assert report.documents[1].verdict.value == "invalid"
    assert report.verdict.value == "invalid"


def test_cms_is_recognised_by_content_whatever_its_name(pki, engine):
    """DER or PEM, named or not: a detached signature is a signature (its document absent is
    said so), an enveloping one is opened."""
    import base64

    p7s = _cms(pki, pki.leaf, CONTENT, detached=True)
    for name, data in (("chu-ky.bin", p7s),
                       ("chu-ky.txt", b"-----BEGIN PKCS7-----\n"
                        + base64.encodebytes(p7s) + b"-----END PKCS7-----\n")):
        report = _check(pki, engine, _message([(name, data, "application/octet-stream")]))
        (doc,) = report.documents
        assert doc.media_type.startswith("application/pkcs7"), name
        assert "CMS_CONTENT_MISSING" in {f.code for f in report.findings}, name
        # beside its document under another name, it is paired by the digest it signed
        report = _check(pki, engine, _message([("cong-van.pdf", CONTENT, "application/pdf"),
                                               (name, data, "application/octet-stream")]))
        target = next(d for d in report.documents if d.path == "cong-van.pdf")
        assert [s.format for s in target.signatures] == ["cms-detached"], name
        assert target.verdict.value == "valid", name
        assert "CMS_CONTENT_MISSING" not in {f.code for f in report.findings}, name
    p7m = _cms(pki, pki.leaf, CONTENT, detached=False)
    pem = b"-----BEGIN PKCS7-----\n" + base64.encodebytes(p7m) + b"-----END PKCS7-----\n"
    report = _check(pki, engine, _message([("smime.p7m", pem, "application/pkcs7-mime")]))
    assert [d.path for d in report.documents] == ["smime.p7m", "smime.p7m/smime"]
    assert report.documents[1].signatures[0].integrity is Integrity.INTACT


def test_other_files_are_left_alone(ctx):
    res = inspect_cms(Document("a.bin", "a.bin", b"\x00" * 64, "application/octet-stream", "other",
                               DocClass.OTHER), ctx)
    assert res.findings == () and res.signatures == () and not res.facts


def test_detached_signature_makes_an_editable_file_valid(pki, engine):
    from tests.unit.test_intake import docx_bytes

    docx = docx_bytes()
    p7s = _cms(pki, pki.leaf, docx, detached=True)
    ctype = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    report = _check(pki, engine, _message([("ke-hoach.docx", docx, ctype),
                                           ("ke-hoach.docx.p7s", p7s, P7S)]))
    target = next(d for d in report.documents if d.path == "ke-hoach.docx")
    assert [s.format for s in target.signatures] == ["cms-detached"]
    assert target.verdict.value == "valid"
    # signed by a certificate outside the trust anchors: present but not confirmed
    p7s = _cms(pki, pki.other_leaf, docx, detached=True)
    report = _check(pki, engine, _message([("ke-hoach.docx", docx, ctype),
                                           ("ke-hoach.docx.p7s", p7s, P7S)]))
    target = next(d for d in report.documents if d.path == "ke-hoach.docx")
    assert target.verdict.value == "invalid"
    assert "EDITABLE_SIGNATURE_UNVERIFIED" in {f.code for f in target.findings}


def test_smime_p7m_carrying_a_mime_entity_is_walked_like_a_message(pki, engine):
    # S/MIME signed-data: the envelope carries a whole MIME entity; its attachments are
    # documents like any other (an unsigned DOCX inside is invalid, never "not a document")
    from email.message import EmailMessage

    from tests.unit.test_intake import docx_bytes

    inner = EmailMessage()
    inner.set_content("Kính gửi.")
    ctype = "vnd.openxmlformats-officedocument.wordprocessingml.document"
    inner.add_attachment(docx_bytes(), maintype="application", subtype=ctype,
                         filename="ke-hoach.docx")
    p7m = _cms(pki, pki.leaf, inner.as_bytes(), detached=False)
    report = _check(pki, engine, _message([("smime.p7m", p7m,
                                            "application/pkcs7-mime")]))
    target = next(d for d in report.documents if d.path == "smime.p7m/ke-hoach.docx")
    assert target.verdict.value == "invalid"
    assert report.verdict.value == "invalid"
