"""One algorithm policy for every signature format: PDF, CMS, OOXML and ODF signatures are
judged by the same ``[algorithms]`` rules, with the same finding codes and texts.

Each inspector reports what a signature uses (the digests, the signature scheme and the
signer's public key) and :meth:`AlgorithmPolicy.check` answers with findings:

* ``ALG_DIGEST_NOT_ALLOWED`` / ``ALG_SCHEME_NOT_ALLOWED``: a digest or scheme outside
  ``digests`` / ``schemes``;
* ``ALG_KEY_TOO_SMALL``: an RSA (or DSA) key shorter than ``rsa-min-bits``;
* ``ALG_CURVE_NOT_ALLOWED``: an EC key on a curve outside ``ec-curves``;
* ``ALG_LEGACY_ACCEPTED`` (warning): a legacy digest (``legacy-digests``) or an RSA key of at
  least ``legacy-rsa-min-bits``, accepted because a valid timestamp proves the signature
  existed before ``legacy-until``. A signature without such proof never benefits from it.

The inspectors verify the mathematics with every algorithm they can compute; whether an
algorithm is acceptable is decided here only (pyHanko is given a policy that accepts all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from gateway.model.catalog import make_finding
from gateway.model.findings import Finding

DEFAULT_DIGESTS = ("sha224", "sha256", "sha384", "sha512", "sha3-256", "sha3-384", "sha3-512")
DEFAULT_SCHEMES = ("rsa", "rsa-pss", "ecdsa", "ed25519", "ed448")
DEFAULT_CURVES = ("secp256r1", "secp384r1", "secp521r1", "brainpoolP256r1", "brainpoolP384r1",
                  "brainpoolP512r1")
_CMS_SCHEMES = {"rsassa_pkcs1v15": "rsa", "rsassa_pss": "rsa-pss", "ecdsa": "ecdsa",
                "ed25519": "ed25519", "ed448": "ed448", "dsa": "dsa"}


def digest_key(name: str) -> str:
    """``SHA-256``, ``sha256``, ``sha3_256``, ``sha3-256`` → one spelling (``sha256``…)."""
    return re.sub(r"[-_\s]", "", name.strip().lower())


def digest_label(name: str) -> str:
    """``sha256`` → ``SHA-256``; ``sha3_256`` → ``SHA3-256``."""
    key = digest_key(name)
    if key.startswith("sha3") and len(key) > 4:
        return "SHA3-" + key[4:]
    if key.startswith("sha") and key[3:].isdigit():
        return "SHA-" + key[3:]
    return key.upper()


def cms_scheme(signature_algo: str) -> str:
    """asn1crypto's ``signature_algo`` (``rsassa_pkcs1v15``…) → a scheme of the rules."""
    return _CMS_SCHEMES.get(signature_algo, signature_algo)


@dataclass(frozen=True)
class PublicKey:
    kind: str
    """``rsa``, ``ec``, ``dsa``, ``ed25519``, ``ed448`` or ``unknown``."""
    bits: int = 0
    curve: str | None = None


