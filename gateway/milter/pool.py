"""A bounded pool of worker processes with a per-message deadline.

Each message borrows one worker for the duration of its check. When the deadline passes,
that worker is killed (it may be stuck in a hostile document) and a fresh one takes its
place in the background; the other messages in flight are not disturbed. A worker that dies
is replaced the same way, and a worker is recycled after ``max_jobs`` messages. When every
worker is busy, a message waits for one, within its own deadline.

Workers are forked from a ``forkserver`` process started before libmilter starts its
threads, so no worker is ever forked from a multi-threaded process.
"""

from __future__ import annotations

import json
import logging
import math
import multiprocessing
import os
import queue
import select
import signal
import struct
import threading
import time
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from typing import Any

log = logging.getLogger("hople.pool")

START_TIMEOUT = 60.0
CHECKER_ENV = "HOPLE_WORKER_CHECKER"
"""Set before the forkserver starts: ``{"rules": PATH|null, "trust": [DIR…]}``, the checker
its workers will load, which ``gateway.milter.preload`` builds for them."""
PROGRESS_EVERY = 10.0


class PoolError(Exception):
    """The pool could not check a message (the caller applies the failure policy)."""


class DeadlineExceeded(PoolError):
    pass


class WorkerFailed(PoolError):
    pass


class PoolClosed(PoolError):
    pass


class _Pieces:
    """A pickler's file: keeps what it is given instead of copying it into one buffer. The C
    pickler hands a large ``bytes`` object (the message) to ``write`` as it is, so the request
    goes to the worker without another copy of the message."""

    __slots__ = ("pieces",)

    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    def write(self, data: Any) -> int:
        self.pieces.append(data if type(data) is bytes else bytes(data))
        return len(data)


def send_request(conn: Any, obj: Any) -> None:
    """``conn.send(obj)``: the same bytes on the wire (length, then the pickle made by the
    same pickler), written with one ``writev`` instead of after copying the message into
    the pickle's buffer.

    :raises OSError: the pipe is broken."""
    out = _Pieces()
    ForkingPickler(out, None).dump(obj)  # what Connection.send pickles with
    size = sum(map(len, out.pieces))
    if size > 0x7FFFFFFF:  # the long form of the length (never for a message in memory)
        conn.send_bytes(b"".join(out.pieces))
        return
    buffers: list[Any] = [struct.pack("!i", size), *out.pieces]
    fd = conn.fileno()
    while buffers:
        written = os.writev(fd, buffers)
        while written:  # drop what was written; a partial piece continues where it stopped
            first = len(buffers[0])
            if written >= first:
                written -= first
                buffers.pop(0)
            else:
                buffers[0] = memoryview(buffers[0])[written:]
                written = 0


def watch_resource_registrations() -> bool:
    """Stand in for multiprocessing's resource tracker, in a thread of this process.

    The ``forkserver`` start method launches a resource tracker before the forkserver: one
    more Python process (about 7 MiB PSS) whose only work is to unlink the named semaphores
    and shared memory segments that a process which died had registered. The gateway creates
    none (its pipes are socket pairs, its locks are threads' locks, nothing imports
    ``multiprocessing.shared_memory``), so that process would sit idle for the gateway's life.
    Instead, the descriptor the forkserver hands each worker for the tracker is a pipe read
    here: the liveness probes sent on each worker's start are dropped, and a registration,
    which the gateway never makes, is logged as an error naming the resource (it would be
    left behind by a worker that dies: the change that made it must bring the tracker back).

    Returns False when a tracker is already running in this process (something started it
    before the pool), or when this Python's tracker is not the one of 3.11 this relies on:
    multiprocessing then starts its own, and nothing else changes."""
    from multiprocessing import resource_tracker

    # no public way to go without it (3.11); typeshed does not declare its private state
    tracker: Any = getattr(resource_tracker, "_resource_tracker", None)
    if not all(hasattr(tracker, a) for a in ("_lock", "_fd", "ensure_running")):
        return False  # another Python's internals: its own tracker runs, as it would anyway
    with tracker._lock:
        if tracker._fd is not None:
            return False
        read_end, tracker._fd = os.pipe()  # ensure_running() probes it: alive while read
    # the thread takes no signal (it inherits this mask): the milter's stop signals must reach
    # only libmilter's signal thread, and the pool is built before they are blocked
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        threading.Thread(target=_read_registrations, args=(read_end,),
                         name="hople-resource-watch", daemon=True).start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
    return True


