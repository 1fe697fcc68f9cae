"""Walk a message: every MIME part, attached messages, ZIP archives, TNEF (winmail.dat),
uuencoded blocks in text bodies and CMS that carries its content, within limits.

The result is a flat list of documents (each with the findings intake made about it, such as
an oversized attachment or a name that lies about the content), the body text parts (for the
Unicode checks), and the message-level findings. The structure is measured before the
standard library parses it (``structure.py``): a message beyond the limits gets ``MIME_LIMIT``
with the rules' final action, never a parser crash.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage, Message
from typing import BinaryIO

from gateway.intake import archive_formats, spills, stream, structure
from gateway.intake.containers import Openers
from gateway.intake.names import header_value, part_filename
from gateway.intake.parsed import IntakeItem, ParsedMessage, TextPart
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
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.partdata import Data, PartFile, open_stream, to_bytes
from gateway.model.report import DocClass
from gateway.policy.schema import Documents, Limits

log = logging.getLogger(__name__)

_BODY_SNIFF = 1 << 12
"""How much of a body labelled text (or an inline picture) is sniffed to tell whether it is
really a file: every format that matters there is known by its first bytes, and libmagic's
text analysis costs time with what it is given (2.8 ms for 64 KiB, 1.7 ms for 4 KiB)."""
_BEGIN = re.compile(b"begin")
"""What every uuencoded block in a body starts with: the regex engine finds a literal faster
than ``b"begin" in body`` (two-thirds of the time over a 110 KB Vietnamese body)."""


class Walker(Openers):
    """Walks one message within the limits of the rules."""

    def __init__(self, limits: Limits, documents: Documents) -> None:
        self._spills = spills.Spills(stream.Split(None, structure.Structure(0, 0, 0)))
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
        size = fp.seek(0, os.SEEK_END) - start
        fp.seek(start)
        token_bytes = min(stream.TOKEN_BYTES, stream.SPILL_BYTES)
        if size <= token_bytes:  # no body of it could be left out: measured and read whole
            got = stream.Split(None, structure.scan(fp.read()))
        else:
            got = stream.split(fp, token_bytes, header_cap=self.limits.mime_max_header_bytes)
        self._spills = spills.Spills(got, spill_dir)
        walked = False
        try:
            self._walk_top(got, fp, start)
            walked = True
        finally:
            self._spills.close()
            self.out.digests.update(self._spills.digests)
            self.out.files.extend(self._spills.files)
            if not walked:  # no parsed message for the caller to close
                self.out.close()
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
        elif data is None and structure.too_deep(st) is not None:
            # the split kept no skeleton: the parser would not be given the message
            self._limit("depth", f"{structure.too_deep(st)}, limit {lim.mime_max_depth}")
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
                                              else self._head(fp, start))
                if top is not None:
                    self._headers(top)
            return
        self._headers(msg)
        self._walk(msg, prefix="", depth=0)

    def _whole(self, fp: BinaryIO, start: int) -> bytes:
        """The message as bytes (when the split cannot be used), spilled bodies dropped."""
        self._spills.close()
        self._spills = spills.Spills(stream.Split(None, structure.Structure(0, 0, 0)))
        fp.seek(start)
        return fp.read()

    def _head(self, fp: BinaryIO, start: int) -> bytes:
        """The start of the message, where its top header block is (no larger than the header
        limit, or the message would not be parsed at all)."""
        fp.seek(start)
        return fp.read(self.limits.mime_max_header_bytes + 1024)

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
            raw = self._decoded(part, spill, prefix, ctype, digest=False)
            assert isinstance(raw, bytes)  # a text body is read whole (spills.decoded)
            if raw and not _is_text(sniff_detail(raw[:_BODY_SNIFF], text_label=True)):
                # labelled text but something else (a document, an archive): a file
                self._add_file("body.html" if ctype == "text/html" else "body.txt", raw,
                               prefix, depth, declared=ctype)
                return
            if _BEGIN.search(raw) is not None:
                raw = self._uuencoded(raw, prefix, depth)
            self.out.text_parts.append(
                TextPart(prefix + f"body:{ctype}", ctype, part.get_content_charset(), raw)
            )
            return
        data = self._decoded(part, spill, prefix, ctype)
        if disposition == "inline" and not name and part.get("Content-ID") and \
                sniff_detail(data[:_BODY_SNIFF]).fmt in IMAGES:
            return  # a picture in the HTML body (logo, signature image), not a document
        if not name:
            name = "unnamed" + (("." + ctype.split("/")[-1]) if "/" in ctype else "")
        self._add_file(name, data, prefix, depth, declared=ctype)

    def _decoded(self, part: Message, spill: stream.Spill | None, prefix: str,
                 ctype: str, digest: bool = True) -> Data:
        """A leaf part's body without its transfer encoding. When the decoder fails, the
        undecoded body is what is inspected and the failure is an error finding: a body nobody
        could decode never passes as empty text or as a harmless file."""
        try:
            got = self._spills.decoded(part, spill, digest) if spill \
                else part.get_payload(decode=True)
        except OSError:
            raise  # a spilled body that cannot be read back: the check fails (tempfail)
        except Exception as exc:  # noqa: BLE001 - the email package's decoders raise many kinds
            self.out.findings.append(make_finding(
                "MIME_MALFORMED", place=prefix or None,
                reason=f"{ctype} body not decodable: {type(exc).__name__}"))
            got = None
        if isinstance(got, (bytes, PartFile)):
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
        self, name: str, data: Data, prefix: str, depth: int, declared: str | None,
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
            elif fmt in archive_formats.FORMATS:
                self._libarchive(doc, depth)
            elif fmt in CONTAINERS:
                self._container(doc, depth)
            else:
                self._attached_message(doc, depth)
        else:
            self.out.items.append(IntakeItem(doc, tuple(findings)))
            if fmt == "txt" and b"begin" in data:  # a .uue attachment: the files inside
                self._uuencoded(to_bytes(data), path + "/", depth + 1)
        if found.also is not None:
            self._second_reading(doc, found.also, depth)

    def _second_reading(self, doc: Document, fmt: str, depth: int) -> None:
        """A polyglot is judged as each format it validly is: worst wins."""
        other = Document(f"{doc.path}#{fmt}", doc.name, doc.data, FMT_MEDIA[fmt], fmt,
                         classify(fmt, self.docs.images_are_scans), doc.declared_type)
        if fmt == "zip":
            self.out.items.append(IntakeItem(other, (), inspect=False))
            self._zip(other, depth)
        elif fmt in archive_formats.FORMATS:
            self.out.items.append(IntakeItem(other, (), inspect=False))
            self._libarchive(other, depth)
        else:
            self.out.items.append(IntakeItem(other))

    def _attached_message(self, doc: Document, depth: int,
                          report_on: Document | None = None) -> None:
        target = report_on or doc
        if depth + 1 > self.limits.mime_max_depth:
            self._replace_findings(
                target, make_finding("ARCHIVE_LIMIT", place=doc.path, name=doc.path,
                                     reason=f"nesting deeper than {self.limits.mime_max_depth}")
            )
            return
        got = stream.split(open_stream(doc.data), header_cap=self.limits.mime_max_header_bytes)
        outer = self._spills
        self._spills = spills.Spills(got, outer.spill_dir)
        try:
            msg, problem = structure.parse(
                got.skeleton if got.skeleton is not None else to_bytes(doc.data), got.structure)
            if msg is not None and got.skeleton is not None and self._spills.by_token \
                    and stream.verify(msg, got) is not None:  # read otherwise: parse it whole
                self._spills.close()
                self._spills = spills.Spills(stream.Split(None, got.structure))
                msg, problem = structure.parse(to_bytes(doc.data), got.structure)
            if msg is None:
                self._limit("depth", f"{doc.path}: {problem}, limit {self.limits.mime_max_depth}")
                return
            self._walk(msg, doc.path + "/", depth + 1)
        finally:
            self._spills.close()
            self.out.digests.update(self._spills.digests)
            self.out.files.extend(self._spills.files)
            self._spills = outer

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


__all__ = ["IntakeItem", "ParsedMessage", "TextPart", "Walker", "part_filename",
           "DocClass", "EmailMessage"]
