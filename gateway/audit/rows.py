"""A row of the decision log's chained tables read back as its record.

Rows come in the column order of ``store.py``'s ``SELECT`` lists (decisions, documents,
checkpoints); times are converted by the backend that read them. A row altered directly so
that it no longer parses raises ``ValueError``, ``TypeError``, ``KeyError`` or
``AttributeError``: the store turns that into a ``StoreError``, or for the verifier into an
``Unreadable`` record.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.audit.backends import Backend
from gateway.audit.records import Checkpoint, Decision, DocumentRecord, FindingRecord

__all__ = ["checkpoint_from_row", "decision_from_row", "document_from_row"]


def decision_from_row(db: Backend, r: tuple[Any, ...],
                      documents: tuple[DocumentRecord, ...]) -> Decision:
    return Decision(
        id=int(r[0]),
        decided_at=db.from_ts(r[1]),
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


def checkpoint_from_row(db: Backend, r: tuple[Any, ...]) -> Checkpoint:
    return Checkpoint(
        seq=int(r[0]),
        created_at=db.from_ts(r[1]),
        purged_before=db.from_ts(r[2]),
        purged_count=int(r[3]),
        purged_through_seq=int(r[4]),
        purged_through_hash=str(r[5]),
        prev_hash=str(r[6]),
        hash=str(r[7]),
    )


def document_from_row(r: tuple[Any, ...]) -> DocumentRecord:
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
