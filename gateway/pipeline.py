"""Message → report: intake, inspectors, rules, verdict. The same path serves the milter
and ``hople check``; it has no clock and no network of its own (both are passed in)."""

from __future__ import annotations

import dataclasses
import logging
import time
import unicodedata
from collections.abc import Callable
from datetime import datetime
from email.utils import getaddresses
from typing import BinaryIO

from gateway.inspect.base import InspectContext, InspectionResult, TrustEngine, merge
from gateway.inspect.registry import (
    inspectors_for,
    message_checks,
    sibling_index,
    sibling_signature_checks,
)
from gateway.intake.mime import IntakeItem, ParsedMessage, Walker
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.envelope import Envelope
from gateway.model.findings import Action, Finding
from gateway.model.partdata import Data, sha256
from gateway.model.report import (
    UNINSPECTED_CODES,
    DocClass,
    DocumentReport,
    MessageReport,
    SmtpReply,
    Verdict,
    document_verdict,
    every_finding,
    message_verdict,
)
from gateway.policy.evaluate import judge
from gateway.policy.load import Policy
from gateway.policy.signer_unit import check_signers

log = logging.getLogger(__name__)

VERDICT_HEADER = "X-Legal-Validity"


def domain_of(address: str) -> str:
    addr = address.strip().strip("<>")
    return addr.rsplit("@", 1)[1].lower() if "@" in addr else ""


