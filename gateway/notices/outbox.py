"""The durable outbox of notices, table ``notice_outbox`` of the decision store (migration 3).

A notice is written here in the same moment the decision is taken and sent later by the
sender thread (:mod:`gateway.notices.sender`), so a notice survives a restart of the gateway
and an unreachable Postfix. States:

``pending``     waiting for its next attempt (``next_attempt_at``)
``sent``        Postfix accepted it (``sent_at``); its body is then cleared (Article 3.3)
``failed``      refused permanently (5xx) or out of attempts; ``hople notices retry`` re-queues
``suppressed``  never sent, ``reason`` says why (null sender, list, auto-submitted, rate limit)

Sending is at least once: a sender claims a due row by moving its ``next_attempt_at`` a
lease ahead, so two gateways sharing one PostgreSQL log do not send the same notice twice,
and a sender that dies mid-send leaves the row to be retried once the lease ends.

The per-sender rate limit counts the rows of one recipient (``rate_key``, lower-cased)
created within the last hour that were not suppressed. The count and the insert happen in
one write transaction (serialised: SQLite ``BEGIN IMMEDIATE``, PostgreSQL an advisory
lock on the key), so concurrent decisions cannot exceed the limit.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.audit.records import clean_text

STATES = ("pending", "sent", "failed", "suppressed")
RATE_WINDOW = timedelta(hours=1)
RETRY_WINDOW = timedelta(days=5)
"""How long a retried message (same queue id, or same Message-ID) counts as the same message
for its notices: Postfix's default ``maximal_queue_lifetime``, the usual retry horizon of a
sending MTA."""

_COLUMNS = (
    "id, created_at, decision_id, queue_id, kind, recipient, rate_key, subject, body, "
    "message_id, in_reply_to, refs, state, reason, attempts, next_attempt_at, last_error, "
    "sent_at"
)


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    created_at: datetime
    decision_id: int | None
    queue_id: str | None
    kind: str
    recipient: str
    rate_key: str
    subject: str
    body: str
    message_id: str
    in_reply_to: str | None
    refs: str | None
    state: str
    reason: str | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None

    def to_json(self) -> dict[str, Any]:
        def t(v: datetime | None) -> str | None:
            return v.isoformat() if v else None

        return {
            "id": self.id, "created_at": t(self.created_at), "decision_id": self.decision_id,
            "queue_id": self.queue_id, "kind": self.kind, "recipient": self.recipient,
            "subject": self.subject, "message_id": self.message_id,
            "in_reply_to": self.in_reply_to, "state": self.state, "reason": self.reason,
            "attempts": self.attempts, "next_attempt_at": t(self.next_attempt_at),
            "last_error": self.last_error, "sent_at": t(self.sent_at),
        }


def backoff_delay(attempts: int, first: float, cap: float) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: ``first``, doubling each
    time, never more than ``cap`` (60, 120, 240 … 3600 with the defaults)."""
    if attempts < 1:
        return 0.0
    return float(min(cap, first * (2 ** min(attempts - 1, 40))))


def backoff_schedule(max_attempts: int, first: float, cap: float) -> list[float]:
    """The waits between ``max_attempts`` attempts (one fewer than attempts)."""
    return [backoff_delay(n, first, cap) for n in range(1, max_attempts)]


def new_message_id(domain: str | None = None) -> str:
    host = (domain or socket.getfqdn() or "localhost").strip(".") or "localhost"
    return f"<hople-notice.{secrets.token_hex(12)}@{host}>"


