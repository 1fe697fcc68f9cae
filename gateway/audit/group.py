"""Group commit for the decision log: appends from several threads share one transaction.

A caller queues its record and waits for the store's lock; whoever gets the lock writes every
record queued so far, in queue order, in one transaction (one fsync for the group instead of
one per message), and each caller returns only once the commit that holds its record is
done. A group whose transaction fails was rolled back as a whole: its records are written
again one per transaction, so one record's failure is raised only in its own caller (a
database that reports a commit failed when it was in fact made could then hold a record
twice; none is ever reported written when it was not).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["GroupCommit"]

T = TypeVar("T")


class _Queued(Generic[T]):
    """One record waiting for a commit, and what became of it."""

    __slots__ = ("done", "error", "item", "seq")

    def __init__(self, item: T) -> None:
        self.item = item
        self.seq = 0
        self.done = False
        self.error: BaseException | None = None

    def fail(self, error: BaseException) -> None:
        self.error = error
        self.done = True


class GroupCommit(Generic[T]):
    """Serialises appends through ``write``, which writes a list of records in one
    transaction and returns their sequence numbers once committed (or raises, having
    written none of them). ``lock`` is the lock that guards the connection."""

    def __init__(self, lock: threading.RLock, write: Callable[[list[T]], list[int]]) -> None:
        self._lock = lock
        self._write = write
        self._queue_lock = threading.Lock()
        self._queue: list[_Queued[T]] = []

    def submit(self, item: T) -> int:
        """Append ``item``; returns its sequence number once it is committed."""
        queued = _Queued(item)
        with self._queue_lock:
            self._queue.append(queued)
        with self._lock:
            if not queued.done:  # no earlier caller took it into its group: write the queue
                self._write_queue()
        if queued.error is not None:
            raise queued.error
        return queued.seq

    def _write_queue(self) -> None:
        with self._queue_lock:
            group, self._queue = self._queue, []
        try:
            try:
                self._commit(group)
            except Exception as exc:  # noqa: BLE001 - rolled back as a whole: each record is
                # retried alone and its own error, if any, is raised in its own caller
                if len(group) == 1:
                    group[0].fail(exc)
                    return
                for q in group:
                    try:
                        self._commit([q])
                    except Exception as own:  # noqa: BLE001 - raised in q's caller (submit)
                        q.fail(own)
        finally:
            for q in group:
                if not q.done:  # interrupted (BaseException in this thread)
                    q.fail(RuntimeError("the record was not written"))

    def _commit(self, group: list[_Queued[T]]) -> None:
        seqs = self._write([q.item for q in group])
        for q, seq in zip(group, seqs, strict=True):
            q.seq = seq
            q.done = True