def _ascii(text: str) -> str:
    """Vietnamese without diacritics, for SMTP reply lines (which must stay ASCII)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.encode("ascii", "replace").decode("ascii")


def smtp_reply_for(finding: Finding) -> SmtpReply:
    code, status = finding.smtp.split(" ", 1)
    if finding.action is Action.TEMPFAIL:
        code, status = "451", "4.7.1"
    text = f"{_ascii(finding.vi)} / {_ascii(finding.en)}"
    return SmtpReply(code, status, text)


class Checker:
    """Runs the pipeline with one loaded policy, a clock and an optional trust engine."""

    def __init__(
        self,
        policy: Policy,
        trust: TrustEngine | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.policy = policy
        self.trust = trust
        self.clock = clock or (lambda: datetime.now().astimezone())
        self._options = policy.options()

    # -- public ---------------------------------------------------------------------------

    def check_message(self, fp: BinaryIO, envelope: Envelope, label: str = "") -> MessageReport:
        started = time.perf_counter()
        walker = Walker(self.policy.rules.limits, self.policy.rules.documents)
        parsed = walker.walk_message(fp)
        try:
            return self._finish(parsed, envelope, label, "message", started)
        finally:
            parsed.close()  # the large parts' mappings and temp files

    def check_document(self, name: str, data: bytes, label: str = "") -> MessageReport:
        started = time.perf_counter()
        walker = Walker(self.policy.rules.limits, self.policy.rules.documents)
        parsed = walker.walk_document(name, data)
        return self._finish(parsed, Envelope(), label or name, "document", started)

    # -- internals ------------------------------------------------------------------------

    def _context(self) -> InspectContext:
        return InspectContext(at=self.clock(), options=self._options, trust=self.trust)

    def _finish(
        self, parsed: ParsedMessage, env: Envelope, label: str, kind: str, started: float
    ) -> MessageReport:
        ctx = self._context()
        siblings = sibling_index([item.document for item in parsed.items])
        from_addresses = _from_addresses(parsed)
        # the envelope sender; for an offline check, the From: address
        sender = env.sender or (from_addresses[0] if from_addresses else None)
        documents = tuple(self._document(item, ctx, siblings, sender, parsed.digests)
                          for item in parsed.items)
        findings: list[Finding] = list(parsed.findings)
        for check in message_checks():
            try:
                findings.extend(check(parsed, ctx))
            except Exception as exc:  # a failing check must not pass the message unchecked
                log.exception("message check %s failed", getattr(check, "__name__", check))
                findings.append(make_finding("INSPECTION_FAILED", name="(message)",
                                             reason=type(exc).__name__))
        has_documents = any(
            d.doc_class in (DocClass.EDITABLE, DocClass.NON_EDITABLE) for d in documents
        )
        findings.extend(self._sender_findings(env, from_addresses, has_documents))
        # Only the gateway states a verdict: the milter strips these headers; say so.
        findings.extend(
            make_finding("VERDICT_HEADER_REMOVED", header=k)
            for k, _ in parsed.headers
            if k.lower().startswith(VERDICT_HEADER.lower())
        )
        findings = [self._adjust(f) for f in findings]
        verdict, action = message_verdict(tuple(findings), documents)
        reply = None
        if action in (Action.REJECT, Action.TEMPFAIL):
            deciding = [f for f in every_finding(tuple(findings), documents) if f.action is action]
            reply = smtp_reply_for(deciding[0])
        return MessageReport(
            input=label,
            kind=kind,
            verdict=verdict,
            action=action,
            smtp_reply=reply,
            findings=tuple(findings),
            documents=documents,
            rules_hash=self.policy.hash,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def _document(
        self, item: IntakeItem, ctx: InspectContext, siblings: list[Document], sender: str | None,
        digests: dict[int, tuple[Data, str]],
    ) -> DocumentReport:
        doc = item.document
        findings: list[Finding] = list(item.findings)
        result = InspectionResult()
        if item.inspect:
            results = []
            for inspector in inspectors_for(doc.fmt):
                try:
                    results.append(inspector(doc, ctx))
                except Exception as exc:  # hostile or damaged input: a finding, not a crash
                    log.exception("inspector %s failed on %s", inspector, doc.path)
                    findings.append(make_finding("INSPECTION_FAILED", place=doc.path,
                                                 name=doc.path, reason=type(exc).__name__))
            for beside in sibling_signature_checks():
                try:
                    results.append(InspectionResult(signatures=beside(doc, siblings, ctx)))
                except Exception as exc:
                    log.exception("detached signatures of %s failed", doc.path)
                    findings.append(make_finding("INSPECTION_FAILED", place=doc.path,
                                                 name=doc.path, reason=type(exc).__name__))
            result = merge(results)
            if self.policy.agencies is not None and result.signatures:
                result = dataclasses.replace(result, signatures=check_signers(
                    result.signatures, sender, self.policy.agencies, doc.path))
            findings.extend(result.findings)
            if not any(f.code == "INSPECTION_FAILED" for f in findings):
                findings.extend(judge(doc, result, ctx.options))
        findings = [self._adjust(f) for f in findings]
        sigs = tuple(
            dataclasses.replace(s, findings=tuple(self.policy.adjust(f) for f in s.findings))
            for s in result.signatures
        )
        return DocumentReport(
            path=doc.path,
            sha256=_sha256(doc.data, digests),
            size=len(doc.data),
            media_type=doc.media_type,
            doc_class=doc.doc_class,
            # Signature findings explain; the judge's findings decide (one good signature of
            # two makes the document valid).
            verdict=document_verdict(doc.doc_class, tuple(findings)),
            signatures=sigs,
            findings=tuple(findings),
            facts=dict(result.facts),
        )

    def _adjust(self, finding: Finding) -> Finding:
        """The rules' action for a part not identified or not opened, then site overrides."""
        if finding.code in UNINSPECTED_CODES:
            finding = dataclasses.replace(
                finding, action=self.policy.rules.documents.uninspected_action)
        return self.policy.adjust(finding)

    def _sender_findings(
        self, env: Envelope, from_addresses: list[str], has_documents: bool
    ) -> list[Finding]:
        rules = self.policy.rules.freemail
        addresses = [env.sender] if env.sender else []
        if rules.check_from_header:
            addresses.extend(from_addresses)
        for addr in addresses:
            domain = domain_of(addr)
            if domain and self.policy.is_freemail(domain):
                if has_documents:
                    f = make_finding("SENDER_FREEMAIL", domain=domain)
                    return [dataclasses.replace(f, action=rules.with_documents)]
                f = make_finding("SENDER_FREEMAIL_NO_DOCUMENTS", domain=domain)
                return [dataclasses.replace(f, action=rules.without_documents)]
        return []


def _sha256(data: Data, digests: dict[int, tuple[Data, str]]) -> str:
    """The digest intake computed while decoding these very bytes, else computed now."""
    known = digests.get(id(data))
    return known[1] if known is not None and known[0] is data else sha256(data)


def _from_addresses(parsed: ParsedMessage) -> list[str]:
    from_header = parsed.header("From")
    return [a for _, a in getaddresses([from_header]) if a] if from_header else []


# `inspectors_for` and `message_checks` are looked up here for every message, so a profiler
# (bench/bench_postfix.py) or a test can wrap them: they are part of this module's interface.
__all__ = ["Checker", "Envelope", "VERDICT_HEADER", "Verdict", "domain_of", "inspectors_for",
           "message_checks"]
