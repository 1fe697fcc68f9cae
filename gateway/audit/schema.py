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


_V1_SQLITE = (
    """CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        decided_at TEXT NOT NULL,
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
        duration_ms REAL NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    "CREATE INDEX decisions_time ON decisions (decided_at)",
    "CREATE INDEX decisions_sender ON decisions (sender COLLATE NOCASE)",
    "CREATE INDEX decisions_domain ON decisions (sender_domain)",
    "CREATE INDEX decisions_verdict ON decisions (verdict)",
    "CREATE INDEX decisions_queue ON decisions (queue_id)",
    """CREATE TABLE documents (
        decision_id INTEGER NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        media_type TEXT NOT NULL,
        doc_class TEXT NOT NULL,
        verdict TEXT NOT NULL,
        findings TEXT NOT NULL,
        signatures TEXT NOT NULL,
        PRIMARY KEY (decision_id, idx)
    )""",
    "CREATE INDEX documents_sha256 ON documents (sha256)",
    """CREATE TABLE checkpoints (
        seq INTEGER PRIMARY KEY,
        created_at TEXT NOT NULL,
        purged_before TEXT NOT NULL,
        purged_count INTEGER NOT NULL,
        purged_through_seq INTEGER NOT NULL,
        purged_through_hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    """CREATE TABLE chain_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq INTEGER NOT NULL,
        hash TEXT NOT NULL
    )""",
    f"INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')",
)

_V1_POSTGRESQL = (
    """CREATE TABLE decisions (
        id BIGINT PRIMARY KEY,
        decided_at TIMESTAMPTZ NOT NULL,
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
        duration_ms DOUBLE PRECISION NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    "CREATE INDEX decisions_time ON decisions (decided_at)",
    "CREATE INDEX decisions_sender ON decisions (lower(sender))",
    "CREATE INDEX decisions_domain ON decisions (sender_domain)",
    "CREATE INDEX decisions_verdict ON decisions (verdict)",
    "CREATE INDEX decisions_queue ON decisions (queue_id)",
    """CREATE TABLE documents (
        decision_id BIGINT NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size BIGINT NOT NULL,
        media_type TEXT NOT NULL,
        doc_class TEXT NOT NULL,
        verdict TEXT NOT NULL,
        findings TEXT NOT NULL,
        signatures TEXT NOT NULL,
        PRIMARY KEY (decision_id, idx)
    )""",
    "CREATE INDEX documents_sha256 ON documents (sha256)",
    """CREATE TABLE checkpoints (
        seq BIGINT PRIMARY KEY,
        created_at TIMESTAMPTZ NOT NULL,
        purged_before TIMESTAMPTZ NOT NULL,
        purged_count BIGINT NOT NULL,
        purged_through_seq BIGINT NOT NULL,
        purged_through_hash TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL
    )""",
    """CREATE TABLE chain_head (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        seq BIGINT NOT NULL,
        hash TEXT NOT NULL
    )""",
    f"INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')",
)

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

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "decisions, documents, checkpoints and the chain head", _V1_SQLITE,
              _V1_POSTGRESQL),
    Migration(2, "web accounts, sessions and the access log", _V2_SQLITE, _V2_POSTGRESQL),
    Migration(3, "the outbox of notices to senders", _V3_SQLITE, _V3_POSTGRESQL),
)

LATEST = MIGRATIONS[-1].version
