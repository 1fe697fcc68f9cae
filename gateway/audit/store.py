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

import contextlib
import fcntl
import heapq
import itertools
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from gateway.audit.records import (
    GENESIS,
    Checkpoint,
    Decision,
    DocumentRecord,
    FindingRecord,
    canonical_checkpoint,
    canonical_decision,
    chain_hash,
    decision_from_report,
    format_time,
    parse_time,
    utc,
)
from gateway.audit.schema import LATEST, MIGRATIONS
from gateway.model.envelope import Envelope
from gateway.model.report import MessageReport

__all__ = [
    "Checkpoint",
    "Decision",
    "DecisionStore",
    "DocumentRecord",
    "FindingRecord",
    "StoreError",
    "open_store",
]


class StoreError(Exception):
    """The log cannot be opened or used (bad URL, unreachable server, newer schema…)."""


# -- backends ---------------------------------------------------------------------------------


class _Backend:
    name = ""
    lock_head = ""
    """SQL suffix that locks the chain-head row inside the append transaction."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        raise NotImplementedError

    def write_tx(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def read_tx(self) -> contextlib.AbstractContextManager[None]:
        raise NotImplementedError

    def ts(self, value: datetime) -> Any:
        raise NotImplementedError

    def from_ts(self, value: Any) -> datetime:
        raise NotImplementedError

    def migration_lock(self) -> None:
        """Called first inside the migration transaction."""

    def close(self) -> None:
        raise NotImplementedError


class _Sqlite(_Backend):
    name = "sqlite"

    def __init__(self, path: str) -> None:
        self.path = path
        if path != ":memory:":
            parent = Path(path).parent
            if not parent.is_dir():
                raise StoreError(f"sqlite: directory {parent} does not exist")
        self._lock_fd: int | None = None
        try:
            self.conn = sqlite3.connect(
                path, timeout=60.0, isolation_level=None, check_same_thread=False
            )
            if path != ":memory:":
                try:
                    self._lock_fd = os.open(path + ".lock", os.O_RDWR | os.O_CREAT, 0o660)
                except OSError:
                    self._lock_fd = None  # read-only place: SQLite's own locking still holds
            self.conn.execute("PRAGMA busy_timeout = 60000")
            with self._file_lock():  # switching a new file to WAL does not wait when busy
                mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if path != ":memory:" and str(mode).lower() != "wal":
                raise StoreError(f"sqlite: {path}: cannot switch to WAL mode (got {mode})")
            self.conn.execute("PRAGMA synchronous = FULL")
            self.conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite: {path}: {exc}") from None

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        self.conn.executemany(sql, rows)

    @contextlib.contextmanager
    def _tx(self, begin: str) -> Iterator[None]:
        self.conn.execute(begin)
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextlib.contextmanager
    def write_tx(self) -> Iterator[None]:
        # Writers of other processes queue on an advisory file lock first: the kernel wakes
        # a waiter as soon as the lock is free, where SQLite's own busy handler sleeps and
        # can starve one process while another appends in a loop.
        with self._file_lock(), self._tx("BEGIN IMMEDIATE"):
            yield

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if self._lock_fd is None:
            yield
            return
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def read_tx(self) -> contextlib.AbstractContextManager[None]:
        return self._tx("BEGIN")

    def ts(self, value: datetime) -> Any:
        return format_time(value)

    def from_ts(self, value: Any) -> datetime:
        return parse_time(value)

    def close(self) -> None:
        self.conn.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


class _Postgres(_Backend):
    name = "postgresql"
    lock_head = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError:
            raise StoreError("postgresql: the psycopg package is not installed") from None
        self._psycopg = psycopg
        self.url = url
        self.conn = self._connect()

    def _connect(self) -> Any:
        psycopg = self._psycopg
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=15)
            conn.execute("SET TIME ZONE 'UTC'")
        except psycopg.Error as exc:
            raise StoreError(f"postgresql: cannot connect: {_first_line(exc)}") from None
        return conn

    def _lost(self) -> bool:
        return bool(self.conn.closed or self.conn.broken)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """A transaction on a live connection: a connection lost since the last use (server
        restart, failover, idle timeout) is replaced before anything is sent, so no
        statement of the transaction can run twice."""
        if self._lost():
            self.conn = self._connect()
        stack = contextlib.ExitStack()
        try:
            stack.enter_context(self.conn.transaction())
        except self._psycopg.OperationalError:
            if not self._lost():
                raise
            self.conn = self._connect()  # BEGIN found the connection dead: nothing ran
            stack.enter_context(self.conn.transaction())
        with stack:
            yield

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(self._sql(sql), tuple(params))  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []

    def executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(self._sql(sql), rows)  # type: ignore[arg-type]

    def write_tx(self) -> contextlib.AbstractContextManager[None]:
        return self._transaction()

    @contextlib.contextmanager
    def read_tx(self) -> Iterator[None]:
        with self._transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield

    def migration_lock(self) -> None:
        # One migrator at a time across every gateway sharing the database.
        self.conn.execute("SELECT pg_advisory_xact_lock(7260531)")

    def ts(self, value: datetime) -> Any:
        return utc(value)

    def from_ts(self, value: Any) -> datetime:
        return utc(value)

    def close(self) -> None:
        self.conn.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _backend_for(url: str) -> _Backend:
    if url.startswith("sqlite://"):
        rest = url[len("sqlite://"):]
        if not rest.startswith("/") or len(rest) < 2:
            raise StoreError(f"bad sqlite URL {url!r}: use sqlite:///relative.db or "
                             "sqlite:////absolute/path.db")
        path = rest[1:]
        return _Sqlite(path)
    if url.startswith(("postgresql://", "postgres://")):
        return _Postgres(url)
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise StoreError(f"unsupported log URL scheme {scheme!r} (sqlite:// or postgresql://)")


def open_store(url: str) -> "DecisionStore":
    """Open (creating and migrating if needed) the decision log at ``url``.

    :raises StoreError: with a one-line reason.
    """
    backend = _backend_for(url)
    try:
        return DecisionStore(backend)
    except StoreError:
        backend.close()
        raise
    except Exception as exc:
        backend.close()
        raise StoreError(f"{backend.name}: cannot open the log: {_first_line(exc)}") from None


# -- verification results -------------------------------------------------------------------


@dataclass(frozen=True)
class Unreadable:
    """A decision row that no longer parses (found by the verifier)."""

    id: int
    prev_hash: str
    hash: str
    reason: str


@dataclass(frozen=True)
class Problem:
    seq: int
    kind: str
    """``edited``, ``deleted``, ``inserted`` or ``relinked``."""
    message: str


@dataclass(frozen=True)
class VerifyResult:
    checked: int
    head_seq: int
    head_hash: str
    start_seq: int
    """First sequence number checked (1, or the one after the last purge)."""
    problems: tuple[Problem, ...]
    notes: tuple[str, ...] = ()
    """Things worth saying that are not problems (an anchor that was purged)."""

    @property
    def ok(self) -> bool:
        return not self.problems


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


def _json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


class DecisionStore:
    """The decision log. Use :func:`open_store` to get one."""

    def __init__(self, backend: _Backend) -> None:
        self._db = backend
        self._lock = threading.RLock()
        self._migrate()

    @property
    def backend(self) -> str:
        return self._db.name

    @property
    def database(self) -> _Backend:
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
                    (m.version, m.summary, format_time(datetime.now(timezone.utc))),
                )

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
        its answer was handed to the MTA (None for offline checks)."""
        draft = decision_from_report(
            report, envelope, decided_at=decided_at, action_taken=action_taken,
            session_ms=session_ms,
        )
        db = self._db
        with self._lock, db.write_tx():
            seq, prev = self._head_for_update()
            seq += 1
            d = replace(draft, id=seq, prev_hash=prev)
            d = replace(d, hash=chain_hash(prev, canonical_decision(d)))
            self._insert_decision(d)
            db.execute("UPDATE chain_head SET seq = ?, hash = ? WHERE id = 1", (seq, d.hash))
        return seq

    def _head_for_update(self) -> tuple[int, str]:
        rows = self._db.execute("SELECT seq, hash FROM chain_head WHERE id = 1" +
                                self._db.lock_head)
        if not rows:
            raise StoreError("the chain head row is missing: the log was altered")
        return int(rows[0][0]), str(rows[0][1])

    def _insert_decision(self, d: Decision) -> None:
        db = self._db
        db.execute(
            f"INSERT INTO decisions ({_DECISION_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                d.id, db.ts(d.decided_at), d.queue_id, d.message_id, d.sender,
                d.sender_domain, _json(list(d.recipients)), d.from_header, d.sasl_user,
                d.client_addr, d.client_name, d.verdict, d.action, d.action_taken,
                d.smtp_reply, _json([f.to_json() for f in d.findings]), d.rules_hash,
                d.duration_ms, d.prev_hash, d.hash, d.session_ms,
            ),
        )
        if d.documents:
            db.executemany(
                f"INSERT INTO documents ({_DOCUMENT_COLUMNS}) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        d.id, doc.idx, doc.path, doc.sha256, doc.size, doc.media_type,
                        doc.doc_class, doc.verdict, _json([f.to_json() for f in doc.findings]),
                        _json([dict(s) for s in doc.signatures]),
                    )
                    for doc in d.documents
                ],
            )

    # -- reading ------------------------------------------------------------------------------

    def _where(
        self,
        since: datetime | None,
        until: datetime | None,
        sender: str | None,
        domain: str | None,
        verdict: str | None,
        queue_id: str | None,
    ) -> tuple[str, list[Any]]:
        db = self._db
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            clauses.append("decided_at >= ?")
            params.append(db.ts(since))
        if until is not None:
            clauses.append("decided_at < ?")
            params.append(db.ts(until))
        if sender is not None:
            if db.name == "sqlite":
                clauses.append("sender = ? COLLATE NOCASE")
                params.append(sender.strip().strip("<>"))
            else:
                clauses.append("lower(sender) = lower(?)")
                params.append(sender.strip().strip("<>"))
        if domain is not None:
            d = domain.strip().lstrip("@").rstrip(".").lower()
            clauses.append("(sender_domain = ? OR sender_domain LIKE ?)")
            literal = d.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.extend([d, "%." + literal])
            if db.name == "sqlite":
                clauses[-1] = "(sender_domain = ? OR sender_domain LIKE ? ESCAPE '\\')"
        if verdict is not None:
            clauses.append("verdict = ?")
            params.append(verdict)
        if queue_id is not None:
            clauses.append("queue_id = ?")
            params.append(queue_id)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def query(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sender: str | None = None,
        domain: str | None = None,
        verdict: str | None = None,
        queue_id: str | None = None,
        limit: int | None = None,
        oldest_first: bool = False,
    ) -> list[Decision]:
        """Decisions matching every given filter, newest first (``since`` inclusive,
        ``until`` exclusive; ``sender`` exact and case-insensitive; ``domain`` also matches
        its subdomains), each with its documents."""
        where, params = self._where(since, until, sender, domain, verdict, queue_id)
        order = "ASC" if oldest_first else "DESC"
        sql = f"SELECT {_DECISION_COLUMNS} FROM decisions{where} ORDER BY id {order}"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._lock, self._db.read_tx():
            rows = self._db.execute(sql, params)
            return self._with_documents(rows)

    def count(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sender: str | None = None,
        domain: str | None = None,
        verdict: str | None = None,
        queue_id: str | None = None,
    ) -> int:
        where, params = self._where(since, until, sender, domain, verdict, queue_id)
        with self._lock, self._db.read_tx():
            return int(self._db.execute(f"SELECT count(*) FROM decisions{where}", params)[0][0])

    def iter_query(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        sender: str | None = None,
        domain: str | None = None,
        verdict: str | None = None,
        queue_id: str | None = None,
        batch: int = 1000,
    ) -> Iterator[Decision]:
        """Like :meth:`query`, oldest first, fetched in batches (for exports and reports)."""
        where, params = self._where(since, until, sender, domain, verdict, queue_id)
        joiner = " AND " if where else " WHERE "
        last = 0
        while True:
            sql = (f"SELECT {_DECISION_COLUMNS} FROM decisions{where}{joiner}id > ? "
                   "ORDER BY id ASC LIMIT ?")
            with self._lock, self._db.read_tx():
                rows = self._db.execute(sql, [*params, last, batch])
                decisions = self._with_documents(rows)
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
                    docs[int(r[0])].append(_document(r))
                except (ValueError, TypeError, KeyError, AttributeError) as exc:
                    bad[int(r[0])] = f"document {r[1]}: {type(exc).__name__}"
        out: list[Any] = []
        for r in rows:
            rid = int(r[0])
            try:
                if rid in bad:
                    raise ValueError(bad[rid])
                out.append(self._decision(r, tuple(docs[rid])))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                if not lenient:
                    raise StoreError(
                        f"decision {rid} cannot be read ({exc}): it was altered directly; "
                        "run `hople audit verify`"
                    ) from None
                out.append(Unreadable(rid, str(r[18]), str(r[19]), str(exc)))
        return out

    def _decision(self, r: tuple[Any, ...], documents: tuple[DocumentRecord, ...]) -> Decision:
        return Decision(
            id=int(r[0]),
            decided_at=self._db.from_ts(r[1]),
            queue_id=r[2],
            message_id=r[3],
            sender=r[4],
            sender_domain=r[5] or "",
            recipients=tuple(json.loads(r[6])),
            from_header=r[7],
            sasl_user=r[8],
            client_addr=r[9],
            client_name=r[10],
            verdict=r[11],
            action=r[12],
            action_taken=r[13],
            smtp_reply=r[14],
            findings=tuple(FindingRecord.from_json(f) for f in json.loads(r[15])),
            rules_hash=r[16],
            duration_ms=float(r[17]),
            documents=documents,
            prev_hash=r[18],
            hash=r[19],
            session_ms=None if r[20] is None else float(r[20]),
        )

    def checkpoints(self) -> list[Checkpoint]:
        with self._lock, self._db.read_tx():
            rows = self._db.execute(f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY seq")
        return [self._checkpoint(r) for r in rows]

    def _checkpoint(self, r: tuple[Any, ...]) -> Checkpoint:
        return Checkpoint(
            seq=int(r[0]),
            created_at=self._db.from_ts(r[1]),
            purged_before=self._db.from_ts(r[2]),
            purged_count=int(r[3]),
            purged_through_seq=int(r[4]),
            purged_through_hash=str(r[5]),
            prev_hash=str(r[6]),
            hash=str(r[7]),
        )

    def head(self) -> tuple[int, str]:
        """The chain head: last sequence number and its hash."""
        with self._lock, self._db.read_tx():
            rows = self._db.execute("SELECT seq, hash FROM chain_head WHERE id = 1")
        if not rows:
            raise StoreError("the chain head row is missing: the log was altered")
        return int(rows[0][0]), str(rows[0][1])

    # -- chain verification ------------------------------------------------------------------

    def _iter_chain(self, batch: int = 1000) -> Iterator[tuple[int, Any]]:
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
                        yield int(r[0]), self._checkpoint(r)
                    except (ValueError, TypeError) as exc:
                        yield int(r[0]), Unreadable(int(r[0]), str(r[6]), str(r[7]), str(exc))
                if len(rows) < batch:
                    return
                last = int(rows[-1][0])

        yield from heapq.merge(decisions(), checkpoints(), key=lambda t: t[0])

    def verify(
        self,
        *,
        max_problems: int = 20,
        progress: Any = None,
        anchors: Sequence[tuple[int, str]] = (),
    ) -> VerifyResult:
        """Check the whole chain from the genesis (or the last purge checkpoint) to the head.

        Detects records whose content no longer matches their hash (edited), missing
        sequence numbers (deleted), duplicate or extra records (inserted) and links that do
        not match the previous record. ``progress`` (optional) is called with the number of
        records checked so far.

        ``anchors`` are ``(seq, hash)`` pairs recorded outside the database earlier (the
        head printed by a previous verify or report). A chain rewritten from some record to
        the head, or cut short, by someone able to recompute every hash is consistent in
        itself; it cannot match an anchor taken before the rewrite.
        """
        wanted = {int(seq): str(h).lower() for seq, h in anchors}
        notes: list[str] = []
        problems: list[Problem] = []

        def problem(seq: int, kind: str, message: str) -> None:
            if len(problems) < max_problems:
                problems.append(Problem(seq, kind, message))

        with self._lock, self._db.read_tx():
            head = self._db.execute("SELECT seq, hash FROM chain_head WHERE id = 1")
            if not head:
                return VerifyResult(0, 0, "", 0, (Problem(
                    0, "deleted", "the chain head row is missing (deleted directly)"),))
            head_seq, head_hash = int(head[0][0]), str(head[0][1])
            firsts = self._db.execute(
                "SELECT min(s) FROM (SELECT min(id) AS s FROM decisions "
                "UNION ALL SELECT min(seq) AS s FROM checkpoints) AS t"
            )
            first_seq = firsts[0][0]
            latest_cp = self._db.execute(
                f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY seq DESC LIMIT 1"
            )
            cp = None
            if latest_cp:
                try:
                    cp = self._checkpoint(latest_cp[0])
                except (ValueError, TypeError) as exc:
                    seq = int(latest_cp[0][0])
                    return VerifyResult(0, head_seq, head_hash, 0, (Problem(
                        seq, "edited", f"checkpoint seq {seq} was edited: a stored value no "
                        f"longer parses ({exc})"),))

            if cp is not None:
                expect_seq, expect_prev = cp.purged_through_seq + 1, cp.purged_through_hash
            else:
                expect_seq, expect_prev = 1, GENESIS
            start_seq = expect_seq
            if first_seq is not None and int(first_seq) < expect_seq and cp is not None:
                # Records older than the checkpoint claims: they were put back or inserted.
                problem(int(first_seq), "inserted",
                        f"record seq {first_seq} precedes the purge checkpoint (seq {cp.seq}), "
                        f"which says seq 1..{cp.purged_through_seq} were purged: "
                        "it was inserted directly")
            checked = 0
            last_hash = expect_prev
            for seq, group in itertools.groupby(self._iter_chain(), key=lambda t: t[0]):
                if seq < start_seq:
                    continue
                entries = [rec for _, rec in group]
                checked += len(entries)
                if progress is not None and checked % 1000 < len(entries):
                    progress(checked)
                rec = entries[0]
                if len(entries) > 1:
                    # Two rows claim one sequence number: keep the one that fits the chain.
                    fitting = [e for e in entries
                               if _content_ok(e) and e.prev_hash == last_hash]
                    rec = fitting[0] if fitting else entries[0]
                    for other in entries:
                        if other is not rec:
                            problem(seq, "inserted",
                                    f"{_label(other)} duplicates seq {seq} of {_label(rec)}: "
                                    "it was inserted directly")
                label = _label(rec)
                if seq != expect_seq:
                    if expect_seq == seq - 1:
                        span = f"record seq {expect_seq} is"
                    else:
                        span = f"records seq {expect_seq}..{seq - 1} are"
                    problem(expect_seq, "deleted",
                            f"{span} missing (deleted directly); the next record is {label}")
                if isinstance(rec, Unreadable):
                    problem(seq, "edited", f"{label} was edited: a stored value no longer "
                            f"parses ({rec.reason})")
                elif not _content_ok(rec):
                    problem(seq, "edited",
                            f"{label} was edited: its content no longer matches its hash")
                elif rec.prev_hash != last_hash and seq == expect_seq:
                    problem(seq, "relinked",
                            f"{label} does not link to the record before it (seq {seq - 1}): "
                            f"seq {seq - 1} was edited, replaced or re-inserted")
                # after a gap the link cannot match: the missing records explain it
                if seq in wanted:
                    if rec.hash != wanted.pop(seq):
                        problem(seq, "edited",
                                f"{label} does not have the hash anchored earlier: the chain "
                                "was rewritten from this record or before it")
                last_hash = rec.hash
                expect_seq = seq + 1
            last_seq = expect_seq - 1
            if last_seq < head_seq:
                if last_seq + 1 == head_seq:
                    what = f"record seq {head_seq} is"
                else:
                    what = f"records seq {last_seq + 1}..{head_seq} are"
                problem(last_seq + 1, "deleted",
                        f"{what} missing at the end of the log (deleted directly); "
                        f"the chain head says seq {head_seq}")
            elif last_seq > head_seq:
                problem(head_seq + 1, "inserted",
                        f"record seq {head_seq + 1} is beyond the chain head (seq {head_seq}): "
                        "inserted directly")
            elif last_hash != head_hash and checked:
                problem(head_seq, "edited",
                        f"record seq {head_seq} does not match the chain head's hash: "
                        "it or the head was edited")
            for seq in sorted(wanted):
                if seq < start_seq:
                    notes.append(f"anchor seq {seq} was purged (the log starts at seq "
                                 f"{start_seq}); not checked")
                elif seq > head_seq:
                    problem(seq, "deleted",
                            f"anchor seq {seq} is beyond the chain head (seq {head_seq}): "
                            "records at the end were removed and the head rewound")
                # otherwise the missing record was already reported as deleted
        return VerifyResult(checked, head_seq, head_hash, start_seq, tuple(problems),
                            tuple(notes))

    # -- retention ---------------------------------------------------------------------------

    def purge(self, before: datetime, *, now: datetime | None = None) -> PurgeResult:
        """Delete the oldest records decided before ``before`` and append a checkpoint.

        Only a prefix of the chain is removed (up to the first record at or after
        ``before``), so what remains stays verifiable from the checkpoint. The caller
        enforces the minimum retention; see :func:`gateway.audit.retention.cutoff`.
        """
        now = utc(now or datetime.now(timezone.utc))
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
            ("notice_outbox", "created_at < ? AND state IN ('sent', 'failed', 'suppressed')", before),
            ("web_sessions", "expires_at < ?", now),
        ):
            removed += int(db.execute(f"SELECT count(*) FROM {table} WHERE {condition}",
                                      (db.ts(value),))[0][0])
            db.execute(f"DELETE FROM {table} WHERE {condition}", (db.ts(value),))
        return removed

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "DecisionStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _content_ok(rec: Any) -> bool:
    """The record's stored hash is the hash of its content and its stored link."""
    if isinstance(rec, Decision):
        return chain_hash(rec.prev_hash, canonical_decision(rec)) == rec.hash
    if isinstance(rec, Checkpoint):
        return chain_hash(rec.prev_hash, canonical_checkpoint(rec)) == rec.hash
    return False


def _label(rec: Any) -> str:
    if isinstance(rec, Checkpoint):
        return f"checkpoint seq {rec.seq}"
    if isinstance(rec, Unreadable):
        return f"record seq {rec.id} (decision {rec.id})"
    extra = f", queue id {rec.queue_id}" if rec.queue_id else ""
    return f"record seq {rec.id} (decision {rec.id}{extra}, {format_time(rec.decided_at)})"


def _document(r: tuple[Any, ...]) -> DocumentRecord:
    return DocumentRecord(
        idx=int(r[1]),
        path=r[2],
        sha256=r[3],
        size=int(r[4]),
        media_type=r[5],
        doc_class=r[6],
        verdict=r[7],
        findings=tuple(FindingRecord.from_json(f) for f in json.loads(r[8])),
        signatures=tuple(json.loads(r[9])),
    )
