"""What a chain validation found, as findings: why a path could not be trusted (pass 1),
validity windows, key usage, and an unknown revocation at the configured severity."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime

from cryptography import x509
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    ValidationError,
)
from pyhanko_certvalidator.path import ValidationPath

from gateway.model.catalog import make_finding
from gateway.model.display import one_line
from gateway.model.findings import Finding, Severity
from gateway.model.names import readable_name
from gateway.trust.paths import path_certs
from gateway.trust.store import CertFile, utc

log = logging.getLogger(__name__)

_REASON_MAX = 300


def short(exc: BaseException) -> str:
    """The exception's text on one line, at most a few hundred characters."""
    return one_line(exc, _REASON_MAX)


def iso(value: datetime | None) -> str:
    return utc(value).isoformat() if value else "?"


def trust_failure(exc: Exception, leaf: CertFile, at: datetime) -> Finding:
    """The finding for a path that could not be built or validated (pass 1)."""
    signer = leaf.subject
    if isinstance(exc, (ExpiredError, NotYetValidError)):
        cert = out_of_validity(exc.original_path, at) or leaf.cert
        return validity_finding(cert, at)
    if isinstance(exc, DisallowedAlgorithmError):
        return make_finding("CERT_WEAK_ALGORITHM", signer=signer, reason=short(exc))
    if isinstance(exc, PathBuildingError):
        return make_finding("TRUST_UNTRUSTED_ROOT", signer=signer,
                            reason=f"issuer {leaf.issuer} not found or not trusted")
    if isinstance(exc, InvalidCertificateError) and leaf.self_issued:
        return make_finding("TRUST_UNTRUSTED_ROOT", signer=signer,
                            reason="self-signed certificate that is not a trust anchor")
    if isinstance(exc, (PathValidationError, ValidationError)):
        # A leaf that is itself out of its validity window is the clearest reason.
        if not (leaf.not_before <= at <= leaf.not_after):
            return validity_finding(leaf.cert, at)
        return make_finding("TRUST_PATH_INVALID", signer=signer, reason=short(exc))
    log.warning("chain validation failed unexpectedly for %s", signer, exc_info=exc)
    return make_finding("TRUST_PATH_INVALID", signer=signer,
                        reason=f"{type(exc).__name__}: {short(exc)}")


def out_of_validity(path: ValidationPath | None, at: datetime) -> x509.Certificate | None:
    """The first certificate of ``path`` (anchor side first) not valid at ``at``."""
    if path is None:
        return None
    for c in path_certs(path):
        cert = x509.load_der_x509_certificate(c.dump())
        if not (cert.not_valid_before_utc <= at <= cert.not_valid_after_utc):
            return cert
    return None


def validity_finding(cert: x509.Certificate, at: datetime) -> Finding:
    subject = readable_name(cert.subject)
    if at > cert.not_valid_after_utc:
        return make_finding("CERT_EXPIRED", subject=subject,
                            not_after=iso(cert.not_valid_after_utc), at=iso(at))
    return make_finding("CERT_NOT_YET_VALID", subject=subject,
                        not_before=iso(cert.not_valid_before_utc), at=iso(at))


def anchor_validity(path: ValidationPath, at: datetime) -> list[Finding]:
    """The anchor's own validity window at ``at`` (pyhanko does not check it)."""
    anchor = path.trust_anchor
    cert_obj = getattr(anchor, "certificate", None)
    if cert_obj is None:
        return []
    cert = x509.load_der_x509_certificate(cert_obj.dump())
    if cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
        return []
    return [validity_finding(cert, at)]


def key_usage(leaf: CertFile, usage: str, signer: str) -> list[Finding]:
    """Whether the leaf's key usage allows ``usage`` (``signing``, ``timestamping``, ``any``)."""
    if usage == "any":
        return []
    if usage == "signing":
        try:
            ku = leaf.cert.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            return []  # RFC 5280: no key usage extension means no restriction
        if ku.digital_signature or ku.content_commitment:
            return []
        names = [n for n in ("digital_signature", "content_commitment", "key_encipherment",
                             "data_encipherment", "key_agreement", "key_cert_sign",
                             "crl_sign") if getattr(ku, n)]
        shown = ", ".join(n.replace("content_commitment", "non_repudiation")
                          for n in names) or "none"
        return [make_finding("CERT_KEY_USAGE", signer=signer,
                             usage="document signing", key_usage=shown)]
    # timestamping: the extended key usage must name id-kp-timeStamping
    try:
        eku = leaf.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        ok = x509.oid.ExtendedKeyUsageOID.TIME_STAMPING in eku
        shown = ", ".join(o.dotted_string for o in eku)
    except x509.ExtensionNotFound:
        ok, shown = False, "no extended key usage"
    if ok:
        return []
    return [make_finding("CERT_KEY_USAGE", signer=signer, usage="time-stamping",
                         key_usage=shown)]


def revocation_unknown(subject: str, reason: str, severity: Severity) -> Finding:
    """REVOCATION_UNKNOWN at the configured severity."""
    f = make_finding("REVOCATION_UNKNOWN", subject=subject, reason=reason)
    return dataclasses.replace(f, severity=severity)
