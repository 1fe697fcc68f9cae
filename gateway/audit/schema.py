"""Numbered schema migrations for both backends, applied in order when a store is opened.

Each migration has the statements for SQLite and for PostgreSQL. A database records the
migrations it has had in ``schema_version``; a database newer than this code is refused.
Never edit a released migration: add the next number.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.audit.records import GENESIS

__all__ = ["MIGRATIONS", "Migration", "LATEST"]


@dataclass(frozen=True)
class Migration:
    version: int
    summary: str
    sqlite: tuple[str, ...]
    postgresql: tuple[str, ...]


# Version 1: the hash-chained decision log. One statement list for both dialects; the
# placeholders are the types that differ (SQLite stores times as ISO text).
_V1_COMMON = (
    """CREATE TABLE decisions (
        id {pk},
        decided_at {ts} NOT NULL,
        queue_id TEXT,
        message_id TEXT,
        sender TEXT,
        sender_domain TEXT NOT NULL DEFAULT '',
        recipients TEXT NOT NULL,
        from_header TEXT,
        sasl_user TEXT,
        client_addr TEXT,
        client_name TEXT,
        verdict TEXT NOT NULL,
        action TEXT NOT NULL,
        action_taken TEXT,
        smtp_reply TEXT,
        findings TEXT NOT NULL,
        rules_hash TEXT NOT NULL,
        duration_ms {real} NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    "CREATE INDEX decisions_time ON decisions (decided_at)",
    "CREATE INDEX decisions_sender ON decisions ({sender_key})",
    "CREATE INDEX decisions_domain ON decisions (sender_domain)",
    "CREATE INDEX decisions_verdict ON decisions (verdict)",
    "CREATE INDEX decisions_queue ON decisions (queue_id)",
    """CREATE TABLE documents (
        decision_id {big} NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size {big} NOT NULL,
        media_type TEXT NOT NULL,
        doc_class TEXT NOT NULL,
        verdict TEXT NOT NULL,
        findings TEXT NOT NULL,
        signatures TEXT NOT NULL,
        PRIMARY KEY (decision_id, idx)
    )""",
    "CREATE INDEX documents_sha256 ON documents (sha256)",
    """CREATE TABLE checkpoints (
        seq {pk},
        created_at {ts} NOT NULL,
        purged_before {ts} NOT NULL,
        purged_count {big} NOT NULL,
        purged_through_seq {big} NOT NULL,
        purged_through_hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    """CREATE TABLE chain_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq {big} NOT NULL,
        hash TEXT NOT NULL
    )""",
    "INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, '{genesis}')",
)
_V1_SQLITE = tuple(s.format(pk="INTEGER PRIMARY KEY", ts="TEXT", real="REAL", big="INTEGER",
                            sender_key="sender COLLATE NOCASE", genesis=GENESIS)
                   for s in _V1_COMMON)
_V1_POSTGRESQL = tuple(s.format(pk="BIGINT PRIMARY KEY", ts="TIMESTAMPTZ",
                                real="DOUBLE PRECISION", big="BIGINT",
                                sender_key="lower(sender)", genesis=GENESIS)
                       for s in _V1_COMMON)

# Version 2: the auditors' web page. Accounts (argon2 password hashes, forced change at first
# login, lockout after failed logins), server-side sessions (only a hash of the cookie token is
# kept) and the access log (who, when, what page and filter, from where).
_V2_COMMON = (
    """CREATE TABLE web_users (
        username TEXT PRIMARY KEY,
        full_name TEXT NOT NULL DEFAULT '',
        password_hash TEXT NOT NULL,
        must_change INTEGER NOT NULL DEFAULT 1,
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at {ts} NOT NULL,
        password_changed_at {ts} NOT NULL,
        last_login_at {ts},
        failed_logins INTEGER NOT NULL DEFAULT 0,
        locked_until {ts}
    )""",
    """CREATE TABLE web_sessions (
        token_hash TEXT PRIMARY KEY,
        username TEXT NOT NULL REFERENCES web_users (username) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at {ts} NOT NULL,
        last_seen_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        client_addr TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX web_sessions_user ON web_sessions (username)",
    "CREATE INDEX web_sessions_expiry ON web_sessions (expires_at)",
    """CREATE TABLE access_log (
        id {serial},
        at {ts} NOT NULL,
        username TEXT,
        client_addr TEXT NOT NULL DEFAULT '',
        method TEXT NOT NULL,
        path TEXT NOT NULL,
        query TEXT NOT NULL DEFAULT '',
        status INTEGER NOT NULL,
        event TEXT NOT NULL
    )""",
    "CREATE INDEX access_log_at ON access_log (at)",
    "CREATE INDEX access_log_user ON access_log (username)",
)
_V2_SQLITE = tuple(s.format(ts="TEXT", serial="INTEGER PRIMARY KEY") for s in _V2_COMMON)
_V2_POSTGRESQL = tuple(
    s.format(ts="TIMESTAMPTZ", serial="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    for s in _V2_COMMON
)

# Version 3: the durable outbox of notices to senders (gateway.notices). One row per notice
# (or per notice not sent: state 'suppressed' with the reason). Retries are scheduled by
# next_attempt_at; the per-sender rate limit counts rows by rate_key (the lower-cased
# recipient) and created_at. The body is cleared once the notice is sent (Article 3.3).
_V3_COMMON = (
    """CREATE TABLE notice_outbox (
        id {serial},
        created_at {ts} NOT NULL,
        decision_id BIGINT,
        queue_id TEXT,
        kind TEXT NOT NULL,
        recipient TEXT NOT NULL,
        rate_key TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        message_id TEXT NOT NULL,
        in_reply_to TEXT,
        refs TEXT,
        state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'suppressed')),
        reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at {ts},
        last_error TEXT,
        sent_at {ts}
    )""",
    "CREATE INDEX notice_outbox_due ON notice_outbox (state, next_attempt_at)",
    "CREATE INDEX notice_outbox_rate ON notice_outbox (rate_key, created_at)",
    "CREATE INDEX notice_outbox_decision ON notice_outbox (decision_id)",
)
_V3_SQLITE = tuple(s.format(ts="TEXT", serial="INTEGER PRIMARY KEY") for s in _V3_COMMON)
_V3_POSTGRESQL = tuple(
    s.format(ts="TIMESTAMPTZ", serial="BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
    for s in _V3_COMMON
)

# Version 4: the time from the first byte the milter saw of a message (the connection for the
# first message of a session, MAIL FROM for the next ones) until its answer was handed to the
# MTA. NULL for decisions recorded before it existed and for offline checks.
_V4 = ("ALTER TABLE decisions ADD COLUMN session_ms {real}",)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "decisions, documents, checkpoints and the chain head", _V1_SQLITE,
              _V1_POSTGRESQL),
    Migration(2, "web accounts, sessions and the access log", _V2_SQLITE, _V2_POSTGRESQL),
    Migration(3, "the outbox of notices to senders", _V3_SQLITE, _V3_POSTGRESQL),
    Migration(4, "session latency of each decision",
              tuple(s.format(real="REAL") for s in _V4),
              tuple(s.format(real="DOUBLE PRECISION") for s in _V4)),
)

LATEST = MIGRATIONS[-1].version
