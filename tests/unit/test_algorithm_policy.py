"""One algorithm policy for PDF, CMS, OOXML and ODF: SHA-1 and RSA-1024 signatures made here
with the test PKI are refused alike, with the same finding code and text and the same reason,
which the JSON report, the document finding, the header and the notice name."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import pytest
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from gateway.headers import verdict_headers
from gateway.inspect.algorithms import AlgorithmPolicy, PublicKey
from gateway.model.envelope import Envelope
from gateway.model.report import Integrity, Verdict
from gateway.notices.render import NoticeFacts, render_notice
from gateway.notices.templates import load_templates, shipped_directory
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from gateway.policy.strict import RulesError
from tests import signer as S
from tests.pdfgen.build import born_digital_pdf
from tests.pdfgen.check import engine_for
from tests.pdfgen.sign import signer_for
from tests.pki import issue, rsa_key, t

FORMATS = ["pdf", "cms", "ooxml", "odf"]


@pytest.fixture(scope="module")
def engine(pki):
    return engine_for(pki)


@pytest.fixture(scope="module")
def weak_leaf(pki):
    """A signing certificate with a 1,024-bit RSA key, chained to the trusted root."""
    return issue("weak1024", "Nguyễn Văn Yếu", 7001, pki.intermediate, t(2024), t(2027),
                 key=rsa_key(1024))


def _pdf(pki, who, digest: str) -> bytes:
    meta = signers.PdfSignatureMetadata(field_name="Signature1", md_algorithm=digest,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    w = IncrementalPdfFileWriter(io.BytesIO(born_digital_pdf(1)), strict=False)
    return signers.sign_pdf(w, meta, signer=signer_for(who, pki.chain(pki.leaf))).getvalue()


def _cms(pki, who, digest: str) -> bytes:
    signer = signer_for(who, pki.chain(pki.leaf))
    return asyncio.run(signer.async_sign_general_data(born_digital_pdf(1), digest,
                                                      detached=False)).dump()


def _ooxml(pki, who, digest: str) -> bytes:
    parts = S.sign_ooxml(S.make_ooxml(), who.key, who.cert, chain=pki.chain(pki.leaf),
                         digest=digest, signing_time=pki.now - timedelta(days=1))
    return S.zip_package(parts)


def _odf(pki, who, digest: str) -> bytes:
    parts = S.sign_odf(S.make_odt(), who.key, who.cert, chain=pki.chain(pki.leaf),
                       digest=digest, signing_time=pki.now - timedelta(days=1))
    return S.zip_package(parts, first="mimetype")


MAKE = {"pdf": (_pdf, "van-ban.pdf"), "cms": (_cms, "van-ban.pdf.p7m"),
        "ooxml": (_ooxml, "van-ban.docx"), "odf": (_odf, "van-ban.odt")}


def _check(pki, engine, fmt: str, who, digest: str, rules=None):
    make, name = MAKE[fmt]
    checker = Checker(load_policy(rules), trust=engine, clock=lambda: pki.now)
    report = checker.check_document(name, make(pki, who, digest))
    # a .p7m envelope is opened: the content it carries, judged with the envelope's signature,
    # is the last document (the only one for every other format)
    doc = report.documents[-1]
    return report, doc


def _alg_findings(doc, code: str):
    return [f for s in doc.signatures for f in s.findings if f.code == code]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_same_signature_with_sha256_is_valid(pki, engine, fmt):
    report, doc = _check(pki, engine, fmt, pki.leaf, "sha256")
    assert report.verdict is Verdict.VALID, [f.code for f in doc.findings]
    assert [s.reasons for s in doc.signatures] == [()]
    assert report.to_json()["documents"][-1]["signatures"][0]["reasons"] == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_sha1_is_refused_in_every_format_with_one_code_and_reason(pki, engine, fmt):
    report, doc = _check(pki, engine, fmt, pki.leaf, "sha1")
    assert report.verdict is Verdict.INVALID
    (sig,) = doc.signatures
    assert sig.integrity is Integrity.INTACT  # the mathematics hold; the policy refuses
    (found,) = _alg_findings(doc, "ALG_DIGEST_NOT_ALLOWED")
    assert found.en.startswith("The signature uses the digest algorithm SHA-1, which is no "
                               "longer accepted")
    assert sig.reasons == ("digest-not-allowed",)
    js = report.to_json()["documents"][-1]["signatures"][0]
    assert js["reasons"] == ["digest-not-allowed"]
    # the document finding names the reason in both languages
    judged = [f for f in doc.findings if f.code in ("PDF_SIGNATURE_NOT_CONFIRMED",
                                                    "EDITABLE_SIGNATURE_UNVERIFIED")]
    assert judged, [f.code for f in doc.findings]
    assert "digest algorithm not allowed [digest-not-allowed]" in judged[0].en
    assert "thuật toán băm không được chấp nhận [digest-not-allowed]" in judged[0].vi
    assert "reasons=digest-not-allowed" in verdict_headers(report)[1][1]


@pytest.mark.parametrize("fmt", FORMATS)
def test_rsa_1024_is_refused_in_every_format_with_one_code_and_reason(pki, engine, weak_leaf,
                                                                      fmt):
    report, doc = _check(pki, engine, fmt, weak_leaf, "sha256")
    assert report.verdict is Verdict.INVALID
    (found,) = _alg_findings(doc, "ALG_KEY_TOO_SMALL")
    assert found.en.startswith("The signing key is a 1024-bit RSA key, shorter than the "
                               "minimum of 2048 bits")
    assert doc.signatures[0].reasons == ("key-too-small",)


@pytest.mark.parametrize("fmt", ["pdf", "ooxml"])
def test_rules_can_lower_the_key_size_for_every_format(pki, engine, weak_leaf, tmp_path, fmt):
    rules = tmp_path / "local.toml"
    rules.write_text("[algorithms]\nrsa-min-bits = 1024\nlegacy-rsa-min-bits = 1024\n",
                     encoding="utf-8")
    report, doc = _check(pki, engine, fmt, weak_leaf, "sha256", rules)
    assert report.verdict is Verdict.VALID, [f.code for f in doc.findings]


def test_ec_curves_come_from_the_rules(pki, engine, tmp_path):
    parts = S.sign_ooxml(S.make_ooxml(), pki.ecdsa.key, pki.ecdsa.cert, chain=pki.chain(pki.leaf),
                         method="ecdsa", signing_time=pki.now - timedelta(days=1))
    rules = tmp_path / "local.toml"
    rules.write_text('[algorithms]\nec-curves = ["secp384r1"]\n', encoding="utf-8")
    checker = Checker(load_policy(rules), trust=engine, clock=lambda: pki.now)
    report = checker.check_document("a.docx", S.zip_package(parts))
    assert report.verdict is Verdict.INVALID
    assert report.documents[0].signatures[0].reasons == ("curve-not-allowed",)


def test_a_refused_signatures_notice_names_the_reason(pki, engine):
    report, _ = _check(pki, engine, "ooxml", pki.leaf, "sha1")
    facts = NoticeFacts.from_message(Envelope(sender="a@b.gov.vn", recipients=("c@d.gov.vn",)),
                                     [], decision_id=1, decided_at=pki.now)
    body = render_notice(load_templates(shipped_directory()), "invalid", report, facts).body
    assert "thuật toán băm không được chấp nhận [digest-not-allowed]" in body
    assert "digest algorithm not allowed [digest-not-allowed]" in body
    assert "SHA-1" in body


# -- the policy itself, on literal values -------------------------------------------------------


def test_legacy_allowance_needs_a_proven_time_before_the_date() -> None:
    policy = AlgorithmPolicy.from_options({"algorithms": {"legacy_until": "2016-01-01"}})
    key = PublicKey("rsa", 1024)
    before = datetime(2015, 6, 1, tzinfo=UTC)
    after = datetime(2016, 6, 1, tzinfo=UTC)
    codes = [f.code for f in policy.check(digests=["sha1"], key=key, proven_at=before)]
    assert codes == ["ALG_LEGACY_ACCEPTED", "ALG_LEGACY_ACCEPTED"]
    assert [f.code for f in policy.check(digests=["sha1"], key=key, proven_at=after)] == [
        "ALG_DIGEST_NOT_ALLOWED", "ALG_KEY_TOO_SMALL"]
    # no timestamp, no allowance; and never below the legacy floor nor for MD5
    assert [f.code for f in policy.check(digests=["sha1"], proven_at=None)] == [
        "ALG_DIGEST_NOT_ALLOWED"]
    assert [f.code for f in policy.check(digests=["md5"], key=PublicKey("rsa", 512),
                                         proven_at=before)] == [
        "ALG_DIGEST_NOT_ALLOWED", "ALG_KEY_TOO_SMALL"]


def test_default_policy_has_no_legacy_allowance() -> None:
    policy = AlgorithmPolicy.from_options(load_policy().options())
    assert policy.legacy_until is None
    assert [f.code for f in policy.check(digests=["sha1"], proven_at=datetime(2000, 1, 1,
                                                                               tzinfo=UTC))] == [
        "ALG_DIGEST_NOT_ALLOWED"]
    assert policy.check(digests=["SHA-256", "sha3_256"], scheme="rsa-pss",
                        key=PublicKey("ec", 256, "secp256r1")) == []
    assert [f.code for f in policy.check(scheme="dsa")] == ["ALG_SCHEME_NOT_ALLOWED"]


@pytest.mark.parametrize("text", [
    '[algorithms]\ndigests = ["sha-999"]\n',
    '[algorithms]\nschemes = ["rsa", "gost"]\n',
    '[algorithms]\nlegacy-until = "soon"\n',
    '[algorithms]\nrsa-min-bits = 1000\nlegacy-rsa-min-bits = 2048\n',
    '[signatures]\nweak-algorithm = "error"\n',  # replaced by [algorithms]
    '[pdf]\naccept-sha1-subfilter = true\n',
])
def test_bad_algorithm_rules_are_refused_at_load(tmp_path, text) -> None:
    rules = tmp_path / "local.toml"
    rules.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError):
        load_policy(rules)



def test_legacy_date_accepts_sha1_only_when_a_trusted_timestamp_proves_the_time(pki, engine,
                                                                                tmp_path):
    """A SHA-1 PDF signature with a signature timestamp from a trusted TSA (2024-06-01):
    refused by default, accepted with a warning when ``legacy-until`` lies after that time,
    refused again when it lies before."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    from tests.pki import _builder, name

    tsa_key = rsa_key()
    b = _builder(name("Hople Test TSA"), pki.intermediate.cert.subject, tsa_key, 7003, t(2024),
                 t(2027))
    b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    b = b.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]),
                        True)  # pyHanko wants a critical timeStamping EKU
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
        pki.intermediate.key.public_key()), False)
    tsa_cert = b.sign(pki.intermediate.key, hashes.SHA256())
    der = tsa_cert.public_bytes(serialization.Encoding.DER)
    key_der = tsa_key.private_bytes(serialization.Encoding.DER,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(der),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
        certs_to_embed=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(pki.intermediate.der)]),
        fixed_dt=datetime(2024, 6, 1, tzinfo=UTC))
    meta = signers.PdfSignatureMetadata(field_name="Signature1", md_algorithm="sha1",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    w = IncrementalPdfFileWriter(io.BytesIO(born_digital_pdf(1)), strict=False)
    data = signers.sign_pdf(w, meta, signer=signer_for(pki.leaf, pki.chain(pki.leaf)),
                            timestamper=stamper).getvalue()

    def verdict(until: str | None):
        rules = None
        if until is not None:
            rules = tmp_path / f"r{until}.toml"
            rules.write_text(f'[algorithms]\nlegacy-until = "{until}"\n', encoding="utf-8")
        checker = Checker(load_policy(rules), trust=engine, clock=lambda: pki.now)
        return checker.check_document("ts.pdf", data).documents[0]

    assert verdict(None).verdict.value == "invalid"
    doc = verdict("2025-01-01")
    codes = [f.code for s in doc.signatures for f in s.findings]
    assert doc.verdict.value == "valid", codes
    assert "ALG_LEGACY_ACCEPTED" in codes and "ALG_DIGEST_NOT_ALLOWED" not in codes
    doc = verdict("2024-01-01")
    assert doc.verdict.value == "invalid"
    assert doc.signatures[0].reasons == ("digest-not-allowed",)
