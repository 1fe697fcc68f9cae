"""The signer layers shared by PDF and CMS signatures: certificates, revocation data carried by
the signature, the trust engine's verdict, and pyHanko validation contexts.

Inspectors never import the trust code; they use ``ctx.trust`` (``None`` = nothing trusted:
trust and revocation are ``unknown``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from asn1crypto import cms, x509

from gateway.inspect.base import InspectContext
from gateway.model.catalog import make_finding
from gateway.model.display import one_line
from gateway.model.findings import Finding
from gateway.model.names import readable_subject
from gateway.model.report import Revocation, Trust

log = logging.getLogger(__name__)


short = one_line  # the name the PDF and CMS inspectors use


def subject_of(cert: x509.Certificate | None) -> str | None:
    return readable_subject(cert)


@dataclass
class RevInfo:
    crls: list[bytes]
    ocsps: list[bytes]
    problems: list[str] = field(default_factory=list)
    """Revocation data the signature carries but that could not be read: never dropped
    silently (``revinfo_findings`` turns them into a finding that prevents ``valid``)."""


def revinfo_from_signed_data(sd: cms.SignedData, signer_info: cms.SignerInfo | None) -> RevInfo:
    """CRLs and OCSP responses a CMS signature carries (RevocationInfoChoices and Adobe's
    revocation-info-archival signed attribute)."""
    out = RevInfo([], [])
    try:
        for choice in sd["crls"] or []:
            if choice.name == "crl":
                out.crls.append(choice.chosen.dump())
    except (ValueError, TypeError, KeyError) as exc:  # asn1crypto parses lazily
        out.problems.append(f"CMS CRLs: {type(exc).__name__}: {short(exc, 120)}")
    try:
        attrs = signer_info["signed_attrs"] if signer_info is not None else None
        for attr in attrs or []:
            if attr["type"].native == "adobe_revocation_info_archival":
                for val in attr["values"]:
                    for c in val["crl"] or []:
                        out.crls.append(c.dump())
                    for o in val["ocsp"] or []:
                        out.ocsps.append(o.dump())
    except (ValueError, TypeError, KeyError) as exc:
        out.problems.append(f"revocation-info-archival: {type(exc).__name__}: {short(exc, 120)}")
    if out.problems:
        log.warning("unreadable revocation data in a signature: %s", "; ".join(out.problems))
    return out


def revinfo_findings(rev: RevInfo, place: str) -> list[Finding]:
    return [make_finding("SIG_REVOCATION_DATA_UNREADABLE", place=place, reason=p)
            for p in rev.problems]


def validation_context(ctx: InspectContext, extra_certs: Iterable[x509.Certificate] = (),
                       crls: Iterable[bytes] = (), ocsps: Iterable[bytes] = ()) -> Any:
    """A pyHanko ValidationContext: the trust engine's when there is one, else one that
    trusts nothing (integrity can still be checked). Never fetches."""
    from pyhanko_certvalidator import ValidationContext

    trust = ctx.trust
    make = getattr(trust, "validation_context", None)
    if make is not None:
        # A failure here propagates: the caller makes it a finding on the signature
        # (unverifiable), never a context that quietly trusts nothing.
        return make(ctx.at, extra_certs=list(extra_certs), crls=list(crls), ocsps=list(ocsps))
    return ValidationContext(trust_roots=[], other_certs=list(extra_certs), allow_fetching=False,
                             moment=ctx.at)


@dataclass
class SignerLayers:
    trust: Trust
    revocation: Revocation
    signer: str | None
    findings: tuple[Finding, ...]
    path: tuple[str, ...] = ()


def signer_layers(ctx: InspectContext, signer_cert: x509.Certificate | None,
                  others: Iterable[x509.Certificate], rev: RevInfo,
                  at: datetime | None = None) -> SignerLayers:
    """Trust and revocation of the signer certificate, from the trust engine."""
    name = subject_of(signer_cert)
    if signer_cert is None:
        return SignerLayers(Trust.UNTRUSTED, Revocation.UNKNOWN, None, ())
    if ctx.trust is None:  # said, as for XML signatures: never "unknown" in silence
        return SignerLayers(Trust.UNKNOWN, Revocation.UNKNOWN, name, (make_finding(
            "SIG_TRUST_NOT_CHECKED", signer=name or "?"),))
    try:
        result = ctx.trust.validate_chain(
            signer_cert.dump(), [c.dump() for c in others], at or ctx.at,
            crls=rev.crls, ocsps=rev.ocsps,
        )
    except Exception as exc:  # noqa: BLE001 - the trust layer failing: said, never passed
        log.exception("trust validation failed for %s (%s)", name, type(exc).__name__)
        return SignerLayers(Trust.UNKNOWN, Revocation.UNKNOWN, name, (make_finding(
            "SIG_TRUST_CHECK_FAILED", signer=name or "?", reason=type(exc).__name__),))
    return SignerLayers(
        Trust(getattr(result.trust, "value", result.trust)),
        Revocation(getattr(result.revocation, "value", result.revocation)),
        getattr(result, "signer", None) or name,
        tuple(getattr(result, "findings", ()) or ()),
        tuple(getattr(result, "path", ()) or ()),
    )
