"""Chain validation and PDF signature checks run their coroutines on one event loop per
thread (asyncio.run would start and join an executor thread on every call), made again in
a forked worker and never shared between threads."""

from __future__ import annotations

import asyncio
import os
import threading

from gateway.event_loop import run


async def _loop_and_executor() -> asyncio.AbstractEventLoop:
    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, lambda: 41) + 1 == 42
    return loop


def test_one_loop_per_thread() -> None:
    first = run(_loop_and_executor())
    assert run(_loop_and_executor()) is first and not first.is_closed()
    other: list[asyncio.AbstractEventLoop] = []
    t = threading.Thread(target=lambda: other.append(run(_loop_and_executor())))
    t.start()
    t.join()
    assert other and other[0] is not first


def test_inside_a_running_loop_and_after_fork() -> None:
    async def outer() -> int:
        return run(_answer())

    async def _answer() -> int:
        return 42

    assert asyncio.run(outer()) == 42
    parent = run(_loop_and_executor())
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child must not reuse the parent's loop (its selector is shared)
        try:
            child = run(_loop_and_executor())
            os.write(w, b"1" if child is not parent else b"0")
        finally:
            os._exit(0)
    os.close(w)
    got = os.read(r, 1)
    os.waitpid(pid, 0)
    assert got == b"1"
