"""The decision log: SQLite (default, embedded) or PostgreSQL, chosen by URL.

``open_store(url)`` applies the schema migrations and returns a :class:`DecisionStore`.
Every append is serialised (SQLite ``BEGIN IMMEDIATE``; PostgreSQL ``SELECT … FOR UPDATE``
on the chain-head row), so several threads, processes or gateway hosts can write to one log
without breaking the hash chain or losing a record. A store object is safe to share between
threads (one connection behind a lock); each process opens its own.

URLs: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db``,
``postgresql://user:password@host:port/dbname`` (also ``postgres://``; libpq parameters
such as ``?host=/run/postgresql`` work).
"""

from __future__ import annotations

import heapq
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Unpack

from gateway.audit.backends import Backend, StoreError, backend_for, database_errors, first_line
from gateway.audit.group import GroupCommit
from gateway.audit.query import DecisionFilter, Filters, select_decisions
from gateway.audit.records import (
    Checkpoint,
    Decision,
    DocumentRecord,
    FindingRecord,
    canonical_checkpoint,
    canonical_decision_json,
    chain_hash,
    decision_from_report,
    format_time,
    parse_time,
    utc,
)
from gateway.audit.rows import checkpoint_from_row, decision_from_row, document_from_row
from gateway.audit.schema import LATEST, MIGRATIONS
from gateway.audit.verify import Unreadable, VerifyResult, verify_chain
from gateway.model.envelope import Envelope
from gateway.model.report import MessageReport

__all__ = [
    "Checkpoint",
    "Decision",
    "DecisionStore",
    "DocumentRecord",
    "FindingRecord",
    "StoreError",
    "VerifyResult",
    "open_store",
]


def open_store(url: str, *, read_only: bool = False) -> DecisionStore:
    """Open (creating and migrating if needed) the decision log at ``url``.

    ``read_only``: for commands that only read (``hople audit query``, ``show``, ``verify``,
    ``report``), run by people who may only read the log: nothing is created or migrated,
    and a log whose schema is not this gateway's is refused.

    :raises StoreError: with a one-line reason.
    """
    backend = backend_for(url, read_only=read_only)
    failures: tuple[type[BaseException], ...] = (*database_errors(), OSError)
    try:
        return DecisionStore(backend, read_only=read_only)
    except StoreError:
        backend.close()
        raise
    except failures as exc:
        backend.close()
        raise StoreError(f"{backend.name}: cannot open the log: {first_line(exc)}") from None


@dataclass(frozen=True)
class PurgeResult:
    purged: int
    purged_through_seq: int
    checkpoint_seq: int | None
    side_rows: int = 0
    """Rows removed beside the chain: access-log entries and finished notices older than the
    cutoff, and expired web sessions (none of them is part of the hash chain)."""


# -- the store --------------------------------------------------------------------------------

_DECISION_COLUMNS = (
    "id, decided_at, queue_id, message_id, sender, sender_domain, recipients, from_header, "
    "sasl_user, client_addr, client_name, verdict, action, action_taken, smtp_reply, findings, "
    "rules_hash, duration_ms, prev_hash, hash, session_ms"
)
_DOCUMENT_COLUMNS = (
    "decision_id, idx, path, sha256, size, media_type, doc_class, verdict, findings, signatures"
)
_CHECKPOINT_COLUMNS = (
    "seq, created_at, purged_before, purged_count, purged_through_seq, purged_through_hash, "
    "prev_hash, hash"
)


_COLUMN_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(obj: Any) -> str:
    return _COLUMN_JSON.encode(obj)


