"""The text message check: body parts, the subject and attachment names (Articles 9.5, 8.2).

A legacy body charset, legacy bytes behind a Unicode or Latin-1 label, mojibake and
decomposed text in a body are findings with the converted text; a secrecy stamp near the top
of a body or marked in the subject or a file name holds the message. Documents are read by
``inspector``; an RTF body (Outlook's TNEF) is read like an RTF document.
"""

from __future__ import annotations

import bisect
import email.errors
import email.header
import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from gateway.inspect.base import InspectContext
from gateway.inspect.text import charsets, detect, legacy, scorer, stamps
from gateway.inspect.text.common import (
    LEVEL_RANK,
    TONES,
    Options,
    placed_finding,
    secret_finding,
    snippet,
    with_rules,
)
from gateway.inspect.text.extract import Budget, html_blocks
from gateway.inspect.text.inspector import inspect_text
from gateway.inspect.text.vietnamese import has_vietnamese_letters
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.report import DocClass

_LATIN_LABELS = frozenset({"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "windows-1252",
                           "cp1252", "us-ascii", "ascii"})


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
        enc = charsets.legacy_charset(cs)
        if enc is not None:
            used.append(cs or enc)
            out.append(legacy.decode_bytes(chunk, enc))
            continue
        try:
            out.append(chunk.decode(cs or "ascii"))
        except (LookupError, UnicodeError, ValueError):  # unknown charset (or a NUL in its
            # name), bad bytes, stray surrogates
            out.append(legacy.cp1252_view(chunk))
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
            else with_rules(f, severity=opts.body_legacy_severity) for f in found]


