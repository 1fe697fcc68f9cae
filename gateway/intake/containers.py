"""The containers the walker opens besides MIME: ZIP, RAR/7z/tar/… (``archives.py``), TNEF
(winmail.dat), uuencoded blocks and CMS that carries its content, within the archive limits.
Each member is handed back to the walker as a file like any attachment."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from typing import TYPE_CHECKING

from gateway.intake import archives
from gateway.intake.names import to_nfc
from gateway.intake.parsed import IntakeItem, ParsedMessage, TextPart
from gateway.intake.unwrap import UnwrapError, cms_content, looks_like_mime, read_tnef, uu_blocks
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.partdata import open_stream, to_bytes
from gateway.model.report import DocClass
from gateway.policy.schema import Limits
from gateway.zip_member import read_member


class Openers:
    """The container openers of :class:`gateway.intake.mime.Walker` (a mixin: the walker
    gives the limits, the output and ``_add_file``/``_attached_message``)."""

    limits: Limits
    out: ParsedMessage
    _unpacked: int
    """Bytes unpacked from the message's RAR/7z/tar/… archives: one total budget."""

    if TYPE_CHECKING:
        def _add_file(self, name: str, data: bytes, prefix: str, depth: int,
                      declared: str | None, is_member: bool = False) -> None: ...

        def _attached_message(self, doc: Document, depth: int,
                              report_on: Document | None = None) -> None: ...

    def _container(self, doc: Document, depth: int) -> None:
        """A container recognised by its magic that intake has no reader for."""
        self._replace_findings(doc, make_finding(
            "CONTAINER_UNSUPPORTED", place=doc.path, name=doc.path, format=doc.fmt.upper()))

    def _member_limits(self, doc: Document, depth: int, sizes: list[int]) -> bool:
        """Apply the archive limits to a container's members; False (with a finding) when
        the container must not be opened."""
        if self._too_deep(doc, depth):
            return False
        lim = self.limits
        problem = None
        if len(sizes) > lim.archive_max_members:
            problem = f"{len(sizes)} members, limit {lim.archive_max_members}"
        elif sum(sizes) > lim.archive_max_total_bytes:
            problem = f"{sum(sizes)} bytes inside, limit {lim.archive_max_total_bytes}"
        elif sizes and max(sizes) > lim.archive_max_member_bytes:
            problem = f"a member of {max(sizes)} bytes"
        if problem:
            self._replace_findings(doc, make_finding("ARCHIVE_LIMIT", place=doc.path,
                                                     name=doc.path, reason=problem))
        return problem is None

    def _tnef(self, doc: Document, depth: int) -> None:
        """winmail.dat: its attachments are documents, its body is text for the 9.5 checks."""
        try:
            tnef = read_tnef(to_bytes(doc.data))
        except UnwrapError as exc:
            self._replace_findings(doc, make_finding("TNEF_UNREADABLE", place=doc.path,
                                                     name=doc.path, reason=str(exc)))
            return
        if not self._member_limits(doc, depth, [len(d) for _, d in tnef.attachments]):
            return
        for media_type, body, charset in (("text/plain", tnef.body_text, tnef.charset),
                                          ("text/html", tnef.body_html, tnef.charset),
                                          ("text/rtf", tnef.body_rtf, None)):
            if body:
                self.out.text_parts.append(
                    TextPart(f"{doc.path}/body:{media_type}", media_type, charset, body))
        for name, data in tnef.attachments:
            self._add_file(to_nfc(name), data, doc.path + "/", depth + 1, declared=None,
                           is_member=True)

    def _uuencoded(self, raw: bytes, prefix: str, depth: int) -> bytes:
        """Decode the uuencoded files in a text body as attachments; return the text
        without them (for the Unicode checks)."""
        blocks = uu_blocks(raw, self.limits.attachment_max_bytes)
        if not blocks:
            return raw
        for b in blocks:
            name = to_nfc(b.name)
            if b.error is None:
                self._add_file(name, b.data, prefix, depth, declared=None)
                continue
            doc = Document(prefix + name, name, b.data, "application/octet-stream", "other",
                           DocClass.OTHER)
            code = "ATTACHMENT_TOO_LARGE" if b.error.startswith("larger than") else \
                "UUENCODE_DAMAGED"
            finding = make_finding(code, place=doc.path, name=doc.path, reason=b.error,
                                   size=f"> {self.limits.attachment_max_bytes}",
                                   limit=self.limits.attachment_max_bytes)
            self.out.items.append(IntakeItem(doc, (finding,), inspect=False))
        kept, pos = [], 0
        for b in blocks:
            kept.append(raw[pos:b.start])
            pos = b.end
        kept.append(raw[pos:])
        return b"".join(kept)

    def _cms(self, doc: Document, findings: list[Finding], depth: int) -> None:
        """A CMS file: a detached signature is inspected beside its document; one that
        carries its content is opened (the content is a document signed by it, or an S/MIME
        entity walked like an attached message)."""
        try:
            got = cms_content(to_bytes(doc.data))
        except UnwrapError as exc:
            findings.append(make_finding("CMS_UNREADABLE", place=doc.path, name=doc.path,
                                         reason=str(exc)))
            self.out.items.append(IntakeItem(doc, tuple(findings), inspect=False))
            return
        if got.encrypted:
            findings.append(make_finding("CMS_ENCRYPTED", place=doc.path, name=doc.path,
                                         reason="enveloped"))
            self.out.items.append(IntakeItem(doc, tuple(findings), inspect=False))
            return
        if got.content is None:
            self.out.items.append(IntakeItem(doc, tuple(findings)))
            return
        self.out.items.append(IntakeItem(doc, tuple(findings), inspect=False))
        if not self._member_limits(doc, depth, [len(got.content)]):
            return
        if looks_like_mime(got.content):
            self._attached_message(replace(doc, data=got.content), depth, report_on=doc)
            return
        inner = doc.name
        for suffix in (".p7m", ".p7s", ".p7"):
            if inner.lower().endswith(suffix) and len(inner) > len(suffix):
                inner = inner[: -len(suffix)]
                break
        else:
            inner = "content"
        self._add_file(inner, got.content, doc.path + "/", depth + 1, declared=None,
                       is_member=True)

    def _replace_findings(self, doc: Document, extra: Finding) -> None:
        for i, item in enumerate(self.out.items):
            if item.document is doc:
                self.out.items[i] = IntakeItem(doc, item.findings + (extra,), inspect=False)
                return

    def _too_deep(self, doc: Document, depth: int) -> bool:
        """Whether opening ``doc`` would nest archives past the limit (then said on it)."""
        if depth + 1 <= self.limits.archive_max_depth:
            return False
        self._replace_findings(doc, make_finding(
            "ARCHIVE_LIMIT", place=doc.path, name=doc.path,
            reason=f"archives nested deeper than {self.limits.archive_max_depth}"))
        return True

    def _zip(self, doc: Document, depth: int) -> None:
        lim = self.limits
        if self._too_deep(doc, depth):
            return
        try:
            zf = zipfile.ZipFile(open_stream(doc.data))
            infos = zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
                NotImplementedError, RuntimeError) as exc:  # e.g. "zip file version 8.4"
            self._replace_findings(
                doc, make_finding("ARCHIVE_UNREADABLE", place=doc.path, name=doc.path,
                                  reason=str(exc) or type(exc).__name__)
            )
            return
        # not ZipInfo.is_dir(): it raises IndexError on a member with an empty name
        files = [i for i in infos if not i.filename.endswith("/")]
        problem = None
        if len(files) > lim.archive_max_members:
            problem = f"{len(files)} members, limit {lim.archive_max_members}"
        total = sum(i.file_size for i in files)
        if problem is None and total > lim.archive_max_total_bytes:
            problem = f"{total} bytes inflated, limit {lim.archive_max_total_bytes}"
        for i in files:
            if problem:
                break
            if i.file_size > lim.archive_max_member_bytes:
                problem = f"member {i.filename} is {i.file_size} bytes"
            elif i.compress_size and i.file_size / i.compress_size > lim.archive_max_ratio:
                problem = f"member {i.filename} compresses {i.file_size // i.compress_size}:1"
        if problem:
            self._replace_findings(
                doc, make_finding("ARCHIVE_LIMIT", place=doc.path, name=doc.path, reason=problem)
            )
            return
        for info in files:
            member = to_nfc(info.filename.replace("\\", "/"))
            if info.flag_bits & 0x1:
                self._replace_findings(
                    doc, make_finding("ARCHIVE_ENCRYPTED", place=doc.path, name=doc.path,
                                      format="ZIP", reason=f"member {member}")
                )
                continue
            try:
                data = read_member(zf, info, lim.archive_max_member_bytes)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
                    RuntimeError, zlib_error()) as exc:
                self._replace_findings(
                    doc, make_finding("ARCHIVE_UNREADABLE", place=doc.path, name=doc.path,
                                      reason=f"{member}: {exc or type(exc).__name__}")
                )
                continue
            self._add_file(member.rsplit("/", 1)[-1] if member else "unnamed",
                           data, doc.path + "/" + _dirpart(member), depth + 1, declared=None,
                           is_member=True)

    def _libarchive(self, doc: Document, depth: int) -> None:
        """RAR, 7z, tar, cab, ISO and compressed files (intake/archives.py): every member is
        a file like a ZIP member; problems become findings on the archive."""
        lim = self.limits
        if self._too_deep(doc, depth):
            return
        got = archives.expand(to_bytes(doc.data), doc.fmt, doc.name, lim, already=self._unpacked)
        self._unpacked += sum(len(m.data) for m in got.members)
        for p in got.problems:
            self._replace_findings(doc, make_finding(p.code, place=doc.path, name=doc.path,
                                                     reason=p.reason, format=got.label))
        for m in got.members:
            self._add_file(m.path.rsplit("/", 1)[-1], m.data, doc.path + "/" + _dirpart(m.path),
                           depth + 1, declared=None, is_member=True)


def _dirpart(member: str) -> str:
    return member.rsplit("/", 1)[0] + "/" if "/" in member else ""


def zlib_error() -> type[BaseException]:
    import zlib

    return zlib.error


__all__ = ["Openers", "zlib_error"]
