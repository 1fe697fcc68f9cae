"""What the document inspector (``inspector.py``) and the message check (``message.py``)
share: their options from the rules, the findings they make (placed, with the severity or
action the rules give, the secrecy finding naming the security contact), the ranks of the
secrecy levels and the tone marks whose decomposed form is a finding.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from gateway.inspect.base import InspectContext
from gateway.model.catalog import make_finding
from gateway.model.findings import Action, Finding, Severity

__all__ = ["LEVEL_RANK", "TONES", "Options", "placed_finding", "secret_finding", "snippet",
           "with_rules"]

LEVEL_RANK = {"MẬT": 1, "TỐI MẬT": 2, "TUYỆT MẬT": 3}
"""Secrecy levels, lowest first: the highest level found is the one reported."""
TONES = re.compile("[\u0300\u0301\u0303\u0309\u0323\u0302\u0306\u031b]")
"""The combining marks of Vietnamese letters (tones, circumflex, breve, horn)."""


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


def placed_finding(code: str, *, place: str | None = None, **params: Any) -> Finding:
    """A finding whose texts name its place (``{at}`` in the templates)."""
    return make_finding(code, place=place, at=place or "", **params)


def snippet(text: str, limit: int) -> str:
    s = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()
    return s if len(s) <= limit else s[: max(1, limit - 1)].rstrip() + "…"


def with_rules(f: Finding, *, severity: Severity | None = None,
               action: Action | None = None) -> Finding:
    """``f`` with the severity and action the rules give instead of the catalogue's."""
    return dataclasses.replace(
        f,
        severity=severity if severity is not None else f.severity,
        action=action if action is not None else f.action,
    )


def secret_finding(code: str, opts: Options, **params: Any) -> Finding:
    """A secrecy finding naming the security contact, with the rules' action."""
    contact = opts.security_contact or "—"
    return with_rules(placed_finding(code, contact=contact, **params),
                      action=opts.classified_action)
