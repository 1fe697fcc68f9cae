"""Render a notice from a decision: the report's findings per document, the article each one
enforces and its remedy, and the message's own facts (subject, Message-ID, date, queue id).

Pure functions: no clock, no store, no network. The result is the text of the notice
(subject and body); :mod:`gateway.notices.mail` turns it into a MIME message.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header, make_header

from gateway.model.articles import ARTICLES, article_label_vi
from gateway.model.envelope import Envelope
from gateway.model.findings import Action, Finding, Severity
from gateway.model.report import UNINSPECTED_CODES, DocumentReport, DocVerdict, MessageReport
from gateway.notices.templates import TemplateSet

KIND_INVALID = "invalid"
KIND_HELD = "held"
KIND_SECURITY = "security"
KIND_UNINSPECTED = "uninspected"
KINDS = (KIND_INVALID, KIND_HELD, KIND_SECURITY, KIND_UNINSPECTED)

CLASSIFIED_ARTICLES = frozenset({"8.2", "12.4"})
"""Findings citing these make a held message a matter for the security contact."""

MAX_SUBJECT = 200
MAX_RECIPIENTS_SHOWN = 20
LANGS = ("vi", "en")

Headers = Sequence[tuple[str, "bytes | str"]]


def header_value(headers: Headers, name: str) -> str | None:
    """The first header ``name`` as text (UTF-8 where valid, else Latin-1), unfolded."""
    for k, v in headers:
        if k.lower() == name.lower():
            if isinstance(v, bytes):
                try:
                    text = v.decode("utf-8")
                except UnicodeDecodeError:
                    text = v.decode("latin-1")
            else:
                text = v
            return re.sub(r"\r?\n[ \t]*", " ", text).strip()
    return None


def one_line(text: str, limit: int = MAX_SUBJECT) -> str:
    """Printable, single-line, NFC, at most ``limit`` characters."""
    text = "".join(" " if (ord(c) < 32 or ord(c) == 127) else c for c in text)
    text = unicodedata.normalize("NFC", re.sub(r"\s+", " ", text).strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decoded_subject(headers: Headers) -> str:
    """The Subject with RFC 2047 encoded-words decoded (never raises)."""
    raw = header_value(headers, "Subject")
    if raw is None:
        return ""
    try:
        text = str(make_header(decode_header(raw)))
    except (ValueError, LookupError, UnicodeError, AssertionError):
        text = raw
    return one_line(text)


@dataclass(frozen=True)
class Entry:
    """One block of the notice: a document, or the message itself."""

    path: str
    verdict: str
    """A key of ``texts.toml`` ``[verdicts]`` or ``severities`` (for the message entry)."""
    findings: tuple[Finding, ...]
    is_message: bool = False


def _noticeable(f: Finding) -> bool:
    return f.severity >= Severity.WARNING or f.action >= Action.HOLD


def _doc_findings(d: DocumentReport) -> tuple[Finding, ...]:
    out = list(d.findings)
    for s in d.signatures:
        out.extend(s.findings)
    return tuple(out)


def _ordered(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Worst first, otherwise in the report's order; duplicates (same code, text) once."""
    seen: set[tuple[str, str]] = set()
    unique = []
    for f in findings:
        key = (f.code, f.en)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return tuple(sorted(unique, key=lambda f: (-int(f.severity), -int(f.action))))


def entries(report: MessageReport, *, only_articles: frozenset[str] | None = None
            ) -> list[Entry]:
    """What a notice lists: the message's own findings, then each document that is invalid
    or has a warning, with the findings worth telling the sender (warnings, errors, and
    anything that held the message). ``only_articles`` keeps findings citing those."""

    def keep(f: Finding) -> bool:
        return _noticeable(f) and (only_articles is None or f.article in only_articles)

    out: list[Entry] = []
    own = _ordered(f for f in report.findings if keep(f))
    if own:
        worst = max(f.severity for f in own)
        out.append(Entry("", worst.label, own, is_message=True))
    for d in report.documents:
        found = _ordered(f for f in _doc_findings(d) if keep(f))
        if not found and not (d.verdict in (DocVerdict.INVALID, DocVerdict.UNINSPECTED)
                              and only_articles is None):
            continue
        out.append(Entry(d.path, d.verdict.value, found))
    return out


def _article_values(article: str, lang: str) -> dict[str, str]:
    titles = ARTICLES.get(article, ("", ""))
    return {
        "article": article,
        "article_label": article_label_vi(article) if lang == "vi" else f"Article {article}",
        "article_title": titles[0] if lang == "vi" else titles[1],
    }


