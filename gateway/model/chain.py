"""The outcome of validating one signer certificate: trust, revocation, and why.

Pure data: the trust engine (``gateway.trust``) fills it; signature inspectors copy
``trust``, ``revocation``, ``signer`` and ``findings`` into their ``SignatureReport``.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.model.findings import Finding
from gateway.model.report import Revocation, Trust


@dataclass(frozen=True)
class ChainResult:
    trust: Trust
    """``trusted`` only when a path to a configured anchor validates at the given time,
    with a key usage fit for the requested use."""
    revocation: Revocation
    """``good`` when every certificate that needs revocation data has usable data that
    does not revoke it before the given time; ``unknown`` when data is missing or stale,
    or when trust could not be established (revocation is then not examined)."""
    signer: str
    """The leaf's subject, readable: ``CN=..., O=..., C=VN`` (``?`` if unreadable)."""
    findings: tuple[Finding, ...]
    """Why the result is not ``trusted``/``good`` (or an info note), with stable codes."""
    path: tuple[str, ...] = ()
    """Subjects from the leaf to the anchor, when a path was found."""

    @property
    def is_good(self) -> bool:
        """Trusted and not revoked (``unknown`` revocation is the rules' call)."""
        return self.trust is Trust.TRUSTED and self.revocation is not Revocation.REVOKED

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(f.code for f in self.findings)
