"""The lab's building blocks that hold no state: where Postfix's tools are, whether a lab can
run here, free loopback ports, process checks, and message bytes as sent and as received."""

from __future__ import annotations

import email.policy
import os
import re
import signal
import socket
import subprocess
import time
from email.message import EmailMessage, Message
from pathlib import Path

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTQUEUE = "/usr/sbin/postqueue"
SMTP_SINK = "/usr/sbin/smtp-sink"

MESSAGE_SIZE_LIMIT = 41943040
"""40 MiB: a 25 MiB attachment is about 34 MiB once base64-encoded, and a slightly larger one
must still reach the gateway so that the sender gets the Article 5.2 reply."""

SINK_PSEUDO = re.compile(rb"^X-(Client|Helo|Mail|Rcpt|Xforward)-[A-Za-z-]*:", re.IGNORECASE)
REPO = Path(__file__).resolve().parent.parent.parent


class LabError(RuntimeError):
    """The lab could not start or do what was asked (the message says why)."""


def unavailable_reason() -> str | None:
    """Why a lab cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the Postfix lab needs root"
    for tool in (POSTFIX, POSTCONF, POSTQUEUE, SMTP_SINK):
        if not os.access(tool, os.X_OK):
            return f"{tool} is missing (apt-get install postfix)"
    try:
        import pwd

        pwd.getpwnam("postfix")
    except KeyError:
        return "there is no postfix user (is the postfix package installed?)"
    import importlib.util

    if importlib.util.find_spec("Milter") is None:
        return "pymilter is not installed"
    return None


def port_is_free(port: int) -> bool:
    """Whether nothing accepts a connection on this loopback port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_ports(n: int) -> list[int]:
    """``n`` distinct loopback ports that nothing listens on.

    Postfix and smtp-sink bind with SO_REUSEPORT, so a stale listener would silently share a
    port with a new one: each candidate is also checked by connecting to it."""
    out: list[int] = []
    for _ in range(50 * n):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in out and port_is_free(port):
            out.append(port)
            if len(out) == n:
                return out
    raise LabError("could not find free loopback ports")


def wait_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    """Whether something listens on ``port`` within ``timeout`` seconds (False at once if
    ``proc`` exits first)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        if not port_is_free(port):
            return True
        time.sleep(0.05)
    return False


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().split(b") ", 1)[1][:1] != b"Z"
    except OSError:
        return False


def to_bytes(msg: bytes | str | Message) -> bytes:
    """A message as CRLF wire bytes."""
    if isinstance(msg, Message):
        data = msg.as_bytes(policy=email.policy.SMTP if isinstance(msg, EmailMessage)
                            else email.policy.compat32.clone(linesep="\r\n"))
    elif isinstance(msg, str):
        data = msg.encode("utf-8")
    else:
        data = msg
    return re.sub(rb"\r?\n", b"\r\n", data)


def terminate(proc: subprocess.Popen[bytes], timeout: float) -> None:
    """Stop a process the lab started and everything in its session."""
    pgid = None
    try:
        pgid = os.getpgid(proc.pid)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    if pgid is not None and pgid == proc.pid:  # its own session: leftovers die with it
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def strip_sink_pseudo_headers(data: bytes) -> bytes:
    """smtp-sink -d writes ``X-Client-Addr``, ``X-Mail-Args``… before the message."""
    lines = data.split(b"\n")
    i = 0
    while i < len(lines) and SINK_PSEUDO.match(lines[i]):
        i += 1
    return b"\n".join(lines[i:])

