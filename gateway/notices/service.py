"""Notices as the milter uses them: after each decision, queue what the sender (and, for held
classified mail, the security contact) must be told; run the sender thread.

The milter's engine asks :meth:`NoticeService.subject_for` before it hands its answer to the
MTA, and calls :meth:`NoticeService.after_decision` once the answer was handed over and the
decision recorded (a tempfailed message gets no notice); neither raises into the milter (a
notice that cannot be queued is logged, and the message goes on as decided). Which decision
gets what:

- delivered (accept) with verdict ``invalid`` → notice ``invalid`` to the envelope sender;
- delivered (accept) with verdict ``uninspected`` (a part could not be identified or opened)
  → notice ``uninspected``: what could not be inspected and how to send it so it can be;
- held → notice ``held`` to the envelope sender; when a finding cites Article 8.2 or 12.4
  (classified) and ``[text] security-contact`` is set, also ``security`` to that contact;
- refused, tempfailed, valid, without documents, unchecked → nothing.

A notice that must not be sent (null sender, list, automatic mail, a domain outside
``sender-domains``, the rate limit) is still recorded in the outbox as ``suppressed`` with
its reason, so the operator can see why a sender heard nothing. A message seen again (the
sending MTA retried it: same queue id or same Message-ID within ``RETRY_WINDOW``) gets no
second notice of the same kind to the same recipient.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.model.report import MessageReport, Verdict
from gateway.notices.outbox import Outbox, new_message_id
from gateway.notices.render import (
    KIND_HELD,
    KIND_INVALID,
    KIND_SECURITY,
    KIND_UNINSPECTED,
    Headers,
    NoticeFacts,
    decoded_subject,
    header_value,
    is_classified,
    render_notice,
)
from gateway.notices.sender import OutboxSender, SenderConfig
from gateway.notices.suppress import suppression_reason
from gateway.notices.templates import TemplateSet, load_templates, shipped_directory

log = logging.getLogger("hople.notices")


def default_from_address() -> str:
    host = socket.getfqdn() or "localhost"
    return f"hople-gateway@{host}"


@dataclass(frozen=True)
class NoticeRules:
    """The ``[notices]`` rules plus the security contact of ``[text]``."""

    enabled: bool = True
    rate_limit_per_hour: int = 10
    sender_domains: tuple[str, ...] = ()
    annotate_delivered: bool = False
    subject_tag: str = "[Văn bản chưa hợp lệ]"
    templates: str = ""
    security_contact: str = ""

    @classmethod
    def from_policy(cls, policy: Any) -> NoticeRules:
        rules = policy.rules
        n = getattr(rules, "notices", None)
        text = getattr(rules, "text", None)
        contact = getattr(text, "security_contact", "") if text is not None else ""
        if n is None:
            return cls(security_contact=contact)
        return cls(n.enabled, n.rate_limit_per_hour, tuple(n.sender_domains),
                   n.annotate_delivered, n.subject_tag, n.templates, contact)


def templates_for(rules: NoticeRules) -> TemplateSet:
    """Load (and check) the templates the rules name. Raises RulesError."""
    return load_templates(Path(rules.templates) if rules.templates else shipped_directory())


def notice_kinds(report: MessageReport, action: Action) -> list[str]:
    """Which notices a decision calls for (before suppression)."""
    if action is Action.HOLD:
        kinds = [KIND_HELD]
        if is_classified(report):
            kinds.append(KIND_SECURITY)
        return kinds
    if action is Action.ACCEPT and report.verdict is Verdict.INVALID:
        return [KIND_INVALID]
    if action is Action.ACCEPT and report.verdict is Verdict.UNINSPECTED:
        return [KIND_UNINSPECTED]  # what could not be inspected and what to do
    return []


def subject_with_tag(headers: Headers, tag: str) -> str | None:
    """The Subject value with ``tag`` in front (RFC 2047-encoded when not ASCII), or None
    when the Subject already starts with it."""
    from email.header import Header

    if decoded_subject(headers).startswith(tag):
        return None
    raw = header_value(headers, "Subject") or ""
    if tag.isascii():
        return f"{tag} {raw}".strip()
    # An encoded-word then another: the space between them is dropped by decoders, so the
    # space goes inside the tag's word; before plain text it stays outside.
    inner = tag + " " if raw.lstrip().startswith("=?") else tag
    word = Header(inner, "utf-8").encode(maxlinelen=998)
    return f"{word} {raw}".strip() if raw else word


class NoticeService:
    """Queues notices after decisions and runs the sender thread."""

    def __init__(self, rules: NoticeRules, templates: TemplateSet, outbox: Outbox | None,
                 sender: OutboxSender | None = None, *, from_address: str = "",
                 clock: Callable[[], datetime] | None = None) -> None:
        self.rules = rules
        self.templates = templates
        self.outbox = outbox
        self.sender = sender
        self.from_address = from_address or default_from_address()
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- building ------------------------------------------------------------------------------

    @classmethod
    def from_config(cls, settings: Any, policy: Any, secret: bytes | None
                    ) -> NoticeService | None:
        """The service for ``hople serve``: None when notices and annotation are both off.
        Templates are loaded and checked here (RulesError names the file and the reason);
        the outbox gets a store connection of its own."""
        rules = NoticeRules.from_policy(policy)
        if not rules.enabled and not rules.annotate_delivered:
            return None
        templates = templates_for(rules)
        ns = settings.notices
        from_address = ns.from_address or default_from_address()
        outbox = sender = None
        if rules.enabled:
            from gateway.audit.store import open_store

            outbox = Outbox(open_store(settings.store.url))
            sender = OutboxSender(outbox, SenderConfig(
                host=ns.smtp_host, port=ns.smtp_port, timeout=ns.smtp_timeout_seconds,
                envelope_sender=ns.envelope_sender, from_address=from_address,
                from_name=templates.from_name, secret=secret, max_attempts=ns.max_attempts,
                retry_first=ns.retry_first_seconds, retry_max=ns.retry_max_seconds,
                poll=ns.poll_seconds,
            ))
        return cls(rules, templates, outbox, sender, from_address=from_address)

    def start(self) -> None:
        if self.sender is not None:
            self.sender.start()
            log.info("notices: submitting to %s:%d from <%s>; outbox %s", self.sender.config.host,
                     self.sender.config.port, self.from_address,
                     ", ".join(f"{k} {v}" for k, v in self.outbox.counts().items())
                     if self.outbox is not None else "-")

    def stop(self) -> None:
        if self.sender is not None:
            self.sender.stop()
        if self.outbox is not None:
            from gateway.audit.backends import database_errors

            failures: tuple[type[BaseException], ...] = (*database_errors(), OSError)
            try:
                self.outbox.store.close()
            except failures as exc:
                # at exit: said in the log, and the stop goes on
                log.warning("notice outbox: closing the log failed: %s: %s",
                            type(exc).__name__, exc)

    # -- after a decision ---------------------------------------------------------------------

    def after_decision(self, report: MessageReport, action: Action, envelope: Envelope,
                       headers: Headers, decision_id: int | None) -> None:
        """Queue the notices this decision calls for (the answer is with the MTA)."""
        if self.rules.enabled and self.outbox is not None:
            kinds = notice_kinds(report, action)
            if kinds:
                self.queue(kinds, report, envelope, headers, decision_id)

    def subject_for(self, report: MessageReport, action: Action, headers: Headers
                    ) -> str | None:
        """The new Subject for the delivered message when ``annotate-delivered`` asks for
        one, else None."""
        if (self.rules.annotate_delivered and action is Action.ACCEPT
                and report.verdict in (Verdict.INVALID, Verdict.UNINSPECTED)):
            return subject_with_tag(headers, self.rules.subject_tag)
        return None

    def queue(self, kinds: list[str], report: MessageReport, envelope: Envelope,
              headers: Headers, decision_id: int | None) -> list[int]:
        assert self.outbox is not None
        now = self.clock()
        facts = NoticeFacts.from_message(envelope, headers, decision_id=decision_id,
                                         decided_at=now)
        original_id = facts.message_id or None
        domain = self.from_address.rsplit("@", 1)[-1]
        ids: list[int] = []
        for kind in kinds:
            if kind == KIND_SECURITY:
                recipient = self.rules.security_contact
                if not recipient:
                    continue
                reason = None
            else:
                recipient = facts.sender
                reason = suppression_reason(
                    envelope.sender, headers, own_addresses=(self.from_address,),
                    sender_domains=self.rules.sender_domains)
            earlier = self.outbox.already_noticed(
                kind=kind, recipient=recipient, queue_id=facts.queue_id or None,
                in_reply_to=original_id, now=now)
            if earlier is not None:
                log.info("%s: no second %s notice to <%s>: notice %d was recorded for an "
                         "earlier attempt of this message", facts.queue_id or "-", kind,
                         recipient, earlier)
                continue
            if reason is not None:
                row = self.outbox.suppress(kind=kind, recipient=recipient, reason=reason,
                                           now=now, decision_id=decision_id,
                                           queue_id=facts.queue_id or None,
                                           in_reply_to=original_id)
                log.info("%s: no %s notice to <%s>: %s", facts.queue_id or "-", kind,
                         recipient, reason)
                ids.append(row.id)
                continue
            notice = render_notice(self.templates, kind, report, facts,
                                   security_contact=self.rules.security_contact,
                                   gateway_address=self.from_address)
            row = self.outbox.enqueue(
                kind=kind, recipient=recipient, subject=notice.subject, body=notice.body,
                message_id=new_message_id(domain), now=now, in_reply_to=original_id,
                refs=facts.references or None, decision_id=decision_id,
                queue_id=facts.queue_id or None,
                rate_limit=None if kind == KIND_SECURITY else self.rules.rate_limit_per_hour,
            )
            if row.state == "suppressed":
                log.warning("%s: no %s notice to <%s>: %s", facts.queue_id or "-", kind,
                            recipient, row.reason)
            else:
                log.info("%s: %s notice %d to <%s> queued", facts.queue_id or "-", kind,
                         row.id, recipient)
            ids.append(row.id)
        if self.sender is not None:
            self.sender.wake()
        return ids


__all__ = ["NoticeRules", "NoticeService", "notice_kinds", "subject_with_tag", "templates_for"]
