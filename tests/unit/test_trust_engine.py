"""Chain validation and revocation with the test PKI and a settable clock."""

from __future__ import annotations

import asyncio
import shutil
from datetime import datetime

import pytest
from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import CertificateValidator
from pyhanko_certvalidator.errors import PathBuildingError

from gateway.model.findings import Severity
from gateway.model.report import Revocation, Trust
from gateway.trust import build_engine, engine_for_check
from gateway.trust.engine import TrustEngine
from tests.pki import crl_der, issue, make_ca, make_crl, t


@pytest.fixture(scope="module")
def engine(pki) -> TrustEngine:
    return build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir])


@pytest.fixture(scope="module")
def no_crl_engine(pki) -> TrustEngine:
    return build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.empty_crl_dir])


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


# -- trusted ------------------------------------------------------------------------------

def test_trusted_chain_with_embedded_intermediate(engine, pki):
    r = engine.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.GOOD)
    assert r.findings == ()
    assert r.signer == "CN=Nguyễn Văn A, O=Sở Thử nghiệm, C=VN"
    assert r.path == (
        "CN=Nguyễn Văn A, O=Sở Thử nghiệm, C=VN",
        "CN=Hople Test Issuing CA, O=Hople Test PKI, C=VN",
        "CN=Hople Test Root CA, O=Hople Test PKI, C=VN",
    )
    assert r.is_good


def test_intermediate_from_configured_directory(engine, pki):
    r = engine.validate_chain(pki.leaf.der, [], pki.now)
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.GOOD)


def test_missing_intermediate_is_untrusted(pki):
    e = build_engine([pki.anchors_dir], [], [pki.crl_dir])
    r = e.validate_chain(pki.leaf.der, [], pki.now)
    assert r.trust is Trust.UNTRUSTED
    assert codes(r) == ["TRUST_UNTRUSTED_ROOT"]
    # ...and the same leaf is trusted once the signature supplies the intermediate.
    assert e.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now).trust is Trust.TRUSTED


def test_ecdsa_p256_leaf_is_trusted(engine, pki):
    r = engine.validate_chain(pki.ecdsa.der, pki.chain(pki.ecdsa), pki.now)
    assert (r.trust, r.revocation, r.findings) == (Trust.TRUSTED, Revocation.GOOD, ())


# -- untrusted ----------------------------------------------------------------------------

def test_untrusted_root(engine, pki):
    r = engine.validate_chain(pki.other_leaf.der, [pki.other_root.der], pki.now)
    assert r.trust is Trust.UNTRUSTED
    assert r.revocation is Revocation.UNKNOWN
    assert codes(r) == ["TRUST_UNTRUSTED_ROOT"]
    assert r.findings[0].severity is Severity.ERROR
    assert "Untrusted Root CA" in r.findings[0].en
    assert not r.is_good


def test_self_signed_signer_is_not_trusted(engine, pki):
    r = engine.validate_chain(pki.other_root.der, [], pki.now)
    assert r.trust is Trust.UNTRUSTED
    assert codes(r) == ["TRUST_UNTRUSTED_ROOT"]
    assert "self-signed" in r.findings[0].en


def test_expired_at_signing_time(engine, pki):
    r = engine.validate_chain(pki.expired.der, pki.chain(pki.expired), pki.now)
    assert r.trust is Trust.UNTRUSTED
    assert codes(r) == ["CERT_EXPIRED"]
    assert r.findings[0].params["not_after"].startswith("2022-01-01")
    assert "Expired Signer" in r.findings[0].params["subject"]


def test_expired_leaf_is_trusted_when_signed_inside_its_validity(engine, pki):
    # Validity is judged at the time given (the signing time), not at "today".
    r = engine.validate_chain(pki.expired.der, pki.chain(pki.expired), t(2021, 6, 1))
    assert r.trust is Trust.TRUSTED
    assert r.revocation is Revocation.GOOD


def test_not_yet_valid(engine, pki):
    r = engine.validate_chain(pki.leaf.der, pki.chain(pki.leaf), t(2023, 6, 1))
    assert r.trust is Trust.UNTRUSTED
    assert codes(r) == ["CERT_NOT_YET_VALID"]
    assert r.findings[0].params["not_before"].startswith("2024-01-01")