def _check_part(tp: Any, opts: Options) -> tuple[list[Finding], Finding | None]:
    where = tp.path
    raw: bytes = tp.raw or b""
    if scorer.COMPILED and _plain_utf8(tp) and len(raw) <= opts.max_chars \
            and detect.settled_utf8(raw, min_gain=3):
        # Clearly Unicode Vietnamese in NFC (valid UTF-8 then): the detection below would
        # find nothing from the same scan, so the body is not decoded; only its stamp
        # search is left, over the bytes.
        return [], _body_stamp_utf8(raw, where, opts)
    out: list[Finding] = []
    enc = charsets.legacy_charset(tp.charset)
    text, ok = charsets.decode_declared(raw, tp.charset)
    is_html = (tp.media_type or "").lower() == "text/html"
    if enc is not None:
        out.append(with_rules(placed_finding(
            "ENCODING_LEGACY_CHARSET", place=where, where=where, charset=tp.charset,
            snippet=snippet(_first_vietnamese_line(_strip_tags(text) if is_html else text),
                            opts.snippet_chars)), severity=opts.body_legacy_severity))
    elif not ok:
        det = detect.detect_bytes(raw)
        if det is not None:
            text = det.converted
            out.append(_mojibake(where, tp.charset or "us-ascii", det, opts, is_html))
        else:
            out.append(placed_finding("ENCODING_INVALID", place=where, where=where,
                                      charset=tp.charset or "us-ascii"))
    budget = Budget(opts.max_chars)
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
                out.append(with_rules(placed_finding(
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
                and TONES.search(plain):
            nfc = unicodedata.normalize("NFC", plain)
            line = next((unicodedata.normalize("NFC", ln) for ln in plain.splitlines()
                         if not unicodedata.is_normalized("NFC", ln)), nfc)
            if has_vietnamese_letters(nfc):
                out.append(with_rules(placed_finding(
                    "ENCODING_DECOMPOSED", place=where, where=where,
                    snippet=snippet(line, opts.snippet_chars)), severity=opts.decomposed_severity))
        return out, _body_stamp(plain, where, opts)
    plain = _strip_tags(text) if is_html else text[: opts.max_chars]
    return out, _body_stamp(plain, where, opts)


def _plain_utf8(tp: Any) -> bool:
    """A plain-text body labelled UTF-8 (decoded whole and read as it is by ``_check_part``)."""
    return (tp.media_type or "").lower() != "text/html" \
        and (tp.charset or "").strip().strip('"').lower() in ("utf-8", "utf8")


def _strip_tags(text: str) -> str:
    return re.sub(r"<[^>]*>", " ", text)


def _mojibake(where: str, charset: str, det: detect.Detection, opts: Options,
              is_html: bool) -> Finding:
    conv = _strip_tags(det.converted) if is_html else det.converted
    return with_rules(placed_finding(
        "ENCODING_MOJIBAKE", place=where, where=where, charset=charset, encoding=det.label,
        snippet=snippet(_first_vietnamese_line(conv), opts.snippet_chars),
    ), severity=opts.body_legacy_severity)


def _body_stamp(text: str, where: str, opts: Options) -> Finding | None:
    """A stamp on one of the first lines of a body holds the message; a standalone mark
    further down is only a hint. Long bodies are not split: the first lines are read, then
    only the lines that could hold a stamp (``_could_be_stamp``): prose that merely says "bảo
    mật" or "mật khẩu" is not read again line by line."""
    starts = scorer.stamp_line_starts(text) if scorer.COMPILED else _stamp_line_starts(text, 0)
    top = ((m.start(), m.end(), m.group(0)) for m in _NONEMPTY_LINE.finditer(text))
    return _stamp_in_lines(top, starts, lambda start: _line_from(text, start), where, opts)


def _body_stamp_utf8(data: bytes, where: str, opts: Options) -> Finding | None:
    """``_body_stamp(data.decode("utf-8"), where, opts)`` for valid UTF-8 ``data`` (and the
    compiled scorer), without decoding the body: places are byte offsets, and only the lines
    read are decoded (a line ends at the same LF in the bytes and in the text)."""
    return _stamp_in_lines(_nonempty_lines_utf8(data), scorer.stamp_line_starts_utf8(data),
                           lambda start: _line_from_utf8(data, start), where, opts)


def _stamp_in_lines(top: Iterator[tuple[int, int, str]], starts: list[int],
                    line_at: Callable[[int], str], where: str,
                    opts: Options) -> Finding | None:
    """The stamp search of a body: ``top`` yields its non-empty lines in order (start, end,
    text), ``starts`` are where the lines start that could hold a stamp, ``line_at`` reads
    the line starting at a place."""
    best: tuple[int, str, str] | None = None
    hint: Finding | None = None
    n = 0
    pos = 0
    # Every line that could hold a stamp, searched once for the top lines and those below.
    # A line ``_could_be_stamp`` lets through starts one of them: no match of a pattern
    # hides another of the same pattern (each ends with a letter none of them starts with).
    candidates = set(starts)
    for start, end, line in top:
        n += 1
        pos = end
        if n > opts.stamp_top_blocks:
            pos = start
            break
        if start not in candidates:
            continue
        if len(line) > 160 or not _could_be_stamp(line):
            continue
        level = stamps.segment_stamp(line)
        if level:
            rank = LEVEL_RANK[level]
            if best is None or rank > best[0]:
                best = (rank, level, f"{where} line {n}")
            continue
        un = stamps.unaccented_stamp(line)
        if un and hint is None:
            hint = placed_finding("SECRET_HINT", place=where, level=un,
                                  reason="written without diacritics")
    if best is not None:
        return secret_finding("SECRET_BODY", opts, place=best[2], level=best[1])
    # the lines below (``pos`` starts the first of them, or only white space follows it)
    for start in starts[bisect.bisect_left(starts, pos):]:
        line = line_at(start)
        if len(line) > 160:
            continue
        level = stamps.segment_stamp(line)
        if level:
            return placed_finding("SECRET_HINT", place=where, level=level,
                                  reason="standalone mark below the first lines")
        un = stamps.unaccented_stamp(line)
        if un and hint is None:
            hint = placed_finding("SECRET_HINT", place=where, level=un,
                                  reason="written without diacritics")
    return hint


def _line_from(text: str, start: int) -> str:
    end = text.find("\n", start)
    return text[start: end if end >= 0 else len(text)]


def _line_from_utf8(data: bytes, start: int) -> str:
    end = data.find(b"\n", start)
    return data[start: end if end >= 0 else len(data)].decode("utf-8")


def _nonempty_lines_utf8(data: bytes) -> Iterator[tuple[int, int, str]]:
    """What ``_NONEMPTY_LINE.finditer`` finds in ``data.decode("utf-8")`` (each line holding
    a character that is not white space, whole), as byte offsets, decoded one at a time."""
    start = 0
    while True:
        nl = data.find(b"\n", start)
        end = len(data) if nl < 0 else nl
        line = data[start:end].decode("utf-8")
        if _NONEMPTY_LINE.search(line) is not None:
            yield start, end, line
        if nl < 0:
            return
        start = nl + 1


_NONEMPTY_LINE = re.compile(r"[^\n]*\S[^\n]*")
# What a line needs for ``stamps.segment_stamp`` or ``unaccented_stamp`` to find a mark in
# it: the level in capitals (MẬT, or MAT typed without marks; composed or not, since they
# normalise the line), or a "Độ mật:" label, which they accept in any case. Every other line
# is prose about secrecy, not a stamp.
# Separate patterns, each starting with one literal letter: as one alternation they take
# twice as long over a body, and a pattern starting with a class ([Đđ]) is tried at every
# position (20× slower over 80,000 characters than one searched for its first letter).
_STAMP_LEVEL = re.compile("M(?:\u1eac|[A\u1ea0\u00c2][\u0300-\u036f]*)T")
_LABEL_TAIL = "(?:[\u1ed8\u1ed9]|[oO\u1ecc\u1ecd\u00d4\u00f4][\u0300-\u036f]+)\\s+[mM]"
_STAMP_PATTERNS = (_STAMP_LEVEL, *(re.compile(d + _LABEL_TAIL) for d in "\u0110\u0111"))


def _could_be_stamp(line: str) -> bool:
    return any(pattern.search(line) for pattern in _STAMP_PATTERNS)


def _stamp_line_starts(text: str, pos: int) -> list[int]:
    """Where the lines that could hold a stamp start, from the one holding ``pos`` on, in
    order."""
    return sorted({text.rfind("\n", 0, m.start()) + 1
                   for pattern in _STAMP_PATTERNS
                   for m in pattern.finditer(text, pos)})


def _check_subject(parsed: Any, opts: Options) -> list[Finding]:
    out: list[Finding] = []
    raw = _raw_header(parsed, "Subject")
    subject = parsed.header("Subject") if hasattr(parsed, "header") else None
    decomposed = False
    if raw is not None:
        decoded, used = _decode_header(raw)
        decomposed = not unicodedata.is_normalized("NFC", decoded) and bool(TONES.search(decoded))
        decoded = unicodedata.normalize("NFC", decoded)
        if used:
            subject = decoded
            out.append(with_rules(placed_finding(
                "ENCODING_LEGACY_CHARSET", place="Subject", where="Subject",
                charset=", ".join(used), snippet=snippet(decoded, opts.snippet_chars)),
                severity=opts.body_legacy_severity))
        elif subject is None or "\ufffd" in subject:
            subject = decoded
    if not subject:
        return out
    det = detect.detect_content(subject, min_gain=2)
    if det is not None:
        out.append(with_rules(placed_finding(
            "ENCODING_MOJIBAKE", place="Subject", where="Subject", charset="(header)",
            encoding=det.label, snippet=snippet(det.converted, opts.snippet_chars)),
            severity=opts.body_legacy_severity))
        subject = det.converted
    elif decomposed:
        out.append(with_rules(placed_finding(
            "ENCODING_DECOMPOSED", place="Subject", where="Subject",
            snippet=snippet(subject, opts.snippet_chars)), severity=opts.decomposed_severity))
    level = stamps.subject_stamp(subject)
    if level:
        out.append(secret_finding("SECRET_SUBJECT", opts, place="Subject", level=level,
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
            out.append(with_rules(placed_finding(
                "ENCODING_MOJIBAKE", place=item.document.path, where=where, charset="(file name)",
                encoding=det.label, snippet=snippet(det.converted, opts.snippet_chars)),
                severity=opts.body_legacy_severity))
            name = det.converted + name[len(stem):]
        level = stamps.filename_stamp(name)
        if level:
            out.append(placed_finding("SECRET_HINT", place=item.document.path, level=level,
                                      reason=f"file name {name}"))
    return out
