"""Which decisions a query of the log selects: the filters and the SQL they become.

One place builds the ``WHERE`` of every read of the ``decisions`` table by filter, so
:meth:`DecisionStore.query`, :meth:`~DecisionStore.count` and
:meth:`~DecisionStore.iter_query` (and everything above them: ``hople audit``, the web page,
the reports) select exactly the same rows for the same filters on both backends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, TypedDict


class Filters(TypedDict, total=False):
    """The keyword filters of the store's read methods (all optional, all combined)."""

    since: datetime | None
    until: datetime | None
    sender: str | None
    domain: str | None
    verdict: str | None
    queue_id: str | None


class _Dialect(Protocol):
    name: str

    def ts(self, value: datetime) -> Any: ...


@dataclass(frozen=True)
class DecisionFilter:
    """``since`` inclusive, ``until`` exclusive; ``sender`` exact and case-insensitive
    (angle brackets ignored); ``domain`` the domain or any of its subdomains, whole labels
    only; ``verdict`` and ``queue_id`` exact."""

    since: datetime | None = None
    until: datetime | None = None
    sender: str | None = None
    domain: str | None = None
    verdict: str | None = None
    queue_id: str | None = None

    def clauses(self, db: _Dialect) -> tuple[list[str], list[Any]]:
        """SQL conditions (``?`` placeholders) and their parameters, for ``db``'s dialect."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.since is not None:
            clauses.append("decided_at >= ?")
            params.append(db.ts(self.since))
        if self.until is not None:
            clauses.append("decided_at < ?")
            params.append(db.ts(self.until))
        if self.sender is not None:
            clauses.append("sender = ? COLLATE NOCASE" if db.name == "sqlite"
                           else "lower(sender) = lower(?)")
            params.append(self.sender.strip().strip("<>"))
        if self.domain is not None:
            d = self.domain.strip().lstrip("@").rstrip(".").lower()
            literal = d.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            # PostgreSQL's LIKE escapes with a backslash by default; SQLite has no default.
            escape = " ESCAPE '\\'" if db.name == "sqlite" else ""
            clauses.append(f"(sender_domain = ? OR sender_domain LIKE ?{escape})")
            params.extend([d, "%." + literal])
        if self.verdict is not None:
            clauses.append("verdict = ?")
            params.append(self.verdict)
        if self.queue_id is not None:
            clauses.append("queue_id = ?")
            params.append(self.queue_id)
        return clauses, params


def select_decisions(
    db: _Dialect,
    columns: str,
    selected: DecisionFilter,
    *,
    after_id: int | None = None,
    order: Literal["ASC", "DESC"] | None = None,
    limit: int | None = None,
) -> tuple[str, list[Any]]:
    """``SELECT columns FROM decisions`` for the rows ``selected`` keeps (and, for reading in
    batches, only those after ``after_id``), ordered by id, at most ``limit``."""
    clauses, params = selected.clauses(db)
    if after_id is not None:
        clauses.append("id > ?")
        params.append(int(after_id))
    sql = f"SELECT {columns} FROM decisions"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    if order is not None:
        sql += f" ORDER BY id {order}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return sql, params
