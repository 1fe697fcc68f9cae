"""The signer layers shared by PDF and CMS signatures: certificates, revocation data carried by
the signature, the trust engine's verdict, and pyHanko validation contexts.

Inspectors never import the trust code; they use ``ctx.trust`` (``None`` = nothing trusted:
trust and revocation are ``unknown``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Coroutine, Iterable

from asn1crypto import cms, x509

from gateway.inspect.base import InspectContext
from gateway.model.findings import Finding
from gateway.model.report import Revocation, Trust


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion, also when called from inside an event loop.

    Each thread keeps one event loop (made again after a fork): ``asyncio.run`` would build
    a loop and its default executor's thread for every call and join that thread at the
    end, a few milliseconds per chain validation."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = getattr(_LOOPS, "loop", None)
        if loop is None or loop.is_closed() or getattr(_LOOPS, "pid", None) != os.getpid():
            loop = _LOOPS.loop = asyncio.new_event_loop()
            _LOOPS.pid = os.getpid()
        return loop.run_until_complete(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


_LOOPS = threading.local()


def short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join((str(exc) or type(exc).__name__).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def subject_of(cert: x509.Certificate | None) -> str | None:
    if cert is None:
        return None
    try:
        from cryptography import x509 as cx509

        name = cx509.load_der_x509_certificate(cert.dump()).subject
        return ", ".join(a.rfc4514_string() for a in reversed(list(name))) or "?"
    except Exception:
        return "?"


@dataclass
class RevInfo:
    crls: list[bytes]
    ocsps: list[bytes]


def revinfo_from_signed_data(sd: cms.SignedData, signer_info: cms.SignerInfo | None) -> RevInfo:
    """CRLs and OCSP responses a CMS signature carries (RevocationInfoChoices and Adobe's
    revocation-info-archival signed attribute)."""
    crls: list[bytes] = []
    ocsps: list[bytes] = []
    try:
        for choice in sd["crls"] or []:
            if choice.name == "crl":
                crls.append(choice.chosen.dump())
    except Exception:
        pass
    try:
        attrs = signer_info["signed_attrs"] if signer_info is not None else None
        for attr in attrs or []:
            if attr["type"].native == "adobe_revocation_info_archival":
                for val in attr["values"]:
                    for c in val["crl"] or []:
                        crls.append(c.dump())
                    for o in val["ocsp"] or []:
                        ocsps.append(o.dump())
    except Exception:
        pass
    return RevInfo(crls, ocsps)


def validation_context(ctx: InspectContext, extra_certs: Iterable[x509.Certificate] = (),
                       crls: Iterable[bytes] = (), ocsps: Iterable[bytes] = ()) -> Any:
    """A pyHanko ValidationContext: the trust engine's when there is one, else one that
    trusts nothing (integrity can still be checked). Never fetches."""
    from pyhanko_certvalidator import ValidationContext

    trust = ctx.trust
    make = getattr(trust, "validation_context", None)
    if make is not None:
        try:
            return make(ctx.at, extra_certs=list(extra_certs), crls=list(crls), ocsps=list(ocsps))
        except Exception:
            pass
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
    if ctx.trust is None:
        return SignerLayers(Trust.UNKNOWN, Revocation.UNKNOWN, name, ())
    try:
        result = ctx.trust.validate_chain(
            signer_cert.dump(), [c.dump() for c in others], at or ctx.at,
            crls=rev.crls, ocsps=rev.ocsps,
        )
    except Exception:
        return SignerLayers(Trust.UNKNOWN, Revocation.UNKNOWN, name, ())
    return SignerLayers(
        Trust(getattr(result.trust, "value", result.trust)),
        Revocation(getattr(result.revocation, "value", result.revocation)),
        getattr(result, "signer", None) or name,
        tuple(getattr(result, "findings", ()) or ()),
        tuple(getattr(result, "path", ()) or ()),
    )
