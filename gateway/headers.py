"""The verdict headers the gateway adds to a delivered message.

``X-Legal-Validity: <verdict>``
    ``valid``, ``invalid``, ``held``, ``no-documents``, ``uninspected`` (a part could not be
    identified or opened, so neither ``valid`` nor ``no-documents`` can be said) or
    ``unchecked``.

``X-Legal-Validity-Report: <entry>; <entry>; …``
    One entry per document, in message order::

        <name> class=<class> verdict=<verdict> findings=<CODE,CODE…|none> [reasons=<r,r…>]

    (a long list of codes is folded after a comma, so it may read ``A,B, C`` once unfolded).
    ``reasons=`` is present when a signature of the document is not confirmed: the reason
    codes of its signatures (``gateway.model.reasons``, e.g. ``digest-not-allowed``).

    ``<name>`` is the document's path (``archive.zip/inner.docx`` inside archives). A name made
    only of ``A-Z a-z 0-9 . _ + ~ / -`` is written as is; any other name (Vietnamese
    diacritics, spaces, ``;`` …) is written as RFC 2047 encoded-words (UTF-8, base64), which
    mail readers decode. Message-level findings (sender, structure) come first as an entry
    named ``message``, when there are any; with neither, the value is ``none``. After
    ``MAX_ENTRIES`` documents the rest are counted in a last entry ``+N more``; the decision
    log has them all.

The values are folded (CRLF + one space) so that no line exceeds 78 characters, as
RFC 5322 recommends; an encoded-word is never longer than 52 characters (RFC 2047
allows 75).
"""

from __future__ import annotations

import base64
import re

from gateway.model.report import MessageReport

VERDICT = "X-Legal-Validity"
REPORT = "X-Legal-Validity-Report"
PREFIX = "x-legal-validity"
"""Every header whose name starts with this (case-insensitive) is the gateway's to write."""

MAX_ENTRIES = 50
LINE = 78
_SAFE = re.compile(r"^[A-Za-z0-9._+~/-]+$")
_ENCODED_MAX = 52
"""Encoded-words are kept short (RFC 2047 allows 75) so that any token fits on the first
line after ``X-Legal-Validity-Report: ``."""
_PLAIN_MAX = 52
_EW_OVERHEAD = len("=?utf-8?b??=")


def is_verdict_header(name: str) -> bool:
    return name.strip().lower().startswith(PREFIX)


def encode_words(text: str) -> list[str]:
    """``text`` as RFC 2047 encoded-words (UTF-8, base64), each at most 52 characters and
    never splitting a UTF-8 sequence, for a header value."""
    room = (_ENCODED_MAX - _EW_OVERHEAD) // 4 * 3  # raw bytes per word
    words: list[str] = []
    chunk = b""
    for ch in text:
        b = ch.encode("utf-8", "surrogateescape")
        if chunk and len(chunk) + len(b) > room:
            words.append(_word(chunk))
            chunk = b""
        chunk += b
    if chunk or not words:
        words.append(_word(chunk))
    return words


def _word(raw: bytes) -> str:
    return "=?utf-8?b?" + base64.b64encode(raw).decode("ascii") + "?="


def name_tokens(name: str) -> list[str]:
    """Tokens for a document name: itself when safe, else encoded-words."""
    if name and _SAFE.match(name) and len(name) <= _PLAIN_MAX:
        return [name]
    return encode_words(name or "unnamed")


def fold(name: str, tokens: list[str]) -> str:
    """Join ``tokens`` with spaces, folding (CRLF + space) before a token that would make
    the line longer than 78 characters. The first line counts ``Name: ``."""
    lines: list[str] = []
    current = ""
    used = len(name) + 2
    for tok in tokens:
        if not current:
            current = tok
            continue
        if used + len(current) + 1 + len(tok) > LINE:
            lines.append(current)
            current = tok
            used = 1  # the leading space of a continuation line
        else:
            current += " " + tok
    lines.append(current)
    return "\r\n ".join(lines)


def _codes(findings: tuple) -> list[str]:
    """``findings=A,B,…`` as one token, or several (each ending in ``,``) when it would not
    fit on a line; unfolded, the codes then read ``A,B, C``."""
    return _listed("findings=", [f.code for f in findings]) or ["findings=none"]


def _listed(prefix: str, items: list[str]) -> list[str]:
    seen = list(dict.fromkeys(items))
    if not seen:
        return []
    tokens: list[str] = []
    cur = prefix
    for i, code in enumerate(seen):
        piece = code + ("," if i < len(seen) - 1 else "")
        if len(cur) + len(piece) > _PLAIN_MAX and cur not in (prefix, ""):
            tokens.append(cur)
            cur = ""
        cur += piece
    tokens.append(cur)
    return tokens


def _entry_tokens(report: MessageReport) -> list[list[str]]:
    entries: list[list[str]] = []
    if report.findings:
        entries.append(["message", *_codes(report.findings)])
    docs = report.documents
    for d in docs[:MAX_ENTRIES]:
        all_findings = tuple(d.findings) + tuple(f for s in d.signatures for f in s.findings)
        entries.append(
            name_tokens(d.path)
            + [
                f"class={d.doc_class.value}",
                f"verdict={d.verdict.value}",
                *_codes(all_findings),
                *_listed("reasons=", [r for s in d.signatures for r in s.reasons]),
            ]
        )
    if len(docs) > MAX_ENTRIES:
        entries.append([f"+{len(docs) - MAX_ENTRIES}", "more"])
    return entries


def verdict_headers(report: MessageReport) -> list[tuple[str, str]]:
    """The two headers to add for ``report``: the verdict, then the per-document report
    (``none`` when the message has no documents and no message-level findings)."""
    entries = _entry_tokens(report) or [["none"]]
    tokens: list[str] = []
    for i, entry in enumerate(entries):
        entry = list(entry)
        if i < len(entries) - 1:
            entry[-1] += ";"
        tokens.extend(entry)
    return [(VERDICT, report.verdict.value), (REPORT, fold(REPORT, tokens))]


__all__ = [
    "MAX_ENTRIES",
    "PREFIX",
    "REPORT",
    "VERDICT",
    "encode_words",
    "fold",
    "is_verdict_header",
    "verdict_headers",
]
