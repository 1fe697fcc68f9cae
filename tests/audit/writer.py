"""Run in a separate process by the concurrency tests: one gateway process appending
``n`` decisions to a shared log."""

from __future__ import annotations

import sys
from datetime import UTC, datetime


def write_many(url: str, n: int, tag: str, barrier: object = None) -> int:
    from gateway.audit.store import open_store
    from tests.audit.factory import doc, env, report

    store = open_store(url)
    try:
        if barrier is not None:  # every writer has its log open: start together
            barrier.wait(timeout=60)  # type: ignore[attr-defined]
        for i in range(n):
            store.record(report(doc(f"{tag}-{i}.docx", signed=i % 2 == 0)),
                         env(queue_id=f"{tag}{i:04d}"), decided_at=datetime.now(UTC),
                         action_taken="tagged")
    finally:
        store.close()
    return n


def write_many_after(barrier: object, url: str, n: int, tag: str) -> None:
    write_many(url, n, tag, barrier)


if __name__ == "__main__":
    write_many(sys.argv[1], int(sys.argv[2]), sys.argv[3])
