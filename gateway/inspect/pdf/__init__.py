"""The PDF inspector: signatures, layout (scanned / born-digital / mixed) and seal evidence.

``inspect_pdf(doc, ctx)`` never raises for a hostile or damaged file: what cannot be read
becomes a finding (``PDF_UNREADABLE``, ``PDF_ENCRYPTED``, a broken or unverifiable signature).
Facts reported (``DocumentReport.facts``):

* ``layout``: ``scanned``, ``born-digital``, ``mixed``, ``empty`` or ``unknown``;
* ``pages``, ``scanned_pages``, ``born_digital_pages`` (page ranges);
* ``seal``: seal evidence found on scanned pages (page, position, diameter, confidence),
  ``seal_searched_pages`` and ``seal_colour_pages`` (a greyscale scan cannot show a red seal);
* ``pdf_signatures``: per signature field: SubFilter, coverage, modification level after
  signing, DocMDP, timestamp, signer, path, ``level`` (PAdES ``B-B``, ``B-T``, ``B-LT``,
  ``B-LTA``; ``None`` when the signature is not intact), ``proven_time``;
  ``document_timestamps``;
* ``pdf_read_mode``: ``tolerant`` or ``reconstructed`` when the strict reader could not read
  the file (with ``pdf_repairs`` and the finding ``PDF_STRUCTURE_REPAIRED``); ``refused``
  when no reading worked and a repair was refused (``PDF_UNREADABLE``).
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.inspect.base import InspectContext, InspectionResult
from gateway.inspect.pdf import layout as layout_mod
from gateway.inspect.pdf import repair
from gateway.inspect.pdf.seal import SealEvidence, decode_pdf_image, find_seals, is_colour
from gateway.inspect.pdf.signatures import PdfSignatureResult, validate_all
from gateway.inspect.pdf.signer import short
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.partdata import Data, open_stream

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


def open_reader(data: Data) -> Any:
    """A plain tolerant reader (layout tests and benchmarks); inspection reads through the
    ladder of ``repair`` instead."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    return PdfFileReader(open_stream(data), strict=False)


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
    attempt = _read(doc.data, ctx, name, opts)
    if isinstance(attempt, InspectionResult):
        return attempt
    reader, sig, lay, lay_error, mode, problem = attempt
    if reader.encrypted:
        facts["encrypted"] = "permissions-only"
    if mode == "refused":
        facts["pdf_read_mode"] = mode
        findings.append(make_finding("PDF_UNREADABLE", place=name, name=name,
                                     reason=f"structure repair refused: {problem}"))
    elif mode != "strict" and problem is not None:
        # The structure was repaired: said, never silent; the signatures above were checked
        # on the original bytes, with the same coverage and change analysis.
        facts["pdf_read_mode"] = mode
        repairs = list(getattr(reader, "repairs", []) or [])
        if repairs:
            facts["pdf_repairs"] = repairs[:20]
        findings.append(make_finding("PDF_STRUCTURE_REPAIRED", place=name, name=name,
                                     mode=mode, reason=problem))
    findings.extend(sig.findings)
    if sig.facts:
        facts["pdf_signatures"] = sig.facts
    if sig.timestamps:
        facts["document_timestamps"] = sig.timestamps

    if lay is None:
        facts["layout"] = "unknown"
        if not sig.reports:
            findings.append(make_finding("PDF_UNREADABLE", place=name, name=name,
                                         reason=f"page structure: {lay_error}"))
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


_Attempt = tuple[Any, PdfSignatureResult, "layout_mod.Layout | None", str, str, "str | None"]


def _read(data: Data, ctx: InspectContext, name: str,
          opts: dict[str, Any]) -> _Attempt | InspectionResult:
    """Signatures and layout under the first reader mode that reads the file without a read
    error (``repair.MODES``); when none does, the tolerant reading decides (its failures are
    findings). Returns (reader, signatures, layout, layout error, mode, first problem) or the
    result for an unreadable or encrypted file."""
    problem: str | None = None
    refused: str | None = None
    tried: dict[str, _Attempt] = {}
    unreadable: InspectionResult | None = None
    for mode in repair.MODES:
        try:
            reader = repair.open_reader(data, mode)
            if mode == "strict" and reader.xrefs.hybrid_xrefs_present:
                continue  # legitimate, but refused by the strict validator: no repair
            opened = _decrypt(reader, name)
        except Exception as exc:  # noqa: BLE001 - every mode's failure is kept and said
            log.info("PDF %s not readable in %s mode: %r", name, mode, exc)
            problem = problem or f"{type(exc).__name__}: {short(exc)}"
            if isinstance(exc, repair.RepairRefused):
                refused = refused or short(exc)
            unreadable = unreadable or InspectionResult(
                findings=(make_finding("PDF_UNREADABLE", place=name, name=name,
                                       reason=short(exc)),), facts={"layout": "unknown"})
            continue
        if isinstance(opened, InspectionResult):
            return opened
        sig = validate_all(reader, data, ctx, name, opts)
        lay, lay_error, lay_read_error = _layout(reader, opts, name)
        errors = sig.read_errors + ([lay_read_error] if lay_read_error else [])
        tried[mode] = (reader, sig, lay, lay_error, mode, problem)
        if not errors:
            return tried[mode]
        problem = problem or errors[0]
    for mode in ("tolerant", "strict", "reconstructed"):
        if mode in tried:
            reader, sig, lay, lay_error, _, _ = tried[mode]
            if refused is not None:  # a repair was refused: the reading is not trusted either
                return reader, sig, lay, lay_error, "refused", refused
            return reader, sig, lay, lay_error, "strict", None  # not repaired: failures decide
    assert unreadable is not None  # no mode read the file (or each reading was refused)
    return unreadable


def _decrypt(reader: Any, name: str) -> Any:
    """``reader`` when it can be read (an empty user password is tried), else the result."""
    if not reader.encrypted:
        return reader
    try:
        result = reader.decrypt("")
        ok = "FAILED" not in str(getattr(result, "status", result))
    except Exception as exc:  # noqa: BLE001 - a damaged /Encrypt: reported as encrypted
        log.info("PDF %s: decryption failed: %r", name, exc)
        ok = False
    if not ok:
        return InspectionResult(findings=(make_finding("PDF_ENCRYPTED", place=name, name=name),),
                                facts={"layout": "unknown", "encrypted": "password"})
    return reader


def _layout(reader: Any, opts: dict[str, Any],
            name: str) -> tuple[layout_mod.Layout | None, str, str | None]:
    try:
        return layout_mod.classify(
            reader,
            min_coverage=float(opts["scanned_min_image_coverage"]),
            max_visible=int(opts["scanned_max_visible_chars"]),
            max_pages=int(opts["max_pages"]),
        ), "", None
    except Exception as exc:  # noqa: BLE001 - the caller makes it a finding
        log.info("layout of %s unreadable: %r", name, exc)
        text = short(exc)
        return None, text, (f"pages: {type(exc).__name__}: {text}"
                            if repair.is_read_error(exc) else None)


def _seal_search(lay: layout_mod.Layout, opts: dict[str, Any]) -> dict[str, Any]:
    """Look for the seal on the last ``seal-search-pages`` scanned pages."""
    want = int(opts["seal_search_pages"])
    min_conf = float(opts["seal_min_confidence"])
    scanned = [p for p, k in zip(lay.pages, lay.page_kinds, strict=True) if k == "scanned"]
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
            img = decode_pdf_image(layout_mod.resolve(stream), target)
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
