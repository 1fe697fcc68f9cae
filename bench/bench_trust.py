"""Chain validation cost, and how it grows with the size of a cached CRL.

Baseline (same run): validating the same chain with a one-entry CRL for the issuing CA.
Measured: the same with a CRL of 20,000 entries (a large national CA's CRL is of that
order). The revocation pass scans the CRL entries in Python (pyhanko-certvalidator), so the
ratio shows what a big CRL costs per signature.

These validations run without the engine's result cache (every round validates afresh);
a last line shows the same chain served from the cache (a signer seen again, with the wall
clock set inside the test CRLs' validity, since the cache drops results whose revocation
data is past its nextUpdate).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from gateway.trust import build_engine
from gateway.trust.cache import ChainCache
from tests.pki import crl_der, generate, t

ENTRIES = 20_000
ROUNDS = 20


def _big_crl(pki, entries: int) -> bytes:
    b = (x509.CertificateRevocationListBuilder()
         .issuer_name(pki.intermediate.cert.subject)
         .last_update(t(2025, 1, 15)).next_update(t(2025, 12, 31)))
    for i in range(entries):
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(10**6 + i)
            .revocation_date(t(2024, 5, 1)).build())
    return crl_der(b.sign(pki.intermediate.key, hashes.SHA256()))


def _time(engine, pki) -> float:
    engine.validate_chain(pki.leaf.der, [], pki.now)  # warm-up (parsing, caches)
    started = time.perf_counter()
    for _ in range(ROUNDS):
        r = engine.validate_chain(pki.leaf.der, [], pki.now)
    assert r.revocation.value == "good", r
    return (time.perf_counter() - started) / ROUNDS


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pki = generate(Path(tmp))
        off = ChainCache(size=0)
        small = _time(build_engine([pki.anchors_dir], [pki.intermediates_dir],
                                   [pki.crl_dir], cache=off), pki)
        cached = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir],
                              cache=ChainCache(wall=lambda: pki.now))
        hit = _time(cached, pki)
        assert cached.cache.hits >= ROUNDS, "the cache did not serve the repeated chain"
        big_dir = Path(tmp) / "big"
        big_dir.mkdir()
        (big_dir / "intermediate.crl").write_bytes(_big_crl(pki, ENTRIES))
        (big_dir / "root.crl").write_bytes(pki.root_crl_der)
        big = _time(build_engine([pki.anchors_dir], [pki.intermediates_dir], [big_dir],
                                 cache=off), pki)
    print(f"   validate_chain, 1-entry CRL:      {small * 1000:8.1f} ms")
    print(f"   validate_chain, {ENTRIES}-entry CRL: {big * 1000:8.1f} ms")
    print(f"   ratio big/small CRL: {big / small:.1f}x")
    print(f"   validate_chain, served from the cache: {hit * 1000:.3f} ms "
          f"({small / hit:.0f}x faster than validating)")


if __name__ == "__main__":
    main()
