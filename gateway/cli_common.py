"""What the ``hople`` command and the subcommand modules of each layer share.

``gateway.cli`` imports the subcommand modules (``audit/cli.py``, ``notices/cli.py``…) to
register them; they import their error type and exit codes from here, never from
``gateway.cli``, so the imports do not go round in a circle. This module imports nothing of
ours.
"""

from __future__ import annotations

from datetime import datetime

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in how the command was called (exit 2, one line, no traceback)."""


def parse_time(text: str, option: str = "--at") -> datetime:
    """An ISO 8601 time from the command line; a naive one is local time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: not an ISO time: {text!r}") from None
    return value if value.tzinfo else value.astimezone()


__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "UsageError", "parse_time"]
