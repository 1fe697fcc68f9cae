"""The chain-validation cache: served only for the same inputs, inside the result's window,
never for a failure; a changed revocation state or anchor set is validated afresh."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest

from gateway.model.report import Revocation, Trust
from gateway.policy.schema import Trust as TrustRules
from gateway.trust import build_engine, engine_from_rules
from gateway.trust.cache import ChainCache
from tests.pki import crl_der, issue, make_crl, t


class Clock:
    """A settable monotonic clock and wall clock (the test PKI lives in 2025)."""

    def __init__(self, wall) -> None:
        self.mono = 0.0
        self.now = wall

    def cache(self, **kw) -> ChainCache:
        return ChainCache(clock=lambda: self.mono, wall=lambda: self.now, **kw)


@pytest.fixture
def clock(pki) -> Clock:
    return Clock(pki.now)


@pytest.fixture
def engine(pki, clock):
    return build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir],
                        cache=clock.cache())


def codes(result) -> list[str]:
    return [f.code for f in result.findings]


def test_second_validation_of_a_signer_is_served_and_equal(engine, pki):
    first = engine.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert (first.trust, first.revocation, first.findings) == (Trust.TRUSTED, Revocation.GOOD, ())
    again = engine.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now + timedelta(minutes=5))
    assert again == first
    assert (engine.cache.hits, len(engine.cache)) == (1, 1)


@pytest.mark.parametrize("who", ["revoked", "expired", "other_leaf", "no_usage"])
def test_failures_are_never_cached(engine, pki, who):
    leaf = getattr(pki, who)
    results = [engine.validate_chain(leaf.der, pki.chain(leaf), pki.now) for _ in range(2)]
    assert results[0] == results[1]
    assert results[0].findings and not (results[0].trust is Trust.TRUSTED
                                        and results[0].revocation is Revocation.GOOD)
    assert (engine.cache.hits, len(engine.cache)) == (0, 0)
    if who == "revoked":
        assert results[1].revocation is Revocation.REVOKED


def test_unknown_revocation_is_not_cached(pki, clock):
    e = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.empty_crl_dir],
                     cache=clock.cache())
    for _ in range(2):
        r = e.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now)
        assert (r.trust, r.revocation, codes(r)) == (
            Trust.TRUSTED, Revocation.UNKNOWN, ["REVOCATION_UNKNOWN"])
    assert len(e.cache) == 0


def test_new_revocation_data_is_not_served_from_the_cache(pki, clock):
    """The same signer, good with one CRL, then revoked by a newer CRL given with the next
    signature: the cached good result must not answer."""
    e = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.empty_crl_dir],
                     cache=clock.cache())
    signer = issue("cache", "Cache Signer", 0x2F01, pki.intermediate, t(2024), t(2027),
                   crl_url="http://crl.hople.test.invalid/intermediate.crl")
    good = [crl_der(make_crl(pki.intermediate, number=5)), pki.root_crl_der]
    revoked = [crl_der(make_crl(pki.intermediate, [(signer, t(2025, 2, 1))], number=6)),
               pki.root_crl_der]
    chain = pki.chain(signer)
    r1 = e.validate_chain(signer.der, chain, pki.now, crls=good)
    assert (r1.trust, r1.revocation, r1.findings) == (Trust.TRUSTED, Revocation.GOOD, ())
    assert e.validate_chain(signer.der, chain, pki.now, crls=good) == r1  # served
    r2 = e.validate_chain(signer.der, chain, pki.now, crls=revoked)
    assert r2.revocation is Revocation.REVOKED
    assert codes(r2) == ["REVOCATION_REVOKED"]
    assert e.validate_chain(signer.der, chain, pki.now, crls=revoked).revocation is (
        Revocation.REVOKED)
    assert e.cache.hits == 1


def test_changed_crl_cache_or_anchor_set_is_not_served(pki, clock, tmp_path):
    """Engines built from other directories share one cache object: the key holds the
    engine's anchors and cached CRLs, so neither change is answered by the old entry."""
    cache = clock.cache()
    first = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir], cache=cache)
    assert first.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now).trust is Trust.TRUSTED
    assert len(cache) == 1

    revoking = tmp_path / "crls"
    revoking.mkdir()
    (revoking / "intermediate.crl").write_bytes(crl_der(make_crl(
        pki.intermediate, [(pki.leaf, t(2025, 2, 1))], number=7)))
    (revoking / "root.crl").write_bytes(pki.root_crl_der)
    second = build_engine([pki.anchors_dir], [pki.intermediates_dir], [revoking], cache=cache)
    r = second.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert r.revocation is Revocation.REVOKED

    other_anchors = tmp_path / "anchors"
    other_anchors.mkdir()
    shutil.copy(pki.leaves_dir / "other_root.pem", other_anchors / "other_root.pem")
    third = build_engine([other_anchors], [pki.intermediates_dir], [pki.crl_dir], cache=cache)
    r = third.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert r.trust is Trust.UNTRUSTED
    assert codes(r) == ["TRUST_UNTRUSTED_ROOT"]
    assert cache.hits == 0


