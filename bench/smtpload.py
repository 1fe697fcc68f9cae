"""A small concurrent SMTP client and the process meters of the Postfix benchmark.

The client sends prepared wire bytes over plain sockets (one message per session, as
``smtp-source`` does by default), ``clients`` sessions at a time, and records every final
reply and the time from the end of DATA to that reply. The same client serves every phase
of a run, so its own cost is the same in each ratio.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

_STUFF = re.compile(rb"^\.", re.MULTILINE)


def prepare(data: bytes) -> bytes:
    """DATA payload: dot-stuffed, CRLF-terminated, with the final dot."""
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return _STUFF.sub(b"..", data) + b".\r\n"


@dataclass
class Sent:
    index: int
    code: int
    latency: float
    """Seconds from the end of DATA to the final reply (or to the refusal)."""
    stage: str = "data"


@dataclass
class LoadResult:
    wall: float
    sent: list[Sent] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _reply(f: BinaryIO) -> tuple[int, bytes]:
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("connection closed")
        lines.append(line)
        if line[3:4] != b"-":
            return int(line[:3]), b"".join(lines)


def send_one(port: int, sender: str, rcpt: str, payload: bytes, index: int,
             timeout: float = 300) -> Sent:
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        f = s.makefile("rb")
        _reply(f)
        s.sendall(b"EHLO bench.lab.invalid\r\n")
        _reply(f)
        s.sendall(f"MAIL FROM:<{sender}> BODY=8BITMIME\r\n".encode())
        code, _ = _reply(f)
        if code != 250:
            return Sent(index, code, 0.0, "mail")
        s.sendall(f"RCPT TO:<{rcpt}>\r\n".encode())
        code, _ = _reply(f)
        if code not in (250, 251):
            return Sent(index, code, 0.0, "rcpt")
        s.sendall(b"DATA\r\n")
        code, _ = _reply(f)
        if code != 354:
            return Sent(index, code, 0.0, "data")
        s.sendall(payload)
        t = time.perf_counter()
        code, _ = _reply(f)
        dt = time.perf_counter() - t
        try:
            s.sendall(b"QUIT\r\n")
            _reply(f)
        except OSError:
            pass
        return Sent(index, code, dt)


def run_load(port: int, mails: list[tuple[str, bytes]], rcpt: str, clients: int) -> LoadResult:
    """Send every (sender, payload) once with ``clients`` concurrent sessions."""
    lock = threading.Lock()
    next_i = [0]
    out = LoadResult(0.0)

    def worker() -> None:
        while True:
            with lock:
                i = next_i[0]
                next_i[0] += 1
            if i >= len(mails):
                return
            sender, payload = mails[i]
            try:
                r = send_one(port, sender, rcpt, payload, i)
            except OSError as exc:
                with lock:
                    out.errors.append(f"message {i}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                out.sent.append(r)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.wall = time.perf_counter() - started
    return out


# ------------------------------------------------------------------------------------------
# Meters

TICK = os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """CPU seconds spent by the whole machine (all cores, not idle/iowait)."""
    parts = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return (user + nice + system + irq + softirq + steal) / TICK


def _stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw.rsplit(") ", 1)[1].split()


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st:
                children.setdefault(int(st[1]), []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def tree_cpu(pid: int) -> float:
    """CPU seconds of ``pid``'s process tree, including its reaped children."""
    total = 0
    for p in tree(pid):
        st = _stat(p)
        if st:
            total += sum(int(x) for x in st[11:15])  # utime stime cutime cstime
    return total / TICK


def own_cpu(pid: int) -> float:
    """CPU seconds of ``pid`` alone (all its threads; not its children)."""
    st = _stat(pid)
    return sum(int(x) for x in st[11:13]) / TICK if st else 0.0


def _kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


class RssSampler:
    """Samples the RSS of a process tree: the root's and each child's peak (VmHWM), and the
    largest sum of the tree's resident sets seen."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.pid = pid
        self.every = every
        self.root_hwm = 0
        self.child_hwm = 0
        self.tree_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every)

    def sample(self) -> None:
        total = 0
        for p in tree(self.pid):
            total += _kib(p, "VmRSS:")
            hwm = _kib(p, "VmHWM:")
            if p == self.pid:
                self.root_hwm = max(self.root_hwm, hwm)
            else:
                self.child_hwm = max(self.child_hwm, hwm)
        self.tree_peak = max(self.tree_peak, total)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
