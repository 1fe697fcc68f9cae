"""OOXML package signatures end to end through the pipeline, with the test PKI and signer.

Every tampering a sender (or someone on the way) could do to a signed DOCX must turn the
document invalid, naming the layer; a change to a part Office leaves unsigned by design
must not.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from gateway.inspect.base import InspectContext
from gateway.inspect.ooxml import inspect_ooxml
from gateway.model.document import Document
from gateway.model.report import Coverage, DocClass, Integrity, Revocation, Trust, Verdict
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from gateway.trust import build_engine
from tests import signer as S


@pytest.fixture(scope="module")
def engine(pki):
    return build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir])


@pytest.fixture(scope="module")
def checker(pki, engine):
    return Checker(load_policy(), trust=engine, clock=lambda: pki.now)


def signed(pki, kind="docx", who=None, method="rsa", parts=None, **kw):
    who = who or pki.leaf
    parts = parts if parts is not None else S.make_ooxml(kind)
    return S.sign_ooxml(parts, who.key, who.cert, chain=pki.chain(who), method=method,
                        signing_time=pki.now - timedelta(days=1), **kw)


def check(checker, parts, name="van-ban.docx"):
    report = checker.check_document(name, S.zip_package(parts))
    (doc,) = report.documents
    return report, doc


def codes(doc):
    out = [f.code for f in doc.findings]
    for s in doc.signatures:
        out.extend(f.code for f in s.findings)
    return out


# -- valid --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["docx", "xlsx", "pptx"])
def test_trusted_signature_makes_the_document_valid(pki, checker, kind):
    report, doc = check(checker, signed(pki, kind), f"van-ban.{kind}")
    assert report.verdict is Verdict.VALID, codes(doc)
    (sig,) = doc.signatures
    assert sig.format == "ooxml-xmldsig"
    assert (sig.integrity, sig.coverage, sig.trust, sig.revocation) == (
        Integrity.INTACT, Coverage.WHOLE, Trust.TRUSTED, Revocation.GOOD)
    assert "Nguyễn Văn A" in (sig.signer or "")
    assert sig.signing_time == (pki.now - timedelta(days=1)).replace(microsecond=0)
    # Metadata parts are named as not protected (info), never silently.
    assert "SIG_UNSIGNED_BY_DESIGN" in codes(doc)
    js = report.to_json()["documents"][0]["signatures"][0]
    assert js["integrity"] == "intact" and js["coverage"] == "whole" and js["trust"] == "trusted"


@pytest.mark.parametrize("method,who", [("rsa-pss", "leaf"), ("ecdsa", "ecdsa")])
def test_rsa_pss_and_ecdsa_signatures_verify(pki, checker, method, who):
    report, doc = check(checker, signed(pki, who=getattr(pki, who), method=method))
    assert report.verdict is Verdict.VALID, codes(doc)
    assert doc.signatures[0].integrity is Integrity.INTACT


def test_ecdsa_value_in_der_form_of_wrong_length_is_rejected(pki, checker):
    parts = signed(pki, who=pki.ecdsa, method="ecdsa")
    sig = parts["_xmlsignatures/sig1.xml"].decode()
    value = re.search(r"<SignatureValue>([^<]+)</SignatureValue>", sig).group(1)
    import base64

    raw = base64.b64decode(value)
    truncated = base64.b64encode(raw[:-1]).decode()
    parts["_xmlsignatures/sig1.xml"] = sig.replace(value, truncated).encode()
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    assert doc.signatures[0].integrity is Integrity.BROKEN
    assert "SIG_VALUE_INVALID" in codes(doc)


# -- tampering ------------------------------------------------------------------------------


def _broken(checker, parts, code):
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    (sig,) = doc.signatures
    assert sig.integrity is Integrity.BROKEN, codes(doc)
    assert code in codes(doc), codes(doc)
    assert "EDITABLE_SIGNATURE_UNVERIFIED" in codes(doc)
    return doc


def test_part_content_changed_breaks_the_signature(pki, checker):
    parts = signed(pki)
    parts["word/document.xml"] = parts["word/document.xml"].replace(
        "thử nghiệm".encode(), "đã sửa".encode())
    _broken(checker, parts, "SIG_DIGEST_MISMATCH")


def test_one_byte_of_a_binary_part_changed(pki, checker):
    parts = signed(pki)
    img = bytearray(parts["word/media/image1.png"])
    img[-5] ^= 1
    parts["word/media/image1.png"] = bytes(img)
    _broken(checker, parts, "SIG_DIGEST_MISMATCH")


def test_whitespace_only_change_in_xml_still_breaks(pki, checker):
    parts = signed(pki)
    parts["word/document.xml"] = parts["word/document.xml"].replace(b"<w:p>", b"<w:p> ")
    _broken(checker, parts, "SIG_DIGEST_MISMATCH")


def test_part_added_after_signing_makes_coverage_partial(pki, checker):
    parts = signed(pki)
    parts["word/media/image2.png"] = parts["word/media/image1.png"]
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    (sig,) = doc.signatures
    assert sig.integrity is Integrity.INTACT  # every signed digest still matches
    assert sig.coverage is Coverage.PARTIAL
    partial = [f for f in sig.findings if f.code == "SIG_COVERAGE_PARTIAL"]
    assert partial and "word/media/image2.png" in partial[0].en


def test_part_left_out_of_the_manifest_is_partial(pki, checker):
    parts = signed(pki, skip_parts=["word/styles.xml"])
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    assert doc.signatures[0].coverage is Coverage.PARTIAL


def test_part_removed_breaks_the_signature(pki, checker):
    parts = signed(pki)
    del parts["word/styles.xml"]
    _broken(checker, parts, "SIG_REFERENCE_UNRESOLVED")


def test_relationship_changed_breaks_the_signature(pki, checker):
    parts = signed(pki)
    parts["word/_rels/document.xml.rels"] = parts["word/_rels/document.xml.rels"].replace(
        b"https://example.gov.vn/", b"https://evil.example/")
    _broken(checker, parts, "SIG_DIGEST_MISMATCH")


def test_unselected_relationship_redirected_is_partial(pki, checker):
    # The root .rels link to core properties is outside the transform (as Office does);
    # pointing it at a document part instead is an unprotected link: partial.
    parts = signed(pki)
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(
        b'Target="docProps/core.xml"', b'Target="word/styles.xml"')
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    assert doc.signatures[0].coverage is Coverage.PARTIAL


def test_relationship_attribute_order_and_unselected_metadata_do_not_matter(pki, checker):
    parts = signed(pki)
    rels = parts["word/_rels/document.xml.rels"].decode()
    # Reorder the relationships: the transform sorts by Id, so the digest still matches.
    items = re.findall(r"<Relationship [^>]+/>", rels)
    reordered = rels.replace("".join(items), "".join(reversed(items)))
    assert reordered != rels
    parts["word/_rels/document.xml.rels"] = reordered.encode()
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.VALID, codes(doc)


def test_unsigned_by_design_part_changed_keeps_signature_valid(pki, checker):
    parts = signed(pki)
    parts["docProps/core.xml"] = parts["docProps/core.xml"].replace(
        "Nguyễn Văn A".encode(), "Người Khác".encode())
    parts["docProps/thumbnail.png"] = parts["word/media/image1.png"]
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.VALID, codes(doc)
    info = [f for f in doc.findings if f.code == "SIG_UNSIGNED_BY_DESIGN"]
    assert info and "docProps/core.xml" in info[0].en and "docProps/thumbnail.png" in info[0].en


def test_content_type_changed_breaks_the_signature(pki, checker):
    parts = signed(pki)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"wordprocessingml.document.main+xml",
        b"wordprocessingml.template.main+xml")
    _broken(checker, parts, "SIG_CONTENT_TYPE_MISMATCH")


def test_signed_info_changed_breaks_the_signature(pki, checker):
    parts = signed(pki)
    sig = parts["_xmlsignatures/sig1.xml"]
    parts["_xmlsignatures/sig1.xml"] = sig.replace(
        b'<Reference Type="http://www.w3.org/2000/09/xmldsig#Object"',
        b'<Reference Type="http://www.w3.org/2000/09/xmldsig#Object" ', 1).replace(
        b"<SignedInfo>", b"<SignedInfo><!-- -->", 1).replace(
        b'URI="#idPackageObject"', b'URI="#idPackageObject" Id="x"', 1)
    _broken(checker, parts, "SIG_VALUE_INVALID")


def test_signature_value_changed_breaks_the_signature(pki, checker):
    parts = signed(pki)
    sig = parts["_xmlsignatures/sig1.xml"].decode()
    value = re.search(r"<SignatureValue>([^<]+)</SignatureValue>", sig).group(1)
    flipped = ("B" if value[10] != "B" else "C").join([value[:10], value[11:]])
    parts["_xmlsignatures/sig1.xml"] = sig.replace(value, flipped).encode()
    _broken(checker, parts, "SIG_VALUE_INVALID")


def test_certificate_swapped_breaks_the_signature(pki, checker):
    # Same SignedInfo and value, but the KeyInfo now shows another trusted signer.
    parts = signed(pki)
    import base64

    sig = parts["_xmlsignatures/sig1.xml"].decode()
    leaf_b64 = base64.b64encode(pki.leaf.der).decode()
    other_b64 = base64.b64encode(pki.revoked.der).decode()
    parts["_xmlsignatures/sig1.xml"] = sig.replace(leaf_b64, other_b64).encode()
    _broken(checker, parts, "SIG_VALUE_INVALID")


def test_extra_unrelated_certificate_makes_the_signer_ambiguous(pki, checker):
    parts = signed(pki)
    import base64

    sig = parts["_xmlsignatures/sig1.xml"].decode()
    extra = base64.b64encode(pki.other_leaf.der).decode()
    parts["_xmlsignatures/sig1.xml"] = sig.replace(
        "</X509Data>", f"<X509Certificate>{extra}</X509Certificate></X509Data>").encode()
    _broken(checker, parts, "SIG_AMBIGUOUS_CERTIFICATE")


def test_xades_signing_certificate_must_name_the_signer(pki, checker):
    # Signed by the leaf, but XAdES names the ECDSA certificate: re-sign so that every
    # digest and the value are right and only the attribution is wrong.
    import base64
    import hashlib

    parts = S.sign_ooxml(S.make_ooxml(), pki.leaf.key, pki.ecdsa.cert,
                         signing_time=pki.now - timedelta(days=1))
    sig = parts["_xmlsignatures/sig1.xml"].decode()
    leaf_b64 = base64.b64encode(pki.leaf.der).decode()
    ecdsa_b64 = base64.b64encode(pki.ecdsa.der).decode()
    # KeyInfo shows the real key's certificate; XAdES still names the ECDSA one.
    parts["_xmlsignatures/sig1.xml"] = sig.replace(ecdsa_b64, leaf_b64).encode()
    assert base64.b64encode(hashlib.sha256(pki.ecdsa.der).digest()).decode() in sig
    _broken(checker, parts, "SIG_SIGNING_CERT_MISMATCH")


def test_duplicate_id_wrapping_is_refused(pki, checker):
    # Classic wrapping: keep the signed Object under a new parent and add a forged Object
    # with the same Id. Whichever copy a verifier picks, duplicate Ids fail the signature.
    parts = signed(pki)
    sig = parts["_xmlsignatures/sig1.xml"].decode()
    start = sig.index('<Object Id="idPackageObject">')
    end = sig.index("</Object>", start) + len("</Object>")
    original = sig[start:end]
    forged = original.replace("/word/styles.xml", "/word/evil.xml")
    parts["_xmlsignatures/sig1.xml"] = (sig[:start] + forged + f"<Object>{original}</Object>"
                                        + sig[end:]).encode()
    _broken(checker, parts, "SIG_DUPLICATE_ID")


def test_reference_to_a_missing_id_breaks(pki, checker):
    parts = signed(pki)
    parts["_xmlsignatures/sig1.xml"] = parts["_xmlsignatures/sig1.xml"].replace(
        b'<Object Id="idPackageObject">', b'<Object Id="idSomethingElse">')
    _broken(checker, parts, "SIG_REFERENCE_UNRESOLVED")


def test_unsigned_manifest_protects_nothing(pki, checker):
    # Drop the SignedInfo reference to the package object: the Manifest is no longer signed,
    # so every part counts as uncovered even though the signature value verifies.
    parts = signed(pki, xades=False)
    sig = parts["_xmlsignatures/sig1.xml"].decode()
    # Re-sign with a SignedInfo that references only the signature-time property.
    prop = re.search(r'<SignatureProperty Id="idSignatureTime" Target="#idPackageSignature">(.*?)'
                     r"</SignatureProperty>", sig).group(1)
    standalone = (f'<SignatureProperty xmlns="{S.DS}" Id="idSignatureTime" '
                  f'Target="#idPackageSignature">{prop}</SignatureProperty>')
    refs = S._reference("#idSignatureTime", "sha256",
                        S._digest(S._c14n_standalone(standalone), "sha256"))
    signed_info, value = S._signed_info_and_value(refs, pki.leaf.key, "rsa", "sha256")
    sig = re.sub(r"<SignedInfo>.*?</SignedInfo>", signed_info, sig)
    sig = re.sub(r"<SignatureValue>.*?</SignatureValue>",
                 f"<SignatureValue>{value}</SignatureValue>", sig)
    parts["_xmlsignatures/sig1.xml"] = sig.encode()
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    (sig_report,) = doc.signatures
    assert sig_report.integrity is Integrity.INTACT, codes(doc)
    assert sig_report.coverage is Coverage.PARTIAL


def test_orphan_signature_part_is_reported_and_not_counted(pki, checker):
    good = signed(pki)
    parts = S.make_ooxml()
    parts["_xmlsignatures/sig1.xml"] = good["_xmlsignatures/sig1.xml"]
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    assert doc.signatures == ()
    assert {"SIG_ORPHAN_PART", "EDITABLE_NOT_SIGNED"} <= set(codes(doc))


def test_cd_lfh_mismatch_in_a_signed_package_is_broken(pki, checker):
    data = bytearray(S.zip_package(signed(pki)))
    # Rename the local header of word/document.xml (same length), leaving the directory.
    pos = data.index(b"word/document.xml")
    data[pos:pos + len(b"word/document.xml")] = b"word/documenX.xml"
    report = checker.check_document("van-ban.docx", bytes(data))
    (doc,) = report.documents
    assert report.verdict is Verdict.INVALID
    assert doc.signatures and doc.signatures[0].integrity is Integrity.BROKEN
    assert "SIG_CONTAINER_INVALID" in codes(doc)


# -- trust -----------------------------------------------------------------------------------


def test_untrusted_root(pki, checker):
    report, doc = check(checker, signed(pki, who=pki.other_leaf))
    assert report.verdict is Verdict.INVALID
    sig = doc.signatures[0]
    assert sig.integrity is Integrity.INTACT and sig.coverage is Coverage.WHOLE
    assert sig.trust is Trust.UNTRUSTED
    assert "TRUST_UNTRUSTED_ROOT" in codes(doc)


def test_expired_certificate(pki, checker):
    report, doc = check(checker, signed(pki, who=pki.expired))
    assert report.verdict is Verdict.INVALID
    assert doc.signatures[0].trust is not Trust.TRUSTED
    assert "CERT_EXPIRED" in codes(doc)


def test_revoked_certificate(pki, checker):
    report, doc = check(checker, signed(pki, who=pki.revoked))
    assert report.verdict is Verdict.INVALID
    assert doc.signatures[0].revocation is Revocation.REVOKED
    assert "REVOCATION_REVOKED" in codes(doc)


def test_certificate_not_for_signing(pki, checker):
    report, doc = check(checker, signed(pki, who=pki.no_usage))
    assert report.verdict is Verdict.INVALID
    assert "CERT_KEY_USAGE" in codes(doc)


def test_no_trust_engine_means_unknown_trust_not_valid(pki):
    data = S.zip_package(signed(pki))
    doc = Document("a.docx", "a.docx", data, "x", "docx", DocClass.EDITABLE)
    result = inspect_ooxml(doc, InspectContext(at=pki.now))
    (sig,) = result.signatures
    assert sig.integrity is Integrity.INTACT and sig.trust is Trust.UNKNOWN
    assert not sig.is_good
    assert "SIG_TRUST_NOT_CHECKED" in [f.code for f in sig.findings]


def test_signing_time_in_the_future_is_not_used(pki, engine):
    parts = S.sign_ooxml(S.make_ooxml(), pki.leaf.key, pki.leaf.cert, chain=pki.chain(pki.leaf),
                         signing_time=pki.now + timedelta(days=400))
    doc = Document("a.docx", "a.docx", S.zip_package(parts), "x", "docx", DocClass.EDITABLE)
    result = inspect_ooxml(doc, InspectContext(at=pki.now, trust=engine))
    (sig,) = result.signatures
    assert "SIG_SIGNING_TIME_FUTURE" in [f.code for f in sig.findings]
    assert sig.trust is Trust.TRUSTED  # checked at the time of checking instead


def test_backdated_signing_time_does_not_revive_an_expired_certificate(pki, engine):
    # The expired leaf was valid in 2021; a self-declared 2021 signing time is too old to use.
    parts = S.sign_ooxml(S.make_ooxml(), pki.expired.key, pki.expired.cert,
                         chain=pki.chain(pki.expired), signing_time=pki.now.replace(year=2021))
    doc = Document("a.docx", "a.docx", S.zip_package(parts), "x", "docx", DocClass.EDITABLE)
    result = inspect_ooxml(doc, InspectContext(at=pki.now, trust=engine))
    (sig,) = result.signatures
    assert "SIG_SIGNING_TIME_OLD" in [f.code for f in sig.findings]
    assert sig.trust is not Trust.TRUSTED


# -- several signatures ------------------------------------------------------------------------


def test_two_signatures_both_verified(pki, checker):
    parts = signed(pki, parts=signed(pki), who=pki.ecdsa, method="ecdsa")
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.VALID, codes(doc)
    assert len(doc.signatures) == 2
    assert all(s.is_good for s in doc.signatures)


def test_two_signatures_one_bad_is_valid_but_reports_the_bad_one(pki, checker):
    parts = signed(pki, parts=signed(pki), who=pki.other_leaf)  # second signer untrusted
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.VALID
    good, bad = doc.signatures
    assert good.is_good and bad.trust is Trust.UNTRUSTED
    warn = [f for f in doc.findings if f.code == "SIG_SOME_SIGNATURES_BAD"]
    assert warn and "1/2" in warn[0].vi


def test_two_signatures_first_one_broken_is_not_hidden_by_checking_only_the_first(pki, checker):
    parts = signed(pki, parts=signed(pki), who=pki.other_leaf)
    # Break the FIRST (trusted) signature's value: only the untrusted one still verifies.
    sig = parts["_xmlsignatures/sig1.xml"].decode()
    value = re.search(r"<SignatureValue>([^<]+)</SignatureValue>", sig).group(1)
    parts["_xmlsignatures/sig1.xml"] = sig.replace(value, value[::-1]).encode()
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    first, second = doc.signatures
    assert first.integrity is Integrity.BROKEN
    assert second.integrity is Integrity.INTACT and second.trust is Trust.UNTRUSTED


def test_sha1_is_refused_by_default_and_allowed_only_by_the_algorithm_rules(pki, engine, tmp_path):
    parts = signed(pki, digest="sha1")
    rules = tmp_path / "local.toml"
    rules.write_text('[algorithms]\ndigests = ["sha1", "sha256"]\n', encoding="utf-8")
    lenient = Checker(load_policy(rules), trust=engine, clock=lambda: pki.now)
    default = Checker(load_policy(), trust=engine, clock=lambda: pki.now)
    r1, d1 = check(default, parts)
    r2, d2 = check(lenient, parts)
    assert r1.verdict is Verdict.INVALID and "ALG_DIGEST_NOT_ALLOWED" in codes(d1)
    assert d1.signatures[0].reasons == ("digest-not-allowed",)
    assert r2.verdict is Verdict.VALID and "ALG_DIGEST_NOT_ALLOWED" not in codes(d2)


def test_customxml_can_be_required_by_the_rules(pki, engine, tmp_path):
    base = S.make_ooxml()
    base["customXml/item1.xml"] = b"<data>1</data>"
    parts = signed(pki, parts=base, skip_parts=["customXml/item1.xml"])
    rules = tmp_path / "local.toml"
    rules.write_text('[signatures]\n'
                     'ooxml-unsigned-parts = ["docProps/core.xml", "docProps/app.xml"]\n',
                     encoding="utf-8")
    strict = Checker(load_policy(rules), trust=engine, clock=lambda: pki.now)
    default = Checker(load_policy(), trust=engine, clock=lambda: pki.now)
    assert check(default, parts)[0].verdict is Verdict.VALID
    report, doc = check(strict, parts)
    assert report.verdict is Verdict.INVALID and doc.signatures[0].coverage is Coverage.PARTIAL


def test_damaged_package_is_a_finding_not_a_crash(checker):
    data = S.zip_package(S.make_ooxml())
    report = checker.check_document("hong.docx", data[: len(data) // 2])
    (doc,) = report.documents
    assert report.verdict is Verdict.INVALID
    assert "INSPECTION_FAILED" not in codes(doc)


def test_removed_signature_part_still_linked_is_reported_broken(pki, checker):
    parts = signed(pki)
    del parts["_xmlsignatures/sig1.xml"]
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    (sig,) = doc.signatures
    assert sig.integrity is Integrity.BROKEN
    assert "SIG_REFERENCE_UNRESOLVED" in codes(doc) and "EDITABLE_NOT_SIGNED" not in codes(doc)


def test_second_signature_removed_leaves_the_first_valid_with_a_warning(pki, checker):
    parts = signed(pki, parts=signed(pki), who=pki.ecdsa, method="ecdsa")
    del parts["_xmlsignatures/sig2.xml"]
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.VALID
    assert "SIG_SOME_SIGNATURES_BAD" in codes(doc)


# -- revocation data embedded in the signature (XAdES-X-L) ----------------------------------


@pytest.fixture(scope="module")
def offline_engine(pki):
    # No CRL cache at all: only what the signature carries can decide revocation.
    return build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.empty_crl_dir])


def _inspect(pki, engine, parts):
    doc = Document("a.docx", "a.docx", S.zip_package(parts), "x", "docx", DocClass.EDITABLE)
    (sig,) = inspect_ooxml(doc, InspectContext(at=pki.now, trust=engine)).signatures
    return sig


def test_embedded_crls_decide_revocation_offline(pki, offline_engine):
    without = _inspect(pki, offline_engine, signed(pki))
    assert without.trust is Trust.TRUSTED and without.revocation is Revocation.UNKNOWN
    with_crls = _inspect(pki, offline_engine, signed(pki, embed_crls=pki.crls_der))
    assert with_crls.revocation is Revocation.GOOD
    revoked = _inspect(pki, offline_engine, signed(pki, who=pki.revoked, embed_crls=pki.crls_der))
    assert revoked.revocation is Revocation.REVOKED


def test_intermediate_from_xades_certificate_values(pki, tmp_path):
    # No configured intermediates and none in KeyInfo: the chain comes from CertificateValues.
    engine = build_engine([pki.anchors_dir], [], [pki.crl_dir])
    parts = S.sign_ooxml(S.make_ooxml(), pki.leaf.key, pki.leaf.cert, chain=[],
                         signing_time=pki.now - timedelta(days=1),
                         embed_certs=[pki.intermediate.der])
    assert _inspect(pki, engine, parts).trust is Trust.TRUSTED
    bare = S.sign_ooxml(S.make_ooxml(), pki.leaf.key, pki.leaf.cert, chain=[],
                        signing_time=pki.now - timedelta(days=1))
    assert _inspect(pki, engine, bare).trust is not Trust.TRUSTED


def test_vba_project_signature_alone_is_not_a_document_signature(checker):
    parts = S.make_ooxml()
    parts["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0vba"
    parts["word/vbaProjectSignature.bin"] = b"\x00signature"
    report, doc = check(checker, parts, "macro.docx")
    assert report.verdict is Verdict.INVALID and doc.signatures == ()
    assert {"SIG_MACRO_SIGNATURE_ONLY", "EDITABLE_NOT_SIGNED"} <= set(codes(doc))


def test_unselected_link_retyped_to_main_document_is_partial(pki, checker):
    # The link to core.xml is outside the transform; retyping it to officeDocument would let
    # an unsigned part pose as the document body.
    parts = signed(pki)
    parts["_rels/.rels"] = parts["_rels/.rels"].replace(
        b"http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument")
    report, doc = check(checker, parts)
    assert report.verdict is Verdict.INVALID
    assert doc.signatures[0].coverage is Coverage.PARTIAL
