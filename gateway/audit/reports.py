"""Periodic reports over the decision log: pure functions over query results.

Nothing here touches the database or the clock: :func:`build_report` takes decisions (from
``DecisionStore.iter_query``), the agency map and the months, so the CLI and a web page
compute the same figures.

Definitions (also printed in the HTML report):

- *messages*: decisions whose sender resolves to the agency;
- *documents*: attached documents judged under Article 9 (class ``editable`` or
  ``non-editable``; archives and other files are not documents);
- *valid %*: valid documents / documents;
- *failure reasons*: finding codes of severity ``error`` or with an action other than
  ``accept``, counted once per message or document that carries them;
- *free-mail refusals*: messages rejected with ``SENDER_FREEMAIL`` (Article 9.4);
- *held*: messages with verdict ``held``;
- *uninspected*: messages with verdict ``uninspected`` (a part that could not be identified or
  opened, nothing worse), counted on their own, never as valid or invalid; *uninspected
  parts*: the parts (of any class) with the document verdict ``uninspected``.

Months are calendar months in the report's time zone (the province's, UTC+7, by default).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import getaddresses

from gateway.audit.records import Decision
from gateway.policy.agencies import AgencyMap

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "AgencyRow",
    "MonthRow",
    "Report",
    "ReportError",
    "build_report",
    "decision_agency_address",
    "failure_codes",
    "month_bounds",
    "month_key",
    "months_between",
    "parse_when",
    "report_zone",
]

JUDGED_CLASSES = ("editable", "non-editable")
FREEMAIL_CODE = "SENDER_FREEMAIL"
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class ReportError(ValueError):
    """A bad month or range (one line for a person)."""


def report_zone(name: str | None = None) -> tzinfo:
    """The report's time zone: an IANA name, default ``Asia/Ho_Chi_Minh`` (UTC+7, no DST)."""
    name = name or "Asia/Ho_Chi_Minh"
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except (ImportError, ValueError, OSError, KeyError):
        if name == "Asia/Ho_Chi_Minh":
            return timezone(timedelta(hours=7), "ICT")
        if name.upper() == "UTC":
            return UTC
        raise ReportError(f"unknown time zone {name!r}") from None


MIN_YEAR, MAX_YEAR = 1970, 2999
"""Dates and months a filter or report may name: anything else is a typo, and years near
1 or 9999 cannot be moved between time zones (``datetime`` overflows)."""


def parse_month(text: str) -> tuple[int, int]:
    m = _MONTH.match((text or "").strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ReportError(f"{text!r} is not a month in the form YYYY-MM")
    if not MIN_YEAR <= int(m.group(1)) <= MAX_YEAR:
        raise ReportError(f"{text!r}: months from {MIN_YEAR}-01 to {MAX_YEAR}-12 only")
    return int(m.group(1)), int(m.group(2))


def parse_when(text: str, name: str, zone: tzinfo | None = None, *,
               end: bool = False) -> datetime:
    """A date (midnight in ``zone``, or local time without one; with ``end`` the end of that
    day) or an ISO date-time (without a zone: in ``zone`` or local time), between
    :data:`MIN_YEAR` and :data:`MAX_YEAR`. :class:`ReportError` names what is wrong."""
    text = (text or "").strip()
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ReportError(f"{name}: not an ISO date or time: {text!r}") from None
    if len(text) == 10:
        if not MIN_YEAR <= at.year <= MAX_YEAR:
            raise ReportError(f"{name}: {text!r}: dates from {MIN_YEAR}-01-01 to "
                              f"{MAX_YEAR}-12-31 only")
        at += timedelta(days=1) if end else timedelta()
    if not MIN_YEAR <= at.year <= MAX_YEAR + (1 if end else 0):
        raise ReportError(f"{name}: {text!r}: times from {MIN_YEAR} to {MAX_YEAR} only")
    if at.tzinfo is not None:
        return at
    return at.replace(tzinfo=zone) if zone is not None else at.astimezone()


def months_between(first: str, last: str, *, max_months: int = 120) -> list[str]:
    """``"2026-11", "2027-02"`` → the four months, inclusive."""
    y1, m1 = parse_month(first)
    y2, m2 = parse_month(last)
    a, b = y1 * 12 + m1 - 1, y2 * 12 + m2 - 1
    if b < a:
        raise ReportError(f"the range {first}..{last} ends before it starts")
    if b - a + 1 > max_months:
        raise ReportError(f"the range {first}..{last} is longer than {max_months} months")
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(a, b + 1)]


