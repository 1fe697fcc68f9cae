"""Retention of the decision log: Article 11.2e keeps log files at least 12 months.

``--older-than`` takes a number and a unit: ``18m`` / ``18months`` (calendar months),
``2y`` / ``2years``, ``400d`` / ``400days``, ``60w`` / ``60weeks``. The cutoff is computed in
calendar terms, and anything newer than ``now`` minus 12 calendar months is refused (so
``365d`` is refused across a leap day).
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

__all__ = ["MIN_MONTHS", "RetentionError", "cutoff", "minus_months", "parse_duration"]

MIN_MONTHS = 12

_DURATION = re.compile(
    r"^\s*(\d{1,5})\s*(y|yr|yrs|year|years|m|mo|mon|month|months|w|week|weeks|d|day|days)\s*$",
    re.IGNORECASE,
)


class RetentionError(ValueError):
    """A duration that cannot be parsed or is shorter than the legal minimum."""


def minus_months(at: datetime, months: int) -> datetime:
    """``at`` moved back by calendar months; the day is clamped (31 March − 1 month =
    28/29 February)."""
    total = at.year * 12 + (at.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def parse_duration(text: str) -> tuple[int, str]:
    """``"18m"`` → ``(18, "months")``; units: years, months, weeks, days."""
    m = _DURATION.match(text or "")
    if not m:
        raise RetentionError(
            f"--older-than: {text!r} is not a duration such as 12m, 18months, 2y or 400d"
        )
    n, unit = int(m.group(1)), m.group(2).lower()
    if unit.startswith("y"):
        return n, "years"
    if unit.startswith("m"):
        return n, "months"
    if unit.startswith("w"):
        return n, "weeks"
    return n, "days"


def cutoff(text: str, now: datetime) -> datetime:
    """The time before which records may be purged; refuses less than 12 months."""
    n, unit = parse_duration(text)
    if unit == "years":
        at = minus_months(now, 12 * n)
    elif unit == "months":
        at = minus_months(now, n)
    elif unit == "weeks":
        at = now - timedelta(weeks=n)
    else:
        at = now - timedelta(days=n)
    floor = minus_months(now, MIN_MONTHS)
    if at > floor:
        raise RetentionError(
            f"--older-than {text.strip()}: the decision log must be kept at least "
            f"{MIN_MONTHS} months (Article 11.2e); the earliest allowed cutoff is "
            f"{floor.date().isoformat()}"
        )
    return at
