"""Group commit of the decision log: records appended by threads at the same time share one
transaction, each caller returns only once its record is committed, and one record's
failure is raised only in its own caller."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from gateway.audit.group import GroupCommit
from gateway.audit.store import DecisionStore, open_store
from tests.audit.factory import T0, doc, env, report


class Log:
    """A write function for GroupCommit: records what each transaction held; the first one
    waits for ``gate`` so that others queue behind it."""

    def __init__(self, bad: str | None = None) -> None:
        self.groups: list[list[str]] = []
        self.committed: list[str] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.bad = bad

    def write(self, items: list[str]) -> list[int]:
        self.entered.set()
        if not self.groups:
            assert self.gate.wait(10)
        self.groups.append(list(items))
        if self.bad in items:
            raise OSError(f"cannot write {self.bad}")  # the whole transaction rolled back
        start = len(self.committed)
        self.committed.extend(items)
        return list(range(start + 1, start + 1 + len(items)))


def _submit_while_first_waits(log: Log, names: list[str]) -> tuple[dict[str, Any], GroupCommit]:
    group: GroupCommit[str] = GroupCommit(threading.RLock(), log.write)
    results: dict[str, Any] = {}

    def one(name: str) -> None:
        try:
            results[name] = group.submit(name)
        except OSError as exc:
            results[name] = exc

    first = threading.Thread(target=one, args=(names[0],))
    first.start()
    assert log.entered.wait(10)  # the first transaction is open and waits
    others = [threading.Thread(target=one, args=(n,)) for n in names[1:]]
    for t in others:
        t.start()
    deadline = time.monotonic() + 10
    while len(group._queue) < len(others) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(group._queue) == len(others)
    assert not any(n in results for n in names)  # nobody returned before its commit
    log.gate.set()
    for t in [first, *others]:
        t.join(10)
    return results, group


def test_records_queued_during_a_commit_share_the_next_one() -> None:
    log = Log()
    names = ["a", "b", "c", "d", "e", "f"]
    results, _ = _submit_while_first_waits(log, names)
    assert log.groups[0] == ["a"]
    assert sorted(log.groups[1]) == ["b", "c", "d", "e", "f"] and len(log.groups) == 2
    # each caller got the sequence number its record was committed under
    assert {n: log.committed[results[n] - 1] for n in names} == {n: n for n in names}


def test_a_failing_record_fails_only_its_own_caller() -> None:
    log = Log(bad="c")
    results, _ = _submit_while_first_waits(log, ["a", "b", "c", "d"])
    assert isinstance(results["c"], OSError)
    assert sorted(log.committed) == ["a", "b", "d"]
    assert all(log.committed[results[n] - 1] == n for n in ("a", "b", "d"))
    # the failed group was written again one record per transaction
    assert [g for g in log.groups if len(g) == 1 and g != ["a"]] and "c" not in log.committed


def test_a_lone_failing_record_is_not_retried() -> None:
    calls: list[list[str]] = []

    def write(items: list[str]) -> list[int]:
        calls.append(items)
        raise OSError("disk full")

    group: GroupCommit[str] = GroupCommit(threading.RLock(), write)
    with pytest.raises(OSError, match="disk full"):
        group.submit("x")
    assert calls == [["x"]]
    assert group._queue == []


def test_threads_appending_at_once_keep_one_verifiable_chain(
        store: DecisionStore, backend_url: str) -> None:
    ids: dict[str, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work(tag: str) -> None:
        start.wait()
        for i in range(25):
            qid = f"{tag}{i:02d}"
            seq = store.record(report(doc(f"{qid}.docx")), env(queue_id=qid), decided_at=T0,
                               action_taken="accept")
            with open_store(backend_url) as other:  # committed: another connection sees it
                got = other.get(seq)
            assert got is not None and got.queue_id == qid
            with lock:
                ids[qid] = seq

    threads = [threading.Thread(target=work, args=(t,)) for t in "ABCDEFGH"]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert len(ids) == 200 and sorted(ids.values()) == list(range(1, 201))
    result = store.verify()
    assert result.ok and result.checked == 200
    assert all(store.get(seq).queue_id == qid for qid, seq in ids.items())  # type: ignore[union-attr]
