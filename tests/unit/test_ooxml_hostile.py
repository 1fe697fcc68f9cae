"""Hostile and damaged signed packages (OOXML and ODF): seeded random mutations of parts and
of the ZIP bytes never crash an inspector, and a changed content part never comes out
intact and whole."""

from __future__ import annotations

import random

import pytest

from gateway.inspect.base import InspectContext
from gateway.inspect.odf import inspect_odf
from gateway.inspect.ooxml import inspect_ooxml
from gateway.model.document import Document
from gateway.model.report import Coverage, DocClass, Integrity
from tests import signer as S

CONTENT = {
    "docx": ["word/document.xml", "word/styles.xml", "word/media/image1.png"],
    "odt": ["content.xml", "styles.xml", "meta.xml", "Pictures/image1.png", "mimetype",
            "META-INF/manifest.xml"],
}


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    op = rng.random()
    if buf and op < 0.5:
        for _ in range(rng.randint(1, 4)):
            buf[rng.randrange(len(buf))] = rng.randrange(256)
    elif buf and op < 0.75:
        start = rng.randrange(len(buf))
        del buf[start:start + rng.randint(1, 40)]
    else:
        buf += bytes(rng.randrange(256) for _ in range(rng.randint(1, 20)))
    return bytes(buf)


@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_random_mutations_never_crash_and_never_pass(pki, fmt):
    if fmt == "docx":
        base = S.sign_ooxml(S.make_ooxml(), pki.leaf.key, pki.leaf.cert, chain=pki.chain(pki.leaf))
        inspect = inspect_ooxml
    else:
        base = S.sign_odf(S.make_odt(), pki.leaf.key, pki.leaf.cert, chain=pki.chain(pki.leaf))
        inspect = inspect_odf
    ctx = InspectContext(at=pki.now)
    rng = random.Random(20250601)
    for _ in range(120):
        parts = dict(base)
        name = rng.choice(list(parts))
        parts[name] = _mutate(rng, parts[name])
        blob = S.zip_package(parts, first="mimetype")
        zip_damaged = rng.random() < 0.25
        if zip_damaged:
            raw = bytearray(blob)
            for _ in range(3):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            blob = bytes(raw)
        doc = Document(f"x.{fmt}", f"x.{fmt}", blob, "x", fmt, DocClass.EDITABLE)
        result = inspect(doc, ctx)  # must not raise
        if name in CONTENT[fmt] and parts[name] != base[name]:
            for sig in result.signatures:
                assert not (sig.integrity is Integrity.INTACT and sig.coverage is Coverage.WHOLE), (
                    name, zip_damaged)


def test_signature_part_that_is_not_xml_is_broken_not_unsigned(pki):
    parts = S.sign_ooxml(S.make_ooxml(), pki.leaf.key, pki.leaf.cert)
    parts["_xmlsignatures/sig1.xml"] = b"\x00\x01 not xml"
    doc = Document("x.docx", "x.docx", S.zip_package(parts), "x", "docx", DocClass.EDITABLE)
    (sig,) = inspect_ooxml(doc, InspectContext(at=pki.now)).signatures
    assert sig.integrity is Integrity.BROKEN
    assert [f.code for f in sig.findings] == ["SIG_MALFORMED"]


def test_billion_laughs_in_a_signature_part_is_refused(pki):
    parts = S.sign_ooxml(S.make_ooxml(), pki.leaf.key, pki.leaf.cert)
    bomb = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
            + b"".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'.encode()
                       for i in range(9))
            + b']><Signature xmlns="http://www.w3.org/2000/09/xmldsig#">&j;</Signature>')
    parts["_xmlsignatures/sig1.xml"] = bomb
    doc = Document("x.docx", "x.docx", S.zip_package(parts), "x", "docx", DocClass.EDITABLE)
    (sig,) = inspect_ooxml(doc, InspectContext(at=pki.now)).signatures
    assert sig.integrity is Integrity.BROKEN
    assert "DOCTYPE" in sig.findings[0].en


def test_too_many_references_is_refused(pki):
    from gateway.inspect import safe_xml
    from gateway.inspect.xmldsig import verify as V

    refs = "".join(
        f'<Reference URI="p{i}"><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        f"<DigestValue>AAAA</DigestValue></Reference>" for i in range(60))
    sig = safe_xml.parse(
        f'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo>{refs}</SignedInfo>'
        f"<SignatureValue>AAAA</SignatureValue></Signature>".encode())
    calls: list[str] = []
    result = V.verify(sig, resolve=lambda uri: calls.append(uri) or b"",
                      limits=V.Limits(max_references=50))
    assert result.integrity is Integrity.BROKEN and not calls