def test_wrong_key_usage(engine, pki):
    r = engine.validate_chain(pki.no_usage.der, pki.chain(pki.no_usage), pki.now)
    assert r.trust is Trust.UNTRUSTED
    assert codes(r) == ["CERT_KEY_USAGE"]
    assert r.findings[0].params["key_usage"] == "key_encipherment"
    assert r.path  # the chain itself was fine: only the usage is wrong


def test_timestamping_usage_needs_the_time_stamping_eku(engine, pki):
    r = engine.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now, usage="timestamping")
    assert r.trust is Trust.UNTRUSTED and codes(r) == ["CERT_KEY_USAGE"]
    assert engine.validate_chain(pki.leaf.der, [], pki.now, usage="any").trust is Trust.TRUSTED
    with pytest.raises(ValueError):
        engine.validate_chain(pki.leaf.der, [], pki.now, usage="encryption")


def test_path_length_is_enforced(engine, pki):
    # The intermediate has pathLen 0: a CA below it must not be accepted.
    sub = make_ca("sub", "Sub CA Beyond Path Length", 0x5001, t(2024), t(2030),
                  issuer=pki.intermediate)
    leaf = issue("deep", "Too Deep", 0x5002, sub, t(2024), t(2027))
    r = engine.validate_chain(leaf.der, [sub.der, pki.intermediate.der], pki.now)
    assert r.trust is Trust.UNTRUSTED
    assert codes(r) == ["TRUST_PATH_INVALID"]


def test_weak_algorithm_in_the_chain_is_refused(pki):
    # The library used here can no longer sign with SHA-1, so the test declares SHA-256
    # weak instead: the same check refuses SHA-1 chains under the default rules.
    e = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir],
                     weak_hashes=("md5", "sha1", "sha256"))
    r = e.validate_chain(pki.leaf.der, [], pki.now)
    assert r.trust is Trust.UNTRUSTED and codes(r) == ["CERT_WEAK_ALGORITHM"]
    default = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir])
    assert default.weak_hashes == {"md2", "md5", "sha1"}
    assert default.validate_chain(pki.leaf.der, [], pki.now).trust is Trust.TRUSTED


def test_no_anchors_configured(pki):
    r = build_engine([]).validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert (r.trust, r.revocation) == (Trust.UNKNOWN, Revocation.UNKNOWN)
    assert codes(r) == ["TRUST_NO_ANCHORS"]
    assert r.signer.startswith("CN=Nguyễn Văn A")


def test_unreadable_leaf_is_a_finding_not_a_crash(engine, pki):
    for junk in (b"", b"garbage", b"\x30\x82\xff\xff" + b"\x00" * 20, pki.leaf.der[:-40]):
        r = engine.validate_chain(junk, [], pki.now)
        assert r.trust is Trust.UNTRUSTED
        assert codes(r) == ["CERT_UNREADABLE"]
        assert r.signer == "?"


def test_junk_intermediates_are_skipped(engine, pki):
    r = engine.validate_chain(pki.leaf.der, [b"junk", pki.intermediate.der], pki.now)
    assert r.trust is Trust.TRUSTED
    r = engine.validate_chain(pki.other_leaf.der, [b"junk"], pki.now)
    assert codes(r) == ["TRUST_UNTRUSTED_ROOT", "CERT_UNREADABLE"]


# -- revocation ---------------------------------------------------------------------------

def test_revoked_before_signing_time(engine, pki):
    r = engine.validate_chain(pki.revoked.der, pki.chain(pki.revoked), pki.now)
    assert r.trust is Trust.TRUSTED
    assert r.revocation is Revocation.REVOKED
    assert codes(r) == ["REVOCATION_REVOKED"]
    f = r.findings[0]
    assert f.severity is Severity.ERROR
    assert f.params["revoked_at"].startswith("2025-03-01")
    assert "Revoked Signer" in f.params["subject"]
    assert not r.is_good


def test_revoked_after_signing_time_is_good_with_info(engine, pki):
    r = engine.validate_chain(pki.revoked.der, pki.chain(pki.revoked), t(2025, 2, 1))
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.GOOD)
    assert codes(r) == ["REVOCATION_AFTER_SIGNING"]
    assert r.findings[0].severity is Severity.INFO
    assert r.is_good


