"""Certificates from KeyInfo and SignatureValue verification (RSA, RSA-PSS, ECDSA)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from gateway.model.names import readable_name

_HASHES: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512, "sha3_224": hashes.SHA3_224,
    "sha3_256": hashes.SHA3_256, "sha3_384": hashes.SHA3_384, "sha3_512": hashes.SHA3_512,
}


class KeyError_(ValueError):
    """The key or value cannot be used for this method (wrong key type, bad encoding)."""


def b64decode(text: str | None) -> bytes:
    """Base64 as XML-DSig writes it (line breaks and spaces allowed); strict otherwise."""
    if text is None:
        raise ValueError("empty base64 value")
    cleaned = "".join(text.split())
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("invalid base64 value") from None


def load_certificate(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        # Some producers put PEM inside X509Certificate.
        if der.startswith(b"-----BEGIN"):
            return x509.load_pem_x509_certificate(der)
        raise


def cert_digest(der: bytes, algorithm: str) -> bytes:
    return hashlib.new(algorithm, der).digest()


def verify(cert: x509.Certificate, family: str, digest: str, signed: bytes, value: bytes, *,
           pss_salt: int | None = None, pss_mgf_digest: str | None = None) -> bool:
    """Whether ``value`` is a valid signature of ``signed`` by ``cert``'s key.

    :raises KeyError_: the key type does not fit the method or the value is malformed.
    """
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise KeyError_(f"unusable public key ({exc})") from None
    halg = _HASHES[digest]()
    try:
        if family == "rsa":
            if not isinstance(key, rsa.RSAPublicKey):
                raise KeyError_("the certificate key is not RSA")
            try:
                key.verify(value, signed, padding.PKCS1v15(), halg)
                return True
            except InvalidSignature:
                return _pkcs1_absent_parameters(key, digest, signed, value)
        if family == "rsa-pss":
            if not isinstance(key, rsa.RSAPublicKey):
                raise KeyError_("the certificate key is not RSA")
            mgf_hash = _HASHES[pss_mgf_digest or digest]()
            salt = pss_salt if pss_salt is not None else halg.digest_size
            key.verify(value, signed, padding.PSS(mgf=padding.MGF1(mgf_hash), salt_length=salt),
                       halg)
            return True
        if family == "ecdsa":
            if not isinstance(key, ec.EllipticCurvePublicKey):
                raise KeyError_("the certificate key is not ECDSA")
            key.verify(_ecdsa_der(value, key.curve.key_size), signed, ec.ECDSA(halg))
            return True
    except InvalidSignature:
        return False
    raise KeyError_(f"unsupported signature family {family}")


_DIGEST_INFO_NO_PARAMS = {
    "sha1": bytes.fromhex("301f300706052b0e03021a0414"),
    "sha224": bytes.fromhex("302b300b0609608648016503040204041c"),
    "sha256": bytes.fromhex("302f300b06096086480165030402010420"),
    "sha384": bytes.fromhex("303f300b06096086480165030402020430"),
    "sha512": bytes.fromhex("304f300b06096086480165030402030440"),
}


def _pkcs1_absent_parameters(key: rsa.RSAPublicKey, digest: str, signed: bytes,
                             value: bytes) -> bool:
    """PKCS#1 v1.5 with the DigestInfo's NULL parameters omitted.

    RFC 8017 (section 9.2, note 2) says verifiers should accept this second encoding,
    which some Java signers (the eID applet among them) produce; OpenSSL refuses it. The
    whole encoded message is rebuilt and compared byte for byte: nothing is parsed."""
    prefix = _DIGEST_INFO_NO_PARAMS.get(digest)
    numbers = key.public_numbers()
    size = (key.key_size + 7) // 8
    if prefix is None or len(value) != size:
        return False
    sig_int = int.from_bytes(value, "big")
    if sig_int >= numbers.n:
        return False
    em = pow(sig_int, numbers.e, numbers.n).to_bytes(size, "big")
    t = prefix + hashlib.new(digest, signed).digest()
    if size < len(t) + 11:
        return False
    expected = b"\x00\x01" + b"\xff" * (size - len(t) - 3) + b"\x00" + t
    return hmac.compare_digest(em, expected)


def _ecdsa_der(value: bytes, key_bits: int) -> bytes:
    """XML-DSig ECDSA values are r||s, each as long as the curve order; convert to DER."""
    size = (key_bits + 7) // 8
    if len(value) == 2 * size:
        r = int.from_bytes(value[:size], "big")
        s = int.from_bytes(value[size:], "big")
        return utils.encode_dss_signature(r, s)
    if value[:1] == b"\x30":  # already DER (a non-conforming producer): only if it is DER
        try:
            if utils.encode_dss_signature(*utils.decode_dss_signature(value)) == value:
                return value
        except ValueError:
            pass
    raise KeyError_(f"an ECDSA value of {len(value)} bytes does not fit a {key_bits}-bit key")


def subject_text(cert: x509.Certificate) -> str:
    return readable_name(cert.subject)


def is_issuer_of(issuer: x509.Certificate, cert: x509.Certificate) -> bool:
    """Whether ``issuer`` names the issuer of ``cert`` (and, when the algorithm is one
    :mod:`cryptography` checks, signed it). Whether the chain is *trusted* is the trust
    engine's question; this only tells chain certificates from unrelated ones."""
    if cert.issuer != issuer.subject or cert == issuer:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
        return True
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return True  # e.g. SHA-1 certificate signatures: the name match decides here
