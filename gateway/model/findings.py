"""Findings: what an inspector or rule observed, with a stable code and the article it enforces."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    """Ordered: the worst finding decides a document's or a message's verdict."""

    INFO = 10
    """Recorded for the auditor; changes nothing."""
    WARNING = 20
    """Reported to the sender; the document can still be valid."""
    ERROR = 30
    """The document (or message) is not legally valid."""

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {text!r} (info, warning, error)") from None


class Action(enum.IntEnum):
    """What the MTA is told. Ordered: the strongest action of all findings wins."""

    ACCEPT = 0
    TEMPFAIL = 1
    HOLD = 2
    REJECT = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Action:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"unknown action {text!r} (accept, tempfail, hold, reject)") from None


@dataclass(frozen=True)
class Finding:
    """One observation. ``vi``/``en`` are the rendered texts for people."""

    code: str
    article: str
    severity: Severity
    vi: str
    en: str
    action: Action = Action.ACCEPT
    """The action this finding asks of the MTA (set by the rules; accept for most)."""
    place: str | None = None
    """Where in the message or document (part name, paragraph, page), when it helps."""
    smtp: str = "550 5.7.1"
    """Reply code and enhanced status if this finding rejects the message."""
    params: Mapping[str, Any] = field(default_factory=dict, compare=False)
    """The values the texts were rendered with (kept for notices and JSON)."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code,
            "article": self.article,
            "severity": self.severity.label,
            "vi": self.vi,
            "en": self.en,
        }
        if self.place:
            out["place"] = self.place
        return out


def worst_severity(findings: tuple[Finding, ...] | list[Finding]) -> Severity | None:
    return max((f.severity for f in findings), default=None)


def strongest_action(findings: tuple[Finding, ...] | list[Finding]) -> Action:
    return max((f.action for f in findings), default=Action.ACCEPT)
