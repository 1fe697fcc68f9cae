"""The search form's filters (``/decisions``, ``/export.csv``): parsed and checked, or a
:class:`FilterError` the page shows as one line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlencode

from gateway.audit.reports import ReportError, parse_when
from gateway.audit.web.config import VERDICTS
from gateway.policy.agencies import AgencyMap

__all__ = ["FILTER_KEYS", "FilterError", "Filters", "parse_filters"]

FILTER_KEYS = ("since", "until", "sender", "domain", "agency", "verdict", "queue_id")


class FilterError(ValueError):
    """A filter value that cannot be used (the message is for the person)."""


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    sender: str | None = None
    domain: str | None = None
    agency: str | None = None
    verdict: str | None = None
    queue_id: str | None = None
    raw: tuple[tuple[str, str], ...] = ()
    """The form values as given (to refill the form and build links)."""

    def store_args(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "sender": self.sender,
                "domain": self.domain, "verdict": self.verdict, "queue_id": self.queue_id}

    def query(self, **extra: Any) -> str:
        items = [(k, v) for k, v in self.raw if v] + [(k, str(v)) for k, v in extra.items()]
        return urlencode(items)


def raw_filters(args: Any) -> tuple[tuple[str, str], ...]:
    return tuple((k, (args.get(k) or "").strip()[:320]) for k in FILTER_KEYS)


def _when(text: str, name: str, zone: tzinfo, *, end: bool) -> datetime:
    """A date (midnight in the report's zone; ``until`` takes the whole day) or an ISO
    date-time (a time without a zone is in the report's zone), in the years a log holds."""
    try:
        return parse_when(text, name, zone, end=end)
    except ReportError as exc:
        raise FilterError(f"không phải ngày hợp lệ / not a valid date: {exc}") from None


def parse_filters(args: Any, agencies: AgencyMap, zone: tzinfo) -> Filters:
    raw = raw_filters(args)
    values = dict(raw)
    agency = values["agency"].lower() or None
    if agency and agencies.by_code(agency) is None:
        raise FilterError(f"không có cơ quan / no agency {values['agency']!r}")
    verdict = values["verdict"] or None
    if verdict and verdict not in VERDICTS:
        raise FilterError(f"kết quả không hợp lệ / unknown verdict {verdict!r}")
    return Filters(
        since=_when(values["since"], "since", zone, end=False) if values["since"] else None,
        until=_when(values["until"], "until", zone, end=True) if values["until"] else None,
        sender=values["sender"] or None,
        domain=values["domain"] or None,
        agency=agency,
        verdict=verdict,
        queue_id=values["queue_id"] or None,
        raw=raw,
    )