def _render_entry(t: TemplateSet, entry: Entry, index: int, lang: str) -> str:
    words = t.words[lang]
    lines = []
    remedy_texts: set[str] = set()
    remedy_lines: list[str] = []
    for f in entry.findings:
        values = {
            "code": f.code,
            "layer": t.layer(f.code, lang),
            "severity": words.severities.get(f.severity.label, f.severity.label),
            "text": one_line(f.vi if lang == "vi" else f.en, 2000),
            "place": f.place or "",
            **_article_values(f.article, lang),
        }
        lines.append(t.findings[lang].render(values))
        if f.severity < Severity.ERROR and f.action < Action.HOLD:
            continue  # a warning's own text says what to do; the remedy is for failures
        text = t.remedy(f.article, lang)
        if text not in remedy_texts:  # each remedy said once per document
            remedy_texts.add(text)
            remedy_lines.append(
                t.remedies[lang].render({"text": text, **_article_values(f.article, lang)}))
    if entry.is_message:
        path, verdict = words.message_label, words.severities.get(entry.verdict, entry.verdict)
    else:
        path = one_line(entry.path, 300)
        verdict = words.verdicts.get(entry.verdict, entry.verdict)
    block = t.documents[lang].render({
        "index": index,
        "path": path,
        "verdict": verdict,
        "findings": "\n".join(lines),
        "remedies": "\n".join(remedy_lines),
    })
    # a placeholder left empty (no remedy) leaves no blank line inside the block
    return "\n".join(line.rstrip() for line in block.splitlines() if line.strip())


def render_entries(t: TemplateSet, items: list[Entry], lang: str) -> str:
    if not items:
        return "-"
    return "\n\n".join(_render_entry(t, e, i, lang) for i, e in enumerate(items, 1))


@dataclass(frozen=True)
class NoticeFacts:
    """What a notice says about the message, besides its findings."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    message_id: str
    date: str
    queue_id: str
    decision_id: int | None
    decided_at: datetime
    references: str
    """The original ``References`` header (a notice's own References continue it)."""

    @classmethod
    def from_message(cls, envelope: Envelope, headers: Headers, *, decision_id: int | None,
                     decided_at: datetime) -> NoticeFacts:
        return cls(
            sender=(envelope.sender or "").strip(),
            recipients=tuple(envelope.recipients),
            subject=decoded_subject(headers),
            message_id=one_line(header_value(headers, "Message-ID") or
                                (envelope.message_id or ""), 500),
            date=one_line(header_value(headers, "Date") or "", 100),
            queue_id=envelope.queue_id or "",
            decision_id=decision_id,
            decided_at=decided_at,
            references=one_line(header_value(headers, "References") or "", 4000),
        )


@dataclass(frozen=True)
class RenderedNotice:
    kind: str
    subject: str
    body: str


def _recipients(rcpts: tuple[str, ...]) -> str:
    shown = ", ".join(rcpts[:MAX_RECIPIENTS_SHOWN])
    if len(rcpts) > MAX_RECIPIENTS_SHOWN:
        shown += f", … (+{len(rcpts) - MAX_RECIPIENTS_SHOWN})"
    return one_line(shown, 4000) or "-"


def render_notice(t: TemplateSet, kind: str, report: MessageReport, facts: NoticeFacts, *,
                  security_contact: str = "", gateway_address: str = "") -> RenderedNotice:
    """The subject and body of a notice of ``kind`` (``invalid``, ``held``, ``security``,
    ``uninspected``)."""
    if kind not in KINDS:
        raise ValueError(f"unknown notice kind {kind!r}")
    only = CLASSIFIED_ARTICLES if kind == KIND_SECURITY else None
    items = entries(report, only_articles=only)
    codes = ",".join(dict.fromkeys(f.code for e in items for f in e.findings))
    decided = facts.decided_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %z")
    values = {
        "sender": facts.sender or "-",
        "recipients": _recipients(facts.recipients),
        "subject": facts.subject or "-",
        "message_id": facts.message_id or "-",
        "date": facts.date or decided,
        "queue_id": facts.queue_id or "-",
        "decision_id": "-" if facts.decision_id is None else facts.decision_id,
        "decided_at": decided,
        "verdict_vi": t.words["vi"].verdicts.get(report.verdict.value, report.verdict.value),
        "verdict_en": t.words["en"].verdicts.get(report.verdict.value, report.verdict.value),
        "documents_vi": render_entries(t, items, "vi"),
        "documents_en": render_entries(t, items, "en"),
        "document_count": len(report.documents),
        "invalid_count": sum(1 for d in report.documents
                             if d.verdict in (DocVerdict.INVALID, DocVerdict.UNINSPECTED)),
        "uninspected_count": sum(1 for d in report.documents
                                 if d.verdict is DocVerdict.UNINSPECTED)
        or sum(1 for f in report.findings if f.code in UNINSPECTED_CODES),
        "codes": codes or "-",
        "security_contact": security_contact or "-",
        "gateway_address": gateway_address or "-",
    }
    tmpl = t.messages[kind]
    subject = one_line(tmpl.subject.render(values), 250)
    body = tmpl.body.render(values)
    body = unicodedata.normalize("NFC", "\n".join(line.rstrip() for line in body.splitlines()))
    return RenderedNotice(kind, subject, body.strip("\n") + "\n")


def is_classified(report: MessageReport) -> bool:
    return any(f.article in CLASSIFIED_ARTICLES and _noticeable(f) for f in report.all_findings)


__all__ = [
    "CLASSIFIED_ARTICLES",
    "Entry",
    "KINDS",
    "KIND_HELD",
    "KIND_INVALID",
    "KIND_UNINSPECTED",
    "KIND_SECURITY",
    "NoticeFacts",
    "RenderedNotice",
    "decoded_subject",
    "entries",
    "header_value",
    "is_classified",
    "render_notice",
]
