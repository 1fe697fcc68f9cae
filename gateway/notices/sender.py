"""Turn outbox rows into MIME messages and submit them to the local Postfix over SMTP.

A notice is plain text (UTF-8, quoted-printable), its subject RFC 2047-encoded, with
``Auto-Submitted: auto-replied`` (RFC 3834; ``auto-generated`` for the report to the
security contact), ``In-Reply-To``/``References`` pointing at the message it is about,
``X-Auto-Response-Suppress: All`` (so out-of-office responders stay quiet) and the
``X-Hople-Notice`` marker (made at each attempt, so it is fresh when the notice reaches the
milter). The envelope sender is null by default (RFC 3834 section 3.3): a notice that
cannot be delivered does not bounce back into a loop.

:class:`OutboxSender` is the thread that drains the outbox: it wakes when a notice is queued
and when the next retry is due, retries with exponential backoff, and marks a notice failed
after a permanent refusal (5xx) or ``max-attempts``.
"""

from __future__ import annotations

import email.errors
import email.policy
import logging
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from gateway.notices.marker import HEADER as MARKER_HEADER
from gateway.notices.marker import make_marker
from gateway.notices.outbox import Outbox, OutboxEntry
from gateway.notices.render import KIND_SECURITY

log = logging.getLogger("hople.notices")


