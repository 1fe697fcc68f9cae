"""A document as intake hands it to the inspectors."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.model.partdata import Data
from gateway.model.report import DocClass


@dataclass(frozen=True)
class Document:
    path: str
    """Display path: the file name, or ``outer.zip/inner.docx`` for archive members."""
    name: str
    """The file name alone (decoded from RFC 2047/2231)."""
    data: Data
    """The decoded bytes: a large part is its mapped temp file (``model/partdata.py``)."""
    media_type: str
    """MIME type identified from the content (libmagic), refined for OOXML/ODF."""
    fmt: str
    """Short format key: docx, xlsx, pptx, docm, xlsm, pptm, odt, ods, odp, ott, doc, xls, ppt,
    rtf, txt, csv, html, pdf, png, jpeg, tiff, gif, bmp, zip, p7s, p7m, eml or other."""
    doc_class: DocClass
    declared_type: str | None = None
    """The Content-Type the sender declared, if any."""
