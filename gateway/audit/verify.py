"""Verification of the decision log's hash chain (``hople audit verify``).

The chain runs from the genesis, or from the last purge checkpoint, through every decision
and checkpoint to the chain head. :func:`verify_chain` reads it in one read transaction and
names each record that was edited, deleted, inserted or relinked behind the gateway's back,
and each anchor (a head recorded outside the database earlier) it no longer matches.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gateway.audit.records import (
    GENESIS,
    Checkpoint,
    Decision,
    canonical_checkpoint,
    canonical_decision,
    chain_hash,
    format_time,
)

if TYPE_CHECKING:
    from gateway.audit.store import DecisionStore

__all__ = ["Problem", "Unreadable", "VerifyResult", "verify_chain"]


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


def verify_chain(
    store: DecisionStore,
    *,
    max_problems: int = 20,
    progress: Callable[[int], object] | None = None,
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

    db = store.database
    with store.lock, db.read_tx():
        head = db.execute("SELECT seq, hash FROM chain_head WHERE id = 1")
        if not head:
            return VerifyResult(0, 0, "", 0, (Problem(
                0, "deleted", "the chain head row is missing (deleted directly)"),))
        head_seq, head_hash = int(head[0][0]), str(head[0][1])
        firsts = db.execute(
            "SELECT min(s) FROM (SELECT min(id) AS s FROM decisions "
            "UNION ALL SELECT min(seq) AS s FROM checkpoints) AS t"
        )
        first_seq = firsts[0][0]
        latest = store.latest_checkpoint()
        cp: Checkpoint | None = None
        if latest is not None:
            seq, found = latest
            if isinstance(found, Unreadable):
                return VerifyResult(0, head_seq, head_hash, 0, (Problem(
                    seq, "edited", f"checkpoint seq {seq} was edited: a stored value no "
                    f"longer parses ({found.reason})"),))
            cp = found

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
        for seq, group in itertools.groupby(store.iter_chain(), key=lambda t: t[0]):
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
