"""Walk a message: every MIME part, attached messages, ZIP archives, TNEF (winmail.dat),
uuencoded blocks in text bodies and CMS that carries its content, within limits.

The result is a flat list of documents (each with the findings intake made about it, such as
an oversized attachment or a name that lies about the content), the body text parts (for the
Unicode checks), and the message-level findings. The structure is measured before the
standard library parses it (``structure.py``): a message beyond the limits gets ``MIME_LIMIT``
with the rules' final action, never a parser crash.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email.message import EmailMessage, Message
from typing import BinaryIO

from gateway.intake import archives, stream, structure
from gateway.intake.names import _nfc, header_value, part_filename
from gateway.intake.sniff import (
    ARCHIVES,
    CONTAINERS,
    FMT_MEDIA,
    IMAGES,
    Sniffed,
    classify,
    fmt_from_name,
    same_family,
    sniff_detail,
)
from gateway.intake.unwrap import UnwrapError, cms_content, looks_like_mime, read_tnef, uu_blocks
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.report import DocClass
from gateway.policy.schema import Documents, Limits
from gateway.zip_member import read_member

log = logging.getLogger(__name__)


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
    digests: dict[int, tuple[bytes, str]] = field(default_factory=dict)
    """SHA-256 of decoded bodies computed while they were read: id(data) → (data, hex)."""

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


class Walker:
    """Walks one message within the limits of the rules."""

    def __init__(self, limits: Limits, documents: Documents) -> None:
        self._spills = stream.Spills(stream.Split(None, structure.Structure(0, 0, 0)))
        self.limits = limits
        self.docs = documents
        self.parts_seen = 0
        self.out = ParsedMessage()
        self._limit_reported: set[str] = set()
        self._unpacked = 0
        """Bytes unpacked from the message's RAR/7z/tar/… archives: one total budget."""

    # -- entry points -------------------------------------------------------------------

    def walk_message(self, fp: BinaryIO) -> ParsedMessage:
        """Walk the message read from ``fp``: large bodies stay in the file and are decoded
        from it one at a time (``stream.py``), never the whole message at once."""
        if not fp.seekable():  # a pipe: kept in a private temp file, read as a file
            with tempfile.TemporaryFile(prefix="msg-") as copy:
                shutil.copyfileobj(fp, copy, stream.CHUNK)
                copy.seek(0)
                return self.walk_message(copy)
        start = fp.tell()
        spill_dir = _spill_dir(fp)
        got = stream.split(fp, header_cap=self.limits.mime_max_header_bytes)
        self._spills = stream.Spills(got, spill_dir)
        try:
            self._walk_top(got, fp, start)
        finally:
            self._spills.close()
        self.out.digests.update(self._spills.digests)
        return self.out

    def _walk_top(self, got: stream.Split, fp: BinaryIO, start: int) -> None:
        lim = self.limits
        st = got.structure
        if st.depth > lim.mime_max_depth:
            self._limit("depth", f"nesting {st.depth} levels deep, limit {lim.mime_max_depth}")
        if st.parts > lim.mime_max_parts:
            self._limit("parts", f"{st.parts} parts, limit {lim.mime_max_parts}")
        msg: Message | None = None
        data = got.skeleton
        if st.header_bytes > lim.mime_max_header_bytes:
            self._limit("header", f"a header block of {st.header_bytes} bytes, "
                                  f"limit {lim.mime_max_header_bytes}")
        elif st.parts > 10 * lim.mime_max_parts:
            pass  # far beyond the limit: not worth parsing, the finding decides
        else:
            if data is None:
                data = self._whole(fp, start)
            msg, problem = structure.parse(data, st)
            if msg is not None and self._spills.by_token:
                wrong = stream.verify(msg, got)
                if wrong is not None:  # the split read it otherwise: parse it whole
                    log.warning("message read whole: %s", wrong)
                    data = self._whole(fp, start)
                    msg, problem = structure.parse(data, st)
            if msg is None:
                self._limit("depth", f"{problem}, limit {lim.mime_max_depth}")
        if msg is None:  # nothing beyond the top header is parsed; the finding decides
            if st.header_bytes <= lim.mime_max_header_bytes:
                top = structure.parse_headers(data if data is not None
                                              else self._whole(fp, start))
                if top is not None:
                    self._headers(top)
            return
        self._headers(msg)
        self._walk(msg, prefix="", depth=0)

    def _whole(self, fp: BinaryIO, start: int) -> bytes:
        """The message as bytes (when the split cannot be used), spilled bodies dropped."""
        self._spills.close()
        self._spills = stream.Spills(stream.Split(None, structure.Structure(0, 0, 0)))
        fp.seek(start)
        return fp.read()

    def _headers(self, msg: Message) -> None:
        self.out.raw_headers = [(k, str(v)) for k, v in msg.raw_items()]
        for k, raw in msg.raw_items():
            self.out.headers.append((k, header_value(msg, k, raw)))

    def walk_document(self, name: str, data: bytes) -> ParsedMessage:
        self._add_file(name, data, prefix="", depth=0, declared=None)
        return self.out

    # -- internals ----------------------------------------------------------------------

    def _limit(self, key: str, reason: str) -> None:
        if key not in self._limit_reported:
            self._limit_reported.add(key)
            self.out.findings.append(replace(make_finding("MIME_LIMIT", reason=reason),
                                             action=self.limits.structure_action))

    def _walk(self, msg: Message, prefix: str, depth: int) -> None:
        if depth > self.limits.mime_max_depth:
            self._limit("depth", f"nesting deeper than {self.limits.mime_max_depth}")
            return
        for part, is_child_message in self._iter_parts(msg, depth):
            if is_child_message:
                continue
            try:
                self._part(part, prefix, depth)
            except OSError:
                raise  # a spilled body that cannot be read back: the check fails (tempfail)
            except Exception as exc:  # noqa: BLE001 - the email package raises many kinds on
                # malformed headers: an error finding, so the message is never valid
                self.out.findings.append(make_finding(
                    "MIME_MALFORMED", place=prefix or None,
                    reason=f"{type(exc).__name__}: {str(exc)[:120]}"))

    def _iter_parts(self, msg: Message, depth: int) -> Iterator[tuple[Message, bool]]:
        stack: list[tuple[Message, int]] = [(msg, depth)]
        while stack:
            part, d = stack.pop(0)
            self.parts_seen += 1
            if self.parts_seen > self.limits.mime_max_parts:
                self._limit("parts", f"more than {self.limits.mime_max_parts} parts")
                return
            if d - depth > self.limits.mime_max_depth:
                self._limit("depth", f"nesting deeper than {self.limits.mime_max_depth}")
                continue
            if part.is_multipart() and part.get_content_maintype() == "multipart":
                payload = part.get_payload()
                if isinstance(payload, list):
                    stack[0:0] = [(p, d + 1) for p in payload if isinstance(p, Message)]
                continue
            yield part, False

    def _part(self, part: Message, prefix: str, depth: int) -> None:
        ctype = part.get_content_type()
        name = part_filename(part)
        disposition = (part.get_content_disposition() or "").lower()
        if part.get_content_maintype() == "message":
            self._message_part(part, ctype, name, prefix, depth)
            return
        spill = self._spills.find(part)
        if part.get_content_maintype() == "text" and not name and disposition != "attachment":
            raw = self._decoded(part, spill, prefix, ctype)
            if raw and not _is_text(sniff_detail(raw[:1 << 16])):
                # labelled text but something else (a document, an archive): a file
                self._add_file("body.html" if ctype == "text/html" else "body.txt", raw,
                               prefix, depth, declared=ctype)
                return
            if b"begin" in raw:
                raw = self._uuencoded(raw, prefix, depth)
            self.out.text_parts.append(
                TextPart(prefix + f"body:{ctype}", ctype, part.get_content_charset(), raw)
            )
            return
        data = self._decoded(part, spill, prefix, ctype)
        if disposition == "inline" and not name and part.get("Content-ID") and \
                sniff_detail(data[:1 << 16]).fmt in IMAGES:
            return  # a picture in the HTML body (logo, signature image), not a document
        if not name:
            name = "unnamed" + (("." + ctype.split("/")[-1]) if "/" in ctype else "")
        self._add_file(name, data, prefix, depth, declared=ctype)

    def _decoded(self, part: Message, spill: stream.Spill | None, prefix: str,
                 ctype: str) -> bytes:
        """A leaf part's body without its transfer encoding. When the decoder fails, the
        undecoded body is what is inspected and the failure is an error finding: a body nobody
        could decode never passes as empty text or as a harmless file."""
        try:
            got = self._spills.decoded(part, spill) if spill else part.get_payload(decode=True)
        except OSError:
            raise  # a spilled body that cannot be read back: the check fails (tempfail)
        except Exception as exc:  # noqa: BLE001 - the email package's decoders raise many kinds
            self.out.findings.append(make_finding(
                "MIME_MALFORMED", place=prefix or None,
                reason=f"{ctype} body not decodable: {type(exc).__name__}"))
            got = None
        if isinstance(got, bytes):
            return got
        payload = part.get_payload()
        return payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""

    def _message_part(self, part: Message, ctype: str, name: str | None, prefix: str,
                      depth: int) -> None:
        """An attached message (named or not) is walked; a fragment (``message/partial``) or
        a pointer to content elsewhere (``message/external-body``) cannot be inspected."""
        inner = part.get_payload()
        if ctype in ("message/rfc822", "message/global"):
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                self._walk(inner[0], prefix + (f"{name}/" if name else "(message)/"), depth + 1)
            elif isinstance(inner, (str, bytes)):  # not parsed as a message: read it as one
                data = inner.encode("utf-8", "surrogateescape") if isinstance(inner, str) \
                    else inner
                self._add_file(name or "message.eml", data, prefix, depth, declared=ctype)
            return
        try:
            data = b"".join(m.as_bytes() for m in inner if isinstance(m, Message)) \
                if isinstance(inner, list) else part.as_bytes()
        except (ValueError, TypeError, LookupError, UnicodeError):
            data = b""
        label = name or "unnamed." + ctype.split("/", 1)[1]
        if ctype in ("message/partial", "message/external-body"):
            doc = Document(prefix + label, label, data, ctype, "other", DocClass.OTHER, ctype)
            finding = make_finding("CONTAINER_UNSUPPORTED", place=doc.path, name=doc.path,
                                   format=ctype)
            self.out.items.append(IntakeItem(doc, (finding,), inspect=False))
            return
        self._add_file(label, data, prefix, depth, declared=ctype)  # delivery reports etc.

    def _add_file(
        self, name: str, data: bytes, prefix: str, depth: int, declared: str | None,
        is_member: bool = False,
    ) -> None:
        path = prefix + name
        found = sniff_detail(data, name)
        media_type, fmt = found.media_type, found.fmt
        doc_class = classify(fmt, self.docs.images_are_scans, self.docs.plain_text_is_document)
        doc = Document(path, name, data, media_type, fmt, doc_class, declared)
        findings: list[Finding] = []
        name_fmt = fmt_from_name(name)
        if name_fmt is not None and not same_family(name_fmt, fmt):
            findings.append(
                make_finding("TYPE_MISMATCH", place=path, name=path, declared=name_fmt, actual=fmt)
            )
        limit = self.limits.attachment_max_bytes
        if len(data) > limit and not is_member:  # Art. 5.2 counts attachments, not members
            findings.append(
                make_finding("ATTACHMENT_TOO_LARGE", place=path, name=path, size=len(data),
                             limit=limit)
            )
            self.out.items.append(IntakeItem(doc, tuple(findings), inspect=False))
            return
        if found.damage is not None:
            findings.append(make_finding("PACKAGE_DAMAGED", place=path, name=path,
                                         kind=fmt.upper(), reason=found.damage))
        if found.also is not None:
            findings.append(make_finding("FORMAT_POLYGLOT", place=path, name=path,
                                         first=fmt.upper(), second=found.also.upper()))
        if not found.identified:
            findings.append(make_finding("PART_UNIDENTIFIED", place=path, name=path,
                                         media_type=media_type))
            self.out.items.append(IntakeItem(doc, tuple(findings), inspect=False))
            return
        if fmt in ("p7s", "p7m"):
            self._cms(doc, findings, depth)
        elif fmt in ARCHIVES:
            self.out.items.append(IntakeItem(doc, tuple(findings), inspect=False))
            if fmt == "zip":
                self._zip(doc, depth)
            elif fmt == "tnef":
                self._tnef(doc, depth)
            elif fmt in archives.FORMATS:
                self._libarchive(doc, depth)
            elif fmt in CONTAINERS:
                self._container(doc, depth)
            else:
                self._attached_message(doc, depth)
        else:
            self.out.items.append(IntakeItem(doc, tuple(findings)))
            if fmt == "txt" and b"begin" in data:  # a .uue attachment: the files inside
                self._uuencoded(data, path + "/", depth + 1)
        if found.also is not None:
            self._second_reading(doc, found.also, depth)

    def _second_reading(self, doc: Document, fmt: str, depth: int) -> None:
        """A polyglot is judged as each format it validly is: worst wins."""
        other = Document(f"{doc.path}#{fmt}", doc.name, doc.data, FMT_MEDIA[fmt], fmt,
                         classify(fmt, self.docs.images_are_scans), doc.declared_type)
        if fmt == "zip":
            self.out.items.append(IntakeItem(other, (), inspect=False))
            self._zip(other, depth)
        elif fmt in archives.FORMATS:
            self.out.items.append(IntakeItem(other, (), inspect=False))
            self._libarchive(other, depth)
        else:
            self.out.items.append(IntakeItem(other))

    def _container(self, doc: Document, depth: int) -> None:
        """A container recognised by its magic that intake has no reader for."""
        self._replace_findings(doc, make_finding(
            "CONTAINER_UNSUPPORTED", place=doc.path, name=doc.path, format=doc.fmt.upper()))

    def _member_limits(self, doc: Document, depth: int, sizes: list[int]) -> bool:
        """Apply the archive limits to a container's members; False (with a finding) when
        the container must not be opened."""
        lim = self.limits
        problem = None
        if depth + 1 > lim.archive_max_depth:
            problem = f"archives nested deeper than {lim.archive_max_depth}"
        elif len(sizes) > lim.archive_max_members:
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
            tnef = read_tnef(doc.data)
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
            self._add_file(_nfc(name), data, doc.path + "/", depth + 1, declared=None,
                           is_member=True)

    def _uuencoded(self, raw: bytes, prefix: str, depth: int) -> bytes:
        """Decode the uuencoded files in a text body as attachments; return the text
        without them (for the Unicode checks)."""
        blocks = uu_blocks(raw, self.limits.attachment_max_bytes)
        if not blocks:
            return raw
        for b in blocks:
            name = _nfc(b.name)
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
            got = cms_content(doc.data)
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

    def _attached_message(self, doc: Document, depth: int,
                          report_on: Document | None = None) -> None:
        target = report_on or doc
        if depth + 1 > self.limits.mime_max_depth:
            self._replace_findings(
                target, make_finding("ARCHIVE_LIMIT", place=doc.path, name=doc.path,
                                     reason=f"nesting deeper than {self.limits.mime_max_depth}")
            )
            return
        got = stream.split(io.BytesIO(doc.data), header_cap=self.limits.mime_max_header_bytes)
        outer = self._spills
        self._spills = stream.Spills(got, outer.spill_dir)
        try:
            msg, problem = structure.parse(
                got.skeleton if got.skeleton is not None else doc.data, got.structure)
            if msg is not None and got.skeleton is not None and self._spills.by_token \
                    and stream.verify(msg, got) is not None:  # read otherwise: parse it whole
                self._spills.close()
                self._spills = stream.Spills(stream.Split(None, got.structure))
                msg, problem = structure.parse(doc.data, got.structure)
            if msg is None:
                self._limit("depth", f"{doc.path}: {problem}, limit {self.limits.mime_max_depth}")
                return
            self._walk(msg, doc.path + "/", depth + 1)
        finally:
            self._spills.close()
            self.out.digests.update(self._spills.digests)
            self._spills = outer

    def _zip(self, doc: Document, depth: int) -> None:
        lim = self.limits
        if depth + 1 > lim.archive_max_depth:
            self._replace_findings(
                doc, make_finding("ARCHIVE_LIMIT", place=doc.path, name=doc.path,
                                  reason=f"archives nested deeper than {lim.archive_max_depth}")
            )
            return
        try:
            zf = zipfile.ZipFile(io.BytesIO(doc.data))
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
            member = _nfc(info.filename.replace("\\", "/"))
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
        if depth + 1 > lim.archive_max_depth:
            self._replace_findings(
                doc, make_finding("ARCHIVE_LIMIT", place=doc.path, name=doc.path,
                                  reason=f"archives nested deeper than {lim.archive_max_depth}")
            )
            return
        got = archives.expand(doc.data, doc.fmt, doc.name, lim, already=self._unpacked)
        self._unpacked += sum(len(m.data) for m in got.members)
        for p in got.problems:
            self._replace_findings(doc, make_finding(p.code, place=doc.path, name=doc.path,
                                                     reason=p.reason, format=got.label))
        for m in got.members:
            self._add_file(m.path.rsplit("/", 1)[-1], m.data, doc.path + "/" + _dirpart(m.path),
                           depth + 1, declared=None, is_member=True)


def _is_text(found: Sniffed) -> bool:
    """Whether a body part's content may be read as the body: anything but a file format we
    recognise (a body in a legacy charset may look like binary to libmagic; the text checks
    report what they cannot decode)."""
    return found.fmt in ("txt", "csv", "html", "rtf", "other")


def _spill_dir(fp: BinaryIO) -> str | None:
    """Spilled bodies go beside the message's spool file (private), else to the temp dir."""
    name = getattr(fp, "name", None)
    if isinstance(name, str) and os.path.isfile(name):
        return os.path.dirname(os.path.abspath(name))
    return None


def _dirpart(member: str) -> str:
    return member.rsplit("/", 1)[0] + "/" if "/" in member else ""


def zlib_error() -> type[BaseException]:
    import zlib

    return zlib.error


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = ["IntakeItem", "ParsedMessage", "TextPart", "Walker", "part_filename", "sha256",
           "DocClass", "EmailMessage"]
