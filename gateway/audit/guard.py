"""The one error guard of the log's command-line commands (``hople audit …``, ``hople users
…``, ``hople web``): the errors a person can act on become a one-line message (exit 2),
never a traceback."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable

from gateway.audit.backends import database_errors, first_line
from gateway.audit.credentials import AccountError
from gateway.audit.reports import ReportError
from gateway.audit.retention import RetentionError
from gateway.audit.store import StoreError
from gateway.cli_common import UsageError

__all__ = ["guard", "usage"]

Command = Callable[[argparse.Namespace], int]


def usage(message: str) -> Exception:
    """The CLI's usage error (exit 2 with the message on stderr)."""
    return UsageError(message)


def guard(fn: Command) -> Command:
    """Run a command; the log's, the accounts' and the system's errors end as
    ``COMMAND: one line`` instead of a traceback."""

    @functools.wraps(fn)
    def wrapper(args: argparse.Namespace) -> int:
        name = getattr(args, "command", None) or "hople"
        try:
            return fn(args)
        except (StoreError, RetentionError, ReportError, AccountError) as exc:
            raise usage(f"{name}: {exc}") from None
        except database_errors() as exc:
            raise usage(f"{name}: database error: {first_line(exc)}") from None
        except OSError as exc:
            raise usage(f"{name}: {exc.strerror or exc}") from None

    return wrapper
