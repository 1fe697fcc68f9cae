"""What verifying an XML-DSig signature produces (:class:`DsigResult`, its issues and
reference outcomes), what it is given (:class:`Limits`, an :data:`ExternalResolver`), and
the issue kinds. No logic beyond :attr:`DsigResult.integrity`: the other modules of this
package fill these in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cryptography import x509
from lxml import etree

from gateway.model.report import Integrity

BROKEN = "broken"
UNVERIFIABLE = "unverifiable"
NOTE = "note"


class Part(Protocol):
    """A referenced package part a resolver may return instead of its bytes, so that a
    part digested without transforms (images, embeddings) is hashed as it is inflated."""

    def read(self) -> bytes:
        """The part's bytes; raises :class:`Unresolved` when they cannot be read."""
        ...

    def digest(self, algorithm: str) -> bytes:
        """The part's ``algorithm`` (hashlib name) digest; raises :class:`Unresolved`."""
        ...


ExternalResolver = Callable[[str], "bytes | Part"]
"""URI → the referenced part (its bytes, or a :class:`Part`); raises :class:`Unresolved`
when it cannot."""


class Unresolved(Exception):
    """An external reference does not resolve (missing part, bad URI…)."""

    def __init__(self, reason: str, code: str = "SIG_REFERENCE_UNRESOLVED", **params: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Issue:
    code: str
    kind: str
    """``broken`` (provably wrong), ``unverifiable`` (cannot be decided) or ``note``."""
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class RefOutcome:
    uri: str
    in_manifest: bool
    ok: bool = False
    external: bool = False
    target: etree._Element | None = None
    relationship_ids: frozenset[str] | None = None
    """For a RelationshipTransform: the SourceId values it selected."""
    relationship_types: frozenset[str] | None = None
    issue: Issue | None = None


@dataclass
class DsigResult:
    signature_id: str | None = None
    issues: list[Issue] = field(default_factory=list)
    references: list[RefOutcome] = field(default_factory=list)
    signer: x509.Certificate | None = None
    signer_der: bytes | None = None
    other_certs: list[bytes] = field(default_factory=list)
    """KeyInfo certificates other than the signer, then XAdES CertificateValues (DER)."""
    crls: list[bytes] = field(default_factory=list)
    ocsps: list[bytes] = field(default_factory=list)
    signing_time: datetime | None = None
    signing_time_source: str | None = None
    digests: list[str] = field(default_factory=list)
    """Every digest the signature uses (references and SignatureMethod), hashlib names: the
    algorithm policy judges them (:mod:`gateway.inspect.algorithms`)."""
    scheme: str | None = None
    """The SignatureMethod's family (``rsa``, ``rsa-pss``, ``ecdsa``), once known."""
    openpgp: bool = False

    @property
    def integrity(self) -> Integrity:
        kinds = {i.kind for i in self.issues}
        if BROKEN in kinds:
            return Integrity.BROKEN
        if UNVERIFIABLE in kinds:
            return Integrity.UNVERIFIABLE
        return Integrity.INTACT

    def add(self, code: str, kind: str, **params: object) -> Issue:
        issue = Issue(code, kind, {k: str(v) for k, v in params.items()})
        if issue not in self.issues:
            self.issues.append(issue)
        return issue


@dataclass(frozen=True)
class Limits:
    max_references: int = 5000
    xml_max_bytes: int = 64 * 1024 * 1024
    allow_external_doctype: bool = False
    """ODF: old streams name an external DTD (ignored, never loaded)."""
    workers: int = 2
    """Threads that check package-part references (1: sequential). With 2, the parts to
    canonicalize go to a second thread as one task (see ``references.check_all``): on an
    idle core that overlaps the XML with the images; on a busy one it costs about nothing
    (one thread per part, as before, made the benchmark's 21 MB DOCX take 92 ms against 50)."""