class DecisionStore:
    """The decision log. Use :func:`open_store` to get one."""

    def __init__(self, backend: Backend, *, read_only: bool = False) -> None:
        self._db = backend
        self._lock = threading.RLock()
        self._appends = GroupCommit(self._lock, self._append_group)
        if read_only:
            self._check_schema()
        else:
            self._migrate()

    @property
    def backend(self) -> str:
        return self._db.name

    @property
    def database(self) -> Backend:
        """The connection, for modules that keep their own tables in this store (accounts,
        access log, notice outbox): ``execute``, ``write_tx``, ``read_tx``, ``ts``, ``from_ts``.
        Hold :attr:`lock` around its use; never touch the chained tables through it."""
        return self._db

    @property
    def lock(self) -> threading.RLock:
        """The lock that serialises use of :attr:`database` within this process."""
        return self._lock

    # -- schema -------------------------------------------------------------------------------

    def _migrate(self) -> None:
        db = self._db
        with self._lock, db.write_tx():
            db.migration_lock()
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, summary TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            rows = db.execute("SELECT max(version) FROM schema_version")
            current = rows[0][0] or 0
            if current > LATEST:
                raise StoreError(
                    f"the log's schema is version {current}, newer than this gateway "
                    f"understands ({LATEST}); upgrade the gateway"
                )
            for m in MIGRATIONS:
                if m.version <= current:
                    continue
                for stmt in m.sqlite if db.name == "sqlite" else m.postgresql:
                    db.execute(stmt)
                db.execute(
                    "INSERT INTO schema_version (version, summary, applied_at) VALUES (?, ?, ?)",
                    (m.version, m.summary, format_time(datetime.now(UTC))),
                )

    def _check_schema(self) -> None:
        """A reader that may not migrate reads only a log of this gateway's schema."""
        try:
            current = self.schema_version()
        except database_errors() as exc:
            raise StoreError(f"{self._db.name}: not a decision log ({first_line(exc)})") from None
        if current != LATEST:
            raise StoreError(
                f"the log's schema is version {current}, this gateway reads version {LATEST}: "
                "it is migrated when the gateway (or a command that may write) opens it")

    def schema_version(self) -> int:
        with self._lock, self._db.read_tx():
            return int(self._db.execute("SELECT max(version) FROM schema_version")[0][0] or 0)

    # -- writing ------------------------------------------------------------------------------

    def record(
        self,
        report: MessageReport,
        envelope: Envelope,
        *,
        decided_at: datetime,
        action_taken: str | None = None,
        session_ms: float | None = None,
    ) -> int:
        """Append one decision (and its documents) to the chain; returns its id (= seq).
        ``session_ms``: milliseconds from the first byte the milter saw of the message until
        its answer was handed to the MTA (None for offline checks).

        Records appended by several threads at once share one transaction
        (:mod:`gateway.audit.group`); this returns only once the commit that holds the record
        is done, so a returned id is durable (``synchronous = FULL``)."""
        draft = decision_from_report(
            report, envelope, decided_at=decided_at, action_taken=action_taken,
            session_ms=session_ms,
        )
        return self._appends.submit(draft)

    def _append_group(self, drafts: list[Decision]) -> list[int]:
        """Append ``drafts`` in one transaction; their sequence numbers once committed."""
        db = self._db
        seqs: list[int] = []
        with db.write_tx():
            seq, prev = self._head_for_update()
            for draft in drafts:
                seq += 1
                body = draft.to_json()  # once: for the hash and for the JSON columns
                digest = chain_hash(prev, canonical_decision_json(body, seq))
                self._insert_decision(draft, body, seq, prev, digest)
                prev = digest
                seqs.append(seq)
            db.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (seq, prev))
        return seqs

    def _head_for_update(self) -> tuple[int, str]:
        rows = self._db.execute("SELECT seq, hash FROM chain_head WHERE id = 1" +
                                self._db.lock_head)
        if not rows:
            raise StoreError("the chain head row is missing: the log was altered")
        return int(rows[0][0]), str(rows[0][1])

    def _insert_decision(self, d: Decision, body: dict[str, Any], seq: int, prev_hash: str,
                         digest: str) -> None:
        """Write draft ``d`` as record ``seq`` of the chain; ``body`` is ``d.to_json()``, whose
        lists are the JSON columns."""
        db = self._db
        db.execute(
            f"INSERT INTO decisions ({_DECISION_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                seq, db.ts(d.decided_at), d.queue_id, d.message_id, d.sender,
                d.sender_domain, _json(body["recipients"]), d.from_header, d.sasl_user,
                d.client_addr, d.client_name, d.verdict, d.action, d.action_taken,
                d.smtp_reply, _json(body["findings"]), d.rules_hash,
                d.duration_ms, prev_hash, digest, d.session_ms,
            ),
        )
        if d.documents:
            db.executemany(
                f"INSERT INTO documents ({_DOCUMENT_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        seq, doc.idx, doc.path, doc.sha256, doc.size, doc.media_type,
                        doc.doc_class, doc.verdict, _json(doc_json["findings"]),
                        _json(doc_json["signatures"]),
                    )
                    for doc, doc_json in zip(d.documents, body["documents"], strict=True)
                ],
            )

    # -- reading ------------------------------------------------------------------------------

    def query(
        self,
        *,
        limit: int | None = None,
        oldest_first: bool = False,
        **filters: Unpack[Filters],
    ) -> list[Decision]:
        """Decisions matching every given filter (:class:`~gateway.audit.query.DecisionFilter`),
        newest first, each with its documents."""
        sql, params = select_decisions(self._db, _DECISION_COLUMNS, DecisionFilter(**filters),
                                       order="ASC" if oldest_first else "DESC", limit=limit)
        with self._lock, self._db.read_tx():
            rows = self._db.execute(sql, params)
            decisions: list[Decision] = self._with_documents(rows)
            return decisions

    def count(self, **filters: Unpack[Filters]) -> int:
        """How many decisions :meth:`query` with these filters would return."""
        sql, params = select_decisions(self._db, "count(*)", DecisionFilter(**filters))
        with self._lock, self._db.read_tx():
            return int(self._db.execute(sql, params)[0][0])

    def iter_query(self, *, batch: int = 1000, **filters: Unpack[Filters]) -> Iterator[Decision]:
        """Like :meth:`query`, oldest first, fetched in batches (for exports and reports)."""
        selected = DecisionFilter(**filters)
        last = 0
        while True:
            sql, params = select_decisions(self._db, _DECISION_COLUMNS, selected, after_id=last,
                                           order="ASC", limit=batch)
            with self._lock, self._db.read_tx():
                rows = self._db.execute(sql, params)
                decisions: list[Decision] = self._with_documents(rows)
            yield from decisions
            if len(rows) < batch:
                return
            last = decisions[-1].id

    def get(self, decision_id: int) -> Decision | None:
        """One decision with its documents and findings, or None."""
        with self._lock, self._db.read_tx():
            rows = self._db.execute(
                f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE id = ?", (int(decision_id),)
            )
            found = self._with_documents(rows)
        return found[0] if found else None

    def _with_documents(
        self, rows: list[tuple[Any, ...]], lenient: bool = False
    ) -> list[Any]:
        """Rows → decisions with their documents. A row that no longer parses (altered
        directly) raises :class:`StoreError`, or with ``lenient`` becomes an
        :class:`Unreadable` for the verifier to report."""
        if not rows:
            return []
        ids = [int(r[0]) for r in rows]
        docs: dict[int, list[DocumentRecord]] = {i: [] for i in ids}
        bad: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            for r in self._db.execute(
                f"SELECT {_DOCUMENT_COLUMNS} FROM documents WHERE decision_id IN ({marks}) "
                "ORDER BY decision_id, idx",
                chunk,
            ):
                try:
                    docs[int(r[0])].append(document_from_row(r))
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    bad[int(r[0])] = f"document {r[1]}: {type(exc).__name__}"
        out: list[Any] = []
        for r in rows:
            rid = int(r[0])
            try:
                if rid in bad:
                    raise ValueError(bad[rid])
                out.append(decision_from_row(self._db, r, tuple(docs[rid])))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                if not lenient:
                    raise StoreError(
                        f"decision {rid} cannot be read ({exc}): it was altered directly; "
                        "run `hople audit verify`"
                    ) from None
                out.append(Unreadable(rid, str(r[18]), str(r[19]), str(exc)))
        return out

    def checkpoints(self) -> list[Checkpoint]:
        with self._lock, self._db.read_tx():
            rows = self._db.execute(f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY seq")
        return [checkpoint_from_row(self._db, r) for r in rows]

    def head(self) -> tuple[int, str]:
        """The chain head: last sequence number and its hash."""
        with self._lock, self._db.read_tx():
            rows = self._db.execute("SELECT seq, hash FROM chain_head WHERE id = 1")
        if not rows:
            raise StoreError("the chain head row is missing: the log was altered")
        return int(rows[0][0]), str(rows[0][1])

    # -- chain verification ------------------------------------------------------------------

    def iter_chain(self, batch: int = 1000) -> Iterator[tuple[int, Any]]:
        """Decisions and checkpoints by sequence number (for the verifier, inside its read
        transaction); a row that no longer parses comes as an :class:`Unreadable`."""
        def decisions() -> Iterator[tuple[int, Any]]:
            last = -1
            while True:
                rows = self._db.execute(
                    f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE id > ? "
                    "ORDER BY id LIMIT ?",
                    (last, batch),
                )
                for d in self._with_documents(rows, lenient=True):
                    yield d.id, d
                if len(rows) < batch:
                    return
                last = int(rows[-1][0])

        def checkpoints() -> Iterator[tuple[int, Any]]:
            last = -1
            while True:
                rows = self._db.execute(
                    f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE seq > ? "
                    "ORDER BY seq LIMIT ?",
                    (last, batch),
                )
                for r in rows:
                    try:
                        yield int(r[0]), checkpoint_from_row(self._db, r)
                    except (ValueError, TypeError) as exc:
                        yield int(r[0]), Unreadable(int(r[0]), str(r[6]), str(r[7]), str(exc))
                if len(rows) < batch:
                    return
                last = int(rows[-1][0])

        yield from heapq.merge(decisions(), checkpoints(), key=lambda t: t[0])

    def latest_checkpoint(self) -> tuple[int, Checkpoint | Unreadable] | None:
        """The newest purge checkpoint (for the verifier, inside its read transaction)."""
        rows = self._db.execute(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY seq DESC LIMIT 1")
        if not rows:
            return None
        r = rows[0]
        try:
            return int(r[0]), checkpoint_from_row(self._db, r)
        except (ValueError, TypeError) as exc:
            return int(r[0]), Unreadable(int(r[0]), str(r[6]), str(r[7]), str(exc))

    def verify(
        self,
        *,
        max_problems: int = 20,
        progress: Callable[[int], object] | None = None,
        anchors: Sequence[tuple[int, str]] = (),
    ) -> VerifyResult:
        """Check the whole chain: see :func:`gateway.audit.verify.verify_chain`."""
        return verify_chain(self, max_problems=max_problems, progress=progress, anchors=anchors)

    # -- retention ---------------------------------------------------------------------------

    def purge(self, before: datetime, *, now: datetime | None = None) -> PurgeResult:
        """Delete the oldest records decided before ``before`` and append a checkpoint.

        Only a prefix of the chain is removed (up to the first record at or after
        ``before``), so what remains stays verifiable from the checkpoint. The caller
        enforces the minimum retention; see :func:`gateway.audit.retention.cutoff`.
        """
        now = utc(now or datetime.now(UTC))
        db = self._db
        with self._lock, db.write_tx():
            head_seq, head_hash = self._head_for_update()
            side = self._purge_side_tables(before, now)
            keep = db.execute("SELECT min(id) FROM decisions WHERE decided_at >= ?",
                              (db.ts(before),))[0][0]
            through = (int(keep) - 1) if keep is not None else head_seq
            first = db.execute(
                "SELECT min(s) FROM (SELECT min(id) AS s FROM decisions "
                "UNION ALL SELECT min(seq) AS s FROM checkpoints) AS t"
            )[0][0]
            if first is None or through < int(first):
                return PurgeResult(0, 0, None, side)
            rows = db.execute("SELECT hash FROM decisions WHERE id = ?", (through,)) or \
                db.execute("SELECT hash FROM checkpoints WHERE seq = ?", (through,))
            if not rows:
                raise StoreError(f"record seq {through} is missing; run `hople audit verify`")
            through_hash = str(rows[0][0])
            n_dec = int(db.execute("SELECT count(*) FROM decisions WHERE id <= ?",
                                   (through,))[0][0])
            n_cp = int(db.execute("SELECT count(*) FROM checkpoints WHERE seq <= ?",
                                  (through,))[0][0])
            db.execute("DELETE FROM documents WHERE decision_id <= ?", (through,))
            db.execute("DELETE FROM decisions WHERE id <= ?", (through,))
            db.execute("DELETE FROM checkpoints WHERE seq <= ?", (through,))
            seq = head_seq + 1
            cp = Checkpoint(
                seq=seq,
                created_at=parse_time(format_time(now)),
                purged_before=parse_time(format_time(before)),
                purged_count=n_dec + n_cp,
                purged_through_seq=through,
                purged_through_hash=through_hash,
                prev_hash=head_hash,
            )
            cp = replace(cp, hash=chain_hash(head_hash, canonical_checkpoint(cp)))
            db.execute(
                f"INSERT INTO checkpoints ({_CHECKPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (cp.seq, db.ts(cp.created_at), db.ts(cp.purged_before), cp.purged_count,
                 cp.purged_through_seq, cp.purged_through_hash, cp.prev_hash, cp.hash),
            )
            db.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (seq, cp.hash))
        return PurgeResult(n_dec + n_cp, through, seq, side)

    def _purge_side_tables(self, before: datetime, now: datetime) -> int:
        """Within the purge's transaction: the same retention for the tables beside the chain."""
        db = self._db
        removed = 0
        for table, condition, value in (
            ("access_log", "at < ?", before),
            ("notice_outbox", "created_at < ? AND state IN ('sent', 'failed', 'suppressed')",
             before),
            ("web_sessions", "expires_at < ?", now),
        ):
            removed += int(db.execute(f"SELECT count(*) FROM {table} WHERE {condition}",
                                      (db.ts(value),))[0][0])
            db.execute(f"DELETE FROM {table} WHERE {condition}", (db.ts(value),))
        return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> DecisionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