def _read_registrations(fd: int) -> None:
    with open(fd, "rb") as lines:
        for line in lines:  # "CMD:name:rtype\n", each written whole (under PIPE_BUF)
            cmd, _, rest = line.strip().decode("ascii", "replace").partition(":")
            if cmd == "REGISTER":
                name, _, rtype = rest.rpartition(":")
                log.error("a worker registered the %s %r for cleanup by multiprocessing's "
                          "resource tracker, which the gateway does not run: a worker that "
                          "dies would leave it behind", rtype, name)


class _Worker:
    def __init__(self, ctx: Any, rules_path: str | None, trust_dirs: tuple[str, ...],
                 memory_limit: int = 0) -> None:
        from gateway.milter.worker import worker_main

        self.conn, child = ctx.Pipe(duplex=True)
        self.proc = ctx.Process(
            target=worker_main, args=(child, rules_path, trust_dirs, memory_limit),
            name="hople-worker",
            daemon=True,
        )
        self.proc.start()
        child.close()
        self.jobs = 0
        self.rules_hash = ""

    def wait_ready(self, timeout: float) -> None:
        if not self.conn.poll(timeout):
            self.kill()
            raise WorkerFailed(f"worker did not start within {timeout:.0f} s")
        try:
            msg = self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            raise WorkerFailed("worker exited while starting") from None
        if msg[0] != "ready":
            self.kill()
            raise WorkerFailed(f"worker failed to start: {msg[1]}")
        self.rules_hash = msg[1]

    @property
    def pid(self) -> int | None:
        return self.proc.pid

    # One poll object per worker for the per-message waits, instead of the selector that
    # ``Connection.poll`` and ``Process.is_alive`` build, register and close on every call.
    _reply_poll: Any = None
    _exit_poll: Any = None

    def reply_ready(self, timeout: float) -> bool:
        """True once the worker's answer can be read, or its end of the pipe closed (``recv``
        then raises), within ``timeout`` seconds."""
        if self._reply_poll is None:
            self._reply_poll = select.poll()
            self._reply_poll.register(self.conn.fileno(), select.POLLIN)
        return bool(self._reply_poll.poll(max(0, math.ceil(timeout * 1000))))

    def alive(self) -> bool:
        """False once the worker's end of the pipe is closed or the process ended. Asked of an
        idle worker, which has nothing to say: a readable pipe is its end closing (a killed
        worker's, before the forkserver has reaped it) or a stray message; either way the
        worker is not given another message."""
        if self.reply_ready(0):
            return False
        if self._exit_poll is None:
            self._exit_poll = select.poll()
            self._exit_poll.register(self.proc.sentinel, select.POLLIN)
        if self._exit_poll.poll(0):  # ended (or the sentinel is gone): multiprocessing knows
            return bool(self.proc.is_alive())
        return True

    def kill(self) -> None:
        try:
            self.proc.kill()
        except (OSError, AttributeError, ValueError):
            pass
        self.proc.join(5)
        try:
            self.conn.close()
        except OSError:
            pass

    def stop(self) -> None:
        try:
            self.conn.send(("stop",))
        except (OSError, ValueError):
            pass
        self.proc.join(2)
        if self.proc.is_alive():
            self.kill()
        try:
            self.conn.close()
        except OSError:
            pass


