"""The coverage layer of a PDF signature: what the signature covers and what changed after it.

A signature covers the whole file, or its signed revision followed by incremental updates.
The changes of those updates are judged by pyHanko's difference analysis against the
signer's DocMDP level and the rules (``pdf.allowed-after-signing``); a form field that
already had a value when the document was signed (read by :func:`filled_fields_at`) and was
changed afterwards changes signed content, whatever the level.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from typing import Any

from gateway.inspect.pdf.signer import short
from gateway.model.catalog import make_finding
from gateway.model.findings import Finding
from gateway.model.report import Coverage

_ALLOWED_LEVEL = {"none": 0, "form-filling": 2, "annotations": 3}
_CHANGE_TEXT = {
    0: "no change",
    1: "signature archival data (DSS, document timestamps)",
    2: "form filling and further signatures",
    3: "annotations (comments, stamps)",
    4: "pages added, content replaced or other changes",
}
_COVERAGE_TEXT = {
    "ENTIRE_FILE": "entire-file",
    "ENTIRE_REVISION": "entire-revision",
    "CONTIGUOUS_BLOCK_FROM_START": "contiguous-block",
    "UNCLEAR": "unclear",
}


class FieldAnalysisError(Exception):
    """The form fields of a signed revision could not be read: changes to fields that were
    filled when the document was signed cannot be told from form filling."""


MAX_FORM_FIELDS = 10_000


def filled_fields_at(reader: Any, revision: int) -> set[str]:
    """Fully qualified names of the non-signature form fields that had a value at
    ``revision``. A revision without a form has none; a form that cannot be read completely
    raises :class:`FieldAnalysisError` (never an empty set: that would let a field filled
    when signing be changed unnoticed)."""
    from pyhanko.pdf_utils import generic

    out: set[str] = set()
    try:
        root = reader.get_historical_resolver(revision).root
        form = root.get("/AcroForm")
        if form is None:
            return out
        form = form.get_object()
        fields = form.get("/Fields") if isinstance(form, generic.DictionaryObject) else None
        if fields is None and isinstance(form, generic.DictionaryObject):
            return out
        todo = [(f, "", None) for f in _as_array(fields)]
        seen = 0
        while todo:
            seen += 1
            if seen > MAX_FORM_FIELDS:
                raise FieldAnalysisError(f"more than {MAX_FORM_FIELDS} form fields")
            ref, prefix, inherited_ft = todo.pop()
            fq, ft, kids, value = _field_entry(ref, prefix, inherited_ft)
            if kids is not None:
                todo.extend((k, fq, ft) for k in _as_array(kids))
            if ft != "/Sig" and value is not None and str(value).strip() not in ("", "/Off"):
                out.add(fq)
    except FieldAnalysisError:
        raise
    except Exception as exc:  # noqa: BLE001 - any read failure: the analysis is incomplete
        raise FieldAnalysisError(f"{type(exc).__name__}: {short(exc)}") from exc
    return out


def _as_array(value: Any) -> list[Any]:
    from pyhanko.pdf_utils import generic

    if isinstance(value, generic.IndirectObject):
        ref: generic.Dereferenceable = value  # IndirectObject's override is not annotated
        value = ref.get_object()
    if not isinstance(value, (generic.ArrayObject, list)):
        raise FieldAnalysisError(f"form field list is a {type(value).__name__}, not an array")
    return list(value)


def _field_entry(ref: Any, prefix: str, inherited_ft: Any) -> tuple[str, Any, Any, Any]:
    """(fully qualified name, field type, kids, value) of one field dictionary."""
    from pyhanko.pdf_utils import generic

    fld = ref
    if isinstance(ref, generic.IndirectObject):
        target: generic.Dereferenceable = ref  # IndirectObject's override is not annotated
        fld = target.get_object()
    if not isinstance(fld, generic.DictionaryObject):
        raise FieldAnalysisError(f"form field is a {type(fld).__name__}, not a dictionary")
    part = fld.get("/T")
    fq = f"{prefix}.{part}" if prefix and part is not None else (
        str(part) if part is not None else prefix)
    return fq, fld.get("/FT", inherited_ft), fld.get("/Kids"), fld.get("/V")


def coverage_layer(coverage: Any, diff_result: Any, docmdp: Any, docmdp_ok: bool | None,
                    fq_name: str, name: str, opts: dict[str, Any],
                    prefilled: AbstractSet[str] = frozenset(),
                    ) -> tuple[Coverage, list[Finding], dict[str, Any]]:
    from pyhanko.sign.diff_analysis import DiffResult, ModificationLevel
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    place = f"{name}#{fq_name}"
    facts: dict[str, Any] = {
        "coverage": _COVERAGE_TEXT.get(getattr(coverage, "name", ""), "unknown")}
    if docmdp is not None:
        facts["docmdp"] = getattr(docmdp, "name", str(docmdp)).lower().replace("_", "-")
    if coverage == SignatureCoverageLevel.ENTIRE_FILE:
        facts["modification_level"] = "none"
        return Coverage.WHOLE, [], facts
    if coverage != SignatureCoverageLevel.ENTIRE_REVISION:
        reason = ("bytes after the signed revision that are not a valid update"
                  if coverage == SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START
                  else "non-standard byte range")
        return Coverage.PARTIAL, [make_finding("PDF_SIGNATURE_COVERAGE", place=place, name=name,
                                               field=fq_name, reason=reason)], facts
    if isinstance(diff_result, DiffResult):
        level = diff_result.modification_level
    else:
        level = ModificationLevel.OTHER
        if diff_result is not None:
            facts["suspicious"] = short(Exception(str(diff_result)))
    facts["modification_level"] = level.name.lower().replace("_", "-")
    if level == ModificationLevel.NONE:
        # Not the whole file, yet no later revision changes anything: the uncovered bytes
        # are not an update a reader applies (appended data, a shadow payload).
        return Coverage.PARTIAL, [make_finding(
            "PDF_SIGNATURE_COVERAGE", place=place, name=name, field=fq_name,
            reason="bytes were appended after the signed revision")], facts
    allowed = _ALLOWED_LEVEL.get(str(opts.get("allowed_after_signing", "annotations")), 3)
    change = _CHANGE_TEXT.get(level.value, level.name)
    refilled = sorted(set(getattr(diff_result, "changed_form_fields", ()) or ()) & prefilled)
    if refilled:
        # Filling an empty field is form filling; changing a field that already had a value
        # when it was signed (its value or only its appearance: the "shadow replace" attack)
        # changes signed content.
        facts["changed_signed_fields"] = refilled
        return Coverage.PARTIAL, [make_finding(
            "PDF_MODIFIED_AFTER_SIGNING", place=place, name=name, field=fq_name,
            change="form field(s) " + ", ".join(refilled) + " already filled when signed were "
                   "changed")], facts
    if level == ModificationLevel.OTHER or level.value > max(allowed, 1) or docmdp_ok is False:
        if (docmdp_ok is False and level != ModificationLevel.OTHER
                and level.value <= max(allowed, 1)):
            change += ", beyond what the signer permitted (DocMDP)"
        return Coverage.PARTIAL, [make_finding("PDF_MODIFIED_AFTER_SIGNING", place=place, name=name,
                                               field=fq_name, change=change)], facts
    return Coverage.WHOLE, [make_finding("PDF_UPDATED_AFTER_SIGNING", place=place, name=name,
                                         field=fq_name, change=change)], facts
