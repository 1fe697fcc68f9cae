"""Every signature of a PDF, layer by layer, with pyHanko and the trust engine.

Signature fields are enumerated here (not through pyHanko's ``embedded_signatures``, which
silently drops fields whose SubFilter it does not know), and each is validated on its own:
a failure of one signature is a finding on that signature, never an exception and never
"unsigned". Layers:

* integrity: the ByteRange digest and the signature value (pyHanko);
* coverage: the whole file, or the signed revision followed by incremental updates whose
  changes are judged by pyHanko's difference analysis against the signer's DocMDP level and
  the rules (``pdf.allowed-after-signing``), in ``coverage.py``;
* signer, trust, revocation: the trust engine, with the certificates and revocation data
  the signature carries (CMS and the document security store);
* timestamps: signature timestamp tokens and document timestamps.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gateway.event_loop import run
from gateway.inspect.algorithms import AlgorithmPolicy, check_cms_signer, pyhanko_accept_all
from gateway.inspect.base import InspectContext
from gateway.inspect.pdf.coverage import FieldAnalysisError, coverage_layer, filled_fields_at
from gateway.inspect.pdf.dss import Dss, read_dss
from gateway.inspect.pdf.repair import is_read_error
from gateway.inspect.pdf.signer import (
    RevInfo,
    revinfo_findings,
    revinfo_from_signed_data,
    short,
    signer_layers,
    subject_of,
    validation_context,
)
from gateway.inspect.pdf.timestamps import (
    DocTimestamp,
    check_doc_timestamps,
    is_doc_timestamp,
    long_term,
)
from gateway.model.catalog import make_finding
from gateway.model.findings import Finding
from gateway.model.partdata import Data, find_all
from gateway.model.report import Coverage, Integrity, Revocation, SignatureReport, Trust

log = logging.getLogger(__name__)

SUPPORTED = {"/adbe.pkcs7.detached": "pdf-pkcs7", "/ETSI.CAdES.detached": "pades",
             "/PBAD.PAdES": "pades"}
SHA1_SUBFILTER = "/adbe.pkcs7.sha1"
_BYTERANGE = re.compile(rb"/ByteRange\s*\[")


@dataclass
class PdfSignatureResult:
    reports: list[SignatureReport] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    """Document-level findings (orphaned signature data, broken document timestamps)."""
    facts: list[dict[str, Any]] = field(default_factory=list)
    timestamps: list[dict[str, Any]] = field(default_factory=list)
    read_errors: list[str] = field(default_factory=list)
    """Failures to read the file's structure (the reader ladder tries a repair on them)."""


@dataclass
class LongTermData:
    """The document security store and the document timestamps, for every signature."""

    store: Dss
    stamps: list[DocTimestamp]


def _enumerate(reader: Any) -> list[tuple[str, Any, Any]]:
    from pyhanko.sign.fields import enumerate_sig_fields

    return list(enumerate_sig_fields(reader, filled_status=True))


