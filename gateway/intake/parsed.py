"""What intake makes of a message: the documents found (with the findings intake made about
each), the body text parts and the message-level findings."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.partdata import Data, PartFile


@dataclass(frozen=True)
class TextPart:
    """A body part people read (not an attachment): the Unicode checks look at these."""

    path: str
    media_type: str
    charset: str | None
    raw: bytes
    """The decoded transfer encoding, still in the declared charset."""


@dataclass(frozen=True)
class IntakeItem:
    document: Document
    findings: tuple[Finding, ...] = ()
    inspect: bool = True
    """False when intake already decided (too large, unreadable archive): no inspector runs."""


@dataclass
class ParsedMessage:
    headers: list[tuple[str, str]] = field(default_factory=list)
    """Header names and values as found (values decoded from RFC 2047)."""
    raw_headers: list[tuple[str, str]] = field(default_factory=list)
    """The same headers undecoded (RFC 2047 words kept), for charsets Python cannot decode
    (VISCII, TCVN, VPS) and for telling which charset a subject was written in."""
    items: list[IntakeItem] = field(default_factory=list)
    text_parts: list[TextPart] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    digests: dict[int, tuple[Data, str]] = field(default_factory=dict)
    """SHA-256 of decoded bodies computed while they were read: id(data) → (data, hex)."""
    files: list[PartFile] = field(default_factory=list)
    """The large parts' mapped temp files, for :meth:`close`."""

    def close(self) -> None:
        """Unmap the large parts and close their files (once the check is over)."""
        files, self.files = self.files, []
        for f in files:
            f.close()

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


__all__ = ["IntakeItem", "ParsedMessage", "TextPart"]
