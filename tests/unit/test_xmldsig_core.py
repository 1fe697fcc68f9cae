"""The XML-DSig core and the hardened readers, on literal bytes."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.inspect import safe_xml
from gateway.inspect.safe_zip import SafeZip, ZipLimits, ZipProblem
from gateway.inspect.xmldsig import c14n, keys, transforms, tree
from gateway.inspect.xmldsig import verify as V
from gateway.inspect.xmldsig.algorithms import C14N

INCL = C14N["http://www.w3.org/TR/2001/REC-xml-c14n-20010315"]
EXCL = C14N["http://www.w3.org/2001/10/xml-exc-c14n#"]
DS = "http://www.w3.org/2000/09/xmldsig#"


# -- safe_xml ---------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [
    b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>',
    b'<!DOCTYPE a [<!ENTITY l0 "ha"><!ENTITY l1 "&l0;&l0;">]><a>&l1;</a>',
    b'<?xml version="1.0"?><!DOCTYPE a SYSTEM "file:///etc/passwd"><a/>',
    '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a SYSTEM "x"><a/>'.encode("utf-16"),
])
def test_doctype_refused(data: bytes) -> None:
    with pytest.raises(safe_xml.XmlError, match="DOCTYPE"):
        safe_xml.parse(data)


def test_external_doctype_allowed_only_when_asked_and_never_loaded(tmp_path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ATTLIST a injected CDATA "yes">', encoding="utf-8")
    data = f'<?xml version="1.0"?>\n<!-- c --><!DOCTYPE a SYSTEM "{dtd.as_uri()}"><a>t</a>'.encode()
    with pytest.raises(safe_xml.XmlError):
        safe_xml.parse(data)
    root = safe_xml.parse(data, allow_external_doctype=True)
    assert root.get("injected") is None  # the DTD's default attribute was not applied
    # An internal subset stays refused even then.
    with pytest.raises(safe_xml.XmlError):
        safe_xml.parse(b'<!DOCTYPE a SYSTEM "x" [<!ENTITY e "1">]><a/>',
                       allow_external_doctype=True)


def test_size_and_depth_limits() -> None:
    with pytest.raises(safe_xml.XmlError, match="limit"):
        safe_xml.parse(b"<a>" + b"x" * 2000 + b"</a>", max_bytes=1000)
    deep = b"<a>" * 300 + b"</a>" * 300
    with pytest.raises(safe_xml.XmlError):
        safe_xml.parse(deep)
    assert safe_xml.parse(b"<a>" * 200 + b"</a>" * 200).tag == "a"


def test_malformed_is_a_clear_error() -> None:
    with pytest.raises(safe_xml.XmlError, match="not well-formed"):
        safe_xml.parse(b"<a><b></a>", what="word/document.xml")


# -- C14N ---------------------------------------------------------------------------------------


def test_inclusive_subtree_carries_every_namespace_in_scope() -> None:
    root = safe_xml.parse(
        b'<r xmlns="urn:d" xmlns:u="urn:unused" xml:lang="vi"><o Id="x"><p>t</p></o></r>')
    sub = root[0]
    assert c14n.subtree(sub, INCL) == (
        b'<o xmlns="urn:d" xmlns:u="urn:unused" Id="x" xml:lang="vi"><p>t</p></o>')
    assert c14n.subtree(sub, EXCL) == b'<o xmlns="urn:d" Id="x"><p>t</p></o>'


def test_subtree_of_default_namespace_document_has_no_spurious_empty_xmlns() -> None:
    root = safe_xml.parse(f'<Signature xmlns="{DS}"><Object Id="o"><a:x xmlns:a="urn:a">'
                          f'<y/></a:x></Object></Signature>'.encode())
    out = c14n.subtree(root[0], INCL)
    assert b'xmlns=""' not in out
    assert out.startswith(f'<Object xmlns="{DS}" Id="o">'.encode())


def test_enveloped_signature_excluded() -> None:
    root = safe_xml.parse(
        f'<doc><a>1</a><Signature xmlns="{DS}"><x/></Signature>tail</doc>'.encode())
    out = c14n.subtree(root, INCL, exclude=root[1])
    assert out == b"<doc><a>1</a>tail</doc>"


def test_relationship_transform_sorts_filters_and_defaults_target_mode() -> None:
    rels = (b'<?xml version="1.0"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"'
            b' xmlns:mc="urn:mc">\n  <Relationship Id="rId3" Type="t3" Target="c.xml"/>\n'
            b'  <Relationship Target="a.xml" Id="rId1" Type="t1" mc:Ignorable="x"/>\n'
            b'  <Relationship Id="rId2" Type="t2" Target="http://x/" TargetMode="External"/>\n'
            b"</Relationships>")
    transform = safe_xml.parse(
        b'<Transform xmlns="http://www.w3.org/2000/09/xmldsig#" '
        b'Algorithm="http://schemas.openxmlformats.org/package/2006/RelationshipTransform">'
        b'<m:RelationshipReference SourceId="rId3" '
        b'xmlns:m="http://schemas.openxmlformats.org/package/2006/digital-signature"/>'
        b'<m:RelationshipReference SourceId="rId1" '
        b'xmlns:m="http://schemas.openxmlformats.org/package/2006/digital-signature"/>'
        b"</Transform>")
    outcome = V.RefOutcome(uri="/_rels/.rels", in_manifest=True)
    nodes = transforms.relationship_transform(rels, transform, V.Limits(), "r", outcome)
    out = c14n.document(nodes.elem, INCL)
    assert out == (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Target="a.xml" TargetMode="Internal" Type="t1"></Relationship>'
        b'<Relationship Id="rId3" Target="c.xml" TargetMode="Internal" Type="t3"></Relationship>'
        b"</Relationships>")
    assert outcome.relationship_ids == {"rId1", "rId3"}


# -- ids, times, keys ---------------------------------------------------------------------------


def test_duplicate_id_inside_a_signature_fails_it() -> None:
    sig = safe_xml.parse(
        f'<Signature xmlns="{DS}"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
        f'<SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>'
        f'<Reference URI="#o"><DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>'
        f'<DigestValue>AAAA</DigestValue></Reference></SignedInfo><SignatureValue>AAAA</SignatureValue>'
        f'<Object Id="o"/><Object Id="o"/></Signature>'.encode())
    result = V.verify(sig)
    assert "SIG_DUPLICATE_ID" in [i.code for i in result.issues]
    assert result.integrity.value == "broken"


def test_same_id_in_two_cosignatures_resolves_each_to_its_own() -> None:
    doc = safe_xml.parse(
        f'<sigs><Signature xmlns="{DS}" Id="s1"><Object Id="p"/></Signature>'
        f'<Signature xmlns="{DS}" Id="s2"><Object Id="p"/></Signature></sigs>'.encode())
    index = tree.IdIndex(doc)
    el, problem = index.resolve("p", doc[1])
    assert problem is None and el is doc[1][0]
    el, problem = index.resolve("p", doc)  # not inside either signature: ambiguous
    assert el is None and problem == "SIG_DUPLICATE_ID"


def test_missing_structure_is_malformed_not_a_crash() -> None:
    for xml in (f'<Signature xmlns="{DS}"/>',
                f'<Signature xmlns="{DS}"><SignedInfo/><SignatureValue/></Signature>'):
        result = V.verify(safe_xml.parse(xml.encode()))
        assert result.integrity.value == "broken"
        assert "SIG_MALFORMED" in [i.code for i in result.issues]


def test_unknown_algorithms_are_unverifiable_not_skipped() -> None:
    data = b"<x/>"
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    sig = safe_xml.parse(
        f'<Signature xmlns="{DS}"><SignedInfo><CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>'
        f'<SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#dsa-sha1"/>'
        f'<Reference URI="p"><Transforms><Transform Algorithm="http://www.w3.org/TR/1999/REC-xpath-19991116"/></Transforms>'
        f'<DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><DigestValue>{digest}</DigestValue></Reference>'
        f'<Reference URI="q"><DigestMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#md5"/><DigestValue>AAAA</DigestValue></Reference>'
        f'</SignedInfo><SignatureValue>AAAA</SignatureValue></Signature>'.encode())
    result = V.verify(sig, resolve=lambda uri: data)
    assert result.integrity.value == "unverifiable"
    algs = [i.params.get("algorithm", "") for i in result.issues
            if i.code == "SIG_UNSUPPORTED_ALGORITHM"]
    assert all(any(name in a for a in algs) for name in ("xpath", "md5", "dsa")), algs


@pytest.mark.parametrize("text,expected", [
    ("2021-01-26T12:56:37.491000000", datetime(2021, 1, 26, 12, 56, 37, 491000, UTC)),
    ("2010-02-22T16:06:53Z", datetime(2010, 2, 22, 16, 6, 53, tzinfo=UTC)),
    ("2025-06-01T19:00:00+07:00", datetime(2025, 6, 1, 12, 0, tzinfo=UTC)),
    ("not a date", None),
    ("2025-13-01T00:00:00Z", None),
])
def test_signing_time_parsing(text: str, expected: datetime | None) -> None:
    assert V.parse_time(text) == expected


def test_ecdsa_raw_r_s_is_converted(pki) -> None:
    from cryptography.hazmat.primitives.asymmetric import utils

    data = b"signed bytes"
    der = pki.ecdsa.key.sign(data, ec.ECDSA(hashes.SHA256()))
    r, s = utils.decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert keys.verify(pki.ecdsa.cert, "ecdsa", "sha256", data, raw)
    assert not keys.verify(pki.ecdsa.cert, "ecdsa", "sha256", data + b"!", raw)
    with pytest.raises(keys.KeyError_):
        keys.verify(pki.ecdsa.cert, "ecdsa", "sha256", data, raw[:-3])
    with pytest.raises(keys.KeyError_):
        keys.verify(pki.ecdsa.cert, "rsa", "sha256", data, raw)


# -- safe_zip ---------------------------------------------------------------------------------


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            zf.writestr(name, data)
    return buf.getvalue()


def test_clean_zip_has_no_problems() -> None:
    z = SafeZip(_zip([("a.xml", b"<a/>"), ("b/c.bin", b"\x00\x01")]))
    assert z.problems == [] and z.names == ["a.xml", "b/c.bin"]
    assert z.read("a.xml") == b"<a/>" and z.lookup("B/C.BIN") == "b/c.bin"


def test_case_colliding_names_are_a_problem() -> None:
    z = SafeZip(_zip([("word/document.xml", b"1"), ("Word/Document.xml", b"2")]))
    assert any("differ only in case" in p for p in z.problems)


def test_prepended_and_hidden_bytes_are_problems() -> None:
    data = _zip([("a.xml", b"<a/>")])
    assert any("not listed" in p for p in SafeZip(b"junk" * 10 + data).problems)


def test_local_header_name_mismatch_is_a_problem() -> None:
    data = bytearray(_zip([("word/document.xml", b"<a/>"), ("x.xml", b"<b/>")]))
    pos = data.index(b"word/document.xml")
    data[pos:pos + 4] = b"WORD"
    problems = SafeZip(bytes(data)).problems
    assert any("names another entry" in p for p in problems)


def test_bomb_ratio_and_size_limits() -> None:
    data = _zip([("big.xml", b"<a>" + b" " * (3 << 20) + b"</a>")])
    assert any("ratio" in p for p in SafeZip(data, ZipLimits(max_ratio=50)).problems)
    z = SafeZip(data, ZipLimits(max_member_bytes=1 << 20, max_ratio=10 ** 6))
    with pytest.raises(ZipProblem):
        z.read("big.xml")


def test_not_a_zip_raises_a_short_problem() -> None:
    with pytest.raises(ZipProblem, match="not a readable ZIP"):
        SafeZip(b"PK\x03\x04 truncated")


def _raw_rsa_sign(key, em: bytes) -> bytes:
    n = key.private_numbers()
    return pow(int.from_bytes(em, "big"), n.d, n.public_numbers.n).to_bytes(len(em), "big")


def test_pkcs1_digest_info_without_null_parameters_is_accepted_strictly(pki) -> None:
    # Some Java signers omit the NULL parameters in DigestInfo (RFC 8017 9.2 note 2 says
    # accept it); OpenSSL refuses. The encoded message is compared byte for byte.
    data = b"<SignedInfo/>"
    size = pki.leaf.cert.public_key().key_size // 8
    t = bytes.fromhex("301f300706052b0e03021a0414") + hashlib.sha1(data).digest()
    em = b"\x00\x01" + b"\xff" * (size - len(t) - 3) + b"\x00" + t
    value = _raw_rsa_sign(pki.leaf.key, em)
    assert keys.verify(pki.leaf.cert, "rsa", "sha1", data, value)
    assert not keys.verify(pki.leaf.cert, "rsa", "sha1", data + b" ", value)
    bad = em[:5] + b"\xfe" + em[6:]  # padding not all 0xFF
    assert not keys.verify(pki.leaf.cert, "rsa", "sha1", data, _raw_rsa_sign(pki.leaf.key, bad))


def test_truncated_ecdsa_value_starting_like_der_is_malformed(pki) -> None:
    """A truncated r||s whose first byte happens to be 0x30 is not DER: malformed, not a
    mismatch (this made the test above fail once in 256 runs)."""
    from cryptography.hazmat.primitives.asymmetric import utils

    data = b"signed bytes"
    der = pki.ecdsa.key.sign(data, ec.ECDSA(hashes.SHA256()))
    r, s = utils.decode_dss_signature(der)
    raw = b"\x30" + r.to_bytes(32, "big")[1:] + s.to_bytes(32, "big")
    with pytest.raises(keys.KeyError_):
        keys.verify(pki.ecdsa.cert, "ecdsa", "sha256", data, raw[:-3])
    assert keys.verify(pki.ecdsa.cert, "ecdsa", "sha256", data, der)  # real DER still accepted


def test_rsa_pss_parameters_name_only_known_digests() -> None:
    from lxml import etree

    from gateway.inspect.xmldsig.algorithms import DSIG_MORE_2007 as M
    from gateway.inspect.xmldsig.signer import _pss_params

    ds = "http://www.w3.org/2000/09/xmldsig#"
    sha384, md5 = "http://www.w3.org/2001/04/xmldsig-more#sha384", f"{M}md5"

    def params(digest: str, mgf_digest: str) -> bytes:
        return (f'<SignatureMethod xmlns="{ds}" xmlns:m="{M}"><m:RSAPSSParams>'
                f'<DigestMethod Algorithm="{digest}"/>'
                f'<m:MaskGenerationFunction Algorithm="{M}MGF1">'
                f'<DigestMethod Algorithm="{mgf_digest}"/></m:MaskGenerationFunction>'
                f'<m:SaltLength>48</m:SaltLength></m:RSAPSSParams></SignatureMethod>').encode()

    assert _pss_params(etree.fromstring(params(sha384, sha384))) == ("sha384", 48, "sha384")
    with pytest.raises(ValueError, match="^digest "):
        _pss_params(etree.fromstring(params(md5, sha384)))
    with pytest.raises(ValueError, match="^MGF digest "):
        _pss_params(etree.fromstring(params(sha384, md5)))
