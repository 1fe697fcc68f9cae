"""The connections under the decision log: SQLite (embedded, the default) and PostgreSQL.

A backend runs statements written once with ``?`` placeholders (PostgreSQL gets ``%s``), opens
read and write transactions (writers serialised: SQLite ``BEGIN IMMEDIATE`` behind a file lock,
PostgreSQL a row lock taken by the store) and converts times to and from the column type.
:func:`backend_for` picks one by URL; :class:`gateway.audit.store.DecisionStore` uses it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from gateway.audit.records import format_time, parse_time, utc

__all__ = ["Backend", "StoreError", "backend_for", "database_errors", "first_line"]


class StoreError(Exception):
    """The log cannot be opened or used (bad URL, unreachable server, newer schema…)."""


class Backend:
    """A connection to one log database (not thread-safe: the store holds a lock around it)."""

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


class Sqlite(Backend):
    name = "sqlite"

    def __init__(self, path: str, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        if path != ":memory:":
            parent = Path(path).parent
            if not parent.is_dir():
                raise StoreError(f"sqlite: directory {parent} does not exist")
        self._lock_fd: int | None = None
        if read_only:
            self.conn = self._connect_read_only(path)
            return
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
            raise StoreError(f"sqlite: {path}: {exc}{_read_only_note(path)}") from None

    @staticmethod
    def _connect_read_only(path: str) -> sqlite3.Connection:
        """For readers who may only read the log (file and directory not writable): nothing
        is created or changed. While a connection has the log open there is a ``-wal`` file
        (the last one to close checkpoints it into the file and removes it): the log is then
        read through the ``-wal`` and ``-shm`` files, so records only in the WAL are seen,
        and without a ``-shm`` that this reader may create it is refused, never read without
        them. With no ``-wal`` the file is the whole log and is read as immutable, which
        creates no ``-wal``/``-shm`` files that the gateway could not open later."""
        if not Path(path).is_file():
            raise StoreError(f"sqlite: {path}: no such log file")
        uri = Path(path).absolute().as_uri() + "?mode=ro"
        if not os.path.exists(path + "-wal"):
            uri += "&immutable=1"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=60.0, isolation_level=None,
                                   check_same_thread=False)
            try:
                conn.execute("PRAGMA busy_timeout = 60000")
                conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
            except sqlite3.Error:
                conn.close()
                raise
            return conn
        except sqlite3.Error as exc:
            raise StoreError(f"sqlite: {path}: cannot read the log: {exc}") from None

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
        if self.read_only:
            raise StoreError(f"sqlite: {self.path}: the log was opened read-only")
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


class Postgres(Backend):
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
            raise StoreError(f"postgresql: cannot connect: {first_line(exc)}") from None
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
        cur = self.conn.execute(self._sql(sql), tuple(params))
        return cur.fetchall() if cur.description else []

    def executemany(self, sql: str, rows: list[Sequence[Any]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(self._sql(sql), rows)

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


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_only_note(path: str) -> str:
    """Why a writer could not open the log, when the place is read-only for this user."""
    if path == ":memory:":
        return ""
    place = Path(path)
    if os.access(place.parent, os.W_OK) and (not place.exists() or os.access(place, os.W_OK)):
        return ""
    return " (the log or its directory is read-only here, and this command writes to it)"


def backend_for(url: str, *, read_only: bool = False) -> Backend:
    """The backend for ``url``; ``read_only`` (SQLite): open without creating or changing
    anything, for readers who may only read the file."""
    if url.startswith("sqlite://"):
        rest = url[len("sqlite://"):]
        if not rest.startswith("/") or len(rest) < 2:
            raise StoreError(f"bad sqlite URL {url!r}: use sqlite:///relative.db or "
                             "sqlite:////absolute/path.db")
        path = rest[1:]
        return Sqlite(path, read_only=read_only)
    if url.startswith(("postgresql://", "postgres://")):
        return Postgres(url)
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise StoreError(f"unsupported log URL scheme {scheme!r} (sqlite:// or postgresql://)")


def database_errors() -> tuple[type[BaseException], ...]:
    """The exception types of the database drivers in use (sqlite3, and psycopg once a
    PostgreSQL log was opened: only then can it raise), for commands that turn a failing
    database into a one-line message. Importing psycopg for an SQLite log would keep it,
    asyncio and ssl resident in the milter for nothing."""
    errors: list[type[BaseException]] = [sqlite3.Error]
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None:
        errors.append(psycopg.Error)
    return tuple(errors)