def key_of(cert: x509.Certificate | None) -> PublicKey | None:
    if cert is None:
        return None
    try:
        key = cert.public_key()
    except ValueError:  # an unsupported key: the scheme check refuses the signature
        return PublicKey("unknown")
    if isinstance(key, rsa.RSAPublicKey):
        return PublicKey("rsa", key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return PublicKey("ec", key.curve.key_size, key.curve.name)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKey("ed25519", 256)
    if isinstance(key, ed448.Ed448PublicKey):
        return PublicKey("ed448", 456)
    if "DSA" in type(key).__name__:  # named, not imported: the DSA module warns on use
        return PublicKey("dsa", int(getattr(key, "key_size", 0)))
    return PublicKey("unknown")


def key_of_der(der: bytes | None) -> PublicKey | None:
    """The public key of a DER certificate (``None``: no certificate)."""
    if der is None:
        return None
    try:
        return key_of(x509.load_der_x509_certificate(der))
    except ValueError:
        return PublicKey("unknown")


def _date(text: str) -> datetime | None:
    text = (text or "").strip()
    if not text:
        return None
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class AlgorithmPolicy:
    digests: frozenset[str] = frozenset(digest_key(d) for d in DEFAULT_DIGESTS)
    schemes: frozenset[str] = frozenset(DEFAULT_SCHEMES)
    rsa_min_bits: int = 2048
    ec_curves: frozenset[str] = frozenset(c.lower() for c in DEFAULT_CURVES)
    legacy_digests: frozenset[str] = frozenset({"sha1"})
    legacy_rsa_min_bits: int = 1024
    legacy_until: datetime | None = None

    @classmethod
    def from_options(cls, options: Mapping[str, Any] | None) -> AlgorithmPolicy:
        """The ``[algorithms]`` rules (``Policy.options()``) over the defaults."""
        raw = (options or {}).get("algorithms") or {}
        base = cls()
        return cls(
            digests=frozenset(digest_key(d) for d in raw.get("digests", DEFAULT_DIGESTS)),
            schemes=frozenset(s.lower() for s in raw.get("schemes", DEFAULT_SCHEMES)),
            rsa_min_bits=int(raw.get("rsa_min_bits", base.rsa_min_bits)),
            ec_curves=frozenset(c.lower() for c in raw.get("ec_curves", DEFAULT_CURVES)),
            legacy_digests=frozenset(digest_key(d) for d in raw.get("legacy_digests", ("sha1",))),
            legacy_rsa_min_bits=int(raw.get("legacy_rsa_min_bits", base.legacy_rsa_min_bits)),
            legacy_until=_date(str(raw.get("legacy_until", "") or "")),
        )

    def _legacy(self, proven_at: datetime | None) -> bool:
        return (self.legacy_until is not None and proven_at is not None
                and proven_at < self.legacy_until)

    def check(self, *, digests: Iterable[str] = (), scheme: str | None = None,
              key: PublicKey | None = None, proven_at: datetime | None = None,
              place: str | None = None) -> list[Finding]:
        """Findings for a signature that uses ``digests`` and ``scheme`` with ``key``;
        ``proven_at``: the time a valid timestamp proves (``None``: no proof)."""
        out: list[Finding] = []
        legacy = self._legacy(proven_at)
        when = proven_at.date().isoformat() if proven_at else ""
        until = self.legacy_until.date().isoformat() if self.legacy_until else ""
        for name in dict.fromkeys(digest_key(d) for d in digests if d):
            if name in self.digests:
                continue
            if legacy and name in self.legacy_digests:
                out.append(make_finding("ALG_LEGACY_ACCEPTED", place=place,
                                        algorithm=digest_label(name), time=when, until=until))
            else:
                out.append(make_finding("ALG_DIGEST_NOT_ALLOWED", place=place,
                                        algorithm=digest_label(name)))
        if scheme is not None and scheme.lower() not in self.schemes:
            out.append(make_finding("ALG_SCHEME_NOT_ALLOWED", place=place, scheme=scheme))
        if key is not None:
            out.extend(self._key(key, legacy, when, until, place))
        return out

    def _key(self, key: PublicKey, legacy: bool, when: str, until: str,
             place: str | None) -> list[Finding]:
        if key.kind in ("rsa", "dsa") and key.bits < self.rsa_min_bits:
            label = key.kind.upper()
            if legacy and key.bits >= self.legacy_rsa_min_bits:
                return [make_finding("ALG_LEGACY_ACCEPTED", place=place,
                                     algorithm=f"{label}-{key.bits}", time=when, until=until)]
            return [make_finding("ALG_KEY_TOO_SMALL", place=place, kind=label, bits=key.bits,
                                 minimum=self.rsa_min_bits)]
        if key.kind == "ec" and (key.curve or "?").lower() not in self.ec_curves:
            return [make_finding("ALG_CURVE_NOT_ALLOWED", place=place, curve=key.curve or "?")]
        if key.kind == "unknown":
            return [make_finding("ALG_SCHEME_NOT_ALLOWED", place=place,
                                 scheme="unknown public key")]
        return []


def pyhanko_accept_all() -> Any:
    """The algorithm policy handed to pyHanko for a signature's own algorithms: accept all,
    so that it reports integrity and this module alone decides what is acceptable."""
    from pyhanko.sign.validation.utils import CMSAlgorithmUsagePolicy
    from pyhanko_certvalidator.policy_decl import AcceptAllAlgorithms

    return CMSAlgorithmUsagePolicy.lift_policy(AcceptAllAlgorithms())


def check_cms_signer(policy: AlgorithmPolicy, signer_info: Any, signer_der: bytes | None, *,
                     proven_at: datetime | None, place: str | None,
                     extra_digests: Iterable[str] = ()) -> list[Finding]:
    """The algorithms of a CMS SignerInfo (digest, signature scheme and its hash) and the
    signer's key. An unreadable algorithm identifier is refused, never skipped."""
    digests = list(extra_digests)
    scheme: str | None = None
    try:
        digests.append(str(signer_info["digest_algorithm"]["algorithm"].native))
        sig_alg = signer_info["signature_algorithm"]
        scheme = cms_scheme(str(sig_alg.signature_algo))
        try:
            digests.append(str(sig_alg.hash_algo))
        except ValueError:  # e.g. rsassa_pss / ed25519: the hash is not in the identifier
            pass
    except (KeyError, ValueError, TypeError) as exc:
        scheme = f"unreadable ({type(exc).__name__})"
    return policy.check(digests=digests, scheme=scheme, key=key_of_der(signer_der),
                        proven_at=proven_at, place=place)


__all__ = ["AlgorithmPolicy", "PublicKey", "check_cms_signer", "cms_scheme", "digest_key",
           "digest_label", "key_of", "key_of_der", "pyhanko_accept_all"]
