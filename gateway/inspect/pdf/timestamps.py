"""Timestamps of PDF signatures and the PAdES level a signature reaches.

A document timestamp (``/DocTimeStamp``, SubFilter ``ETSI.RFC3161``) is validated here as a
timestamp, never by the signature validator: the token's signature, its message imprint
against the digest of the revision's byte range, the coverage of that revision, and the
time-stamping authority's chain to the configured anchors through the trust engine
(extended key usage timeStamping). A signature timestamp (the unsigned attribute
``signature-time-stamp-token``) gets the same TSA check.

Times proven: the newest timestamp's authority is checked now (``ctx.at``); an older one at
the time proven by the nearest newer timestamp that covers it (the PAdES archive chain). A
signature whose existence a timestamp proves is checked (trust and revocation, with the data
of the document security store) at that time.

Levels (ETSI EN 319 142-1), reported as the fact ``level`` of each signature:

* ``B-B``: the signature is intact (its value and the document digest verify);
* ``B-T``: and a trusted timestamp proves the time: its signature timestamp, or a document
  timestamp over its revision;
* ``B-LT``: and the document carries the validation data of the signer's chain (and of its
  signature timestamp's authority): every certificate up to a self-issued root or a
  configured anchor, and DSS revocation data for each but the root;
* ``B-LTA``: and a trusted document timestamp covers the DSS revision that data came from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Any

from asn1crypto import x509 as asn1_x509

from gateway.event_loop import run
from gateway.inspect.base import InspectContext
from gateway.inspect.pdf.dss import Dss, chain_covered
from gateway.inspect.pdf.signer import short, subject_of, validation_context
from gateway.model.catalog import make_finding
from gateway.model.findings import Finding
from gateway.model.report import Revocation, Trust

log = logging.getLogger(__name__)

RFC3161 = "/ETSI.RFC3161"
DOC_TIMESTAMP = "/DocTimeStamp"
LEVELS = ("B-B", "B-T", "B-LT", "B-LTA")


def is_doc_timestamp(sig_obj: Any) -> bool:
    """A document timestamp by its type or by its SubFilter (some writers omit ``/Type``)."""
    return (str(sig_obj.get("/Type", "/Sig")) == DOC_TIMESTAMP
            or str(sig_obj.get("/SubFilter", "")) == RFC3161)


@dataclass
class TsaCheck:
    trust: Trust = Trust.UNKNOWN
    tsa: str | None = None
    reason: str = ""


@dataclass
class DocTimestamp:
    field: str
    revision: int = -1
    time: datetime | None = None
    intact: bool = False
    valid: bool = False
    covered: bool = False
    tsa: TsaCheck = dc_field(default_factory=TsaCheck)
    error: str | None = None
    exc: BaseException | None = None
    """What made it unreadable (the reader ladder looks at read errors)."""

    @property
    def proves_time(self) -> bool:
        return (self.error is None and self.intact and self.valid and self.covered
                and self.tsa.trust is Trust.TRUSTED and self.time is not None)

    def to_fact(self) -> dict[str, Any]:
        out: dict[str, Any] = {"field": self.field}
        if self.error is not None:
            out["error"] = self.error
            return out
        out.update(time=self.time.isoformat() if self.time else None, intact=self.intact,
                   valid=self.valid, covered=self.covered, revision=self.revision,
                   trusted=self.tsa.trust is Trust.TRUSTED, tsa=self.tsa.tsa)
        if self.tsa.reason:
            out["tsa_problem"] = self.tsa.reason
        return out


def tsa_trust(ctx: InspectContext, signed_data: Any, dss: Dss, at: datetime) -> TsaCheck:
    """The time-stamping authority of a token (CMS SignedData) through the trust engine."""
    from pyhanko.sign.validation.generic_cms import extract_certs_for_validation

    certs = extract_certs_for_validation(signed_data)
    tsa = certs.signer_cert
    name = subject_of(tsa)
    claimed = _token_time(signed_data)
    validity = tsa["tbs_certificate"]["validity"]
    if claimed is not None and not (validity["not_before"].native <= claimed
                                    <= validity["not_after"].native):
        return TsaCheck(Trust.UNTRUSTED, name, "the time it claims is outside the validity of "
                                               "the time-stamping certificate")
    if ctx.trust is None:
        return TsaCheck(Trust.UNKNOWN, name, "no trust anchors configured")
    others = [c.dump() for c in certs.other_certs] + [i.der for i in dss.certs]
    rev = dss.revinfo()
    result = ctx.trust.validate_chain(tsa.dump(), others, at, crls=rev.crls, ocsps=rev.ocsps,
                                      usage="timestamping")
    trust = Trust(getattr(result.trust, "value", result.trust))
    revocation = Revocation(getattr(result.revocation, "value", result.revocation))
    if trust is Trust.TRUSTED and revocation is Revocation.REVOKED:
        trust = Trust.UNTRUSTED
    reasons = [f"{f.code}: {f.en}" for f in result.findings
               if f.code != "REVOCATION_UNKNOWN" or trust is not Trust.TRUSTED]
    return TsaCheck(trust, name, "; ".join(reasons)[:300])


def check_doc_timestamps(reader: Any, items: list[tuple[str, Any]], ctx: InspectContext,
                         name: str, dss: Dss) -> tuple[list[DocTimestamp], list[Finding]]:
    """Validate every document timestamp (``items``: field name and field dictionary),
    newest first, each authority at the time proven by the next newer one."""
    from pyhanko.sign.validation.pdf_embedded import EmbeddedPdfSignature

    embs: list[tuple[DocTimestamp, Any]] = []
    findings: list[Finding] = []
    for fq_name, sig_field in items:
        ts = DocTimestamp(fq_name)
        try:
            emb = EmbeddedPdfSignature(reader, sig_field, fq_name)
            ts.revision = emb.signed_revision
            embs.append((ts, emb))
        except Exception as exc:  # noqa: BLE001 - a damaged timestamp: its finding, never a crash
            _failed(ts, exc, name, findings)
            embs.append((ts, None))
    proof_at = ctx.at
    for ts, emb in sorted(embs, key=lambda p: -p[0].revision):
        if emb is None:
            continue
        try:
            _check_one(ts, emb, ctx, dss, proof_at)
        except Exception as exc:  # noqa: BLE001 - a damaged timestamp: its finding, never a crash
            _failed(ts, exc, name, findings)
            continue
        place = f"{name}#{ts.field}"
        subfilter = str(emb.sig_object.get("/SubFilter", ""))
        if subfilter != RFC3161:
            findings.append(make_finding("PDF_DOC_TIMESTAMP_BROKEN", place=place, name=name,
                                         field=ts.field,
                                         reason=f"SubFilter {subfilter or '(none)'} is not "
                                                "ETSI.RFC3161"))
            ts.error = "wrong SubFilter"
        elif not (ts.intact and ts.valid):
            findings.append(make_finding(
                "PDF_DOC_TIMESTAMP_BROKEN", place=place, name=name, field=ts.field,
                reason="digest does not match" if not ts.intact
                else "token signature does not verify"))
        elif not ts.covered:
            findings.append(make_finding("PDF_DOC_TIMESTAMP_BROKEN", place=place, name=name,
                                         field=ts.field,
                                         reason="its byte range does not cover its revision"))
        elif ts.tsa.trust is not Trust.TRUSTED:
            findings.append(make_finding("PDF_TIMESTAMP_UNTRUSTED", place=place, name=name,
                                         field=ts.field, reason=ts.tsa.reason or
                                         f"trust {ts.tsa.trust.value}"))
        if ts.proves_time and ts.time is not None:  # (a time is part of proving it)
            proof_at = ts.time
    return [ts for ts, _ in embs], findings


def _check_one(ts: DocTimestamp, emb: Any, ctx: InspectContext, dss: Dss,
               proof_at: datetime) -> None:
    from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    emb.compute_digest()
    emb.coverage = emb.evaluate_signature_coverage()
    ts.covered = emb.coverage in (SignatureCoverageLevel.ENTIRE_FILE,
                                  SignatureCoverageLevel.ENTIRE_REVISION)
    vc = validation_context(ctx, list(emb.other_embedded_certs))
    st = run(validate_tst_signed_data(emb.signed_data, vc, emb.compute_digest))
    ts.time = st.get("timestamp")
    ts.intact = bool(st.get("intact"))
    ts.valid = bool(st.get("valid"))
    if ts.intact and ts.valid:
        ts.tsa = tsa_trust(ctx, emb.signed_data, dss, proof_at)


def _failed(ts: DocTimestamp, exc: BaseException, name: str, findings: list[Finding]) -> None:
    log.info("document timestamp %s of %s unreadable: %r", ts.field, name, exc)
    ts.error = f"{type(exc).__name__}: {short(exc)}"
    ts.exc = exc
    findings.append(make_finding("PDF_DOC_TIMESTAMP_BROKEN", place=f"{name}#{ts.field}",
                                 name=name, field=ts.field, reason=ts.error))


@dataclass
class LongTerm:
    """What the timestamps prove for one signature."""

    at: datetime
    """The time its signer is checked at: the proven time, else the validation time."""
    level: str | None
    findings: list[Finding]
    facts: dict[str, Any]
    proven: datetime | None = None
    """The time a trusted timestamp proves the signature existed at, if any."""


def long_term(emb: Any, status: Any, intact: bool, stamps: list[DocTimestamp],
              ctx: InspectContext, dss: Dss, name: str, fq_name: str) -> LongTerm:
    """The proven time and the PAdES level of the signature ``emb`` (validated: ``status``)."""
    facts: dict[str, Any] = {}
    findings: list[Finding] = []
    covering = [t for t in stamps if t.proves_time and t.revision > emb.signed_revision]
    doc_proof = min((t.time for t in covering if t.time is not None), default=None)
    sig_proof: datetime | None = None
    tsa_chain: asn1_x509.Certificate | None = None
    tsa_pool: list[asn1_x509.Certificate] = []
    ts_status = getattr(status, "timestamp_validity", None)
    if ts_status is not None and ts_status.intact and ts_status.valid:
        token = _signature_token(emb)
        if token is not None:
            check = tsa_trust(ctx, token, dss, doc_proof or ctx.at)
            facts["timestamp_tsa"] = check.tsa
            if check.trust is Trust.TRUSTED:
                sig_proof = ts_status.timestamp
                tsa_chain = _signer_cert(token)
                tsa_pool = _other_certs(token)
            else:
                facts["timestamp_tsa_problem"] = check.reason or check.trust.value
                findings.append(make_finding(
                    "PDF_TIMESTAMP_UNTRUSTED", place=f"{name}#{fq_name}", name=name,
                    field=fq_name, reason=check.reason or f"trust {check.trust.value}"))
    proven = sig_proof or doc_proof
    at = proven or ctx.at
    if proven is not None:
        facts["proven_time"] = proven.isoformat()
    if not intact:
        return LongTerm(at, None, findings, facts, proven)
    level = "B-T" if proven is not None else "B-B"
    if level == "B-T" and dss.present:
        level = _lt_level(emb, dss, covering, tsa_chain, tsa_pool, anchor_keys(ctx), facts)
    return LongTerm(at, level, findings, facts, proven)


def _lt_level(emb: Any, dss: Dss, covering: list[DocTimestamp],
              tsa_cert: asn1_x509.Certificate | None, tsa_pool: list[asn1_x509.Certificate],
              anchors: set[str], facts: dict[str, Any]) -> str:
    pool = list(emb.other_embedded_certs) + dss.cert_objects()
    ok, newest, missing = chain_covered(emb.signer_cert, pool, dss, anchors)
    if ok and tsa_cert is not None:
        ok, tsa_newest, missing = chain_covered(tsa_cert, pool + tsa_pool, dss, anchors)
        newest = max(newest, tsa_newest)
    if not ok:
        facts["dss_missing"] = missing
        return "B-T"
    if any(t.revision >= newest for t in covering):
        return "B-LTA"
    return "B-LT"


def _signature_token(emb: Any) -> Any:
    from pyhanko.sign.validation.generic_cms import extract_tst_data_iter

    for token in extract_tst_data_iter(emb.signer_info, signed=False):
        return token
    return None


def _signer_cert(signed_data: Any) -> asn1_x509.Certificate | None:
    from pyhanko.sign.validation.generic_cms import extract_certs_for_validation

    return extract_certs_for_validation(signed_data).signer_cert


def _token_time(signed_data: Any) -> datetime | None:
    content = signed_data["encap_content_info"]["content"]
    parsed = getattr(content, "parsed", None)
    if parsed is None:
        return None
    value = parsed["gen_time"].native
    return value if isinstance(value, datetime) else None


def _other_certs(signed_data: Any) -> list[asn1_x509.Certificate]:
    from pyhanko.sign.validation.generic_cms import extract_certs_for_validation

    return list(extract_certs_for_validation(signed_data).other_certs)


def anchor_keys(ctx: InspectContext) -> set[str]:
    """The configured anchors' subjects (``Name.hashable``): a chain may stop at one of them
    without carrying its certificate."""
    out: set[str] = set()
    for anchor in getattr(ctx.trust, "anchors", ()) or ():
        der = getattr(anchor, "der", None)
        if isinstance(der, bytes):
            out.add(asn1_x509.Certificate.load(der).subject.hashable)
    return out
