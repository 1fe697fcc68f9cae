"""Revocation data: CRLs and OCSP responses read (junk dropped, said in the log), looked up
for a path's certificates, and downloaded when the engine may fetch.

A CRL entry counts only when the CRL's signature verifies with its issuer's key; an OCSP
response saying the leaf was revoked at or after the signing time counts only when its
signature verifies (see :func:`ocsp_revoked_later`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from pyhanko_certvalidator.path import ValidationPath

from gateway.model.catalog import make_finding
from gateway.model.findings import Finding
from gateway.model.names import readable_name
from gateway.trust import fetch as fetchmod
from gateway.trust.paths import path_certs
from gateway.trust.results import iso, short
from gateway.trust.store import parse_crls, utc

log = logging.getLogger(__name__)

CrlPair = tuple[asn1_crl.CertificateList, x509.CertificateRevocationList]
"""A CRL parsed for pyhanko (asn1crypto) and for our own lookups (cryptography)."""


def crl_pairs(ders: Iterable[bytes]) -> list[CrlPair]:
    """Each CRL parsed once for pyhanko (asn1crypto) and for our own lookups."""
    out = []
    for der in ders:
        try:
            out.append((asn1_crl.CertificateList.load(der), x509.load_der_x509_crl(der)))
        except (ValueError, TypeError) as exc:
            log.info("ignoring unreadable CRL: %s: %s", type(exc).__name__, short(exc))
    return out


def loadable(items: Iterable[bytes], spec: Any) -> list[bytes]:
    """The items that parse fully as ``spec`` (CRL or OCSP response); junk is dropped here so
    that one bad item does not discard the good ones."""
    out = []
    for item in items:
        try:
            der = item.dump() if hasattr(item, "dump") else bytes(item)
            spec.load(der, strict=True)
        except (ValueError, TypeError) as exc:
            log.info("ignoring unreadable revocation data: %s: %s", type(exc).__name__,
                     short(exc))
            continue
        out.append(der)
    return out


def loadable_any(items: Iterable[Any], spec: Any) -> list[Any]:
    """Like :func:`loadable`, passing through already-parsed asn1crypto objects."""
    items = list(items)
    raw = [bytes(i) for i in items if isinstance(i, (bytes, bytearray))]
    return [i for i in items if not isinstance(i, (bytes, bytearray))] + loadable(raw, spec)


def der_of(item: Any) -> bytes:
    """DER bytes of a certificate or revocation item given as bytes or asn1crypto object."""
    return bytes(item.dump()) if hasattr(item, "dump") else bytes(item)


def without_crl(path: ValidationPath, pairs: list[CrlPair]) -> str | None:
    """The first CA certificate (below the anchor) whose issuer has no CRL in hand."""
    issuers = {c.issuer.public_bytes() for _, c in pairs}
    certs = [x509.load_der_x509_certificate(c.dump()) for c in path_certs(path)]
    for cert in reversed(certs[1:-1] if len(certs) > 2 else certs[1:1]):
        if cert.issuer.public_bytes() not in issuers:
            return readable_name(cert.subject)
    return None


def crl_entries(path: ValidationPath, pairs: list[CrlPair]
                ) -> Iterator[tuple[x509.Certificate, datetime]]:
    """(cert, revocation date) for path certificates listed on a CRL whose signature
    verifies with the certificate issuer's key."""
    certs = [x509.load_der_x509_certificate(c.dump()) for c in path_certs(path)]
    by_subject = {c.subject.public_bytes(): c for c in certs}
    anchor = getattr(path.trust_anchor, "certificate", None)
    if anchor is not None:
        a = x509.load_der_x509_certificate(anchor.dump())
        by_subject.setdefault(a.subject.public_bytes(), a)
    for _, crl in pairs:
        issuer = by_subject.get(crl.issuer.public_bytes())
        if issuer is None:
            continue
        hits = []
        for cert in certs:
            if cert.issuer == crl.issuer:
                entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                if entry is not None:
                    hits.append((cert, entry.revocation_date_utc))
        if not hits:
            continue
        try:  # only now: most CRLs list none of the path's certificates
            if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                continue
        except (TypeError, ValueError, UnsupportedAlgorithm) as exc:  # unverifiable: not used
            log.info("CRL of %s not used: its signature cannot be verified: %s: %s",
                     readable_name(crl.issuer), type(exc).__name__, short(exc))
            continue
        yield from hits


def revoked_subject(path: ValidationPath, when: datetime, pairs: list[CrlPair]) -> str | None:
    """The subject of the path certificate a CRL in ``pairs`` revoked at ``when``."""
    for cert, date in crl_entries(path, pairs):
        if abs(date - utc(when)) < timedelta(seconds=1):
            return readable_name(cert.subject)
    return None


