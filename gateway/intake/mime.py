"""Walk a message: every MIME part, attached messages and ZIP archives, within limits.

The result is a flat list of documents (each with the findings intake made about it, such as
an oversized attachment or a name that lies about the content), the body text parts (for the
Unicode checks), and the message-level findings.
"""

from __future__ import annotations

import email
import email.header
import email.policy
import email.utils
import hashlib
import io
import unicodedata
import zipfile
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from typing import BinaryIO, Iterator

from gateway.intake import archives
from gateway.intake.sniff import ARCHIVES, classify, fmt_from_name, same_family, sniff
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.report import DocClass
from gateway.policy.schema import Documents, Limits


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

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def header_value(msg: Message, name: str, raw: object) -> str:
    """A header's value decoded (RFC 2047) in NFC; a header the email package cannot parse
    is decoded leniently, never raising."""
    try:
        return _nfc(str(msg.policy.header_fetch_parse(name, raw)))  # type: ignore[attr-defined]
    except Exception:
        pass
    text = str(raw)
    try:
        return _nfc(str(email.header.make_header(email.header.decode_header(text))))
    except Exception:
        return _nfc(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))


def part_filename(part: Message) -> str | None:
    """The file name from Content-Disposition or Content-Type, decoded (RFC 2231 and the
    common RFC 2047-in-quotes form), in NFC."""
    try:
        name = part.get_filename() or part.get_param("name", header="content-type")
    except Exception:
        return None
    if isinstance(name, tuple):  # an undecoded RFC 2231 triple
        name = email.utils.collapse_rfc2231_value(name)
    if not name:
        return None
    name = str(name)
    if "=?" in name:
        try:
            name = str(email.header.make_header(email.header.decode_header(name)))
        except Exception:
            pass
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return _nfc(name) or None


class Walker:
    """Walks one message within the limits of the rules."""

    def __init__(self, limits: Limits, documents: Documents) -> None:
        self.limits = limits
        self.docs = documents
        self.parts_seen = 0
        self.out = ParsedMessage()
        self._limit_reported: set[str] = set()
        self._unpacked = 0
        """Bytes unpacked from the message's RAR/7z/tar/… archives: one total budget."""

    # -- entry points -------------------------------------------------------------------

    def walk_message(self, fp: BinaryIO) -> ParsedMessage:
        msg = email.message_from_binary_file(fp, policy=email.policy.default)
        self.out.raw_headers = [(k, str(v)) for k, v in msg.raw_items()]
        for k, raw in msg.raw_items():
            self.out.headers.append((k, header_value(msg, k, raw)))
        self._walk(msg, prefix="", depth=0)
        return self.out

    def walk_document(self, name: str, data: bytes) -> ParsedMessage:
        self._add_file(name, data, prefix="", depth=0, declared=None)
        return self.out

    # -- internals ----------------------------------------------------------------------

    def _limit(self, key: str, reason: str) -> None:
        if key not in self._limit_reported:
            self._limit_reported.add(key)
            self.out.findings.append(make_finding("MIME_LIMIT", reason=reason))

    def _walk(self, msg: Message, prefix: str, depth: int) -> None:
        if depth > self.limits.mime_max_depth:
            self._limit("depth", f"nesting deeper than {self.limits.mime_max_depth}")
            return
        for part, is_child_message in self._iter_parts(msg, depth):
            if is_child_message:
                continue
            try:
                self._part(part, prefix, depth)
            except Exception as exc:  # the email package raises on some malformed headers
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
                    stack[0:0] = [(p, d + 1) for p in payload]
                continue
            yield part, False

    def _part(self, part: Message, prefix: str, depth: int) -> None:
        ctype = part.get_content_type()
        name = part_filename(part)
        disposition = (part.get_content_disposition() or "").lower()
        if ctype == "message/rfc822" and not name:
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                label = prefix + "(message)/"
                self._walk(inner[0], label, depth + 1)
            return
        if part.get_content_maintype() == "text" and not name and disposition != "attachment":
            try:
                raw = part.get_payload(decode=True) or b""
            except Exception:
                raw = b""
            self.out.text_parts.append(
                TextPart(prefix + f"body:{ctype}", ctype, part.get_content_charset(), raw)
            )
            return
        if disposition == "inline" and not name and part.get("Content-ID"):
            return  # a picture in the HTML body (logo, signature image), not a document
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
        if data is None:
            payload = part.get_payload()
            data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
        if not name:
            name = "unnamed" + (("." + ctype.split("/")[-1]) if "/" in ctype else "")
        self._add_file(name, data, prefix, depth, declared=ctype)

    def _add_file(
        self, name: str, data: bytes, prefix: str, depth: int, declared: str | None,
        is_member: bool = False,
    ) -> None:
        path = prefix + name
        media_type, fmt = sniff(data, name)
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
                make_finding("ATTACHMENT_TOO_LARGE", place=path, name=path, size=len(data), limit=limit)
            )
            self.out.items.append(IntakeItem(doc, tuple(findings), inspect=False))
            return
        if fmt in ARCHIVES:
            self.out.items.append(IntakeItem(doc, tuple(findings), inspect=False))
            if fmt == "zip":
                self._zip(doc, depth)
            elif fmt in archives.FORMATS:
                self._libarchive(doc, depth)
            else:
                self._attached_message(doc, depth)
            return
        self.out.items.append(IntakeItem(doc, tuple(findings)))

    def _replace_findings(self, doc: Document, extra: Finding) -> None:
        for i, item in enumerate(self.out.items):
            if item.document is doc:
                self.out.items[i] = IntakeItem(doc, item.findings + (extra,), inspect=False)
                return

    def _attached_message(self, doc: Document, depth: int) -> None:
        if depth + 1 > self.limits.mime_max_depth:
            self._replace_findings(
                doc, make_finding("ARCHIVE_LIMIT", place=doc.path, name=doc.path,
                                  reason=f"nesting deeper than {self.limits.mime_max_depth}")
            )
            return
        msg = email.message_from_bytes(doc.data, policy=email.policy.default)
        self._walk(msg, doc.path + "/", depth + 1)

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
        files = [i for i in infos if not i.is_dir()]
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
                    doc, make_finding("ARCHIVE_UNREADABLE", place=doc.path, name=doc.path,
                                      reason=f"{member} is encrypted")
                )
                continue
            try:
                data = _read_capped(zf, info, lim.archive_max_member_bytes)
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


def _dirpart(member: str) -> str:
    return member.rsplit("/", 1)[0] + "/" if "/" in member else ""


def zlib_error() -> type[BaseException]:
    import zlib

    return zlib.error


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """Read a member without trusting its header's size: stop past the cap."""
    buf = io.BytesIO()
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            buf.write(chunk)
            if buf.tell() > cap:
                raise ValueError(f"inflates past {cap} bytes")
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = ["IntakeItem", "ParsedMessage", "TextPart", "Walker", "part_filename", "sha256",
           "DocClass", "EmailMessage"]
