"""An image XObject recognised from the bytes of its object, without parsing it.

The layout classification needs only one fact of each page image: it is a stream whose
``/Subtype`` is ``/Image``. pyHanko's object reader parses a dictionary a byte at a time in
Python (about as long as the whole content stream's scan of a scanned page) and copies the
image data; a scan has one such object per page.

``plain_image(ref)`` answers ``True`` only for an object written in a plain form, read from
the offset the reader's cross-reference data gives: ``N G obj``, a dictionary of plain names,
numbers, references, booleans, flat arrays and flat dictionaries (no escapes, comments or
strings, no key twice), a direct ``/Length``, ``/Subtype /Image``, ``stream`` then one end of
line, and ``endstream`` and ``endobj`` right after the data. That is an object the reader parses
without error into a stream of subtype ``/Image``. Anything else (an encrypted file, an object in
an object stream or already read, a form, any other spelling or a damaged object) answers
``None``, and the caller reads the object with pyHanko as before, errors included.
"""

from __future__ import annotations

import re
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader

HEAD_BYTES = 4096
"""The object's dictionary must end (``stream`` and its end of line) within this many bytes."""

_END = rb"(?=[ \r\n/<>\[\]])"  # a token ends at whitespace or a delimiter the grammar allows
_NAME = rb"/[A-Za-z0-9]+" + _END
_NUM = rb"-?\d+(?:\.\d+)?" + _END
# A reference is told from two numbers by the reader within 20 bytes: short ones only here.
_REF = rb"\d{1,8} \d{1,5} R" + _END
_ATOM = _REF + b"|" + _NUM + b"|" + _NAME + rb"|(?:true|false)" + _END
_ARRAY = rb"\[(?:[ \r\n]*(?:" + _NUM + b"|" + _NAME + rb"))*[ \r\n]*\]"
_DICT = rb"<<(?:[ \r\n]*" + _NAME + rb"[ \r\n]*(?:" + _ATOM + rb"))*[ \r\n]*>>"
_HEAD = re.compile(
    rb"(\d+) (\d+) obj[ \r\n]*<<((?:[ \r\n]*" + _NAME + rb"[ \r\n]*(?:" + _ATOM + b"|" + _ARRAY
    + b"|" + _DICT + rb"))*)[ \r\n]*>>[ \r\n]*stream\r?\n"
)
_PAIR = re.compile(rb"[ \r\n]*(" + _NAME + rb")[ \r\n]*(" + _ATOM + b"|" + _ARRAY + b"|" + _DICT
                   + b")")
_INNER_KEY = re.compile(rb"(/[A-Za-z0-9]+)[ \r\n]*(?:" + _ATOM + b")")
_TAIL = re.compile(rb"[ \r\n]*endstream[ \r\n]*endobj")


def plain_image(raw: Any) -> bool | None:
    """``True`` when ``raw`` is a reference to an image XObject in the plain form above;
    ``None`` when that cannot be told from its bytes (the reader must parse it)."""
    if not isinstance(raw, generic.IndirectObject):
        return None
    ref = raw.reference
    reader = ref.pdf
    if not isinstance(reader, PdfFileReader) or reader.encrypted:
        return None
    if (ref.generation, ref.idnum) in reader.resolved_objects:
        return None  # already parsed: the reader's object is the one to use
    if ref in reader.xrefs.xref_stream_refs:
        return None
    try:
        offset = reader.xrefs[ref]
    except (PdfError, KeyError, ValueError, TypeError):
        return None  # the reader says why when it reads the object itself
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        return None  # an object stream's member, or not in the table
    stream = reader.stream
    saved = stream.tell()
    try:
        stream.seek(offset)
        head = stream.read(HEAD_BYTES)
        m = _HEAD.match(head)
        if m is None or (int(m.group(1)), int(m.group(2))) != (ref.idnum, ref.generation):
            return None
        entries = _entries(head, m.start(3), m.end(3))
        if entries is None or entries.get(b"/Subtype") != b"/Image":
            return None
        length = entries.get(b"/Length", b"")
        if not length.isdigit():
            return None  # absent, indirect, negative or not an integer
        stream.seek(offset + m.end() + int(length))
        return True if _TAIL.match(stream.read(64)) else None
    finally:
        stream.seek(saved)


def _entries(head: bytes, pos: int, end: int) -> dict[bytes, bytes] | None:
    """The keys and values of the dictionary written in ``head[pos:end]``, as written; ``None``
    when a key appears twice (at any level: a strict reader refuses it, a tolerant one keeps
    the first)."""
    out: dict[bytes, bytes] = {}
    while pos < end:
        m = _PAIR.match(head, pos)  # not cut at ``end``: a value's end is seen in what follows
        if m is None or m.end() > end:
            return None if head[pos:end].strip(b" \r\n") else out
        key, value = m.group(1), m.group(2)
        if key in out:
            return None
        if value.startswith(b"<<"):
            inner = _INNER_KEY.findall(value)
            if len(set(inner)) != len(inner):
                return None
        out[key] = value
        pos = m.end()
    return out


__all__ = ["plain_image"]
