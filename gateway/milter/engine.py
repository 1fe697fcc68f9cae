"""What the milter does with a finished message, without any pymilter: run the check in the
worker pool within the deadline, apply the failure policy, record the decision, and say what
to tell the MTA.

The milter adapter (``gateway.milter.app``) only translates a :class:`Decision` into
libmilter calls, so this logic is tested without an MTA.
"""

from __future__ import annotations

import logging
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from gateway.headers import is_verdict_header, verdict_headers
from gateway.model.catalog import make_finding
from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.model.report import MessageReport, SmtpReply, Verdict
from gateway.notices.marker import HEADER as NOTICE_HEADER
from gateway.notices.marker import verify_marker

log = logging.getLogger("hople.milter")

ON_ERROR_TEMPFAIL = "tempfail"
ON_ERROR_ACCEPT = "accept-unchecked"

GATEWAY_TEMPFAIL = SmtpReply(
    "451", "4.3.0",
    "Cong kiem tra tam thoi khong kiem tra duoc thu; vui long gui lai sau. / "
    "The gateway could not check the message; please try again later.",
)

REPLY_LINE = 200
REPLY_MAX_LINES = 10


@dataclass(frozen=True)
class Decision:
    """What to tell the MTA about one message."""

    action: Action
    report: MessageReport | None = None
    reply: SmtpReply | None = None
    add_headers: tuple[tuple[str, str], ...] = ()
    quarantine_reason: str | None = None
    skipped: bool = False
    """A notice of the gateway's own: accepted untouched (no headers added or removed)."""
    error: str | None = None
    """Why the check could not be done (the failure policy decided)."""
    subject: str | None = None
    """A new Subject for the delivered message (``[notices] annotate-delivered``), or None."""
    downgraded: str | None = None
    """Why the planned answer became a tempfail (it could not be handed to the MTA, or its
    log row could not be written); None when the MTA got the planned answer."""


class Runner(Protocol):
    def run(self, kind: str, source: Any, envelope: Envelope, label: str, deadline: float,
            progress: Callable[[], Any] | None = None) -> MessageReport: ...


class Decider(Protocol):
    """What the milter needs of the engine: a decision for each message."""

    def decide(self, data: MessageData, progress: Callable[[], Any] | None = None,
               apply: Callable[[Decision], None] | None = None) -> Decision: ...


class Store(Protocol):
    """The decision log; ``record`` is called from every connection's thread at once."""

    def record(self, report: MessageReport, envelope: Envelope, *, decided_at: datetime,
               action_taken: str | None = None, session_ms: float | None = None) -> int: ...


@dataclass
class MessageData:
    """What the milter collected about one message."""

    envelope: Envelope
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    kind: str = "bytes"
    """``bytes`` (``source`` is the message) or ``path`` (``source`` is a spool file)."""
    source: Any = b""
    size: int = 0
    received_at: float | None = None
    """``time.monotonic()`` when the milter saw the first byte of this message (the connection
    for the first message of a session, MAIL FROM for the next ones); None when unknown."""


def header_text(raw: bytes) -> str:
    """A header value as text: UTF-8 where valid, otherwise Latin-1 (never raises)."""
    try:
        return raw.decode("utf-8").strip()
    except UnicodeDecodeError:
        return raw.decode("latin-1").strip()


def first_header(headers: list[tuple[str, bytes]], name: str) -> str | None:
    for k, v in headers:
        if k.lower() == name.lower():
            return header_text(v)
    return None


def forged_headers(headers: list[tuple[str, bytes]]) -> list[tuple[str, int]]:
    """``(name, index)`` pairs to delete with chgheader, highest index first per name.

    The index is 1-based and counts the headers of the same name (case-insensitively), as
    libmilter's ``smfi_chgheader`` expects."""
    counts: dict[str, int] = {}
    out: list[tuple[str, int]] = []
    for name, _ in headers:
        key = name.lower()
        counts[key] = counts.get(key, 0) + 1
        if is_verdict_header(name):
            out.append((name, counts[key]))
    return sorted(out, key=lambda p: (p[0].lower(), -p[1]))


