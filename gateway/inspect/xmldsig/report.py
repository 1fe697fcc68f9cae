"""Turn a verified XML signature into a :class:`SignatureReport`: findings per layer, the
signing time used for certificate checks, and the trust engine's verdict on the signer."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from gateway.inspect import safe_xml
from gateway.inspect.algorithms import AlgorithmPolicy, key_of
from gateway.inspect.base import InspectContext, InspectionResult
from gateway.inspect.safe_zip import SafeZip, ZipLimits, ZipProblem
from gateway.inspect.xmldsig.result import DsigResult
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.names import readable_subject
from gateway.model.report import Coverage, Integrity, Revocation, SignatureReport, Trust

log = logging.getLogger(__name__)

FUTURE_SKEW = timedelta(minutes=5)

@dataclasses.dataclass(frozen=True)
class SignatureOptions:
    """The ``[signatures]`` rules as the inspectors read them (plain data, no policy import)."""

    ooxml_unsigned_parts: tuple[str, ...] = (
        "docProps/core.xml", "docProps/app.xml", "docProps/custom.xml", "docProps/thumbnail.*",
        "customXml/*",
    )
    signing_time_max_age_days: int = 30
    algorithms: AlgorithmPolicy = AlgorithmPolicy()

    @classmethod
    def from_context(cls, ctx: InspectContext) -> SignatureOptions:
        raw: Mapping[str, Any] = (ctx.options or {}).get("signatures") or {}
        out = cls()
        if "ooxml_unsigned_parts" in raw:
            out = dataclasses.replace(out, ooxml_unsigned_parts=tuple(raw["ooxml_unsigned_parts"]))
        out = dataclasses.replace(out, algorithms=AlgorithmPolicy.from_options(ctx.options))
        if "signing_time_max_age_days" in raw:
            out = dataclasses.replace(
                out, signing_time_max_age_days=int(raw["signing_time_max_age_days"]))
        return out




def issue_findings(result: DsigResult, place: str, opts: SignatureOptions) -> list[Finding]:
    out = [make_finding(i.code, place=place, **i.params) for i in result.issues]
    # No XAdES timestamp is validated here, so nothing proves an earlier time: the legacy
    # allowance of the policy never applies to XML signatures.
    out.extend(opts.algorithms.check(digests=result.digests, scheme=result.scheme,
                                     key=key_of(result.signer), proven_at=None, place=place))
    return out


def validation_time(result: DsigResult, ctx: InspectContext, opts: SignatureOptions,
                    place: str) -> tuple[datetime, list[Finding]]:
    """The signed signing time when plausible, else the time of checking."""
    when = result.signing_time
    if when is None:
        return ctx.at, []
    at = ctx.at if ctx.at.tzinfo else ctx.at.astimezone()
    if when > at + FUTURE_SKEW:
        return ctx.at, [make_finding("SIG_SIGNING_TIME_FUTURE", place=place, time=when.isoformat())]
    if at - when > timedelta(days=opts.signing_time_max_age_days):
        return ctx.at, [make_finding("SIG_SIGNING_TIME_OLD", place=place, time=when.isoformat(),
                                     days=opts.signing_time_max_age_days)]
    return when, []


def build(fmt: str, result: DsigResult, coverage: Coverage, extra: list[Finding],
          ctx: InspectContext, place: str, opts: SignatureOptions) -> SignatureReport:
    findings = issue_findings(result, place, opts) + list(extra)
    integrity = result.integrity
    if integrity is not Integrity.INTACT:
        coverage = Coverage.UNKNOWN
    signer = readable_subject(result.signer)
    trust, revocation = Trust.UNKNOWN, Revocation.UNKNOWN
    if integrity is Integrity.INTACT and result.signer_der is not None:
        at, time_findings = validation_time(result, ctx, opts, place)
        findings.extend(time_findings)
        if ctx.trust is None:
            findings.append(make_finding("SIG_TRUST_NOT_CHECKED", place=place, signer=signer))
        else:
            try:
                chain = ctx.trust.validate_chain(
                    result.signer_der, list(result.other_certs), at,
                    crls=tuple(result.crls), ocsps=tuple(result.ocsps), usage="signing")
                trust = Trust(getattr(chain, "trust", Trust.UNKNOWN))
                revocation = Revocation(getattr(chain, "revocation", Revocation.UNKNOWN))
                signer = getattr(chain, "signer", None) or signer
                findings.extend(getattr(chain, "findings", ()) or ())
            except Exception as exc:  # noqa: BLE001 - the trust layer failing: a finding
                log.exception("trust validation failed for %s", place)
                trust, revocation = Trust.UNKNOWN, Revocation.UNKNOWN
                findings.append(make_finding("SIG_TRUST_CHECK_FAILED", place=place,
                                             signer=signer, reason=type(exc).__name__))
    return SignatureReport(
        format=fmt,
        integrity=integrity,
        coverage=coverage,
        trust=trust,
        revocation=revocation,
        signer=signer,
        signing_time=result.signing_time,
        findings=tuple(findings),
    )


def broken(fmt: str, code: str, place: str, **params: Any) -> SignatureReport:
    """A signature that could not even be read."""
    return SignatureReport(
        format=fmt, integrity=Integrity.BROKEN, coverage=Coverage.UNKNOWN, trust=Trust.UNKNOWN,
        revocation=Revocation.UNKNOWN, findings=(make_finding(code, place=place, **params),))


def short_list(items: list[str], limit: int = 8) -> str:
    """``a, b, c (+5)``: a bounded list of part names for a finding's text."""
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit})" if len(items) > limit else "")


def open_package(doc: Document, ctx: InspectContext) -> tuple[SafeZip, int] | InspectionResult:
    """The document's ZIP container checked against the rules' limits, and the XML size cap;
    or, when the container is unreadable, the result that says so."""
    limits = (ctx.options or {}).get("limits") or {}
    xml_max = int(limits.get("xml_max_bytes", safe_xml.DEFAULT_MAX_BYTES))
    try:
        return SafeZip(doc.data, ZipLimits.from_options(ctx.options or {})), xml_max
    except ZipProblem as exc:
        return InspectionResult(findings=(make_finding(
            "DOCUMENT_UNREADABLE", place=doc.path, name=doc.path, reason=str(exc)),))