def test_no_revocation_data_is_unknown_with_warning(no_crl_engine, pki):
    r = no_crl_engine.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.UNKNOWN)
    assert codes(r) == ["REVOCATION_UNKNOWN"]
    assert r.findings[0].severity is Severity.WARNING
    assert r.is_good  # unknown revocation is the rules' call, not a failure


def test_revocation_unknown_severity_comes_from_the_rules(pki):
    e = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.empty_crl_dir],
                     revocation_unknown="error")
    r = e.validate_chain(pki.leaf.der, [], pki.now)
    assert codes(r) == ["REVOCATION_UNKNOWN"]
    assert r.findings[0].severity is Severity.ERROR


def test_leaf_only_revocation_when_intermediates_are_not_checked(pki):
    e = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.empty_crl_dir],
                     check_intermediates=False)
    r = e.validate_chain(pki.leaf.der, [], pki.now, crls=[pki.intermediate_crl_der])
    assert r.revocation is Revocation.GOOD
    # The default also wants the root's CRL covering the intermediate.
    e2 = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.empty_crl_dir])
    r2 = e2.validate_chain(pki.leaf.der, [], pki.now, crls=[pki.intermediate_crl_der])
    assert r2.revocation is Revocation.UNKNOWN
    assert "Hople Test Issuing CA" in r2.findings[0].params["subject"]


def test_crls_embedded_in_the_signature_are_used(no_crl_engine, pki):
    r = no_crl_engine.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now,
                                     crls=pki.crls_der)
    assert (r.trust, r.revocation, r.findings) == (Trust.TRUSTED, Revocation.GOOD, ())
    r = no_crl_engine.validate_chain(pki.revoked.der, [], pki.now, crls=pki.crls_der)
    assert r.revocation is Revocation.REVOKED


def test_stale_crl_gives_unknown(engine, pki):
    # The cached CRLs' nextUpdate is 2025-12-31; the leaf is valid until 2027.
    r = engine.validate_chain(pki.leaf.der, [], t(2026, 3, 1))
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.UNKNOWN)
    assert codes(r) == ["REVOCATION_UNKNOWN"]
    assert "recent" in r.findings[0].params["reason"]


def test_forged_crl_is_not_believed(no_crl_engine, pki):
    # A CRL naming the issuing CA as issuer but signed by another key lists the good leaf.
    impostor = make_ca("impostor", "Hople Test Issuing CA", 0x7001, t(2020), t(2035))
    forged = make_crl(impostor, [(pki.leaf, t(2025, 1, 20))])
    r = no_crl_engine.validate_chain(pki.leaf.der, [], pki.now,
                                     crls=[crl_der(forged), pki.root_crl_der])
    assert r.revocation is Revocation.UNKNOWN
    assert "REVOCATION_REVOKED" not in codes(r)


def test_garbage_revocation_data_is_unknown_not_a_crash(no_crl_engine, pki):
    r = no_crl_engine.validate_chain(pki.leaf.der, [], pki.now, crls=[b"junk"],
                                     ocsps=[b"\x30\x03\x0a\x01\x01"])
    assert r.trust is Trust.TRUSTED
    assert r.revocation is Revocation.UNKNOWN


# -- clock, context, configuration --------------------------------------------------------

def test_naive_time_is_utc(engine, pki):
    r = engine.validate_chain(pki.leaf.der, [], datetime(2025, 6, 1, 12))
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.GOOD)


def test_directories_are_read_once(pki, tmp_path):
    anchors = tmp_path / "anchors"
    shutil.copytree(pki.anchors_dir, anchors)
    e = build_engine([anchors], [pki.intermediates_dir], [pki.crl_dir])
    shutil.rmtree(anchors)
    assert e.validate_chain(pki.leaf.der, [], pki.now).trust is Trust.TRUSTED


def test_bad_files_are_reported_and_the_rest_still_works(pki, tmp_path):
    anchors = tmp_path / "anchors"
    shutil.copytree(pki.anchors_dir, anchors)
    (anchors / "broken.pem").write_text("-----BEGIN CERTIFICATE-----\nnot base64!\n"
                                        "-----END CERTIFICATE-----\n")
    (anchors / "empty.crt").write_bytes(b"")
    crls = tmp_path / "crls"
    shutil.copytree(pki.crl_dir, crls)
    (crls / "junk.crl").write_bytes(b"\x00\x01")
    e = build_engine([anchors, tmp_path / "missing"], [pki.intermediates_dir], [crls])
    assert len(e.anchors) == 1
    assert any("broken.pem" in p for p in e.problems)
    assert any("empty.crt" in p for p in e.problems)
    assert any("junk.crl" in p for p in e.problems)
    assert any("missing" in p for p in e.problems)
    r = e.validate_chain(pki.leaf.der, [], pki.now)
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.GOOD)