def reply_lines(text: str, width: int = REPLY_LINE, max_lines: int = REPLY_MAX_LINES) -> list[str]:
    """SMTP reply text (plain, as reports carry it) as ASCII lines for ``setreply``: no
    control characters, every ``%`` doubled (libmilter drops a reply with a single ``%``),
    split at spaces and never inside a ``%%`` pair."""
    text = "".join(c if 32 <= ord(c) < 127 else " " for c in _ascii_keep_percent(text))
    text = text.replace("%", "%%")
    words = text.split()
    lines: list[str] = []
    cur = ""
    for w in words:
        while len(w) > width:
            cut = width
            if (len(w[:cut]) - len(w[:cut].rstrip("%"))) % 2:
                cut -= 1  # keep each %% pair on one line
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(w[:cut])
            w = w[cut:]
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [lines[max_lines - 1][: width - 4] + " ..."]
    return lines or ["-"]


def _ascii_keep_percent(text: str) -> str:
    """Vietnamese without diacritics (SMTP replies are ASCII); other characters become '?'."""
    if text.isascii():
        return text
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.encode("ascii", "replace").decode("ascii")


class Engine:
    """Decides about finished messages. Thread-safe: one engine serves every connection."""

    def __init__(
        self,
        runner: Runner,
        store: Store | None,
        *,
        on_error: str = ON_ERROR_TEMPFAIL,
        deadline_seconds: float = 120.0,
        notice_secret: bytes | None = None,
        rules_hash: str = "",
        clock: Callable[[], datetime] | None = None,
        notifier: Any = None,
    ) -> None:
        if on_error not in (ON_ERROR_TEMPFAIL, ON_ERROR_ACCEPT):
            raise ValueError(f"on-error must be tempfail or accept-unchecked, got {on_error!r}")
        self.runner = runner
        self.store = store
        self.on_error = on_error
        self.deadline_seconds = deadline_seconds
        self.notice_secret = notice_secret
        self.rules_hash = rules_hash
        self.clock = clock or (lambda: datetime.now().astimezone())
        self.notifier = notifier
        """``gateway.notices.service.NoticeService`` (or None): told of each recorded decision."""

    # -- the decision -------------------------------------------------------------------------

    def is_own_notice(self, data: MessageData) -> bool:
        if not self.notice_secret:
            return False
        value = first_header(data.headers, NOTICE_HEADER)
        if value is None:
            return False
        message_id = data.envelope.message_id or ""
        return verify_marker(self.notice_secret, value, message_id)

    def decide(self, data: MessageData, progress: Callable[[], Any] | None = None,
               apply: Callable[[Decision], None] | None = None) -> Decision:
        """Check the message, hand the answer to the MTA through ``apply``, then record what
        was actually done and queue the notices it calls for.

        ``apply`` performs the libmilter actions (header changes, quarantine, reply); an
        exception from it means the answer never reached the MTA: the message is tempfailed
        and the log says ``tempfail``. Nothing is recorded and no notice is queued before the
        answer was handed over. Returns the final decision (``downgraded`` set when it
        differs from the planned one)."""
        env = data.envelope
        qid = env.queue_id or "-"
        started = time.monotonic()
        if self.is_own_notice(data):
            log.info("%s: gateway notice (valid %s marker): accepted unchecked, untagged",
                     qid, NOTICE_HEADER)
            skipped = Decision(Action.ACCEPT, skipped=True)
            failure = self._hand(skipped, apply, qid)
            return skipped if failure is None else self._downgraded(skipped, failure)
        if first_header(data.headers, NOTICE_HEADER) is not None:
            log.warning("%s: %s header with an invalid marker: checked like any message",
                        qid, NOTICE_HEADER)
        deadline = started + self.deadline_seconds
        try:
            report = self.runner.run(data.kind, data.source, env, qid, deadline, progress)
        except Exception as exc:  # noqa: BLE001 - logged with its type; the failure policy
            # tempfails (or tags the message unchecked when configured): never "nothing found"
            planned = self._failed(data, f"{type(exc).__name__}: {exc}", started)
        else:
            planned = self._with_subject(data, self._from_report(report))
        return self._finish(data, planned, apply, started)

    def _finish(self, data: MessageData, planned: Decision,
                apply: Callable[[Decision], None] | None, started: float) -> Decision:
        env = data.envelope
        qid = env.queue_id or "-"
        final = planned
        failure = self._hand(planned, apply, qid)
        if failure is not None:
            final = self._downgraded(planned, failure)
        report = planned.report
        decision_id = None
        if report is not None:
            try:
                decision_id = self._record(report, env, final, data)
            except Exception as exc:  # noqa: BLE001 - any backend error: logged with its type
                log.error("%s: cannot record the decision: %s: %s", qid, type(exc).__name__,
                          exc)
                unchecked_accept = final.error and final.action is Action.ACCEPT
                if final.action is not Action.TEMPFAIL and not unchecked_accept:
                    # no final answer without its log row (the sender's server retries, and
                    # the retry is logged): headers already handed over are discarded by the
                    # MTA with the tempfail, a refusal is given again once the log is back
                    final = self._downgraded(final, f"decision log: {type(exc).__name__}")
        self._log(env, final, data, started)
        if final.downgraded is None:
            self._notify(data, final, decision_id)
        return final

    @staticmethod
    def _hand(decision: Decision, apply: Callable[[Decision], None] | None, qid: str
              ) -> str | None:
        """Run ``apply``; returns None when the MTA has the answer, else why it has not."""
        if apply is None:
            return None
        try:
            apply(decision)
        except Exception as exc:  # noqa: BLE001 - libmilter/pymilter raise several types
            reason = f"{type(exc).__name__}: {exc}"
            log.error("%s: the answer (%s) could not be handed to the MTA: %s; tempfail",
                      qid, decision.action.label, reason)
            return reason
        return None

    @staticmethod
    def _downgraded(decision: Decision, reason: str) -> Decision:
        """The planned decision replaced by a tempfail (what the MTA will actually do)."""
        return replace(decision, action=Action.TEMPFAIL, reply=GATEWAY_TEMPFAIL,
                       downgraded=reason[:300])

    def _with_subject(self, data: MessageData, decision: Decision) -> Decision:
        """The Subject tag for a delivered invalid message (``[notices] annotate-delivered``),
        planned before the answer is handed over; a failure here never fails the mail."""
        if self.notifier is None or decision.report is None:
            return decision
        try:
            subject = self.notifier.subject_for(decision.report, decision.action, data.headers)
        except Exception as exc:  # noqa: BLE001 - logged with its type; the mail goes on
            log.error("%s: subject tag not planned: %s: %s", data.envelope.queue_id or "-",
                      type(exc).__name__, exc)
            return decision
        return replace(decision, subject=subject) if subject is not None else decision

    def _notify(self, data: MessageData, decision: Decision, decision_id: int | None) -> None:
        """Queue the notices this decision calls for; a failure there never fails the mail."""
        if self.notifier is None or decision.report is None:
            return
        try:
            self.notifier.after_decision(decision.report, decision.action, data.envelope,
                                         data.headers, decision_id)
        except Exception as exc:  # noqa: BLE001 - logged with its type; the mail goes on
            log.error("%s: notice not queued: %s: %s", data.envelope.queue_id or "-",
                      type(exc).__name__, exc)

    def _from_report(self, report: MessageReport) -> Decision:
        action = report.action
        if action is Action.REJECT or action is Action.TEMPFAIL:
            reply = report.smtp_reply or (
                SmtpReply("550", "5.7.1", "Rejected by policy")
                if action is Action.REJECT
                else SmtpReply("451", "4.7.1", "Try again later")
            )
            return Decision(action, report=report, reply=reply)
        headers = tuple(verdict_headers(report))
        if action is Action.HOLD:
            codes = ",".join(dict.fromkeys(f.code for f in report.all_findings
                                          if f.action is Action.HOLD)) or "policy"
            return Decision(Action.HOLD, report=report, add_headers=headers,
                            quarantine_reason=f"hople: held by rules ({codes})")
        return Decision(Action.ACCEPT, report=report, add_headers=headers)

    def _failed(self, data: MessageData, reason: str, started: float) -> Decision:
        """The failure policy for a check that could not be done (recorded by the caller)."""
        env = data.envelope
        qid = env.queue_id or "-"
        short = reason.splitlines()[0][:300] if reason else "error"
        if self.on_error == ON_ERROR_ACCEPT:
            finding = make_finding("GATEWAY_UNCHECKED", reason=short)
            report = MessageReport(
                input=qid, kind="message", verdict=Verdict.UNCHECKED, action=Action.ACCEPT,
                findings=(finding,), rules_hash=self.rules_hash,
                duration_ms=(time.monotonic() - started) * 1000,
            )
            decision = Decision(Action.ACCEPT, report=report,
                                add_headers=tuple(verdict_headers(report)), error=short)
        else:
            finding = make_finding("INSPECTION_FAILED", name="(message)", reason=short)
            report = MessageReport(
                input=qid, kind="message", verdict=Verdict.UNCHECKED, action=Action.TEMPFAIL,
                smtp_reply=GATEWAY_TEMPFAIL, findings=(finding,), rules_hash=self.rules_hash,
                duration_ms=(time.monotonic() - started) * 1000,
            )
            decision = Decision(Action.TEMPFAIL, report=report, reply=GATEWAY_TEMPFAIL,
                                error=short)
        log.warning("%s: check failed (%s): %s", qid, short,
                    "accepted, tagged unchecked" if decision.action is Action.ACCEPT
                    else "tempfail")
        return decision

    def _record(self, report: MessageReport, env: Envelope, decision: Decision,
                data: MessageData) -> int | None:
        """One log row saying what was actually done (``action_taken``)."""
        if self.store is None:
            return None
        taken = decision.action.label
        if decision.error and decision.action is Action.ACCEPT:
            taken = ON_ERROR_ACCEPT
        session_ms = None
        if data.received_at is not None:
            session_ms = round((time.monotonic() - data.received_at) * 1000, 3)
        # no lock here: the store serialises appends itself, and appends of messages decided
        # at the same time then share one commit (gateway/audit/group.py)
        return self.store.record(report, env, decided_at=self.clock(), action_taken=taken,
                                 session_ms=session_ms)

    @staticmethod
    def _log(env: Envelope, decision: Decision, data: MessageData, started: float) -> None:
        if not log.isEnabledFor(logging.INFO):  # its arguments cost more than the check
            return
        report = decision.report
        now = time.monotonic()
        log.info(
            "%s: from=<%s> nrcpt=%d size=%d verdict=%s action=%s docs=%d codes=%s ms=%.0f "
            "session_ms=%s%s",
            env.queue_id or "-",
            env.sender or "",
            len(env.recipients),
            data.size,
            report.verdict.value if report else "-",
            decision.action.label,
            len(report.documents) if report else 0,
            ",".join(dict.fromkeys(f.code for f in report.all_findings)) if report else "-",
            (now - started) * 1000,
            f"{(now - data.received_at) * 1000:.0f}" if data.received_at is not None else "-",
            f" (planned {report.action.label}: {decision.downgraded})"
            if decision.downgraded and report else "",
        )


__all__ = [
    "Decider",
    "Decision",
    "Engine",
    "GATEWAY_TEMPFAIL",
    "MessageData",
    "ON_ERROR_ACCEPT",
    "ON_ERROR_TEMPFAIL",
    "first_header",
    "forged_headers",
    "header_text",
    "reply_lines",
]