def revoked_later(path: ValidationPath, at: datetime, pairs: list[CrlPair]) -> list[Finding]:
    """REVOCATION_AFTER_SIGNING for path certificates a CRL revoked at or after ``at``."""
    out = []
    for cert, date in crl_entries(path, pairs):
        if date >= at:
            out.append(make_finding("REVOCATION_AFTER_SIGNING",
                                    subject=readable_name(cert.subject),
                                    revoked_at=iso(date), at=iso(at)))
    return out


def fetch_missing(path: ValidationPath, pairs: list[CrlPair], timeout: float,
                  fetched: dict[str, bytes], lock: threading.Lock) -> list[bytes]:
    """Download CRLs for path certificates that have none in hand (allow_fetch only);
    ``fetched`` keeps what was downloaded by URL (guarded by ``lock``)."""
    have = {c.issuer.public_bytes() for _, c in pairs}
    out: list[bytes] = []
    for c in path_certs(path):
        cert = x509.load_der_x509_certificate(c.dump())
        if cert.issuer.public_bytes() in have:
            continue
        for url in fetchmod.distribution_points(cert):
            with lock:
                data = fetched.get(url)
            if data is None:
                try:
                    data = fetchmod.fetch(url, timeout).data
                    data = parse_crls(data)[0].der
                except (fetchmod.FetchError, ValueError, IndexError) as exc:
                    log.info("CRL fetch failed: %s: %s", type(exc).__name__, short(exc))
                    continue
                with lock:
                    fetched[url] = data
            out.append(data)
            break
    return out


def ocsp_revoked_later(path: ValidationPath, at: datetime, ocsps: Sequence[Any],
                       unverified: list[str]) -> Finding | None:
    """An OCSP response, signed by the leaf's issuer (or by a responder it delegated to),
    saying the leaf was revoked at or after ``at`` and usable at ``at``: the signature was
    made while the certificate was valid. (pyhanko-certvalidator treats such a response as
    "not good" rather than as good-at-``at``.) Why a response saying so could not be
    verified is appended to ``unverified`` (and logged), so the revocation stays unknown with
    that reason, never in silence."""
    from cryptography.x509 import ocsp

    certs = [x509.load_der_x509_certificate(c.dump()) for c in path_certs(path)]
    if len(certs) < 2:
        return None
    leaf, issuer = certs[-1], certs[-2]
    spki = issuer.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    issuer_key_bits = asn1_keys.PublicKeyInfo.load(spki)["public_key"].contents[1:]
    for der in loadable(ocsps, asn1_ocsp.OCSPResponse):
        try:
            resp = ocsp.load_der_ocsp_response(der)
            if resp.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
                continue
            single = next((r for r in resp.responses if r.serial_number == leaf.serial_number
                           and r.certificate_status is ocsp.OCSPCertStatus.REVOKED), None)
            if single is None or single.revocation_time_utc is None:
                continue
            if single.issuer_key_hash != hashlib.new(single.hash_algorithm.name,
                                                     issuer_key_bits).digest():
                continue
            if single.revocation_time_utc < at:
                continue
            if single.next_update_utc is not None and at > single.next_update_utc:
                continue
            by_issuer = (resp.responder_name == issuer.subject
                         if resp.responder_name is not None
                         else resp.responder_key_hash == hashlib.sha1(issuer_key_bits).digest())
            signer = issuer
            if not by_issuer:
                signer = next(c for c in resp.certificates if c.issuer == issuer.subject)
                eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
                if x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
                    continue
                _verify(issuer.public_key(), signer.signature, signer.tbs_certificate_bytes,
                        signer.signature_hash_algorithm)
            _verify(signer.public_key(), resp.signature, resp.tbs_response_bytes,
                    resp.signature_hash_algorithm)
        except Exception as exc:  # noqa: BLE001 - unverifiable: said, no later revocation claimed
            detail = short(exc)
            why = "an OCSP response saying it was revoked could not be verified: " + (
                type(exc).__name__ if detail == type(exc).__name__
                else f"{type(exc).__name__}: {detail}")
            log.info("%s: %s", readable_name(leaf.subject), why)
            unverified.append(why)
            continue
        return make_finding("REVOCATION_AFTER_SIGNING", subject=readable_name(leaf.subject),
                            revoked_at=iso(single.revocation_time_utc), at=iso(at))
    return None


def _verify(key: Any, signature: bytes, data: bytes, hash_alg: Any) -> None:
    """Raise unless ``signature`` over ``data`` verifies (RSA PKCS#1 v1.5 or ECDSA)."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), hash_alg)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(hash_alg))
    else:
        raise ValueError("unsupported responder key")
