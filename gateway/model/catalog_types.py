"""The type of a catalogue entry, kept apart so that ``codes_*`` modules import no catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.model.findings import Action, Severity


@dataclass(frozen=True)
class CodeSpec:
    """One finding code: its article, default severity and action, and text templates.

    Templates use ``str.format`` fields filled from the finding's parameters; a missing
    parameter is left as ``{name}`` rather than failing.
    """

    code: str
    article: str
    severity: Severity
    vi: str
    en: str
    action: Action = Action.ACCEPT
    smtp: str = "550 5.7.1"
    """Reply code and enhanced status used when this finding rejects the message."""
