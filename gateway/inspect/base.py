"""The inspector interface and the context passed in to every inspector."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gateway.model.chain import ChainResult
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.report import SignatureReport


class TrustEngine(Protocol):
    """What inspectors may ask of the trust layer (``gateway.trust`` implements it).

    Kept as a protocol so inspectors never import the trust code (which can do I/O)."""

    def validate_chain(
        self,
        leaf: bytes,
        intermediates: Sequence[bytes],
        at: datetime,
        *,
        crls: Sequence[bytes] = (),
        ocsps: Sequence[bytes] = (),
        usage: str = "signing",
    ) -> ChainResult:
        """Trust and revocation of ``leaf`` (DER) at ``at``; never raises for bad input."""
        ...


@dataclass(frozen=True)
class InspectContext:
    at: datetime
    """The validation time (the clock is passed in; tests set it)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """The rules as a plain mapping (sections by name: ``limits``, ``signatures``…)."""
    trust: TrustEngine | None = None
    """Chain and revocation checks; ``None`` means nothing can be trusted."""


@dataclass(frozen=True)
class InspectionResult:
    findings: tuple[Finding, ...] = ()
    signatures: tuple[SignatureReport, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)


class Inspector(Protocol):
    def __call__(self, doc: Document, ctx: InspectContext) -> InspectionResult: ...


InspectorFn = Callable[[Document, InspectContext], InspectionResult]


def merge(results: list[InspectionResult]) -> InspectionResult:
    findings: list[Finding] = []
    sigs: list[SignatureReport] = []
    facts: dict[str, Any] = {}
    for r in results:
        findings.extend(r.findings)
        sigs.extend(r.signatures)
        facts.update(r.facts)
    return InspectionResult(tuple(findings), tuple(sigs), facts)