def validate_all(reader: Any, data: Data, ctx: InspectContext, name: str,
                 opts: dict[str, Any]) -> PdfSignatureResult:
    out = PdfSignatureResult()
    try:
        fields = _enumerate(reader)
    except Exception as exc:  # noqa: BLE001 - logged with its type; signature data decides
        # The form is damaged; if signature data is present it must not pass as unsigned.
        fields = []
        log.info("signature fields of %s unreadable: %r", name, exc)
        if is_read_error(exc):
            out.read_errors.append(f"signature fields: {type(exc).__name__}: {short(exc)}")
        if _byteranges(data, first=True):
            out.reports.append(_failed("pdf", "?", Integrity.UNVERIFIABLE,
                                       "PDF_SIGNATURE_UNVERIFIABLE", name,
                                       f"signature fields unreadable: {short(exc)}"))
            out.facts.append({"field": "?", "error": short(exc)})
            return out
    store = read_dss(reader) if fields else Dss()
    # an unreadable entry could hide a revocation: a finding that prevents valid
    out.findings.extend(revinfo_findings(RevInfo([], [], store.problems), name))
    signatures: list[tuple[str, Any, str]] = []
    stamp_fields: list[tuple[str, Any]] = []
    n_sig = 0
    for fq_name, sig_ref, sig_field in fields:
        try:
            sig_obj = sig_ref.get_object()
            stamp = is_doc_timestamp(sig_obj)
            subfilter = str(sig_obj.get("/SubFilter", ""))
        except Exception as exc:  # noqa: BLE001 - a broken signature, named with the type
            if is_read_error(exc):
                out.read_errors.append(f"{fq_name}: {type(exc).__name__}: {short(exc)}")
            out.reports.append(_failed("pdf", fq_name, Integrity.BROKEN, "PDF_SIGNATURE_BROKEN",
                                       name, f"signature dictionary unreadable: "
                                             f"{type(exc).__name__}: {short(exc)}"))
            out.facts.append({"field": fq_name, "error": short(exc)})
            continue
        n_sig += 1
        if stamp:  # a document timestamp is validated as a timestamp, never as a signature
            stamp_fields.append((fq_name, sig_field))
        else:
            signatures.append((fq_name, sig_field, subfilter))
    stamps, ts_findings = check_doc_timestamps(reader, stamp_fields, ctx, name, store)
    out.findings.extend(ts_findings)
    out.timestamps.extend(t.to_fact() for t in stamps)
    out.read_errors.extend(f"{t.field}: {t.error}" for t in stamps
                           if t.exc is not None and is_read_error(t.exc))
    lt = LongTermData(store, stamps)
    for fq_name, sig_field, subfilter in signatures:
        try:
            if subfilter in SUPPORTED:
                report, facts = _validate_standard(reader, sig_field, fq_name, subfilter, ctx,
                                                   name, opts, lt)
            elif subfilter == SHA1_SUBFILTER:
                report, facts = _validate_sha1(reader, sig_field, fq_name, ctx, name, opts, lt)
            else:
                report = _failed("pdf", fq_name, Integrity.UNVERIFIABLE,
                                 "PDF_SUBFILTER_UNSUPPORTED", name, "",
                                 subfilter=subfilter.lstrip("/") or "(none)")
                facts = {"field": fq_name, "subfilter": subfilter.lstrip("/") or None}
        except Exception as exc:  # noqa: BLE001 - malformed signature: a finding, never a crash
            log.info("signature %s of %s failed validation: %r", fq_name, name, exc)
            if is_read_error(exc):
                out.read_errors.append(f"{fq_name}: {type(exc).__name__}: {short(exc)}")
            integrity = Integrity.BROKEN if _is_damage(exc) else Integrity.UNVERIFIABLE
            code = ("PDF_SIGNATURE_BROKEN" if integrity is Integrity.BROKEN
                    else "PDF_SIGNATURE_UNVERIFIABLE")
            report = _failed(SUPPORTED.get(subfilter, "pdf"), fq_name, integrity, code, name,
                             f"{type(exc).__name__}: {short(exc)}")
            facts = {"field": fq_name, "subfilter": subfilter.lstrip("/"), "error": short(exc)}
        out.reports.append(report)
        out.facts.append(facts)
    raw = _byteranges(data)
    if raw > n_sig:
        out.findings.append(make_finding("PDF_SIGNATURE_ORPHANED", place=name, name=name))
        if not out.reports:
            out.reports.append(SignatureReport("pdf", Integrity.UNVERIFIABLE, Coverage.UNKNOWN,
                                               Trust.UNKNOWN, Revocation.UNKNOWN))
    return out


def _byteranges(data: Data, first: bool = False) -> int:
    """``len(_BYTERANGE.findall(data))`` (with ``first``, 1 at the first one), searched from
    each ``/ByteRange`` a window at a time (a match holds no other ``/``, so none overlap)."""
    n = 0
    for at in find_all(data, b"/ByteRange"):
        if _BYTERANGE.match(data, at):
            n += 1
            if first:
                break
    return n


def _is_damage(exc: BaseException) -> bool:
    """Exceptions that mean the signature's bytes are damaged (as opposed to not supported)."""
    from pyhanko.pdf_utils.misc import PdfReadError

    damage: tuple[type[Exception], ...] = (PdfReadError, ValueError, TypeError, IndexError,
                                          EOFError)
    try:
        from pyhanko.sign.general import CMSExtractionError, CMSStructuralError

        damage += (CMSExtractionError, CMSStructuralError)
    except ImportError:  # pragma: no cover
        pass
    return isinstance(exc, damage) and not isinstance(exc, NotImplementedError)


def _failed(fmt: str, fq_name: str, integrity: Integrity, code: str, name: str, reason: str,
            **params: Any) -> SignatureReport:
    return SignatureReport(
        format=fmt, integrity=integrity, coverage=Coverage.UNKNOWN, trust=Trust.UNKNOWN,
        revocation=Revocation.UNKNOWN,
        findings=(make_finding(code, place=f"{name}#{fq_name}", name=name, field=fq_name,
                               reason=reason, **params),),
    )


