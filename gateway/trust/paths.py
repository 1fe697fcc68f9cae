"""Certification paths: the pyhanko ``ValidationContext`` a path is built and checked in,
building a path to a configured anchor, and reading a built path's certificates.

pyhanko-certvalidator's validators are coroutines; :func:`run` runs them on one event loop
per thread. Nothing here decides a finding (:mod:`gateway.trust.results` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    DisallowWeakAlgorithmsPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from gateway.event_loop import run
from gateway.model.names import readable_subject


def make_context(anchors: Sequence[asn1_x509.Certificate],
                 others: Sequence[asn1_x509.Certificate], at: datetime, *,
                 revocation: RevocationCheckingPolicy, weak_hashes: frozenset[str],
                 crls: Sequence[Any] = (), ocsps: Sequence[Any] = ()) -> ValidationContext:
    """An offline context at ``at``: ``anchors`` are the only trust roots, ``others`` the
    certificates a path may be built through, ``crls``/``ocsps`` the revocation data."""
    return ValidationContext(
        trust_roots=list(anchors),
        other_certs=list(others),
        moment=at,
        allow_fetching=False,
        crls=list(crls),
        ocsps=list(ocsps),
        revinfo_policy=CertRevTrustPolicy(revocation, retroactive_revinfo=True),
        algorithm_usage_policy=DisallowWeakAlgorithmsPolicy(weak_hash_algos=weak_hashes),
    )


NO_REVOCATION = RevocationCheckingPolicy(RevocationCheckingRule.NO_CHECK,
                                         RevocationCheckingRule.NO_CHECK)
"""Pass 1 (trust) checks no revocation data."""


def build_path(ctx: ValidationContext, leaf: asn1_x509.Certificate,
               extra: list[asn1_x509.Certificate]) -> ValidationPath:
    """A validated path from ``leaf`` to an anchor of ``ctx``; raises pyhanko's errors."""
    validator = CertificateValidator(leaf, extra, validation_context=ctx)
    path: ValidationPath = run(validator.async_validate_path())
    return path


def path_certs(path: ValidationPath) -> list[asn1_x509.Certificate]:
    """Certificates of the path from the anchor side to the leaf (anchor included when it
    is a certificate)."""
    return [c for c in path.iter_certs(include_root=True)
            if isinstance(c, asn1_x509.Certificate)]


def asn1_subject(cert: asn1_x509.Certificate) -> str:
    return readable_subject(cert) or "?"


def subjects(path: ValidationPath | None) -> tuple[str, ...]:
    """The path's subjects from the leaf to the anchor (for the report)."""
    if path is None:
        return ()
    certs = list(path_certs(path))
    out = [asn1_subject(c) for c in reversed(certs)]
    anchor_cert = getattr(path.trust_anchor, "certificate", None)
    if anchor_cert is not None and (not certs or anchor_cert.dump() != certs[0].dump()):
        out.append(asn1_subject(anchor_cert))
    return tuple(out)
