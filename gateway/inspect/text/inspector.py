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
import email.errors
import email.header
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from gateway.inspect.base import InspectContext, InspectionResult
from gateway.inspect.text import detect, legacy, stamps
from gateway.inspect.text.extract import (
    STRONG_KINDS,
    Block,
    Extracted,
    Unreadable,
    _Budget,
    extract,
    html_blocks,
    plain_blocks,
)
from gateway.inspect.text.vietnamese import has_vietnamese_letters
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Action, Finding, Severity
from gateway.model.report import DocClass

DOCUMENT_FORMATS = frozenset({
    "docx", "docm", "dotx", "dotm", "xlsx", "xlsm", "xltx", "pptx", "pptm", "potx",
    "odt", "ods", "odp", "odg", "ott", "ots", "otp", "rtf", "pdf",
})
PLAIN_FORMATS = frozenset({"txt", "csv", "html"})

_MAYBE_STAMP = re.compile("m[ậa]t", re.IGNORECASE)
_LEVEL_RANK = {"MẬT": 1, "TỐI MẬT": 2, "TUYỆT MẬT": 3}
_TONES = re.compile("[\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b]")


@dataclasses.dataclass(frozen=True)
class Options:
    classified_action: Action = Action.HOLD
    security_contact: str = ""
    legacy_severity: Severity = Severity.ERROR
    body_legacy_severity: Severity = Severity.WARNING
    decomposed_severity: Severity = Severity.WARNING
    stamp_top_blocks: int = 20
    snippet_chars: int = 80
    max_chars: int = 20_000_000
    pdf_max_pages: int = 300
    check_subject: bool = True
    check_filenames: bool = True
    max_member: int = 100 * 1024 * 1024
    max_total: int = 200 * 1024 * 1024

    @classmethod
    def from_context(cls, ctx: InspectContext) -> Options:
        raw: Mapping[str, Any] = ctx.options.get("text") or {}
        limits: Mapping[str, Any] = ctx.options.get("limits") or {}
        kw = {f.name: raw[f.name] for f in dataclasses.fields(cls) if f.name in raw}
        for k in ("classified_action",):
            if isinstance(kw.get(k), str):
                kw[k] = Action.parse(kw[k])
        for k in ("legacy_severity", "body_legacy_severity", "decomposed_severity"):
            if isinstance(kw.get(k), str):
                kw[k] = Severity.parse(kw[k])
        if "archive_max_member_bytes" in limits:
            kw.setdefault("max_member", int(limits["archive_max_member_bytes"]))
        if "archive_max_total_bytes" in limits:
            kw.setdefault("max_total", int(limits["archive_max_total_bytes"]))
        return cls(**kw)


def _finding(code: str, *, place: str | None = None, **params: Any) -> Finding:
    """A finding whose texts name its place (``{at}`` in the templates)."""
    return make_finding(code, place=place, at=place or "", **params)


def snippet(text: str, limit: int) -> str:
    s = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()
    return s if len(s) <= limit else s[: max(1, limit - 1)].rstrip() + "…"


def _with(f: Finding, *, severity: Severity | None = None, action: Action | None = None) -> Finding:
    return dataclasses.replace(
        f,
        severity=severity if severity is not None else f.severity,
        action=action if action is not None else f.action,
    )


