"""The Postfix lab itself: helpers, and teardown that leaves nothing behind after a failure."""

from __future__ import annotations

import os
import socket
from email.message import EmailMessage

import pytest

from gateway.lab import (
    Lab,
    LabError,
    free_ports,
    strip_sink_pseudo_headers,
    to_bytes,
    unavailable_reason,
)


def test_free_ports_are_free_and_distinct() -> None:
    ports = free_ports(3)
    assert len(set(ports)) == 3
    for p in ports:
        with socket.socket() as s:
            s.bind(("127.0.0.1", p))  # nothing holds it


def test_a_listening_port_is_not_free() -> None:
    """The connect check catches a listener that shares ports with SO_REUSEPORT."""
    from gateway.lab import port_is_free

    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert not port_is_free(taken)
    assert port_is_free(taken)


def test_to_bytes_gives_crlf() -> None:
    m = EmailMessage()
    m["Subject"] = "Thử"
    m.set_content("a\nb\n")
    data = to_bytes(m)
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert to_bytes(b"A: b\n\nx\n") == b"A: b\r\n\r\nx\r\n"
    assert to_bytes(b"A: b\r\n\r\nx\r\n") == b"A: b\r\n\r\nx\r\n"


def test_strip_sink_pseudo_headers() -> None:
    raw = (b"X-Client-Addr: 127.0.0.1\nX-Mail-Args: a@b\nX-Rcpt-Args: c@d\n"
           b"Received: x\nSubject: s\n\nbody\n")
    assert strip_sink_pseudo_headers(raw) == b"Received: x\nSubject: s\n\nbody\n"


@pytest.mark.postfix
def test_failed_start_leaves_nothing_running() -> None:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    lab = Lab(rules="[limits]\nattachment-max-bytes = 0\n")
    with pytest.raises(LabError, match="attachment-max-bytes"):
        lab.start()
    assert lab.dir is not None and not lab.dir.exists()
    assert lab._sink is None and not lab.gateway_running
    for port in (lab.sink_port, lab.smtp_port):
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0
    mine = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline(p).find(str(lab.dir)) >= 0]
    assert mine == []


def _cmdline(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""