class Outbox:
    """The ``notice_outbox`` table of an open :class:`~gateway.audit.store.DecisionStore`.

    Uses the store's connection and lock (a store is one connection behind a lock); open a
    store of its own for a thread that should not wait on the decision writers."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._db = store.database  # the backend: execute / write_tx / read_tx / ts / from_ts
        self._lock = store.lock

    # -- writing -------------------------------------------------------------------------------

    def enqueue(
        self,
        *,
        kind: str,
        recipient: str,
        subject: str,
        body: str,
        message_id: str,
        now: datetime,
        in_reply_to: str | None = None,
        refs: str | None = None,
        decision_id: int | None = None,
        queue_id: str | None = None,
        rate_limit: int | None = None,
    ) -> OutboxEntry:
        """Add a pending notice, or a suppressed row when ``recipient`` already had
        ``rate_limit`` notices within the last hour."""
        db = self._db
        key = recipient.strip().lower()
        with self._lock, db.write_tx():
            state, reason = "pending", None
            if rate_limit is not None:
                if db.name == "postgresql":
                    db.execute("SELECT pg_advisory_xact_lock(7260532, hashtext(?))", (key,))
                count = int(db.execute(
                    "SELECT count(*) FROM notice_outbox WHERE rate_key = ? AND created_at > ? "
                    "AND state <> 'suppressed'",
                    (key, db.ts(now - RATE_WINDOW)),
                )[0][0])
                if count >= rate_limit:
                    state = "suppressed"
                    reason = f"rate limit: {count} notices to this sender within the hour " \
                             f"(notices.rate-limit-per-hour = {rate_limit})"
            row = self._insert(
                kind=kind, recipient=recipient, rate_key=key,
                subject=subject if state == "pending" else "",
                body=body if state == "pending" else "",
                message_id=message_id, in_reply_to=in_reply_to, refs=refs, state=state,
                reason=reason, next_attempt_at=now if state == "pending" else None,
                decision_id=decision_id, queue_id=queue_id, now=now,
            )
        return row

    def already_noticed(self, *, kind: str, recipient: str, queue_id: str | None,
                        in_reply_to: str | None, now: datetime) -> int | None:
        """The id of a notice of this ``kind`` to ``recipient`` already recorded for the same
        message (same queue id, or same Message-ID) within :data:`RETRY_WINDOW`, else None:
        a message retried after a failure does not get a second notice."""
        keys: list[str] = []
        params: list[str] = []
        if queue_id:
            keys.append("queue_id = ?")
            params.append(queue_id)
        if in_reply_to:
            keys.append("in_reply_to = ?")
            params.append(in_reply_to)
        if not keys:
            return None
        db = self._db
        with self._lock, db.read_tx():
            rows = db.execute(
                "SELECT id FROM notice_outbox WHERE kind = ? AND rate_key = ? AND created_at > ?"
                f" AND ({' OR '.join(keys)}) ORDER BY id LIMIT 1",
                (kind, recipient.strip().lower(), db.ts(now - RETRY_WINDOW), *params),
            )
        return int(rows[0][0]) if rows else None

    def suppress(self, *, kind: str, recipient: str, reason: str, now: datetime,
                 decision_id: int | None = None, queue_id: str | None = None,
                 in_reply_to: str | None = None) -> OutboxEntry:
        """Record that no notice was sent, and why (nothing is rendered or kept)."""
        with self._lock, self._db.write_tx():
            return self._insert(
                kind=kind, recipient=recipient, rate_key=recipient.strip().lower(),
                subject="", body="", message_id="", in_reply_to=in_reply_to, refs=None,
                state="suppressed", reason=reason, next_attempt_at=None,
                decision_id=decision_id, queue_id=queue_id, now=now,
            )

    def _insert(self, *, kind: str, recipient: str, rate_key: str, subject: str, body: str,
                message_id: str, in_reply_to: str | None, refs: str | None, state: str,
                reason: str | None, next_attempt_at: datetime | None,
                decision_id: int | None, queue_id: str | None, now: datetime) -> OutboxEntry:
        db = self._db
        rows = db.execute(
            f"INSERT INTO notice_outbox ({_COLUMNS.split(', ', 1)[1]}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, NULL, NULL) RETURNING id",
            (
                db.ts(now), decision_id, clean_text(queue_id), kind,
                clean_text(recipient) or "", clean_text(rate_key) or "",
                _text(subject), _text(body, 200_000), clean_text(message_id) or "",
                clean_text(in_reply_to), _text(refs, 4000) if refs else None, state,
                clean_text(reason), db.ts(next_attempt_at) if next_attempt_at else None,
            ),
        )
        entry_id = int(rows[0][0])
        found = self._get(entry_id)
        assert found is not None
        return found

    def claim_due(self, now: datetime, *, lease_seconds: float = 600.0,
                  limit: int = 20) -> list[OutboxEntry]:
        """Pending notices due at ``now``, each leased to the caller for ``lease_seconds``
        (its ``next_attempt_at`` moves ahead, so no other sender takes it meanwhile)."""
        db = self._db
        lease = now + timedelta(seconds=lease_seconds)
        with self._lock, db.write_tx():
            rows = db.execute(
                "SELECT id FROM notice_outbox WHERE state = 'pending' AND next_attempt_at <= ? "
                "ORDER BY next_attempt_at, id LIMIT ?",
                (db.ts(now), int(limit)),
            )
            claimed: list[int] = []
            for (entry_id,) in rows:
                got = db.execute(
                    "UPDATE notice_outbox SET next_attempt_at = ? WHERE id = ? "
                    "AND state = 'pending' AND next_attempt_at <= ? RETURNING id",
                    (db.ts(lease), int(entry_id), db.ts(now)),
                )
                if got:
                    claimed.append(int(entry_id))
            return [e for e in (self._get(i) for i in claimed) if e is not None]

    def mark_sent(self, entry_id: int, now: datetime) -> None:
        with self._lock, self._db.write_tx():
            self._db.execute(
                "UPDATE notice_outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL, next_attempt_at = NULL, body = '' WHERE id = ?",
                (self._db.ts(now), int(entry_id)),
            )

    def mark_attempt_failed(self, entry_id: int, error: str, now: datetime, *,
                            permanent: bool, max_attempts: int, first: float,
                            cap: float) -> OutboxEntry | None:
        """Count a failed attempt: ``failed`` when permanent or out of attempts, else pending
        again after the backoff delay. Returns the row as it is now."""
        db = self._db
        with self._lock, db.write_tx():
            rows = db.execute("SELECT attempts FROM notice_outbox WHERE id = ?", (int(entry_id),))
            if not rows:
                return None
            attempts = int(rows[0][0]) + 1
            if permanent or attempts >= max_attempts:
                db.execute(
                    "UPDATE notice_outbox SET state = 'failed', attempts = ?, last_error = ?, "
                    "next_attempt_at = NULL WHERE id = ?",
                    (attempts, clean_text(error), int(entry_id)),
                )
            else:
                due = now + timedelta(seconds=backoff_delay(attempts, first, cap))
                db.execute(
                    "UPDATE notice_outbox SET attempts = ?, last_error = ?, next_attempt_at = ? "
                    "WHERE id = ?",
                    (attempts, clean_text(error), db.ts(due), int(entry_id)),
                )
            return self._get(entry_id)

    def retry(self, ids: Sequence[int] | None, now: datetime) -> int:
        """Put failed notices (these ``ids``, or every failed one) back to pending, due now.
        A failed notice whose body is gone (it was sent) cannot be retried."""
        db = self._db
        with self._lock, db.write_tx():
            if ids is None:
                rows = db.execute("SELECT id FROM notice_outbox WHERE state = 'failed'")
                ids = [int(r[0]) for r in rows]
            n = 0
            for entry_id in ids:
                got = db.execute(
                    "UPDATE notice_outbox SET state = 'pending', next_attempt_at = ?, "
                    "attempts = 0 WHERE id = ? AND state = 'failed' AND body <> '' RETURNING id",
                    (db.ts(now), int(entry_id)),
                )
                n += len(got)
            return n

    # -- reading -------------------------------------------------------------------------------

    def _get(self, entry_id: int) -> OutboxEntry | None:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM notice_outbox WHERE id = ?",
                                (int(entry_id),))
        return self._entry(rows[0]) if rows else None

    def get(self, entry_id: int) -> OutboxEntry | None:
        with self._lock:
            return self._get(entry_id)

    def list(self, *, state: str | None = None, decision_id: int | None = None,
             queue_id: str | None = None, limit: int | None = 50) -> list[OutboxEntry]:
        """Newest first."""
        where: list[str] = []
        params: list[Any] = []
        if state is not None:
            where.append("state = ?")
            params.append(state)
        if decision_id is not None:
            where.append("decision_id = ?")
            params.append(int(decision_id))
        if queue_id is not None:
            where.append("queue_id = ?")
            params.append(queue_id)
        sql = f"SELECT {_COLUMNS} FROM notice_outbox"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._lock:
            rows = self._db.execute(sql, params)
        return [self._entry(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Rows per state (every state present, 0 when none): ``pending`` is the depth."""
        with self._lock:
            rows = self._db.execute("SELECT state, count(*) FROM notice_outbox GROUP BY state")
        out = dict.fromkeys(STATES, 0)
        out.update({str(s): int(n) for s, n in rows})
        return out

    def next_due(self) -> datetime | None:
        with self._lock:
            rows = self._db.execute(
                "SELECT min(next_attempt_at) FROM notice_outbox WHERE state = 'pending'")
        value = rows[0][0] if rows else None
        return self._db.from_ts(value) if value is not None else None

    def _entry(self, r: Sequence[Any]) -> OutboxEntry:
        ts = self._db.from_ts
        return OutboxEntry(
            id=int(r[0]), created_at=ts(r[1]),
            decision_id=int(r[2]) if r[2] is not None else None, queue_id=r[3], kind=r[4],
            recipient=r[5], rate_key=r[6], subject=r[7], body=r[8], message_id=r[9],
            in_reply_to=r[10], refs=r[11], state=r[12], reason=r[13], attempts=int(r[14]),
            next_attempt_at=ts(r[15]) if r[15] is not None else None, last_error=r[16],
            sent_at=ts(r[17]) if r[17] is not None else None,
        )


def _text(value: str | None, limit: int = 1000) -> str:
    return clean_text(value or "", limit) or ""


def depth(store: Any) -> int:
    """Pending notices in the outbox of ``store`` (for metrics)."""
    return Outbox(store).counts()["pending"]


__all__ = ["Outbox", "OutboxEntry", "STATES", "backoff_delay", "backoff_schedule", "depth",
           "new_message_id"]
