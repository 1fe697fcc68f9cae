"""Auditor accounts, their sessions and the access log, kept in the decision store.

- Passwords follow Article 12.1 of the decision (the rules and the argon2id hashing are in
  :mod:`gateway.audit.credentials`), and a new account changes its password at first login.
- Repeated failed logins lock the account for a while (:class:`LockoutPolicy`).
- A session is a random token in a cookie; the store keeps only its SHA-256, the CSRF token
  that forms must echo, and its expiry (idle and absolute).
- Every access to the web page is a row of ``access_log``: who, when, from where, which page
  and filter, the HTTP status and what happened (``page``, ``login``, ``login-failed``…).

The tables come from schema migration 2 (:mod:`gateway.audit.schema`).
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.audit.credentials import (
    DUMMY_HASH,
    AccountError,
    PasswordRuleError,
    check_password,
    check_username,
    hash_password,
    is_username,
    needs_rehash,
    normalise_password,
    verify_password,
)
from gateway.audit.records import clean_text, utc
from gateway.audit.store import DecisionStore

__all__ = [
    "AccessEntry",
    "Accounts",
    "LockoutPolicy",
    "Login",
    "Session",
    "SessionPolicy",
    "User",
    "token_hash",
]


# -- records ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    username: str
    full_name: str
    must_change: bool
    disabled: bool
    created_at: datetime
    password_changed_at: datetime
    last_login_at: datetime | None
    failed_logins: int
    locked_until: datetime | None

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


@dataclass(frozen=True)
class Session:
    token_hash: str
    username: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    client_addr: str


@dataclass(frozen=True)
class AccessEntry:
    id: int
    at: datetime
    username: str | None
    client_addr: str
    method: str
    path: str
    query: str
    status: int
    event: str


@dataclass(frozen=True)
class Login:
    """The outcome of a login attempt. ``reason`` is ``ok``, ``bad`` (unknown account or
    wrong password), ``locked`` or ``disabled``; a person is only told ok or not."""

    reason: str
    user: User | None = None

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    """Consecutive failed logins that lock an account."""
    lock_seconds: int = 900
    """How long the account stays locked; every further failure while counting restarts it."""


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int = 1800
    """A session ends after this long without a request."""
    max_seconds: int = 8 * 3600
    """…and in any case this long after login."""


_USER_COLUMNS = ("username, full_name, must_change, disabled, created_at, password_changed_at, "
                 "last_login_at, failed_logins, locked_until")
_SESSION_COLUMNS = ("token_hash, username, csrf_token, created_at, last_seen_at, expires_at, "
                    "client_addr")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class Accounts:
    """Accounts, sessions and the access log on an open :class:`DecisionStore`.

    Safe to share between threads (it uses the store's own connection and lock).
    """

    def __init__(
        self,
        store: DecisionStore,
        *,
        clock: Callable[[], datetime] | None = None,
        lockout: LockoutPolicy = LockoutPolicy(),
        sessions: SessionPolicy = SessionPolicy(),
    ) -> None:
        self.store = store
        # The store exposes no SQL of its own; these tables live in its database and are
        # written through its connection, under its lock, like its own tables.
        self._db = store.database
        self._lock = store.lock
        self.clock = clock or (lambda: datetime.now(UTC))
        self.lockout = lockout
        self.sessions = sessions

    # -- helpers ------------------------------------------------------------------------------

    def _now(self) -> datetime:
        return utc(self.clock())

    def _ts(self, value: datetime | None) -> Any:
        return None if value is None else self._db.ts(value)

    def _from_ts(self, value: Any) -> datetime | None:
        return None if value is None else self._db.from_ts(value)

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        with self._lock, self._db.write_tx():
            yield

    def _q(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params)

    def _user(self, r: tuple[Any, ...]) -> User:
        return User(
            username=str(r[0]),
            full_name=str(r[1] or ""),
            must_change=bool(r[2]),
            disabled=bool(r[3]),
            created_at=self._db.from_ts(r[4]),
            password_changed_at=self._db.from_ts(r[5]),
            last_login_at=self._from_ts(r[6]),
            failed_logins=int(r[7]),
            locked_until=self._from_ts(r[8]),
        )

    def _session(self, r: tuple[Any, ...]) -> Session:
        return Session(
            token_hash=str(r[0]),
            username=str(r[1]),
            csrf_token=str(r[2]),
            created_at=self._db.from_ts(r[3]),
            last_seen_at=self._db.from_ts(r[4]),
            expires_at=self._db.from_ts(r[5]),
            client_addr=str(r[6] or ""),
        )

    # -- accounts -----------------------------------------------------------------------------

    def get(self, username: str) -> User | None:
        rows = self._q(f"SELECT {_USER_COLUMNS} FROM web_users WHERE username = ?",
                       ((username or "").strip().lower(),))
        return self._user(rows[0]) if rows else None

    def list(self) -> list[User]:
        return [self._user(r) for r in
                self._q(f"SELECT {_USER_COLUMNS} FROM web_users ORDER BY username")]

    def add(self, username: str, password: str, *, full_name: str = "",
            must_change: bool = True) -> User:
        """A new account; it must change its password at first login (Article 12.1)."""
        name = check_username(username)
        digest = hash_password(check_password(password))
        now = self._now()
        with self._write():
            if self._db.execute("SELECT 1 FROM web_users WHERE username = ?", (name,)):
                raise AccountError(f"tài khoản đã có / the account {name!r} already exists")
            self._db.execute(
                "INSERT INTO web_users (username, full_name, password_hash, must_change, "
                "disabled, created_at, password_changed_at, last_login_at, failed_logins, "
                "locked_until) VALUES (?, ?, ?, ?, 0, ?, ?, NULL, 0, NULL)",
                (name, clean_text(full_name.strip(), 200) or "", digest,
                 int(must_change), self._ts(now), self._ts(now)),
            )
        user = self.get(name)
        assert user is not None
        return user

    def _require(self, username: str) -> str:
        name = (username or "").strip().lower()
        if not self._db.execute("SELECT 1 FROM web_users WHERE username = ?", (name,)):
            raise AccountError(f"không có tài khoản / no account {username!r}")
        return name

    def set_password(self, username: str, password: str, *, must_change: bool = True) -> None:
        """Set a password (an administrator's reset: by default the user must change it at
        the next login). Unlocks the account and ends its sessions."""
        pw = check_password(password)
        digest = hash_password(pw)
        now = self._now()
        with self._write():
            name = self._require(username)
            self._db.execute(
                "UPDATE web_users SET password_hash = ?, must_change = ?, "
                "password_changed_at = ?, failed_logins = 0, locked_until = NULL "
                "WHERE username = ?",
                (digest, int(must_change), self._ts(now), name),
            )
            self._db.execute("DELETE FROM web_sessions WHERE username = ?", (name,))

    def change_password(self, username: str, current: str, new: str) -> None:
        """The user's own change: the current password must match and the new one must
        differ from it and follow the rule. Ends every session of the account."""
        name = (username or "").strip().lower()
        rows = self._q("SELECT password_hash FROM web_users WHERE username = ?", (name,))
        if not rows or not verify_password(str(rows[0][0]), current):
            raise AccountError("mật khẩu hiện tại không đúng / the current password is wrong")
        if normalise_password(new) == normalise_password(current):
            raise PasswordRuleError(["mật khẩu mới phải khác mật khẩu cũ / "
                                     "the new password must differ from the current one"])
        self.set_password(name, new, must_change=False)

    def set_disabled(self, username: str, disabled: bool) -> None:
        """Disable (and end every session of) or re-enable an account."""
        with self._write():
            name = self._require(username)
            self._db.execute(
                "UPDATE web_users SET disabled = ?, failed_logins = 0, locked_until = NULL "
                "WHERE username = ?", (int(disabled), name))
            if disabled:
                self._db.execute("DELETE FROM web_sessions WHERE username = ?", (name,))

    def authenticate(self, username: str, password: str) -> Login:
        """Check a login. A locked or disabled account is refused even with the right
        password; unknown accounts cost the same time.

        The attempt is checked and counted as a failure *before* the password is verified,
        in one write transaction (SQLite ``BEGIN IMMEDIATE``, PostgreSQL ``SELECT … FOR
        UPDATE``), so parallel attempts — in threads or in other processes sharing the log —
        cannot verify more than ``max_failures`` passwords before the lock; a right
        password then clears the count."""
        name = (username or "").strip().lower()
        now = self._now()
        reserved = self._reserve(name, now) if is_username(name) else None
        if reserved is None:
            verify_password(DUMMY_HASH, password)
            return Login("bad")
        stored, state = reserved
        if state != "counted":
            verify_password(DUMMY_HASH, password)  # same cost; the hash is not consulted
            return Login(state)
        if not verify_password(stored, password):
            user = self.get(name)
            return Login("locked" if user and user.locked(now) else "bad", None)
        rehashed = hash_password(password) if needs_rehash(stored) else None
        with self._write():
            self._db.execute(
                "UPDATE web_users SET failed_logins = 0, locked_until = NULL, "
                "last_login_at = ? WHERE username = ?", (self._ts(now), name))
            if rehashed:
                self._db.execute("UPDATE web_users SET password_hash = ? WHERE username = ?",
                                 (rehashed, name))
        return Login("ok", self.get(name))

    def _reserve(self, name: str, now: datetime) -> tuple[str, str] | None:
        """(stored hash, ``counted`` | ``locked`` | ``disabled``) for an existing account,
        with the attempt counted as a failure (and the account locked when it reaches the
        limit) in the same transaction that read the state; None for no such account."""
        with self._write():
            rows = self._db.execute(
                "SELECT password_hash, disabled, locked_until, failed_logins FROM web_users "
                f"WHERE username = ?{self._db.lock_head}", (name,))
            if not rows:
                return None
            stored, disabled, locked_until, fails = (str(rows[0][0]), bool(rows[0][1]),
                                                     rows[0][2], int(rows[0][3]))
            if disabled:
                return stored, "disabled"
            if locked_until is not None and self._db.from_ts(locked_until) > now:
                return stored, "locked"
            fails += 1
            until = (now + timedelta(seconds=self.lockout.lock_seconds)
                     if fails >= self.lockout.max_failures else None)
            self._db.execute("UPDATE web_users SET failed_logins = ?, locked_until = ? "
                             "WHERE username = ?", (fails, self._ts(until), name))
        return stored, "counted"

    # -- sessions -----------------------------------------------------------------------------

    def create_session(self, username: str, client_addr: str = "") -> tuple[str, Session]:
        """A new session for a logged-in user: (cookie token, session). Expired sessions of
        everyone are removed on the way."""
        now = self._now()
        token = secrets.token_urlsafe(32)
        session = Session(
            token_hash=token_hash(token),
            username=username,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=min(now + timedelta(seconds=self.sessions.idle_seconds),
                           now + timedelta(seconds=self.sessions.max_seconds)),
            client_addr=clean_text(client_addr, 255) or "",
        )
        with self._write():
            self._db.execute("DELETE FROM web_sessions WHERE expires_at <= ?", (self._ts(now),))
            self._db.execute(
                f"INSERT INTO web_sessions ({_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session.token_hash, session.username, session.csrf_token,
                 self._ts(session.created_at), self._ts(session.last_seen_at),
                 self._ts(session.expires_at), session.client_addr),
            )
        return token, session

    def session(self, token: str, *, touch: bool = True) -> tuple[Session, User] | None:
        """The live session of a cookie token and its (enabled) user, or None. With
        ``touch`` the idle expiry moves forward (never past the absolute limit)."""
        if not token:
            return None
        now = self._now()
        key = token_hash(token)
        rows = self._q(f"SELECT {_SESSION_COLUMNS} FROM web_sessions WHERE token_hash = ?",
                       (key,))
        if not rows:
            return None
        session = self._session(rows[0])
        if session.expires_at <= now:
            self.end_session(token)
            return None
        user = self.get(session.username)
        if user is None or user.disabled:
            self.end_session(token)
            return None
        if touch:
            limit = session.created_at + timedelta(seconds=self.sessions.max_seconds)
            expires = min(now + timedelta(seconds=self.sessions.idle_seconds), limit)
            self._q("UPDATE web_sessions SET last_seen_at = ?, expires_at = ? "
                    "WHERE token_hash = ?", (self._ts(now), self._ts(expires), key))
            session = Session(session.token_hash, session.username, session.csrf_token,
                              session.created_at, now, expires, session.client_addr)
        return session, user

    def end_session(self, token: str) -> None:
        self._q("DELETE FROM web_sessions WHERE token_hash = ?", (token_hash(token),))

    def end_sessions(self, username: str) -> None:
        self._q("DELETE FROM web_sessions WHERE username = ?", ((username or "").lower(),))

    def session_count(self, username: str | None = None) -> int:
        if username is None:
            return int(self._q("SELECT count(*) FROM web_sessions")[0][0])
        return int(self._q("SELECT count(*) FROM web_sessions WHERE username = ?",
                           (username.lower(),))[0][0])

    # -- access log ---------------------------------------------------------------------------

    def log_access(self, *, username: str | None, client_addr: str, method: str, path: str,
                   query: str = "", status: int, event: str) -> None:
        self._q(
            "INSERT INTO access_log (at, username, client_addr, method, path, query, status, "
            "event) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self._ts(self._now()), clean_text(username, 100), clean_text(client_addr, 255) or "",
             clean_text(method, 10) or "", clean_text(path, 500) or "",
             clean_text(query, 1000) or "", int(status), clean_text(event, 50) or ""),
        )

    def access_log(self, *, since: datetime | None = None, username: str | None = None,
                   limit: int | None = 100) -> builtins.list[AccessEntry]:
        """Newest first."""
        clauses: builtins.list[str] = []
        params: builtins.list[Any] = []
        if since is not None:
            clauses.append("at >= ?")
            params.append(self._ts(utc(since)))
        if username is not None:
            clauses.append("username = ?")
            params.append(username.lower())
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        sql = ("SELECT id, at, username, client_addr, method, path, query, status, event "
               f"FROM access_log{where} ORDER BY id DESC")
        if limit:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [AccessEntry(int(r[0]), self._db.from_ts(r[1]), r[2], str(r[3] or ""),
                            str(r[4]), str(r[5]), str(r[6] or ""), int(r[7]), str(r[8]))
                for r in self._q(sql, params)]
