"""Output of the audit commands: text tables, CSV and JSON Lines (the HTML report and its
charts are in ``html_report.py``)."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from gateway.audit.display import SUSPECT, visible, visible_any
from gateway.audit.records import Decision, format_time
from gateway.audit.reports import (
    AgencyRow,
    Report,
    decision_agency_address,
)
from gateway.policy.agencies import AgencyMap

__all__ = [
    "QUERY_COLUMNS",
    "catalog_texts",
    "csv_safe",
    "decision_csv_row",
    "decision_text",
    "percent",
    "query_table",
    "report_csv",
    "report_table",
    "shorten",
]


# -- plain text ---------------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF"
               else 1 for c in text)


def _pad(text: str, width: int, right: bool = False) -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if right else text + fill


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the last one an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def table(headers: Sequence[str], rows: Iterable[Sequence[str]],
          right: Sequence[int] = ()) -> str:
    """Aligned columns; control and bidirectional characters in a cell are shown as
    ``<U+XXXX>`` (:mod:`gateway.audit.display`)."""
    rows = [[visible(c) for c in r] for r in rows]
    widths = [_width(h) for h in headers]
    for r in rows:
        for i, cell in enumerate(r):
            widths[i] = max(widths[i], _width(cell))
    line = "  ".join(_pad(h, widths[i], i in right) for i, h in enumerate(headers)).rstrip()
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(_pad(c, widths[i], i in right) for i, c in enumerate(r)).rstrip())
    return "\n".join(out)


def _local(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S%z")


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))


def query_table(decisions: Sequence[Decision], agencies: AgencyMap) -> str:
    rows = []
    for d in decisions:
        rows.append([
            str(d.id),
            _local(d.decided_at),
            d.queue_id or "-",
            shorten(d.sender if d.sender is not None else "-", 40) or "<>",
            agencies.resolve(decision_agency_address(d)).code,
            d.verdict,
            d.action_taken or d.action,
            str(len(d.documents)),
            shorten(" ".join(_unique(d.codes)), 60),
        ])
    return table(["ID", "TIME", "QUEUE-ID", "SENDER", "AGENCY", "VERDICT", "ACTION", "DOCS",
                  "CODES"], rows, right=(0, 7))


class _Fill(dict):
    def __missing__(self, key: str) -> str:
        return "…"


def catalog_texts(code: str, name: str) -> tuple[str, str]:
    """The Vietnamese and English texts of finding ``code`` as shown for a stored finding:
    ``{name}`` is the document or place, any other parameter (not stored) reads "…". A
    text that cannot be filled (a stray brace, an index or attribute) is shown unfilled
    rather than failing the page or the command; an unknown code has no text."""
    from gateway.model.catalog import CATALOG

    spec = CATALOG.get(code)
    if spec is None:
        return "", ""
    values = _Fill(name=name)
    try:
        return spec.vi.format_map(values), spec.en.format_map(values)
    except (ValueError, IndexError, AttributeError, KeyError, TypeError):
        return spec.vi, spec.en


def decision_text(d: Decision, agencies: AgencyMap) -> str:
    agency = agencies.resolve(decision_agency_address(d))
    lines = [
        f"Decision {d.id}  ({d.verdict.upper()}, action {d.action}"
        + (f", taken: {d.action_taken}" if d.action_taken else "") + ")",
        f"  time:        {format_time(d.decided_at)}  (local {_local(d.decided_at)})",
        f"  queue id:    {d.queue_id or '-'}",
        f"  message-id:  {d.message_id or '-'}",
        f"  sender:      {d.sender if d.sender is not None else '-'}"
        + ("<>" if d.sender == "" else ""),
        f"  agency:      {agency.code} ({agency.name})",
        f"  from:        {d.from_header or '-'}",
        f"  recipients:  {', '.join(d.recipients) or '-'}",
        f"  SASL user:   {d.sasl_user or '-'}",
        f"  client:      {d.client_addr or '-'}" + (f" ({d.client_name})" if d.client_name else ""),
        f"  SMTP reply:  {d.smtp_reply or '-'}",
        f"  rules hash:  {d.rules_hash}",
        f"  duration:    {d.duration_ms:.1f} ms",
        f"  chain hash:  {d.hash}",
    ]
    if d.findings:
        lines.append("  message findings:")
        for f in d.findings:
            vi, en = catalog_texts(f.code, f.place or "")
            lines.append(f"    [{f.severity}] {f.code} (Điều {f.article}, {f.action})"
                         + (f" at {f.place}" if f.place else ""))
            if vi:
                lines.append(f"        {vi}")
                lines.append(f"        {en}")
    for doc in d.documents:
        lines.append(f"  - {doc.path}  [{doc.doc_class}, {doc.media_type}, {doc.size} bytes] "
                     f"→ {doc.verdict}")
        lines.append(f"      sha256 {doc.sha256}")
        for s in doc.signatures:
            lines.append(
                f"      signature {s.get('format')}: integrity={s.get('integrity')} "
                f"coverage={s.get('coverage')} trust={s.get('trust')} "
                f"revocation={s.get('revocation')} signer={s.get('signer') or '?'} "
                f"time={s.get('signing_time') or '?'}"
                + (f" findings={' '.join(s.get('findings') or [])}" if s.get("findings") else "")
            )
        for f in doc.findings:
            vi, en = catalog_texts(f.code, doc.path)
            lines.append(f"      [{f.severity}] {f.code} (Điều {f.article}, {f.action})")
            if vi:
                lines.append(f"          {vi}")
                lines.append(f"          {en}")
    return "\n".join(visible(line) for line in lines)


# -- CSV / JSON ---------------------------------------------------------------------------------

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """Control and bidirectional characters shown as ``<U+XXXX>``, and text that a
    spreadsheet would run as a formula gets a leading apostrophe (senders, headers and file
    names are chosen by whoever sent the mail)."""
    value = visible_any(value)
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


QUERY_COLUMNS = [
    "id", "decided_at", "queue_id", "message_id", "sender", "agency", "recipients",
    "from_header", "sasl_user", "client_addr", "verdict", "action", "action_taken",
    "documents", "valid_documents", "codes", "rules_hash", "duration_ms", "hash",
]


def decision_csv_row(d: Decision, agencies: AgencyMap) -> list[Any]:
    row = [
        d.id, format_time(d.decided_at), d.queue_id or "", d.message_id or "",
        d.sender if d.sender is not None else "",
        agencies.resolve(decision_agency_address(d)).code,
        " ".join(d.recipients), d.from_header or "", d.sasl_user or "", d.client_addr or "",
        d.verdict, d.action, d.action_taken or "", len(d.documents),
        sum(1 for doc in d.documents if doc.verdict == "valid"),
        " ".join(_unique(d.codes)), d.rules_hash, d.duration_ms, d.hash,
    ]
    return [csv_safe(v) for v in row]


def decision_json(d: Decision, agencies: AgencyMap) -> str:
    out = d.to_json()
    agency = agencies.resolve(decision_agency_address(d))
    out["agency"] = {"code": agency.code, "name": agency.name}
    # the same data, but control and bidirectional characters as JSON escapes, so that the
    # lines are safe to print on a terminal (they only occur inside strings)
    text = json.dumps(out, ensure_ascii=False)
    return SUSPECT.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def csv_writer(stream: io.TextIOBase | Any) -> Any:
    return csv.writer(stream, lineterminator="\r\n")


REPORT_COLUMNS = [
    "agency", "agency_name", "messages", "documents", "valid_documents", "valid_pct",
    "freemail_refusals", "held", "rejected", "top_reasons",
    "uninspected", "uninspected_parts",  # added: appended, so existing columns keep their place
]


def percent(value: float | None) -> str:
    """A percentage with one decimal, ``-`` when there is none."""
    return "-" if value is None else f"{value:.1f}"


def _reasons(row: AgencyRow, n: int) -> str:
    return " ".join(f"{code}:{count}" for code, count in row.top_reasons(n))


def report_rows(report: Report, top: int = 5) -> list[list[Any]]:
    out = []
    for r in [*report.agencies, report.total]:
        out.append([
            r.code, r.name, r.messages, r.documents, r.valid_documents,
            "" if r.valid_pct is None else f"{r.valid_pct:.1f}",
            r.freemail_refusals, r.held, r.rejected, _reasons(r, top),
            r.uninspected, r.uninspected_parts,
        ])
    return out


def report_csv(report: Report, top: int = 5) -> str:
    buf = io.StringIO()
    w = csv_writer(buf)
    w.writerow(REPORT_COLUMNS)
    for row in report_rows(report, top):
        w.writerow([csv_safe(v) for v in row])
    return buf.getvalue()


def report_table(report: Report, top: int = 3) -> str:
    head = (f"Decision log report {report.title_period} (time zone {report.zone}): "
            f"{report.total.messages} messages, {report.total.documents} documents")
    rows = []
    for r in [*report.agencies, report.total]:
        rows.append([
            r.code, shorten(r.name, 40), str(r.messages), str(r.documents),
            percent(r.valid_pct), str(r.freemail_refusals), str(r.held), str(r.uninspected),
            _reasons(r, top) or "-",
        ])
    body = table(["AGENCY", "NAME", "MESSAGES", "DOCS", "VALID%", "FREEMAIL", "HELD",
                  "UNINSPECTED", "TOP REASONS"], rows, right=(2, 3, 4, 5, 6, 7))
    trend = table(
        ["MONTH", "MESSAGES", "DOCS", "VALID%", "FREEMAIL", "HELD", "UNINSPECTED"],
        [[m.name, str(m.messages), str(m.documents), percent(m.valid_pct),
          str(m.freemail_refusals), str(m.held), str(m.uninspected)] for m in report.trend],
        right=(1, 2, 3, 4, 5, 6),
    )
    return f"{head}\n\n{body}\n\n{trend}"
