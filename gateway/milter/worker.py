"""The worker process: loads the rules once, then checks one message per request.

It talks to the milter over a ``multiprocessing`` pipe:

* on start it sends ``("ready", rules_hash)`` or ``("failed", reason)``;
* for ``("check", kind, source, envelope, label)`` (``kind`` is ``"bytes"`` with the message,
  or ``"path"`` with a spool file to read) it answers ``("ok", MessageReport)`` or
  ``("error", "ExceptionType: text")``;
* it exits on ``("stop",)`` or when the milter's end of the pipe closes.

This module imports no pymilter: the worker never talks to the MTA.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import signal
import sys
from typing import Any

log = logging.getLogger("hople.worker")


def build_checker(rules_path: str | None, trust_dirs: tuple[str, ...]) -> Any:
    """Load the rules and trust anchors into a ``Checker``."""
    from pathlib import Path

    from gateway.pipeline import Checker
    from gateway.policy.load import load_policy
    from gateway.trust import engine_for_check

    policy = load_policy(Path(rules_path) if rules_path else None)
    trust = engine_for_check(policy, [Path(d) for d in trust_dirs])
    return Checker(policy, trust=trust)


def worker_checker(rules_path: str | None, trust_dirs: tuple[str, ...]) -> Any:
    """The checker the forkserver prepared for these rules and trust directories (its pages
    are shared with the other workers), or one loaded here when it prepared none, prepared it
    for other ones, or its files have changed since (``gateway.milter.preload``). The
    preload module is only looked up, never imported: outside a forkserver's worker there
    is nothing prepared."""
    preload = sys.modules.get("gateway.milter.preload")
    prepared = preload.prepared_checker(rules_path, trust_dirs) if preload else None
    return prepared if prepared is not None else build_checker(rules_path, trust_dirs)


def check_one(checker: Any, kind: str, source: Any, envelope: Any, label: str) -> Any:
    if kind == "path":
        with open(source, "rb") as fp:
            return checker.check_message(fp, envelope, label=label)
    return checker.check_message(io.BytesIO(source), envelope, label=label)


def limit_memory(limit: int) -> None:
    """Cap this process's address space at ``limit`` bytes (0: no cap). A hostile file that
    makes a library reserve what it declares (a 7z with a 4 GiB LZMA dictionary) then fails
    there (libarchive reports it, so the archive is ARCHIVE_UNREADABLE) instead of the
    machine swapping."""
    if limit <= 0:
        return
    import resource

    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


COLLECT_AFTER_BYTES = 1 << 20
"""After a message of this size or more, a full garbage collection precedes the heap trim."""


def message_size(kind: str, source: Any) -> int:
    if kind == "path":
        try:
            return os.stat(source).st_size
        except (OSError, TypeError, ValueError):
            return 0
    return len(source) if isinstance(source, (bytes, bytearray)) else 0


def collect_after(size: int) -> bool:
    """Free what a large message left in reference cycles before the heap is trimmed; True
    when the message was that large (the heap is then trimmed whatever it grew by).

    The PDF readers (pyHanko's and pdfminer.six's) hold the document's bytes in reference
    cycles, which only the garbage collector frees, at a collection of the generation they
    have reached. Without this, the worker keeps the last large part (26 MiB for the 36 MB
    message) until some collection during a later message, and a second large message right
    after decodes its part while the first is still held: the worker's peak grows by one part
    per large message in a row. A full collection costs well under a millisecond here (what
    the forkserver preloaded is frozen), so it is made only after a message of
    ``COLLECT_AFTER_BYTES`` or more, whose check takes far longer."""
    if size >= COLLECT_AFTER_BYTES:
        gc.collect()
        return True
    return False


def release_memory() -> None:
    """Give the C heap's free pages back to the system (glibc keeps what a large document's
    libraries freed, and each worker would hold its own high-water mark)."""
    if _malloc_trim is not None:
        _malloc_trim(0)


TRIM_GROWTH = 8 * 1024 * 1024
"""Growth of a worker's resident memory since its last trim that makes it trim after a
check."""


def resident_bytes() -> int | None:
    """This process's resident memory (None where ``/proc`` cannot tell)."""
    try:
        with open("/proc/self/statm", "rb") as fp:
            return int(fp.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return None


_PAGE = os.sysconf("SC_PAGE_SIZE")


class MemoryReleaser:
    """Calls :func:`release_memory` after a check only when the worker grew by ``growth``
    bytes or more since its lowest point after the last trim, or when its size is unknown.
    A trim after every check cost a 110 KB text message about 0.3 ms of the worker's CPU:
    the pages it gave back were faulted in again by the next check."""

    def __init__(self, growth: int = TRIM_GROWTH,
                 resident: Any = resident_bytes, trim: Any = release_memory) -> None:
        self.growth = growth
        self._resident = resident
        self._trim = trim
        self.base: int | None = resident()

    def after_check(self, large: bool = False) -> bool:
        """Trim if the worker grew, or after a ``large`` message (one whose parts are read
        from their files grows the worker by less than ``growth`` yet leaves that much freed
        in the heap: a trim costs far less than such a check); True when it trimmed."""
        rss = self._resident()
        if (not large and rss is not None and self.base is not None
                and rss - self.base < self.growth):
            self.base = min(self.base, rss)
            return False
        self._trim()
        self.base = self._resident()
        return True


def _libc_malloc_trim() -> Any:
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim  # the C library this interpreter runs on
    except (OSError, AttributeError):  # not glibc: nothing to trim, the check is unchanged
        return None


_malloc_trim = _libc_malloc_trim()


# Libraries that report what they reject as warnings with tracebacks (pyHanko logs "Failed to
# build path" with the exception for every signer outside the trust anchors): the finding in
# the report already says it, so the gateway's log keeps only their errors.
QUIET_LIBRARIES = ("pyhanko", "pyhanko_certvalidator", "pdfminer", "PIL")


def quiet_libraries() -> None:
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)


def worker_main(conn: Any, rules_path: str | None, trust_dirs: tuple[str, ...],
                memory_limit: int = 0) -> None:
    """Entry point of a worker process."""
    # The milter owns SIGTERM/SIGINT handling; a worker is stopped through its pipe or killed.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGHUP})
    quiet_libraries()
    try:
        limit_memory(memory_limit)
        checker = worker_checker(rules_path, trust_dirs)
    except BaseException as exc:  # noqa: BLE001 - reported to the milter, which logs it
        try:
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))
        finally:
            os._exit(1)
    releaser = MemoryReleaser()
    conn.send(("ready", checker.policy.hash))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            break
        if not request or request[0] != "check":
            break
        _, kind, source, envelope, label = request
        try:
            report = check_one(checker, kind, source, envelope, label)
            conn.send(("ok", report))
        except BaseException as exc:  # noqa: BLE001 - one message's failure, not the worker's
            try:
                conn.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
            except (OSError, ValueError):
                break
        report = None
        releaser.after_check(large=collect_after(message_size(kind, source)))
    conn.close()


__all__ = ["MemoryReleaser", "build_checker", "check_one", "collect_after", "limit_memory",
           "message_size", "quiet_libraries", "release_memory", "resident_bytes",
           "worker_checker", "worker_main"]