def month_bounds(months: list[str], zone: tzinfo) -> tuple[datetime, datetime]:
    """[start of the first month, start of the month after the last) in ``zone``."""
    y, m = parse_month(months[0])
    start = datetime(y, m, 1, tzinfo=zone)
    y, m = parse_month(months[-1])
    y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return start, datetime(y, m, 1, tzinfo=zone)


def month_key(at: datetime, zone: tzinfo) -> str:
    local = at.astimezone(zone)
    return f"{local.year:04d}-{local.month:02d}"


def decision_agency_address(d: Decision) -> str | None:
    """The address that names the sending agency: the envelope sender, or for the null
    sender (and offline checks) the first ``From:`` address."""
    if d.sender:
        return d.sender
    if d.from_header:
        for _, addr in getaddresses([d.from_header]):
            if addr:
                return addr
    return None


def failure_codes(d: Decision) -> Counter[str]:
    """Failure reasons of one message: each code once per message or document carrying it."""
    out: Counter[str] = Counter()
    out.update({f.code for f in d.findings if f.severity == "error" or f.action != "accept"})
    for doc in d.documents:
        out.update(
            {f.code for f in doc.findings if f.severity == "error" or f.action != "accept"}
        )
    return out


@dataclass
class AgencyRow:
    code: str
    name: str
    messages: int = 0
    documents: int = 0
    valid_documents: int = 0
    invalid_documents: int = 0
    freemail_refusals: int = 0
    held: int = 0
    rejected: int = 0
    uninspected: int = 0
    uninspected_parts: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    @property
    def valid_pct(self) -> float | None:
        """Valid documents as a percentage of documents; None without documents."""
        return 100.0 * self.valid_documents / self.documents if self.documents else None

    def top_reasons(self, n: int = 5) -> list[tuple[str, int]]:
        return sorted(self.reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def add(self, d: Decision) -> None:
        self.messages += 1
        for doc in d.documents:
            if doc.verdict == "uninspected":
                self.uninspected_parts += 1
            if doc.doc_class in JUDGED_CLASSES:
                self.documents += 1
                if doc.verdict == "valid":
                    self.valid_documents += 1
                elif doc.verdict == "invalid":
                    self.invalid_documents += 1
        if d.verdict == "rejected":
            self.rejected += 1
            if any(f.code == FREEMAIL_CODE for f in d.findings):
                self.freemail_refusals += 1
        if d.verdict == "held":
            self.held += 1
        if d.verdict == "uninspected":
            self.uninspected += 1
        self.reasons.update(failure_codes(d))


@dataclass
class MonthRow(AgencyRow):
    """The same figures for one month, all agencies together."""


@dataclass
class Report:
    months: list[str]
    zone: str
    agencies: list[AgencyRow]
    """Sorted by messages, most first; the catch-all buckets last."""
    total: AgencyRow
    trend: list[MonthRow]
    """One row per month of the period, in order (months without mail included)."""
    reasons_by_agency: dict[str, Counter[str]]

    @property
    def title_period(self) -> str:
        return self.months[0] if len(self.months) == 1 else f"{self.months[0]} – {self.months[-1]}"

    def top_codes(self, n: int = 6) -> list[str]:
        return [code for code, _ in self.total.top_reasons(n)]


_BUCKETS = ("unknown", "external", "none")


def build_report(
    decisions: Iterable[Decision],
    agencies: AgencyMap,
    months: list[str],
    zone: tzinfo,
    *,
    on_item: Callable[[int], None] | None = None,
) -> Report:
    """One pass over the decisions of the period (others are ignored)."""
    if not months:
        raise ReportError("no month given")
    wanted = set(months)
    rows: dict[str, AgencyRow] = {}
    trend = {m: MonthRow("month", m) for m in months}
    total = AgencyRow("total", "Tổng cộng (total)")
    seen = 0
    for d in decisions:
        seen += 1
        if on_item is not None:
            on_item(seen)
        key = month_key(d.decided_at, zone)
        if key not in wanted:
            continue
        agency = agencies.resolve(decision_agency_address(d))
        row = rows.get(agency.code)
        if row is None:
            row = rows[agency.code] = AgencyRow(agency.code, agency.name)
        row.add(d)
        total.add(d)
        trend[key].add(d)
    ordered = sorted(
        rows.values(),
        key=lambda r: (r.code in _BUCKETS, -r.messages, r.code),
    )
    return Report(
        months=list(months),
        zone=str(getattr(zone, "key", None) or zone),
        agencies=ordered,
        total=total,
        trend=[trend[m] for m in months],
        reasons_by_agency={r.code: Counter(r.reasons) for r in ordered},
    )