def _timestamp_layer(status: Any, fq_name: str, name: str) -> tuple[datetime | None, list[Finding],
                                                                     dict[str, Any] | None]:
    ts = getattr(status, "timestamp_validity", None)
    if ts is None:
        return None, [], None
    ok = bool(ts.intact and ts.valid)
    info = {"time": ts.timestamp.isoformat() if ts.timestamp else None, "intact": bool(ts.intact),
            "valid": bool(ts.valid), "trusted": bool(getattr(ts, "trusted", False))}
    if ok:
        return ts.timestamp, [], info
    reason = "token digest does not match" if not ts.intact else "token signature does not verify"
    return None, [make_finding("PDF_TIMESTAMP_INVALID", place=f"{name}#{fq_name}", name=name,
                               field=fq_name, reason=reason)], info


def _integrity(status: Any) -> tuple[Integrity, str]:
    if not status.intact:
        return Integrity.BROKEN, "the document digest does not match the signed digest"
    indic = getattr(status, "trust_problem_indic", None)
    if indic is not None and "CRYPTO_CONSTRAINTS" in str(indic):
        return Integrity.UNVERIFIABLE, "signature or digest algorithm not accepted"
    if not status.valid:
        return Integrity.BROKEN, "the signature value does not verify"
    return Integrity.INTACT, ""


def _finish(emb: Any, fmt: str, fq_name: str, subfilter: str, status: Any, integrity: Integrity,
            reason: str, ctx: InspectContext, name: str, opts: dict[str, Any], lt: LongTermData,
            extra_findings: list[Finding]) -> tuple[SignatureReport, dict[str, Any]]:
    place = f"{name}#{fq_name}"
    findings: list[Finding] = list(extra_findings)
    facts: dict[str, Any] = {"field": fq_name, "subfilter": subfilter.lstrip("/")}
    if integrity is not Integrity.INTACT:
        code = ("PDF_SIGNATURE_BROKEN" if integrity is Integrity.BROKEN
                else "PDF_SIGNATURE_UNVERIFIABLE")
        findings.append(make_finding(code, place=place, name=name, field=fq_name, reason=reason))
    prefilled: set[str] = set()
    unchecked: str | None = None
    if getattr(emb.diff_result, "changed_form_fields", None):
        try:
            prefilled = filled_fields_at(emb.reader, emb.signed_revision)
        except FieldAnalysisError as exc:
            log.warning("form fields of %s at signature %s unreadable: %s", name, fq_name, exc)
            unchecked = str(exc)
    coverage, cov_findings, cov_facts = coverage_layer(
        emb.coverage, emb.diff_result, emb.docmdp_level, getattr(status, "docmdp_ok", None),
        fq_name, name, opts, prefilled)
    if unchecked is not None:
        # Fail closed: without the fields filled at signing, a changed signed value cannot be
        # told from form filling, so the changes after signing are not confirmed.
        coverage = Coverage.UNKNOWN
        cov_findings.append(make_finding("PDF_CHANGES_UNCHECKED", place=place, name=name,
                                         field=fq_name, reason=unchecked))
        cov_facts["changes_unchecked"] = unchecked
    findings.extend(cov_findings)
    facts.update(cov_facts)
    ts_time, ts_findings, ts_facts = _timestamp_layer(status, fq_name, name)
    findings.extend(ts_findings)
    if ts_facts:
        facts["timestamp"] = ts_facts
    signing_time = ts_time or getattr(status, "signer_reported_dt", None)
    try:
        signer_cert = emb.signer_cert
        others = list(emb.other_embedded_certs)
    except Exception as exc:  # noqa: BLE001 - no signer certificate: untrusted, and logged
        log.info("certificates of %s unreadable: %r", place, exc)
        signer_cert, others = None, []
    proof = long_term(emb, status, integrity is Integrity.INTACT, lt.stamps, ctx, lt.store,
                      name, fq_name)
    findings.extend(proof.findings)
    facts.update(proof.facts)
    facts["level"] = proof.level
    if ts_facts:  # trusted = its authority chains to an anchor through the trust engine
        ts_facts["trusted"] = "timestamp_tsa" in facts and "timestamp_tsa_problem" not in facts
    findings.extend(check_cms_signer(
        AlgorithmPolicy.from_options(ctx.options), emb.signer_info,
        signer_cert.dump() if signer_cert is not None else None,
        proven_at=proof.proven, place=place,
        extra_digests=("sha1",) if subfilter == SHA1_SUBFILTER else ()))
    rev = revinfo_from_signed_data(emb.signed_data, emb.signer_info)
    findings.extend(revinfo_findings(rev, place))
    dss = lt.store.revinfo()
    rev = RevInfo(rev.crls + dss.crls, rev.ocsps + dss.ocsps)
    # checked at the time a trusted timestamp proves, with the revocation data of that time
    layers = signer_layers(ctx, signer_cert, others + lt.store.cert_objects(), rev, at=proof.at)
    findings.extend(layers.findings)
    facts["signer"] = layers.signer or subject_of(signer_cert)
    if layers.path:
        facts["path"] = list(layers.path)
    if signing_time:
        facts["signing_time"] = signing_time.isoformat()
    facts["revision"] = emb.signed_revision
    report = SignatureReport(
        format=fmt, integrity=integrity, coverage=coverage, trust=layers.trust,
        revocation=layers.revocation, signer=layers.signer, signing_time=signing_time,
        findings=tuple(findings),
    )
    return report, facts


