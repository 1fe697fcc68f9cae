"""One event loop per thread for the libraries whose API is a coroutine (pyHanko's chain and
signature validation), shared by the trust engine and the PDF inspector. Imports nothing of
ours, so it sits below both."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine
from typing import Any

__all__ = ["run"]

_LOOPS = threading.local()


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion, also when called from inside an event loop.

    Each thread keeps one event loop (made again after a fork): ``asyncio.run`` would build
    a loop and its default executor's thread for every call and join that thread at the
    end, a few milliseconds per chain validation."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = getattr(_LOOPS, "loop", None)
        if loop is None or loop.is_closed() or getattr(_LOOPS, "pid", None) != os.getpid():
            loop = _LOOPS.loop = asyncio.new_event_loop()
            _LOOPS.pid = os.getpid()
        return loop.run_until_complete(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()
