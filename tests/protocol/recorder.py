"""A small SMTP client that records every answer (smtp-source stops at the first 4xx).

``send_recorded`` speaks plain SMTP over a socket: EHLO, MAIL (with ``SIZE=`` when asked),
each RCPT, DATA, the message, QUIT. It never raises on a 4xx/5xx answer or on a connection
the server drops: every step's answer (or the error) is kept in the :class:`Transcript`, with
``time.monotonic()`` instants so that latencies can be compared with the milter's own (the
same clock in every process of this host).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field


@dataclass
class Step:
    command: str
    code: int
    text: str
    at: float


@dataclass
class Transcript:
    started: float
    steps: list[Step] = field(default_factory=list)
    ended: float = 0.0

    @property
    def final(self) -> tuple[int, str]:
        """The answer that decided the message: the first refusal, else the end of DATA."""
        for s in self.steps:
            if s.command in ("QUIT",):
                continue
            if s.code >= 400 or s.code == 0:
                return s.code, s.text
        for s in reversed(self.steps):
            if s.command == "END-OF-DATA":
                return s.code, s.text
        return 0, "no answer"

    @property
    def accepted(self) -> bool:
        return self.final[0] == 250

    @property
    def elapsed_ms(self) -> float:
        """From the TCP connection to the answer for the message (not counting QUIT)."""
        answer = [s for s in self.steps if s.command != "QUIT"]
        return ((answer[-1].at if answer else self.ended) - self.started) * 1000

    def seconds_to(self, command: str) -> float | None:
        for s in self.steps:
            if s.command == command:
                return s.at - self.started
        return None


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = b""

    def reply(self) -> tuple[int, str]:
        lines: list[str] = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed by the server")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            text = line.decode("utf-8", "replace")
            lines.append(text[4:])
            if len(text) < 4 or text[3] != "-":
                return int(text[:3]), "\n".join(lines)


def send_recorded(port: int, message: bytes, sender: str, rcpts: list[str], *,
                  size: bool = False, timeout: float = 400.0,
                  host: str = "127.0.0.1") -> Transcript:
    """Send one message; ``message`` is CRLF wire bytes without the final dot."""
    t = Transcript(started=time.monotonic())
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        t.steps.append(Step("CONNECT", 0, f"{type(exc).__name__}: {exc}", time.monotonic()))
        t.ended = time.monotonic()
        return t
    conn = _Conn(sock)

    def step(command: str, line: bytes | None) -> int:
        try:
            if line is not None:
                sock.sendall(line)
            code, text = conn.reply()
        except OSError as exc:  # ConnectionError, timeouts: recorded, not raised
            code, text = 0, f"{type(exc).__name__}: {exc}"
        t.steps.append(Step(command, code, text, time.monotonic()))
        return code

    try:
        if step("BANNER", None) != 220 or step("EHLO", b"EHLO client.lab.invalid\r\n") != 250:
            return t
        mail = f"MAIL FROM:<{sender}>"
        if size:
            mail += f" SIZE={len(message)}"
        if not message.isascii():
            mail += " BODY=8BITMIME"
        if step("MAIL", mail.encode() + b"\r\n") != 250:
            step("QUIT", b"QUIT\r\n")
            return t
        ok = [r for r in rcpts if step("RCPT", f"RCPT TO:<{r}>\r\n".encode()) in (250, 251)]
        if not ok:
            step("QUIT", b"QUIT\r\n")
            return t
        if step("DATA", b"DATA\r\n") != 354:
            step("QUIT", b"QUIT\r\n")
            return t
        data = message.replace(b"\r\n.", b"\r\n..")
        if data.startswith(b"."):
            data = b"." + data
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        step("END-OF-DATA", data + b".\r\n")
        step("QUIT", b"QUIT\r\n")
    finally:
        t.ended = time.monotonic()
        sock.close()
    return t


__all__ = ["Step", "Transcript", "send_recorded"]
