"""The text inspector (documents) and the text message check (bodies, subject, file names).

Article 9.5: text must be Unicode (TCVN 6909:2001). A run in a legacy Vietnamese font whose
text decodes as Vietnamese under that font's encoding, legacy text shown in a Unicode font,
a legacy body charset or legacy bytes behind a Unicode/Latin-1 label are findings, each with
its place and the converted text.

Articles 8.2/12.4: a secrecy stamp (MẬT, TỐI MẬT, TUYỆT MẬT) standalone near the top of a
document, in a text box, shape, header or footer, near the top of a body, or marked in the
subject holds the message (the rules choose the action) and names the security contact.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import unicodedata
from typing import Any

from gateway.inspect.base import InspectContext, InspectionResult
from gateway.inspect.text import detect, legacy, stamps
from gateway.inspect.text.common import (
    LEVEL_RANK,
    TONES,
    Options,
    placed_finding,
    secret_finding,
    snippet,
    with_rules,
)
from gateway.inspect.text.extract import (
    STRONG_KINDS,
    Block,
    Budget,
    Extracted,
    Unreadable,
    extract,
    html_blocks,
    plain_blocks,
)
from gateway.inspect.text.vietnamese import has_vietnamese_letters
from gateway.model.document import Document
from gateway.model.findings import Finding

DOCUMENT_FORMATS = frozenset({
    "docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "pptx", "pptm", "potx",
    "odt", "ods", "odp", "odg", "ott", "ots", "otp", "rtf", "pdf",
})
PLAIN_FORMATS = frozenset({"txt", "csv", "html"})

_MAYBE_STAMP = re.compile("m[ậa]t", re.IGNORECASE)


# ------------------------------------------------------------------------------------------------
# Documents


@dataclasses.dataclass
class _Group:
    font: str
    encoding: str
    upper: bool
    surfaces: list[str] = dataclasses.field(default_factory=list)
    decoded: list[str] = dataclasses.field(default_factory=list)
    places: list[Block] = dataclasses.field(default_factory=list)
    first: tuple[Block, str] | None = None


def analyse(ex: Extracted, name: str, opts: Options,
            fmt: str = "") -> tuple[list[Finding], dict[str, Any]]:
    """Findings and facts for the blocks of one document."""
    findings: list[Finding] = []
    groups: dict[tuple[str, str, bool], _Group] = {}
    unicode_blocks: list[tuple[Block, str]] = []  # block, its text as Unicode
    plain_parts: list[str] = []
    plain_index: list[tuple[Block, str]] = []
    for block in ex.blocks:
        pieces: list[str] = []
        for run in block.runs:
            fe = detect.font_encoding(run.font)
            if fe is None and run.font and run.font.endswith("(Windows-1258)"):
                if has_vietnamese_letters(run.text):
                    key = (run.font, "cp1258", False)
                    g = groups.setdefault(key, _Group(run.font, "cp1258", False))
                    g.surfaces.append("")
                    g.decoded.append(run.text)
                    if not g.places or g.places[-1] is not block:
                        g.places.append(block)
                pieces.append(run.text)
                continue
            if fe is None:
                pieces.append(run.text)
                plain_parts.append(run.text)
                continue
            surface = run.text
            if fmt == "pdf" and fe.encoding == "tcvn3":
                surface = legacy.repair_pdf_tcvn3(surface)
            dec = legacy.decode_text(surface, fe.encoding, upper=fe.upper)
            if fmt == "pdf" and fe.encoding == "tcvn3":
                dec = legacy.join_lost_u(dec)
            pieces.append(dec)
            key = (_family(run.font or ""), fe.encoding, fe.upper)
            g = groups.setdefault(key, _Group(key[0], fe.encoding, fe.upper))
            g.surfaces.append(surface)
            g.decoded.append(dec)
            if dec != surface and (not g.places or g.places[-1] is not block):
                g.places.append(block)
        text = "".join(pieces)
        unicode_blocks.append((block, text))
        if block.kind == "sheetname":
            plain_parts = []
        if plain_parts:
            plain_index.append((block, "".join(plain_parts)))
            plain_parts = []

    legacy_found: list[str] = []
    for g in groups.values():
        if g.encoding == "cp1258" and not any(g.surfaces):
            ok = True
        else:
            before = detect.score("\n".join(g.surfaces))
            after = detect.score("\n".join(g.decoded))
            ok = bool(g.places) and detect.accepts(before, after, min_gain=1)
        if not ok:
            continue
        first = g.places[0]
        block_text = next(t for b, t in unicode_blocks if b is first)
        legacy_found.append(g.encoding)
        findings.append(with_rules(placed_finding(
            "TEXT_LEGACY_FONT", place=first.place, name=name, font=g.font,
            encoding=legacy.LABELS[g.encoding], count=len(g.places),
            snippet=snippet(block_text, opts.snippet_chars), converted=block_text,
        ), severity=opts.legacy_severity))

    # Sheet names show in the program's own font: short, so judged one by one.
    for block, t in unicode_blocks:
        if block.kind == "sheetname":
            det = detect.detect_content(t, min_gain=2)
            if det is not None:
                legacy_found.append(det.encoding)
                findings.append(with_rules(placed_finding(
                    "TEXT_LEGACY_CONTENT", place=block.place, name=name, encoding=det.label,
                    snippet=snippet(det.converted, opts.snippet_chars),
                ), severity=opts.legacy_severity))
                break
    # Legacy text in Unicode fonts (pasted mojibake, renamed fonts).
    if plain_index:
        joined = "\n".join(t for _, t in plain_index)
        det = detect.detect_content(joined, min_gain=3)
        if det is not None:
            for block, t in plain_index:
                conv = _convert_or_keep(t, det.encoding)
                if conv != t and has_vietnamese_letters(conv) and \
                        detect.score(conv).good > detect.score(t).good:
                    legacy_found.append(det.encoding)
                    findings.append(with_rules(placed_finding(
                        "TEXT_LEGACY_CONTENT", place=block.place, name=name,
                        encoding=det.label, snippet=snippet(conv, opts.snippet_chars),
                    ), severity=opts.legacy_severity))
                    # The stamps below must see the converted text of the Unicode-font runs.
                    plain_ids = {id(b) for b, _ in plain_index}
                    unicode_blocks = [
                        (b, _convert_or_keep(x, det.encoding) if id(b) in plain_ids and
                         all(detect.font_encoding(r.font) is None for r in b.runs) else x)
                        for b, x in unicode_blocks]
                    break
        else:
            for block, t in plain_index:
                if not unicodedata.is_normalized("NFC", t) and TONES.search(t):
                    nfc = unicodedata.normalize("NFC", t)
                    if has_vietnamese_letters(nfc):
                        findings.append(with_rules(placed_finding(
                            "TEXT_DECOMPOSED", place=block.place, name=name,
                            snippet=snippet(nfc, opts.snippet_chars),
                        ), severity=opts.decomposed_severity))
                        break

    findings.extend(_document_stamps(unicode_blocks, name, opts))
    facts: dict[str, Any] = {"text_chars": ex.chars}
    if legacy_found:
        facts["text_legacy_encodings"] = sorted(set(legacy.LABELS.get(e, e) for e in legacy_found))
    if ex.truncated:
        facts["text_truncated"] = True
    return findings, facts


def _convert_or_keep(text: str, enc: str) -> str:
    try:
        return detect.trial_decode(text, enc)
    except (UnicodeError, LookupError, ValueError):  # a conversion that cannot apply
        return text


def _family(font: str) -> str:
    return font.split(",")[0].strip()


def _document_stamps(blocks: list[tuple[Block, str]], name: str, opts: Options) -> list[Finding]:
    best: tuple[int, str, Block] | None = None
    hint: tuple[str, Block, str] | None = None
    top_n = opts.stamp_top_blocks
    for block, text in blocks:
        if not _MAYBE_STAMP.search(text):
            continue
        strong = block.kind in STRONG_KINDS or block.top or (
            block.kind in ("body", "cell", "line") and block.index < top_n
        )
        any_case = block.kind in ("textbox", "shape")
        for line in text.split("\n"):
            if len(line) > 160 or not _MAYBE_STAMP.search(line):
                continue  # a stamp is short
            level = stamps.segment_stamp(line, any_case=any_case)
            if level:
                if strong:
                    rank = LEVEL_RANK[level]
                    if best is None or rank > best[0]:
                        best = (rank, level, block)
                elif hint is None:
                    hint = (level, block, "standalone mark far from the top")
                continue
            un = stamps.unaccented_stamp(line)
            if un and hint is None:
                hint = (un, block, "written without diacritics")
    out: list[Finding] = []
    if best is not None:
        out.append(secret_finding("SECRET_STAMP", opts, place=best[2].place, name=name,
                                  level=best[1]))
    elif hint is not None:
        out.append(placed_finding("SECRET_HINT", place=hint[1].place, level=hint[0],
                                  reason=hint[2]))
    return out


def inspect_text(doc: Document, ctx: InspectContext) -> InspectionResult:
    """Article 9.5 and 8.2 checks of one document (office formats, RTF, PDF, plain text)."""
    opts = Options.from_context(ctx)
    name = doc.path
    try:
        if doc.fmt in PLAIN_FORMATS:
            return _inspect_plain(doc, opts)
        ex = extract(doc.fmt, doc.data, max_chars=opts.max_chars, max_member=opts.max_member,
                     max_total=opts.max_total, pdf_max_pages=opts.pdf_max_pages)
    except Unreadable as exc:
        if doc.fmt == "pdf":
            # A fact: the judge makes it TEXT_UNCHECKED when the layout has text (a scan has
            # none to read); encrypted or unreadable PDFs are the PDF checks' findings.
            return InspectionResult(facts={"text_unchecked": str(exc)})
        return InspectionResult(findings=(placed_finding("TEXT_UNCHECKED", place=name, name=name,
                                                         reason=str(exc)),))
    findings, facts = analyse(ex, name, opts, doc.fmt)
    if ex.notes and doc.fmt == "pdf":  # pages past the limit: an error if they carry text
        facts["text_pages_read"] = opts.pdf_max_pages
    if ex.truncated:
        findings.append(placed_finding(
            "TEXT_UNCHECKED", place=name, name=name,
            reason=f"only the first {opts.max_chars} characters were read"))
    return InspectionResult(findings=tuple(findings), facts=facts)


def _decode_file(data: bytes) -> tuple[str, detect.Detection | None]:
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"),
                       (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec, "replace"), None
    try:  # not final: a character cut by the read limit is not legacy text
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=False), None
    except UnicodeDecodeError:
        pass
    det = detect.detect_bytes(data)
    return (det.converted if det else legacy.cp1252_view(data)), det


def _inspect_plain(doc: Document, opts: Options) -> InspectionResult:
    name = doc.path
    text, det = _decode_file(doc.data[: opts.max_chars * 2])
    findings: list[Finding] = []
    budget = Budget(opts.max_chars)
    if det is not None:
        first = next((ln for ln in det.converted.splitlines() if has_vietnamese_letters(ln)), "")
        findings.append(with_rules(placed_finding(
            "TEXT_LEGACY_CONTENT", place=name, name=name, encoding=det.label,
            snippet=snippet(first, opts.snippet_chars)), severity=opts.legacy_severity))
        ex = plain_blocks(det.converted, budget, doc.name)
        fs, facts = analyse(ex, name, opts)
        findings.extend(f for f in fs if f.code.startswith("SECRET"))
        facts["text_legacy_encodings"] = [det.label]
        return InspectionResult(findings=tuple(findings), facts=facts)
    ex = (html_blocks(text, budget, doc.name) if doc.fmt == "html"
          else plain_blocks(text, budget, doc.name))
    fs, facts = analyse(ex, name, opts)
    findings.extend(fs)
    if ex.truncated or len(doc.data) > opts.max_chars * 2:
        findings.append(placed_finding(
            "TEXT_UNCHECKED", place=name, name=name,
            reason=f"only the first {opts.max_chars} characters were read"))
    return InspectionResult(findings=tuple(findings), facts=facts)
