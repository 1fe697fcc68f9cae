"""The PDF inspector: signatures, layout (scanned / born-digital / mixed) and seal evidence.

``inspect_pdf(doc, ctx)`` never raises for a hostile or damaged file: what cannot be read
becomes a finding (``PDF_UNREADABLE``, ``PDF_ENCRYPTED``, a broken or unverifiable signature).
Facts reported (``DocumentReport.facts``):

* ``layout``: ``scanned``, ``born-digital``, ``mixed``, ``empty`` or ``unknown``;
* ``pages``, ``scanned_pages``, ``born_digital_pages`` (page ranges);
* ``seal``: seal evidence found on scanned pages (page, position, diameter, confidence),
  ``seal_searched_pages`` and ``seal_colour_pages`` (a greyscale scan cannot show a red seal);
* ``pdf_signatures``: per signature field: SubFilter, coverage, modification level after
  signing, DocMDP, timestamp, signer, path; ``document_timestamps``.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from gateway.inspect.base import InspectContext, InspectionResult
from gateway.inspect.pdf import layout as layout_mod
from gateway.inspect.pdf.seal import SealEvidence, decode_pdf_image, find_seals, is_colour
from gateway.inspect.pdf.signatures import validate_all
from gateway.inspect.pdf.signer import short
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding

log = logging.getLogger(__name__)

PT_TO_MM = 25.4 / 72.0


DEFAULTS: dict[str, Any] = {
    "scanned_min_image_coverage": 0.85,
    "scanned_max_visible_chars": 40,
    "born_digital": "invalid",
    "mixed": "invalid",
    "require_seal": False,
    "seal_min_confidence": 0.5,
    "seal_search_pages": 3,
    "allowed_after_signing": "annotations",
    "max_pages": 5000,
}
"""The ``[pdf]`` defaults of ``gateway.policy.schema.Pdf`` (a test keeps the two equal)."""


def pdf_options(ctx: InspectContext) -> dict[str, Any]:
    """The ``[pdf]`` rules over their defaults (inspectors read rules as plain data)."""
    out = dict(DEFAULTS)
    got = ctx.options.get("pdf") if ctx.options else None
    if isinstance(got, dict):
        out.update(got)
    return out


def open_reader(data: bytes) -> Any:
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(io.BytesIO(data), strict=False)


def inspect_pdf(doc: Document, ctx: InspectContext) -> InspectionResult:
    opts = pdf_options(ctx)
    name = doc.path
    findings: list[Finding] = []
    facts: dict[str, Any] = {}
    if doc.data[:1] == b"\x30":
        # A PDF wrapped in an enveloping CMS signature (.pdf.p7m): intake sees "%PDF-" near
        # the start; the signature around it is what must be verified.
        from gateway.inspect.cms import inspect_cms, looks_like_cms

        if looks_like_cms(doc):
            return inspect_cms(doc, ctx)
    try:
        reader = open_reader(doc.data)
    except Exception as exc:  # noqa: BLE001 - a damaged file: a finding naming the error
        log.info("%s unreadable: %r", name, exc)
        return InspectionResult(
            findings=(make_finding("PDF_UNREADABLE", place=name, name=name,
                                   reason=f"{type(exc).__name__}: {short(exc)}"),),
            facts={"layout": "unknown"},
        )
    try:
        encrypted = reader.encrypted
    except Exception as exc:  # noqa: BLE001 - a damaged /Encrypt entry: a finding
        return InspectionResult(
            findings=(make_finding("PDF_UNREADABLE", place=name, name=name,
                                   reason=f"{type(exc).__name__}: {short(exc)}"),),
            facts={"layout": "unknown"},
        )
    if encrypted:
        try:
            result = reader.decrypt("")
            ok = "FAILED" not in str(getattr(result, "status", result))
        except Exception as exc:  # noqa: BLE001 - not decryptable: PDF_ENCRYPTED below
            log.info("%s: decryption failed: %r", name, exc)
            ok = False
        if not ok:
            return InspectionResult(
                findings=(make_finding("PDF_ENCRYPTED", place=name, name=name),),
                facts={"layout": "unknown", "encrypted": "password"},
            )
        facts["encrypted"] = "permissions-only"

    sig = validate_all(reader, doc.data, ctx, name, opts)
    findings.extend(sig.findings)
    if sig.facts:
        facts["pdf_signatures"] = sig.facts
    if sig.timestamps:
        facts["document_timestamps"] = sig.timestamps

    try:
        lay = layout_mod.classify(
            reader,
            min_coverage=float(opts["scanned_min_image_coverage"]),
            max_visible=int(opts["scanned_max_visible_chars"]),
            max_pages=int(opts["max_pages"]),
        )
    except Exception as exc:  # noqa: BLE001 - logged; a finding unless signatures decide
        log.info("layout of %s unreadable: %r", name, exc)
        facts["layout"] = "unknown"
        if not sig.reports:
            findings.append(make_finding("PDF_UNREADABLE", place=name, name=name,
                                         reason=f"page structure: {short(exc)}"))
        return InspectionResult(tuple(findings), tuple(sig.reports), facts)

    facts.update(lay.to_facts())
    if lay.total_pages > int(opts["max_pages"]):
        findings.append(make_finding("PDF_LIMIT", place=name, name=name,
                                     reason=f"more than {opts['max_pages']} pages"))
    if lay.kind == "empty" and not sig.reports:
        findings.append(make_finding("PDF_EMPTY", place=name, name=name))
    if lay.kind in ("scanned", "mixed"):
        facts.update(_seal_search(lay, opts))
    return InspectionResult(tuple(findings), tuple(sig.reports), facts)


def _seal_search(lay: layout_mod.Layout, opts: dict[str, Any]) -> dict[str, Any]:
    """Look for the seal on the last ``seal-search-pages`` scanned pages."""
    want = int(opts["seal_search_pages"])
    min_conf = float(opts["seal_min_confidence"])
    scanned = [p for p, k in zip(lay.pages, lay.page_kinds) if k == "scanned"]
    searched = colour = 0
    found: list[SealEvidence] = []
    for page in reversed(scanned[-want:] if want else []):
        searched += 1
        refs = sorted(page.image_refs, key=lambda r: -r[0])
        if not refs:
            continue
        area, stream = refs[0]
        page_area = page.width * page.height
        if page_area <= 0 or area < 0.2 * page_area:
            continue
        w_mm, h_mm = page.width * PT_TO_MM, page.height * PT_TO_MM
        try:
            target = (int(w_mm * 3), int(h_mm * 3))
            img = decode_pdf_image(stream, target)
        except Exception as exc:  # noqa: BLE001 - no image, no seal evidence (never a pass)
            log.info("page %d image not decodable: %r", page.number, exc)
            img = None
        if img is None or not is_colour(img):
            continue
        colour += 1
        try:
            found.extend(find_seals(img, page.number, w_mm, h_mm, min_conf))
        except Exception as exc:  # noqa: BLE001 - no seal evidence: never a pass, only less
            log.info("seal search on page %d failed: %r", page.number, exc)
    return {
        "seal": [s.to_json() for s in sorted(found, key=lambda s: (s.page, -s.confidence))],
        "seal_searched_pages": searched,
        "seal_colour_pages": colour,
    }


__all__ = ["inspect_pdf", "open_reader", "pdf_options"]