class WorkerPool:
    """``size`` worker processes loading the rules from ``rules_path`` (None: shipped)."""

    def __init__(
        self,
        size: int,
        rules_path: str | None = None,
        trust_dirs: tuple[str, ...] = (),
        max_jobs: int = 500,
        start_timeout: float = START_TIMEOUT,
        memory_limit: int = 0,
    ) -> None:
        self.size = size
        self.memory_limit = memory_limit
        """Address-space limit of each worker in bytes (0: none; settings
        ``milter.worker-memory-limit``)."""
        self.rules_path = rules_path
        self.trust_dirs = tuple(trust_dirs)
        self.max_jobs = max_jobs
        self.start_timeout = start_timeout
        self._ctx = multiprocessing.get_context("forkserver")
        # the forkserver imports everything a check needs, once, so the workers forked from it
        # share those pages (gateway.milter.preload); the milter process imports none of it.
        # It also builds the checker the workers will ask for (each verifies it is theirs),
        # named in its environment: set before the thread below starts (setenv in a process
        # with threads may race with their getenv)
        os.environ[CHECKER_ENV] = json.dumps({
            "rules": None if rules_path is None else str(rules_path),
            "trust": [str(d) for d in self.trust_dirs]})
        self._ctx.set_forkserver_preload(["gateway.milter.preload"])
        watch_resource_registrations()  # no resource tracker process (nothing to track)
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        self.replaced = 0
        """How many workers were replaced after a deadline, a death or recycling."""

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start every worker and wait until each has loaded the rules.

        :raises WorkerFailed: a worker could not start (e.g. the rules cannot be loaded).
        """
        started: list[_Worker] = []
        try:
            for _ in range(self.size):
                started.append(_Worker(self._ctx, self.rules_path, self.trust_dirs,
                                       self.memory_limit))
            for w in started:
                w.wait_ready(self.start_timeout)
        except BaseException:
            for w in started:
                w.kill()
            raise
        with self._lock:
            for w in started:
                self._all.add(w)
                self._idle.put(w)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
        for w in workers:
            w.stop()

    def pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._all if w.pid]

    # -- work ---------------------------------------------------------------------------------

    def run(
        self,
        kind: str,
        source: Any,
        envelope: Any,
        label: str,
        deadline: float,
        progress: Callable[[], Any] | None = None,
    ) -> Any:
        """Check one message in a worker; ``deadline`` is a ``time.monotonic()`` instant.

        :returns: the worker's ``MessageReport``.
        :raises DeadlineExceeded: no worker was free in time, or the check took too long.
        :raises WorkerFailed: the worker died or reported an error.
        """
        if self._closed:
            raise PoolClosed("the gateway is shutting down")
        worker = self._acquire(deadline, progress)
        killed = False
        try:
            try:
                send_request(worker.conn, ("check", kind, source, envelope, label))
            except (OSError, ValueError) as exc:
                killed = True
                raise WorkerFailed(f"worker pipe broken: {exc}") from None
            last_progress = time.monotonic()
            while True:
                now = time.monotonic()
                remaining = deadline - now
                if remaining <= 0:
                    killed = True
                    raise DeadlineExceeded("the check did not finish within the deadline")
                if progress and now - last_progress >= PROGRESS_EVERY:
                    progress()
                    last_progress = now
                if worker.reply_ready(min(remaining, PROGRESS_EVERY)):
                    break
            try:
                status, payload = worker.conn.recv()
            except (EOFError, OSError):
                killed = True
                raise WorkerFailed(f"worker {worker.pid} died during the check") from None
            worker.jobs += 1
            if status != "ok":
                raise WorkerFailed(f"the check failed: {payload}")
            return payload
        finally:
            self._release(worker, killed)

    def _acquire(self, deadline: float, progress: Callable[[], Any] | None) -> _Worker:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeadlineExceeded("no free worker within the deadline")
            try:
                worker = self._idle.get(timeout=min(remaining, PROGRESS_EVERY))
            except queue.Empty:
                if self._closed:
                    raise PoolClosed("the gateway is shutting down") from None
                if progress:
                    progress()
                continue
            if worker.alive():
                return worker
            log.warning("worker %s found dead; replacing it", worker.pid)
            self._replace(worker)

    def _release(self, worker: _Worker, killed: bool) -> None:
        if killed:
            log.warning("killing worker %s", worker.pid)
            self._replace(worker)
        elif worker.jobs >= self.max_jobs or not worker.alive():
            self._replace(worker)
        else:
            self._idle.put(worker)

    def _replace(self, old: _Worker) -> None:
        with self._lock:
            self._all.discard(old)
            closed = self._closed
        threading.Thread(target=old.kill if not closed else old.stop, daemon=True).start()
        if closed:
            return
        self.replaced += 1
        threading.Thread(target=self._start_one, name="hople-worker-start", daemon=True).start()

    def _start_one(self) -> None:
        delay = 1.0
        while not self._closed:
            try:
                w = _Worker(self._ctx, self.rules_path, self.trust_dirs, self.memory_limit)
                w.wait_ready(self.start_timeout)
            except Exception as exc:  # noqa: BLE001 - logged with its type, retried; meanwhile
                # messages wait for a free worker within their deadline, then tempfail
                log.error("cannot start a replacement worker: %s: %s (retrying in %.0f s)",
                          type(exc).__name__, exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 60.0)
                continue
            with self._lock:
                if self._closed:
                    w.stop()
                    return
                self._all.add(w)
            self._idle.put(w)
            return


__all__ = ["DeadlineExceeded", "PoolClosed", "PoolError", "WorkerFailed", "WorkerPool",
           "watch_resource_registrations"]