def _secret(code: str, opts: Options, **params: Any) -> Finding:
    contact = opts.security_contact or "—"
    return _with(_finding(code, contact=contact, **params), action=opts.classified_action)


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
        findings.append(_with(_finding(
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
                findings.append(_with(_finding(
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
                conv = _trial(t, det.encoding)
                if conv != t and has_vietnamese_letters(conv) and \
                        detect.score(conv).good > detect.score(t).good:
                    legacy_found.append(det.encoding)
                    findings.append(_with(_finding(
                        "TEXT_LEGACY_CONTENT", place=block.place, name=name,
                        encoding=det.label, snippet=snippet(conv, opts.snippet_chars),
                    ), severity=opts.legacy_severity))
                    # The stamps below must see the converted text of the Unicode-font runs.
                    plain_ids = {id(b) for b, _ in plain_index}
                    unicode_blocks = [
                        (b, _trial(x, det.encoding) if id(b) in plain_ids and
                         all(detect.font_encoding(r.font) is None for r in b.runs) else x)
                        for b, x in unicode_blocks]
                    break
        else:
            for block, t in plain_index:
                if not unicodedata.is_normalized("NFC", t) and _TONES.search(t):
                    nfc = unicodedata.normalize("NFC", t)
                    if has_vietnamese_letters(nfc):
                        findings.append(_with(_finding(
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


def _trial(text: str, enc: str) -> str:
    try:
        return detect._trial(text, enc)
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
                    rank = _LEVEL_RANK[level]
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
        out.append(_secret("SECRET_STAMP", opts, place=best[2].place, name=name, level=best[1]))
    elif hint is not None:
        out.append(_finding("SECRET_HINT", place=hint[1].place, level=hint[0],
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
        return InspectionResult(findings=(_finding("TEXT_UNCHECKED", place=name, name=name,
                                                        reason=str(exc)),))
    findings, facts = analyse(ex, name, opts, doc.fmt)
    if ex.notes and doc.fmt == "pdf":  # pages past the limit: an error if they carry text
        facts["text_pages_read"] = opts.pdf_max_pages
    if ex.truncated:
        findings.append(_finding(
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
    return (det.converted if det else legacy._cp1252_view(data)), det


def _inspect_plain(doc: Document, opts: Options) -> InspectionResult:
    name = doc.path
    text, det = _decode_file(doc.data[: opts.max_chars * 2])
    findings: list[Finding] = []
    budget = _Budget(opts.max_chars)
    if det is not None:
        first = next((ln for ln in det.converted.splitlines() if has_vietnamese_letters(ln)), "")
        findings.append(_with(_finding(
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
        findings.append(_finding("TEXT_UNCHECKED", place=name, name=name,
                                 reason=f"only the first {opts.max_chars} characters were read"))
    return InspectionResult(findings=tuple(findings), facts=facts)


# ------------------------------------------------------------------------------------------------
# Messages


_LATIN_LABELS = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "windows-1252",
                           "cp1252", "us-ascii", "ascii"})
_ENCODED_WORD = re.compile(r"=\?([^?*]+)(?:\*[^?]*)?\?[QqBb]\?", re.ASCII)


def _decode_header(raw: str) -> tuple[str, list[str]]:
    """Decode RFC 2047 words ourselves (Python has no VISCII/TCVN/VPS codecs); return the
    text and the legacy charsets used."""
    used: list[str] = []
    try:
        parts = email.header.decode_header(raw)
    except (ValueError, LookupError, UnicodeError, email.errors.HeaderParseError):
        return raw, used  # checked as written
    out: list[str] = []
    for chunk, cs in parts:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        enc = detect.legacy_charset(cs)
        if enc is not None:
            used.append(cs or enc)
            out.append(legacy.decode_bytes(chunk, enc))
            continue
        try:
            out.append(chunk.decode(cs or "ascii"))
        except (LookupError, UnicodeError, ValueError):  # unknown charset (or a NUL in its
            # name), bad bytes, stray surrogates
            out.append(legacy._cp1252_view(chunk))
    return "".join(out), used


def _raw_header(parsed: Any, name: str) -> str | None:
    for k, v in getattr(parsed, "raw_headers", None) or []:
        if k.lower() == name.lower():
            return v if isinstance(v, str) else str(v)
    return None


def _first_vietnamese_line(text: str) -> str:
    for line in text.splitlines():
        if has_vietnamese_letters(line):
            return line
    return next((ln for ln in text.splitlines() if ln.strip()), "")


def check_message(parsed: Any, ctx: InspectContext) -> list[Finding]:
    """Unicode and secrecy checks of the body parts, the subject and attachment names."""
    opts = Options.from_context(ctx)
    out: list[Finding] = []
    body_secret: Finding | None = None
    for tp in getattr(parsed, "text_parts", []) or []:
        if (tp.media_type or "").lower() == "text/rtf":  # an RTF body (Outlook's TNEF)
            out.extend(_check_rtf_body(tp, ctx, opts))
            continue
        fs, secret = _check_part(tp, opts)
        out.extend(fs)
        if secret is not None and body_secret is None:
            body_secret = secret
    if body_secret is not None:
        out.append(body_secret)
    if opts.check_subject:
        out.extend(_check_subject(parsed, opts))
    if opts.check_filenames:
        out.extend(_check_names(parsed, opts))
    return out


def _check_rtf_body(tp: Any, ctx: InspectContext, opts: Options) -> list[Finding]:
    """An RTF body is read like an RTF document; legacy text in it is a body finding (its
    severity is ``body-legacy-severity``), a secrecy stamp holds the message as anywhere."""
    doc = Document(tp.path, tp.path.rsplit("/", 1)[-1], tp.raw or b"", "text/rtf", "rtf",
                   DocClass.OTHER)
    found = inspect_text(doc, ctx).findings
    # a body that could not be read was not checked for stamps either: not a mere warning
    return [f if f.code.startswith("SECRET_") or f.code == "TEXT_UNCHECKED"
            else _with(f, severity=opts.body_legacy_severity) for f in found]


def _check_part(tp: Any, opts: Options) -> tuple[list[Finding], Finding | None]:
    where = tp.path
    raw: bytes = tp.raw or b""
    out: list[Finding] = []
    enc = detect.legacy_charset(tp.charset)
    text, ok = detect.decode_declared(raw, tp.charset)
    is_html = (tp.media_type or "").lower() == "text/html"
    if enc is not None:
        out.append(_with(_finding(
            "ENCODING_LEGACY_CHARSET", place=where, where=where, charset=tp.charset,
            snippet=snippet(_first_vietnamese_line(_strip_tags(text) if is_html else text),
                            opts.snippet_chars)), severity=opts.body_legacy_severity))
    elif not ok:
        det = detect.detect_bytes(raw)
        if det is not None:
            text = det.converted
            out.append(_mojibake(where, tp.charset or "us-ascii", det, opts, is_html))
        else:
            out.append(_finding("ENCODING_INVALID", place=where, where=where,
                                    charset=tp.charset or "us-ascii"))
    budget = _Budget(opts.max_chars)
    ex = html_blocks(text, budget, where) if is_html else None
    if enc is None and ok:
        # Legacy fonts named in HTML, then legacy text behind a Unicode or Latin-1 label.
        groups = ([r for b in ex.blocks for r in b.runs if detect.font_encoding(r.font)]
                  if ex else [])
        if groups:
            fe = detect.font_encoding(groups[0].font)
            surf = "\n".join(r.text for r in groups)
            assert fe is not None
            dec = detect.decodes_as_vietnamese(surf, fe.encoding, fe.upper)
            if dec is not None:
                out.append(_with(_finding(
                    "ENCODING_MOJIBAKE", place=where, where=where, charset=tp.charset or "us-ascii",
                    encoding=f"{legacy.LABELS[fe.encoding]} ({groups[0].font})",
                    snippet=snippet(_first_vietnamese_line(dec.converted), opts.snippet_chars),
                ), severity=opts.body_legacy_severity))
                for b in ex.blocks if ex is not None else ():  # groups came from ex
                    for r in b.runs:
                        fe2 = detect.font_encoding(r.font)
                        if fe2:
                            r.text = legacy.decode_text(r.text, fe2.encoding, upper=fe2.upper)
        plain = "\n".join(b.text for b in ex.blocks) if ex else text[: opts.max_chars]
        is_nfc: bool | None = None
        if (tp.charset or "us-ascii").lower() in _LATIN_LABELS:
            det = detect.detect_bytes(raw)  # VISCII bytes read as Latin-1 too
        else:
            # a body decoded whole from UTF-8 is its raw bytes: the detection splits those
            whole_utf8 = (not ex and plain is text
                          and (tp.charset or "").strip().strip('"').lower() in ("utf-8", "utf8"))
            det, is_nfc = detect.detect_form(plain, min_gain=3, utf8=raw if whole_utf8 else None)
        if det is not None:
            out.append(_mojibake(where, tp.charset or "us-ascii", det, opts, is_html))
            plain = _strip_tags(det.converted) if is_html else det.converted
        elif not (unicodedata.is_normalized("NFC", plain) if is_nfc is None else is_nfc) \
                and _TONES.search(plain):
            nfc = unicodedata.normalize("NFC", plain)
            line = next((unicodedata.normalize("NFC", ln) for ln in plain.splitlines()
                         if not unicodedata.is_normalized("NFC", ln)), nfc)
            if has_vietnamese_letters(nfc):
                out.append(_with(_finding(
                    "ENCODING_DECOMPOSED", place=where, where=where,
                    snippet=snippet(line, opts.snippet_chars)), severity=opts.decomposed_severity))
        return out, _body_stamp(plain, where, opts)
    plain = _strip_tags(text) if is_html else text[: opts.max_chars]
    return out, _body_stamp(plain, where, opts)


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]*>", " ", text)


def _mojibake(where: str, charset: str, det: detect.Detection, opts: Options,
              is_html: bool) -> Finding:
    conv = _strip_tags(det.converted) if is_html else det.converted
    return _with(_finding(
        "ENCODING_MOJIBAKE", place=where, where=where, charset=charset, encoding=det.label,
        snippet=snippet(_first_vietnamese_line(conv), opts.snippet_chars),
    ), severity=opts.body_legacy_severity)


def _body_stamp(text: str, where: str, opts: Options) -> Finding | None:
    """A stamp on one of the first lines of a body holds the message; a standalone mark
    further down is only a hint. Long bodies are not split: the first lines are read, then
    only the lines around each "mật"/"mat"."""
    best: tuple[int, str, str] | None = None
    hint: Finding | None = None
    n = 0
    pos = 0
    for m in _NONEMPTY_LINE.finditer(text):
        n += 1
        pos = m.end()
        line = m.group(0)
        if n > opts.stamp_top_blocks:
            pos = m.start()
            break
        if len(line) > 160 or not _MAYBE_STAMP.search(line):
            continue
        level = stamps.segment_stamp(line)
        if level:
            rank = _LEVEL_RANK[level]
            if best is None or rank > best[0]:
                best = (rank, level, f"{where} line {n}")
            continue
        un = stamps.unaccented_stamp(line)
        if un and hint is None:
            hint = _finding("SECRET_HINT", place=where, level=un,
                            reason="written without diacritics")
    if best is not None:
        return _secret("SECRET_BODY", opts, place=best[2], level=best[1])
    seen = -1
    for m in _MAYBE_STAMP.finditer(text, pos):
        start = text.rfind("\n", 0, m.start()) + 1
        if start == seen:
            continue
        seen = start
        end = text.find("\n", m.end())
        line = text[start: end if end >= 0 else len(text)]
        if len(line) > 160:
            continue
        level = stamps.segment_stamp(line)
        if level:
            return _finding("SECRET_HINT", place=where, level=level,
                                reason="standalone mark below the first lines")
        un = stamps.unaccented_stamp(line)
        if un and hint is None:
            hint = _finding("SECRET_HINT", place=where, level=un,
                            reason="written without diacritics")
    return hint


_NONEMPTY_LINE = re.compile(r"[^\n]*\S[^\n]*")


def _check_subject(parsed: Any, opts: Options) -> list[Finding]:
    out: list[Finding] = []
    raw = _raw_header(parsed, "Subject")
    subject = parsed.header("Subject") if hasattr(parsed, "header") else None
    decomposed = False
    if raw is not None:
        decoded, used = _decode_header(raw)
        decomposed = not unicodedata.is_normalized("NFC", decoded) and bool(_TONES.search(decoded))
        decoded = unicodedata.normalize("NFC", decoded)
        if used:
            subject = decoded
            out.append(_with(_finding(
                "ENCODING_LEGACY_CHARSET", place="Subject", where="Subject",
                charset=", ".join(used), snippet=snippet(decoded, opts.snippet_chars)),
                severity=opts.body_legacy_severity))
        elif subject is None or "\ufffd" in subject:
            subject = decoded
    if not subject:
        return out
    det = detect.detect_content(subject, min_gain=2)
    if det is not None:
        out.append(_with(_finding(
            "ENCODING_MOJIBAKE", place="Subject", where="Subject", charset="(header)",
            encoding=det.label, snippet=snippet(det.converted, opts.snippet_chars)),
            severity=opts.body_legacy_severity))
        subject = det.converted
    elif decomposed:
        out.append(_with(_finding(
            "ENCODING_DECOMPOSED", place="Subject", where="Subject",
            snippet=snippet(subject, opts.snippet_chars)), severity=opts.decomposed_severity))
    level = stamps.subject_stamp(subject)
    if level:
        out.append(_secret("SECRET_SUBJECT", opts, place="Subject", level=level,
                           snippet=snippet(subject, opts.snippet_chars)))
    return out


def _check_names(parsed: Any, opts: Options) -> list[Finding]:
    out: list[Finding] = []
    for item in getattr(parsed, "items", []) or []:
        name = item.document.name
        stem = name.rsplit(".", 1)[0]
        det = detect.detect_content(stem, min_gain=2)
        if det is not None:
            where = f"attachment name «{name}»"
            out.append(_with(_finding(
                "ENCODING_MOJIBAKE", place=item.document.path, where=where, charset="(file name)",
                encoding=det.label, snippet=snippet(det.converted, opts.snippet_chars)),
                severity=opts.body_legacy_severity))
            name = det.converted + name[len(stem):]
        level = stamps.filename_stamp(name)
        if level:
            out.append(_finding("SECRET_HINT", place=item.document.path, level=level,
                                    reason=f"file name {name}"))
    return out