class SubmitError(Exception):
    """Postfix did not take the notice; ``permanent`` for a 5xx refusal."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


def compose(entry: OutboxEntry, *, from_address: str, from_name: str, secret: bytes | None,
            now: datetime) -> bytes:
    """The notice as CRLF wire bytes.

    :raises SubmitError: (permanent) when an address cannot be written in a header.
    """
    msg = EmailMessage(policy=email.policy.SMTP)
    try:
        msg["From"] = Address(display_name=from_name, addr_spec=from_address)
        msg["To"] = Address(addr_spec=entry.recipient)
    except (ValueError, IndexError, TypeError, email.errors.MessageError) as exc:
        raise SubmitError(f"bad address: {exc}", permanent=True) from None
    msg["Subject"] = entry.subject
    msg["Date"] = format_datetime(now.astimezone(UTC))
    msg["Message-ID"] = entry.message_id
    if entry.in_reply_to:
        if entry.kind != KIND_SECURITY:
            msg["In-Reply-To"] = entry.in_reply_to
        refs = f"{entry.refs or ''} {entry.in_reply_to}".split()
        msg["References"] = " ".join(dict.fromkeys(refs))
    msg["Auto-Submitted"] = "auto-generated" if entry.kind == KIND_SECURITY else "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    if secret:
        msg[MARKER_HEADER] = make_marker(secret, entry.message_id, now=now.timestamp())
    msg.set_content(entry.body, charset="utf-8", cte="quoted-printable")
    return msg.as_bytes()


def submit(host: str, port: int, timeout: float, mail_from: str, rcpt: str, data: bytes) -> str:
    """One SMTP transaction; returns Postfix's reply to the data (``2.0.0 Ok: queued as …``).

    :raises SubmitError: permanent for a 5xx reply, otherwise temporary.
    """
    try:
        with smtplib.SMTP(host, port, timeout=timeout) as s:
            s.ehlo_or_helo_if_needed()
            options: list[str] = []
            if not (rcpt.isascii() and mail_from.isascii()):
                if not s.has_extn("smtputf8"):
                    raise SubmitError("the address is not ASCII and the server lacks SMTPUTF8",
                                      permanent=True)
                options.append("SMTPUTF8")
            code, reply = s.mail(mail_from, options)
            if code != 250:
                raise smtplib.SMTPSenderRefused(code, reply, mail_from)
            code, reply = s.rcpt(rcpt)
            if code not in (250, 251):
                raise smtplib.SMTPRecipientsRefused({rcpt: (code, reply)})
            code, reply = s.data(data)
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
            return reply.decode("utf-8", "replace")
    except SubmitError:
        raise
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise SubmitError(f"recipient refused: {code} {_text(reply)}",
                          permanent=500 <= code < 600) from None
    except smtplib.SMTPResponseException as exc:
        raise SubmitError(f"{type(exc).__name__}: {exc.smtp_code} {_text(exc.smtp_error)}",
                          permanent=500 <= exc.smtp_code < 600) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise SubmitError(f"{host}:{port}: {type(exc).__name__}: {exc}", permanent=False) from None


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


@dataclass(frozen=True)
class SenderConfig:
    host: str
    port: int
    timeout: float
    envelope_sender: str
    from_address: str
    from_name: str
    secret: bytes | None
    max_attempts: int
    retry_first: float
    retry_max: float
    poll: float
    lease: float = 600.0
    batch: int = 20


SubmitFn = Callable[[str, int, float, str, str, bytes], str]


class OutboxSender:
    """The thread that sends due notices. ``run_once`` does one pass (used by tests and by
    ``hople notices send``)."""

    def __init__(self, outbox: Outbox, config: SenderConfig, *,
                 clock: Callable[[], datetime] | None = None,
                 submit_fn: SubmitFn = submit) -> None:
        self.outbox = outbox
        self.config = config
        self.clock = clock or (lambda: datetime.now(UTC))
        self.submit_fn = submit_fn
        self._event = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._event.set()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="hople-notices", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._event.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._event.clear()
            try:
                while self.run_once() and not self._stop.is_set():
                    pass
                wait = self._until_next_due()
            except Exception as exc:  # noqa: BLE001 - the store may be briefly unavailable
                log.error("notice outbox: %s: %s", type(exc).__name__, exc)
                wait = self.config.poll
            self._event.wait(wait)

    def _until_next_due(self) -> float:
        due = self.outbox.next_due()
        if due is None:
            return self.config.poll
        seconds = (due - self.clock()).total_seconds()
        return max(0.05, min(self.config.poll, seconds))

    def run_once(self, now: datetime | None = None) -> int:
        """Attempt every notice due now; returns how many were attempted."""
        cfg = self.config
        now = now or self.clock()
        entries = self.outbox.claim_due(now, lease_seconds=cfg.lease, limit=cfg.batch)
        for entry in entries:
            self._attempt(entry)
            if self._stop.is_set():
                break
        return len(entries)

    def _attempt(self, entry: OutboxEntry) -> None:
        cfg = self.config
        now = self.clock()
        try:
            data = compose(entry, from_address=cfg.from_address, from_name=cfg.from_name,
                           secret=cfg.secret, now=now)
            reply = self.submit_fn(cfg.host, cfg.port, cfg.timeout, cfg.envelope_sender,
                                   entry.recipient, data)
        except SubmitError as exc:
            row = self.outbox.mark_attempt_failed(
                entry.id, str(exc), self.clock(), permanent=exc.permanent,
                max_attempts=cfg.max_attempts, first=cfg.retry_first, cap=cfg.retry_max)
            if row is not None and row.state == "failed":
                log.error("notice %d to <%s> (queue id %s) failed after %d attempt(s): %s",
                          entry.id, entry.recipient, entry.queue_id or "-", row.attempts, exc)
            elif row is not None:
                log.warning("notice %d to <%s> (queue id %s): attempt %d failed (%s); next at %s",
                            entry.id, entry.recipient, entry.queue_id or "-", row.attempts,
                            exc, row.next_attempt_at.isoformat() if row.next_attempt_at else "-")
            return
        self.outbox.mark_sent(entry.id, self.clock())
        log.info("notice %d (%s) to <%s> for queue id %s submitted: %s", entry.id, entry.kind,
                 entry.recipient, entry.queue_id or "-", reply.strip())


__all__ = ["OutboxSender", "SenderConfig", "SubmitError", "compose", "submit"]
