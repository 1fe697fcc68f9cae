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

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "decisions, documents, checkpoints and the chain head", _V1_SQLITE,
              _V1_POSTGRESQL),
)

LATEST = MIGRATIONS[-1].version