def test_a_time_past_the_certificate_is_not_served(pki, clock):
    """Even inside one time step, a validation time after the signer's expiry is
    validated afresh (and found expired)."""
    e = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir],
                     cache=clock.cache(time_step=10 * 365 * 86400))
    short = issue("short", "Short Signer", 0x2F02, pki.intermediate, t(2025, 1, 1),
                  t(2025, 6, 2), crl_url="http://crl.hople.test.invalid/intermediate.crl")
    chain = pki.chain(short)
    assert e.validate_chain(short.der, chain, pki.now).revocation is Revocation.GOOD
    later = e.validate_chain(short.der, chain, t(2025, 6, 3))
    assert later.trust is Trust.UNTRUSTED
    assert codes(later) == ["CERT_EXPIRED"]
    assert e.cache.hits == 0


def test_entries_expire_by_ttl_and_at_the_crl_next_update(engine, pki, clock):
    engine.cache.ttl = 60
    v = engine.validate_chain
    v(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    clock.mono += 61
    v(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert engine.cache.hits == 0  # expired by the TTL, validated and kept again
    v(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert engine.cache.hits == 1
    clock.now = pki.intermediate_crl.next_update_utc  # the CRL is no longer current
    v(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert engine.cache.hits == 1
    assert len(engine.cache) == 0  # nor kept: its revocation data is past nextUpdate


def test_size_is_bounded_and_zero_turns_it_off(pki, clock):
    e = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir],
                     cache=clock.cache(size=1))
    e.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    e.validate_chain(pki.ecdsa.der, pki.chain(pki.ecdsa), pki.now)
    assert len(e.cache) == 1
    e.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert e.cache.hits == 0  # the leaf's entry was the least recently used one
    off = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir],
                       cache=clock.cache(size=0))
    for _ in range(2):
        off.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert (off.cache.hits, len(off.cache)) == (0, 0)


def test_rules_set_the_cache(pki):
    rules = TrustRules(anchors=(str(pki.anchors_dir),), intermediates=(),
                       crl_cache=str(pki.crl_dir), chain_cache_size=7,
                       chain_cache_seconds=30, chain_cache_time_step_seconds=60)
    e = engine_from_rules(rules)
    assert (e.cache.size, e.cache.ttl, e.cache.time_step) == (7, 30, 60)
    assert TrustRules().chain_cache_size == 512
    with pytest.raises(ValueError):
        TrustRules(chain_cache_time_step_seconds=0).check()


def test_ocsp_answers_are_part_of_the_key_and_bound_the_window(pki, clock):
    from cryptography.x509.ocsp import OCSPCertStatus

    from tests.unit.test_trust_engine import _ocsp

    e = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.empty_crl_dir],
                     cache=clock.cache(time_step=10 * 365 * 86400))
    leaf = issue("ocspcache", "OCSP Cache Signer", 0x2F03, pki.intermediate, t(2024), t(2027),
                 ocsp_url="http://ocsp.hople.test.invalid/")
    good = _ocsp(pki, leaf, OCSPCertStatus.GOOD)  # nextUpdate 2025-12-01
    revoked = _ocsp(pki, leaf, OCSPCertStatus.REVOKED, t(2025, 3, 1))
    given = {"crls": [pki.root_crl_der]}
    r = e.validate_chain(leaf.der, [], pki.now, ocsps=[good], **given)
    assert (r.trust, r.revocation, r.findings) == (Trust.TRUSTED, Revocation.GOOD, ())
    assert e.validate_chain(leaf.der, [], pki.now, ocsps=[good], **given) == r
    assert e.cache.hits == 1
    r = e.validate_chain(leaf.der, [], pki.now, ocsps=[revoked], **given)
    assert r.revocation is Revocation.REVOKED
    # past the OCSP answer's nextUpdate the good answer no longer says anything
    late = e.validate_chain(leaf.der, [], t(2025, 12, 2), ocsps=[good], **given)
    assert late.revocation is Revocation.UNKNOWN
    assert e.cache.hits == 1


def test_a_changed_engine_policy_is_not_served(pki, clock):
    e = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir],
                     cache=clock.cache())
    assert e.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now).trust is Trust.TRUSTED
    e.weak_hashes = frozenset({"sha256"})  # the test PKI signs with SHA-256
    r = e.validate_chain(pki.leaf.der, pki.chain(pki.leaf), pki.now)
    assert r.trust is Trust.UNTRUSTED and e.cache.hits == 0
