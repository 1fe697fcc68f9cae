"""ODF document signatures with the test PKI and signer."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from gateway.model.report import Coverage, Integrity, Revocation, Trust, Verdict
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from gateway.trust import build_engine
from tests import signer as S


@pytest.fixture(scope="module")
def checker(pki):
    engine = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir])
    return Checker(load_policy(), trust=engine, clock=lambda: pki.now)


def signed(pki, who=None, parts=None, **kw):
    who = who or pki.leaf
    return S.sign_odf(parts if parts is not None else S.make_odt(), who.key, who.cert,
                      chain=pki.chain(who), signing_time=pki.now - timedelta(hours=2), **kw)


def check(checker, parts):
    report = checker.check_document("van-ban.odt", S.zip_package(parts, first="mimetype"))
    (doc,) = report.documents
    return report, doc


def codes(doc):
    return [f.code for f in doc.findings] + [f.code for s in doc.signatures for f in s.findings]


def test_valid_odt(pki, checker):
    report, doc = check(checker, signed(pki))
    assert report.verdict is Verdict.VALID, codes(doc)
    (sig,) = doc.signatures
    assert sig.format == "odf-xmldsig"
    assert (sig.integrity, sig.coverage, sig.trust, sig.revocation) == (
        Integrity.INTACT, Coverage.WHOLE, Trust.TRUSTED, Revocation.GOOD)
    assert sig.signing_time is not None


def test_ecdsa_and_pss(pki, checker):
    assert check(checker, signed(pki, who=pki.ecdsa, method="ecdsa"))[0].verdict is Verdict.VALID
    assert check(checker, signed(pki, method="rsa-pss"))[0].verdict is Verdict.VALID


def test_stream_changed(pki, checker):
    parts = signed(pki)
    parts["content.xml"] = parts["content.xml"].replace("thử".encode(), b"thu")
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    assert doc.signatures[0].integrity is Integrity.BROKEN
    assert "SIG_DIGEST_MISMATCH" in codes(doc)


def test_stream_added_after_signing_is_partial_though_every_digest_matches(pki, checker):
    for extra in ("Pictures/new.png", "extra.txt", "META-INF/extra.xml"):
        parts = signed(pki)
        parts[extra] = b"<x/>" if extra.endswith(".xml") else b"added"
        report, doc = check(checker, parts)
        assert report.verdict is Verdict.INVALID, extra
        sig = doc.signatures[0]
        assert sig.integrity is Integrity.INTACT and sig.coverage is Coverage.PARTIAL, extra
        assert extra in [f for f in sig.findings if f.code == "SIG_COVERAGE_PARTIAL"][0].en


def test_stream_removed(pki, checker):
    parts = signed(pki)
    del parts["Pictures/image1.png"]
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    assert "SIG_REFERENCE_UNRESOLVED" in codes(doc)


def test_signature_leaving_out_mimetype_is_partial(pki, checker):
    report, doc = check(checker, signed(pki, skip_parts=["mimetype"]))
    assert report.verdict is Verdict.INVALID
    assert doc.signatures[0].coverage is Coverage.PARTIAL


def test_value_changed(pki, checker):
    parts = signed(pki)
    text = parts["META-INF/documentsignatures.xml"].decode()
    value = re.search(r"<SignatureValue>([^<]+)</SignatureValue>", text).group(1)
    flipped = value[:10] + ("B" if value[10] != "B" else "C") + value[11:]
    parts["META-INF/documentsignatures.xml"] = text.replace(value, flipped).encode()
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    assert "SIG_VALUE_INVALID" in codes(doc)


def test_macro_signature_alone_is_not_a_document_signature(pki, checker):
    parts = signed(pki)
    parts["META-INF/macrosignatures.xml"] = parts.pop("META-INF/documentsignatures.xml")
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    assert doc.signatures == ()
    assert {"SIG_MACRO_SIGNATURE_ONLY", "EDITABLE_NOT_SIGNED"} <= set(codes(doc))


def test_empty_signature_file_is_unsigned_with_a_note(pki, checker):
    parts = S.make_odt()
    parts["META-INF/documentsignatures.xml"] = (
        b'<?xml version="1.0"?><document-signatures '
        b'xmlns="urn:oasis:names:tc:opendocument:xmlns:digitalsignature:1.0"/>')
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    assert {"SIG_EMPTY_SIGNATURE_PART", "EDITABLE_NOT_SIGNED"} <= set(codes(doc))


def test_two_signers_and_one_untrusted(pki, checker):
    both = signed(pki, parts=signed(pki), who=pki.ecdsa, method="ecdsa")
    report, doc = check(checker, both)
    assert report.verdict is Verdict.VALID and len(doc.signatures) == 2
    mixed = signed(pki, parts=signed(pki), who=pki.other_leaf)
    report, doc = check(checker, mixed)
    assert report.verdict is Verdict.VALID
    assert [s.trust for s in doc.signatures] == [Trust.TRUSTED, Trust.UNTRUSTED]
    assert "SIG_SOME_SIGNATURES_BAD" in codes(doc)


def test_revoked_and_expired_signers(pki, checker):
    report, doc = check(checker, signed(pki, who=pki.revoked))
    assert report.verdict is Verdict.INVALID and doc.signatures[0].revocation is Revocation.REVOKED
    report, doc = check(checker, signed(pki, who=pki.expired))
    assert report.verdict is Verdict.INVALID and "CERT_EXPIRED" in codes(doc)


def test_encrypted_stream_is_unverifiable(pki, checker):
    parts = S.make_odt()
    parts["META-INF/manifest.xml"] = parts["META-INF/manifest.xml"].replace(
        b'manifest:full-path="content.xml" manifest:media-type="text/xml"/>',
        b'manifest:full-path="content.xml" manifest:media-type="text/xml">'
        b'<manifest:encryption-data manifest:checksum="x"/></manifest:file-entry>')
    report, doc = check(checker, signed(pki, parts=parts))
    assert report.verdict is Verdict.INVALID
    assert doc.signatures[0].integrity is Integrity.UNVERIFIABLE
    assert "SIG_ENCRYPTED_PACKAGE" in codes(doc)


def test_signature_file_with_a_doctype_is_refused(pki, checker):
    parts = signed(pki)
    text = parts["META-INF/documentsignatures.xml"]
    parts["META-INF/documentsignatures.xml"] = text.replace(
        b"<document-signatures", b'<!DOCTYPE x [<!ENTITY a "b">]><document-signatures', 1)
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    assert doc.signatures[0].integrity is Integrity.BROKEN
    assert "SIG_MALFORMED" in codes(doc)