def test_pem_bundle_in_one_file(pki, tmp_path):
    d = tmp_path / "bundle"
    d.mkdir()
    (d / "both.pem").write_bytes(pki.root.pem + b"\n" + pki.other_root.pem)
    e = build_engine([d], [pki.intermediates_dir], [pki.crl_dir])
    assert len(e.anchors) == 2
    assert e.validate_chain(pki.other_leaf.der, [], pki.now).trust is Trust.TRUSTED


def test_validation_context_uses_only_configured_anchors(engine, pki):
    vc = engine.validation_context(pki.now, crls=pki.crls_der)
    leaf = asn1_x509.Certificate.load(pki.leaf.der)
    path = asyncio.run(CertificateValidator(leaf, [], validation_context=vc)
                       .async_validate_usage({"digital_signature"}))
    assert path.trust_anchor is not None
    other = asn1_x509.Certificate.load(pki.other_leaf.der)
    with pytest.raises(PathBuildingError):
        asyncio.run(CertificateValidator(
            other, [asn1_x509.Certificate.load(pki.other_root.der)],
            validation_context=engine.validation_context(pki.now)
        ).async_validate_usage({"digital_signature"}))
    assert vc.fetching_allowed is False
    assert vc.moment == pki.now


def test_validation_context_strict_revocation(no_crl_engine, pki):
    from pyhanko_certvalidator.errors import InsufficientRevinfoError, RevokedError

    leaf = asn1_x509.Certificate.load(pki.leaf.der)
    vc = no_crl_engine.validation_context(pki.now, strict_revocation=True)
    with pytest.raises(InsufficientRevinfoError):
        asyncio.run(CertificateValidator(leaf, [], validation_context=vc)
                    .async_validate_usage({"digital_signature"}))
    revoked = asn1_x509.Certificate.load(pki.revoked.der)
    vc = no_crl_engine.validation_context(pki.now, crls=pki.crls_der)
    with pytest.raises(RevokedError):
        asyncio.run(CertificateValidator(revoked, [], validation_context=vc)
                    .async_validate_usage({"digital_signature"}))


def test_engine_for_check_uses_rules_and_extra_dirs(pki, tmp_path):
    from gateway.policy.load import load_policy

    rules = tmp_path / "local.toml"
    rules.write_text(
        "[trust]\n"
        f"anchors = [{str(tmp_path / 'none')!r}]\n"
        f"intermediates = [{str(pki.intermediates_dir)!r}]\n"
        f"crl-cache = {str(pki.crl_dir)!r}\n"
        'revocation-unknown = "error"\n', encoding="utf-8")
    policy = load_policy(rules)
    e = engine_for_check(policy, [])
    assert e is not None and e.anchors == ()
    assert e.validate_chain(pki.leaf.der, [], pki.now).trust is Trust.UNKNOWN
    e = engine_for_check(policy, [pki.anchors_dir])  # hople check --trust DIR
    r = e.validate_chain(pki.leaf.der, [], pki.now)
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.GOOD)
    assert e.revocation_unknown is Severity.ERROR
    assert e.allow_fetch is False


def test_rules_reject_bad_trust_settings(tmp_path):
    from gateway.policy.load import load_policy
    from gateway.policy.strict import RulesError

    for body in ('[trust]\nrevocation-unknown = "fatal"\n',
                 "[trust]\nfetch-during-check = true\n",
                 '[trust]\ncrl-urls = ["ldap://x"]\n',
                 "[trust]\nanchor = []\n"):
        f = tmp_path / "bad.toml"
        f.write_text(body, encoding="utf-8")
        with pytest.raises(RulesError):
            load_policy(f)


# -- OCSP and anchors ---------------------------------------------------------------------

