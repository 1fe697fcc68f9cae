"""Mail through the lab: sending over SMTP, waiting for delivery, the queue, the logs and the
gateway's decision log."""

from __future__ import annotations

import json
import re
import smtplib
import subprocess
import time
from email.message import Message
from pathlib import Path
from typing import Any

from gateway.lab.base import LabBase
from gateway.lab.tools import POSTQUEUE, LabError, strip_sink_pseudo_headers, to_bytes


class MailMixin(LabBase):
    """Sends messages into the lab and reads what became of them."""

    def send(
        self,
        msg: bytes | str | Message,
        sender: str,
        rcpts: list[str],
        *,
        port: int | None = None,
        timeout: float = 180,
    ) -> tuple[int, str]:
        """Send one message over SMTP; returns the final reply ``(code, text)``: 250 when
        accepted, otherwise the first refusal (MAIL, every RCPT, or end of DATA). Never
        raises on a 4xx/5xx reply (only when the connection itself fails)."""
        data = to_bytes(msg)
        with smtplib.SMTP("127.0.0.1", port or self.smtp_port, timeout=timeout) as s:
            code, text = s.ehlo("client.lab.invalid")
            if code != 250:
                return code, text.decode("utf-8", "replace")
            code, text = s.mail(sender, [] if data.isascii() else ["BODY=8BITMIME"])
            if code != 250:
                s.rset()
                return code, text.decode("utf-8", "replace")
            accepted = 0
            refusal: tuple[int, bytes] | None = None
            for r in rcpts:
                code, text = s.rcpt(r)
                if code in (250, 251):
                    accepted += 1
                elif refusal is None:
                    refusal = (code, text)
            if not accepted:
                s.rset()
                assert refusal is not None
                return refusal[0], refusal[1].decode("utf-8", "replace")
            try:
                code, text = s.data(data)
            except smtplib.SMTPDataError as exc:  # refused at DATA (before the content)
                err = exc.smtp_error  # bytes from the server, str when smtplib made it up
                return exc.smtp_code, (
                    err if isinstance(err, str) else err.decode("utf-8", "replace"))
            return code, text.decode("utf-8", "replace")

    def maillog(self) -> str:
        try:
            return self._p("postfix.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def gateway_log(self) -> str:
        try:
            return self._p("gateway.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def queue_ids_for(self, message_id: str) -> list[str]:
        """Postfix queue ids that carried this Message-ID (several after retries)."""
        mid = message_id.strip().strip("<>")
        pat = re.compile(r"\b([0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}):"
                         r" message-id=<" + re.escape(mid) + r">")
        return list(dict.fromkeys(pat.findall(self.maillog())))

    def delivered_queue_id(self, message_id: str) -> str | None:
        log = self.maillog()
        for qid in self.queue_ids_for(message_id):
            if re.search(re.escape(qid) + r": to=<[^>]*>, relay=[^ ]*, .*status=sent", log):
                return qid
        return None

    def _sink_files(self) -> list[Path]:
        try:
            return sorted(self.sink_dir.iterdir(), key=lambda p: p.stat().st_mtime)
        except OSError:
            return []

    def wait_delivered(self, message_id: str, timeout: float = 30) -> bytes:
        """The message as the sink received it (smtp-sink's own ``X-Client-…`` pseudo-header
        lines removed), once Postfix has logged its delivery. Raises LabError on timeout."""
        mid = message_id.strip().strip("<>").encode("utf-8")
        needle = re.compile(rb"^Message-ID:[ \t]*<" + re.escape(mid) + rb">", re.I | re.M)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.delivered_queue_id(message_id):
                for f in reversed(self._sink_files()):
                    try:
                        data = f.read_bytes()
                    except OSError:
                        continue
                    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
                    if needle.search(head):
                        return strip_sink_pseudo_headers(data)
            time.sleep(0.1)
        raise LabError(f"message <{message_id}> not delivered within {timeout:.0f} s; "
                       f"queue: {self.queue()}; log: {self._tail('postfix.log')}")

    def delivered_count(self) -> int:
        return len(self._sink_files())

    def queue(self) -> list[dict[str, Any]]:
        """``postqueue -j`` entries (queue_name, queue_id, sender, recipients…)."""
        cp = subprocess.run([POSTQUEUE, "-c", str(self.config_dir), "-j"],
                            capture_output=True, text=True, timeout=60)
        out = []
        for line in cp.stdout.splitlines():
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def held(self) -> list[str]:
        """Queue ids in Postfix's hold queue (where the gateway's quarantine puts messages)."""
        return [e["queue_id"] for e in self.queue() if e.get("queue_name") == "hold"]

    def flush(self) -> None:
        """Ask Postfix to retry every deferred message now."""
        subprocess.run([POSTQUEUE, "-c", str(self.config_dir), "-f"], capture_output=True,
                       timeout=60)

    def store(self) -> Any:
        """The gateway's decision log, open for queries (closed by stop())."""
        if self._store is None:
            from gateway.audit.store import open_store

            self._store = open_store(self.store_url)
        return self._store
