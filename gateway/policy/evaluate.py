"""Judge a document from what its inspectors found, under the rules."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from gateway.inspect.base import InspectionResult
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding, Severity
from gateway.model.reasons import reason_text
from gateway.model.report import DocClass, SignatureReport


def _reasons(sigs: list[SignatureReport] | tuple[SignatureReport, ...]) -> dict[str, str]:
    """The ``reason`` (English) and ``reason_vi`` parameters naming why ``sigs`` are not
    confirmed: per signature its format and its reasons in words, with the reason codes."""
    en, vi = [], []
    for s in sigs:
        reasons = s.reasons or ("not-confirmed",)
        en.append(f"{s.format}: {reason_text(reasons, 'en')}")
        vi.append(f"{s.format}: {reason_text(reasons, 'vi')}")
    return {"reason": "; ".join(en), "reason_vi": "; ".join(vi)}


def judge(doc: Document, result: InspectionResult,
          options: Mapping[str, Any] | None = None) -> list[Finding]:
    """The Article 9.2 findings that follow from the inspectors' facts, under the rules
    (``options``: the rules as plain data, ``Policy.options()``; defaults when omitted)."""
    out: list[Finding] = []
    sigs = result.signatures
    if doc.doc_class is DocClass.EDITABLE:
        out.extend(_editable(doc, sigs))
    elif doc.doc_class is DocClass.NON_EDITABLE:
        out.extend(_text_unchecked(doc, result))
        out.extend(_non_editable(doc, result, options))
    elif doc.doc_class is DocClass.OTHER:
        out.append(make_finding("OTHER_ATTACHMENT", place=doc.path, name=doc.path,
                                media_type=doc.media_type))
    return out


# -- editable documents: signatures (Article 9.2a) ---------------------------------------------


def signature_counts(sig: SignatureReport) -> bool:
    """A signature confirms an editable document when every layer is good (intact, whole,
    trusted, not revoked) and none of its findings is an error. Rules speak through the
    severity of those findings (``[trust] revocation-unknown = "error"``) and through the
    algorithm policy (``[algorithms]``, whose refusals are errors)."""
    return sig.counts


def _editable(doc: Document, sigs: tuple[SignatureReport, ...]) -> list[Finding]:
    """No signature → not signed. No signature that counts → unverified, naming each
    signature's failing layers (a legacy signature is unverifiable, never unsigned). One that
    counts → valid; any others that do not are reported as a warning (co-signing: one bad
    signature does not void a good one, but nobody should miss it)."""
    if not sigs:
        return [make_finding("EDITABLE_NOT_SIGNED", place=doc.path, name=doc.path)]
    counted = [s for s in sigs if signature_counts(s)]
    bad = [s for s in sigs if not signature_counts(s)]
    if not counted:
        return [make_finding("EDITABLE_SIGNATURE_UNVERIFIED", place=doc.path, name=doc.path,
                             **_reasons(sigs))]
    if bad:
        return [make_finding("SIG_SOME_SIGNATURES_BAD", place=doc.path, name=doc.path,
                             bad=len(bad), total=len(sigs), **_reasons(bad),
                             signer=counted[0].signer or "?")]
    return []


# -- non-editable documents: PDFs and scans (Article 9.2b, 9.3) --------------------------------


def _text_unchecked(doc: Document, result: InspectionResult) -> list[Finding]:
    """A PDF whose pages carry text (born-digital or mixed) but whose text layer could not be
    read was not checked for secrecy stamps (8.2) or legacy encodings (9.5): an error, never a
    silent pass. A scan has no text layer to read (no OCR), so it is judged as a scan."""
    facts = result.facts
    if facts.get("layout") not in ("born-digital", "mixed"):
        return []
    reason = facts.get("text_unchecked")
    read = facts.get("text_pages_read")
    if not reason and isinstance(read, int) and _last_page(
            str(facts.get("born_digital_pages") or "")) > read:
        reason = f"only the text of the first {read} pages was read (rules: text.pdf-max-pages)"
    if not reason:
        return []
    return [make_finding("TEXT_UNCHECKED", place=doc.path, name=doc.path, reason=str(reason))]


def _last_page(ranges: str) -> int:
    """The last page of the layout facts' page list (``"1-3,5"`` → 5; 0 when empty)."""
    last = ranges.rsplit(",", 1)[-1].rsplit("-", 1)[-1]
    return int(last) if last.isdigit() else 0



def _pdf_rules(options: Mapping[str, Any] | None) -> dict[str, Any]:
    from gateway.policy.schema import Pdf

    out = dataclasses.asdict(Pdf())
    got = (options or {}).get("pdf")
    if isinstance(got, Mapping):
        out.update(got)
    return out


def _warn_if(finding: Finding, mode: str) -> Finding:
    return dataclasses.replace(finding, severity=Severity.WARNING) if mode == "warn" else finding


def _non_editable(doc: Document, result: InspectionResult,
                  options: Mapping[str, Any] | None) -> list[Finding]:
    """Signed and verified → valid; any signature not good → invalid, naming the layer;
    scanned → valid (9.2b) with the seal evidence; made by software and unsigned → invalid
    with the 9.3 remedy; unreadable or encrypted → the inspector's finding decides."""
    name = doc.path
    sigs = result.signatures
    facts = result.facts
    rules = _pdf_rules(options)
    if sigs:
        bad = [s for s in sigs if not signature_counts(s)]
        if bad:
            return [make_finding("PDF_SIGNATURE_NOT_CONFIRMED", place=name, name=name,
                                 **_reasons(bad))]
        signer = "; ".join(sorted({s.signer or "?" for s in sigs}))
        return [make_finding("PDF_SIGNED_VALID", place=name, name=name, signer=signer)]
    if any(f.severity >= Severity.ERROR for f in result.findings):
        return []  # unreadable, encrypted, empty: the inspector's finding decides
    layout = facts.get("layout")
    if layout is None:  # a non-editable format no inspector describes
        return [make_finding("NON_EDITABLE_ACCEPTED", place=name, name=name)]
    if layout == "born-digital":
        return [_warn_if(make_finding("PDF_BORN_DIGITAL_UNSIGNED", place=name, name=name),
                         rules["born_digital"])]
    if layout == "mixed" and rules["mixed"] != "scanned":
        return [_warn_if(make_finding("PDF_MIXED_UNSIGNED", place=name, name=name,
                                      pages=facts.get("born_digital_pages", "?")),
                         rules["mixed"])]
    if layout not in ("scanned", "mixed"):
        errors = "; ".join(list(facts.get("content_errors") or [])[:3])
        return [make_finding("PDF_UNREADABLE", place=name, name=name,
                             reason=f"layout {layout}" + (f": {errors}" if errors else ""))]
    out = [make_finding("NON_EDITABLE_ACCEPTED", place=name, name=name)]
    seals = list(facts.get("seal") or [])
    if seals:
        best = max(seals, key=lambda s: s.get("confidence", 0))
        out.append(make_finding("SEAL_FOUND", place=name, name=name, page=best.get("page"),
                                confidence=best.get("confidence")))
        return out
    if facts.get("seal_searched_pages") and not facts.get("seal_colour_pages"):
        reason = "greyscale scan: a red seal cannot show"
    else:
        reason = f"no round red stamp on the last {facts.get('seal_searched_pages', 0)} page(s)"
    code = "SEAL_REQUIRED_MISSING" if rules["require_seal"] else "SEAL_NOT_FOUND"
    out.append(make_finding(code, place=name, name=name, reason=reason))
    return out