def _ocsp(pki, cert, status, revoked_at=None, signer=None, by_name=False):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509 import ReasonFlags, ocsp

    b = ocsp.OCSPResponseBuilder().add_response(
        cert=cert.cert, issuer=pki.intermediate.cert, algorithm=hashes.SHA256(),
        cert_status=status, this_update=t(2025, 5, 1), next_update=t(2025, 12, 1),
        revocation_time=revoked_at,
        revocation_reason=ReasonFlags.key_compromise if revoked_at else None,
    ).responder_id(ocsp.OCSPResponderEncoding.NAME if by_name else ocsp.OCSPResponderEncoding.HASH,
                   (signer or pki.intermediate).cert)
    return b.sign((signer or pki.intermediate).key, hashes.SHA256()).public_bytes(
        serialization.Encoding.DER)


def test_embedded_ocsp_response_is_used(no_crl_engine, pki):
    from cryptography.x509.ocsp import OCSPCertStatus

    # pyhanko-certvalidator consults OCSP only for certificates that name a responder.
    url = "http://ocsp.hople.test.invalid/"
    leaf = issue("ocspleaf", "OCSP Signer", 0x2101, pki.intermediate, t(2024), t(2027),
                 ocsp_url=url)
    gone = issue("ocspgone", "OCSP Revoked", 0x2102, pki.intermediate, t(2024), t(2027),
                 ocsp_url=url)
    good = _ocsp(pki, leaf, OCSPCertStatus.GOOD)
    r = no_crl_engine.validate_chain(leaf.der, [], pki.now, ocsps=[good],
                                     crls=[pki.root_crl_der])
    assert (r.trust, r.revocation, r.findings) == (Trust.TRUSTED, Revocation.GOOD, ())
    revoked = _ocsp(pki, gone, OCSPCertStatus.REVOKED, t(2025, 3, 1))
    r = no_crl_engine.validate_chain(gone.der, [], pki.now, ocsps=[revoked],
                                     crls=[pki.root_crl_der])
    assert r.revocation is Revocation.REVOKED
    assert codes(r) == ["REVOCATION_REVOKED"]
    # Revoked after the signing time: good, with an info finding (as for CRLs).
    r = no_crl_engine.validate_chain(gone.der, [], t(2025, 2, 1), ocsps=[revoked],
                                     crls=[pki.root_crl_der])
    assert (r.trust, r.revocation) == (Trust.TRUSTED, Revocation.GOOD)
    assert codes(r) == ["REVOCATION_AFTER_SIGNING"]
    # A response signed by someone else proves nothing.
    forged = _ocsp(pki, gone, OCSPCertStatus.REVOKED, t(2025, 3, 1), signer=pki.other_root)
    r = no_crl_engine.validate_chain(gone.der, [], t(2025, 2, 1), ocsps=[forged],
                                     crls=[pki.root_crl_der])
    assert r.revocation is Revocation.UNKNOWN
    # Same name as the issuing CA, different key: the signature check refuses it.
    impostor = make_ca("ocspimp", "Hople Test Issuing CA", 0x2103, t(2020), t(2035))
    forged = _ocsp(pki, gone, OCSPCertStatus.REVOKED, t(2025, 3, 1), signer=impostor,
                   by_name=True)
    r = no_crl_engine.validate_chain(gone.der, [], t(2025, 2, 1), ocsps=[forged],
                                     crls=[pki.root_crl_der])
    assert r.revocation is Revocation.UNKNOWN
    # The response for one certificate says nothing about another.
    r = no_crl_engine.validate_chain(gone.der, [], pki.now, ocsps=[good],
                                     crls=[pki.root_crl_der])
    assert r.revocation is Revocation.UNKNOWN


def test_expired_trust_anchor(pki, tmp_path):
    root = make_ca("oldroot", "Short-Lived Root", 0x9001, t(2020), t(2024))
    ca = make_ca("oldca", "Outliving CA", 0x9002, t(2020), t(2030), issuer=root)
    leaf = issue("oldleaf", "Late Signer", 0x9003, ca, t(2024), t(2027))
    root.write(tmp_path / "a")
    e = build_engine([tmp_path / "a"])
    r = e.validate_chain(leaf.der, [ca.der], pki.now)
    assert r.trust is Trust.UNTRUSTED
    assert codes(r) == ["CERT_EXPIRED"]
    assert "Short-Lived Root" in r.findings[0].params["subject"]