def _validate_standard(reader: Any, sig_field: Any, fq_name: str, subfilter: str,
                       ctx: InspectContext, name: str, opts: dict[str, Any], lt: LongTermData
                       ) -> tuple[SignatureReport, dict[str, Any]]:
    from pyhanko.sign.validation.pdf_embedded import (
        EmbeddedPdfSignature,
        async_validate_pdf_signature,
    )

    emb = EmbeddedPdfSignature(reader, sig_field, fq_name)
    rev = revinfo_from_signed_data(emb.signed_data, emb.signer_info)
    try:
        others = list(emb.other_embedded_certs)
    except Exception as exc:  # noqa: BLE001 - no intermediates: the chain cannot be trusted
        log.info("certificates of %s unreadable: %r", fq_name, exc)
        others = []
    dss = lt.store.revinfo()
    vc = validation_context(ctx, others, rev.crls + dss.crls, rev.ocsps + dss.ocsps)
    status = run(async_validate_pdf_signature(emb, signer_validation_context=vc,
                                              algorithm_policy=pyhanko_accept_all()))
    integrity, reason = _integrity(status)
    return _finish(emb, SUPPORTED[subfilter], fq_name, subfilter, status, integrity, reason, ctx,
                   name, opts, lt, [])


def _validate_sha1(
    reader: Any, sig_field: Any, fq_name: str, ctx: InspectContext, name: str,
    opts: dict[str, Any], lt: LongTermData,
) -> tuple[SignatureReport, dict[str, Any]]:
    """``adbe.pkcs7.sha1``: the CMS signs, as encapsulated content, the SHA-1 digest of the
    ByteRange. pyHanko does not validate it; the layers are checked here with its parts."""
    from pyhanko.sign.diff_analysis import DEFAULT_DIFF_POLICY
    from pyhanko.sign.validation.generic_cms import async_validate_cms_signature
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature
    from pyhanko.sign.validation.status import StandardCMSSignatureStatus

    emb = EmbeddedPdfSignature(reader, sig_field, fq_name)
    econtent = emb.signed_data["encap_content_info"]["content"]
    signed_digest = econtent.native if econtent is not None else None
    if isinstance(signed_digest, (bytes, bytearray)) and len(signed_digest) != 20:
        # some writers wrap the digest in an OCTET STRING inside eContent
        try:
            from asn1crypto.core import OctetString

            signed_digest = OctetString.load(bytes(signed_digest)).native
        except (ValueError, TypeError):  # not wrapped: compared as is (and found unequal)
            pass
    actual = emb.compute_digest("sha1")
    # pyHanko declares these two by their initial None, so their type is None
    emb.coverage = emb.evaluate_signature_coverage()  # type: ignore[assignment]
    emb.diff_result = emb.evaluate_modifications(DEFAULT_DIFF_POLICY)  # type: ignore[assignment]
    rev = revinfo_from_signed_data(emb.signed_data, emb.signer_info)
    try:
        others = list(emb.other_embedded_certs)
    except Exception as exc:  # noqa: BLE001 - no intermediates: the chain cannot be trusted
        log.info("certificates of %s unreadable: %r", fq_name, exc)
        others = []
    dss = lt.store.revinfo()
    vc = validation_context(ctx, others, rev.crls + dss.crls, rev.ocsps + dss.ocsps)
    accept_all: dict[str, Any] = {"algorithm_policy": pyhanko_accept_all()}  # not in overloads
    status = run(async_validate_cms_signature(
        emb.signed_data, status_cls=StandardCMSSignatureStatus, validation_context=vc,
        **accept_all))
    if signed_digest != actual:
        integrity = Integrity.BROKEN
        reason = "the document's SHA-1 digest does not match the signed one"
    elif not (status.intact and status.valid):
        integrity, reason = _integrity(status)
    else:  # whether SHA-1 is acceptable is the algorithm policy's call (in _finish)
        integrity, reason = Integrity.INTACT, ""
    report, facts = _finish(emb, "pdf-pkcs7", fq_name, SHA1_SUBFILTER, status, integrity,
                            reason, ctx, name, opts, lt, [])
    facts["sha1_digest_matches"] = signed_digest == actual
    return report, facts
