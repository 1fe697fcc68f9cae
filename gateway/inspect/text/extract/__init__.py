"""Text and fonts of documents, as blocks of runs with a place each.

A *block* is what a reader sees as one unit (a paragraph, a table cell, a text-box
paragraph, a spreadsheet cell, a slide paragraph, a PDF line); a *run* is a stretch of one
font. Legacy-font runs keep their *surface* text (see :mod:`legacy`), with DOCX soft
hyphens (TCVN3 "ư") restored as U+00AD.

Every reader is bounded: ZIP members are read with a size cap, XML is parsed without DTDs,
entities or network and rejected if it carries a DOCTYPE, and text beyond ``max_chars`` is
not read (reported as truncated).

One module per format: :mod:`.ooxml` (DOCX, XLSX, PPTX), :mod:`.opendocument` (ODF),
:mod:`.richtext` (RTF), :mod:`.pdftext` (PDF text layer), :mod:`.plain` (HTML and plain
text), on :mod:`.base` (blocks, runs, budget, packages). :func:`extract` picks the reader.
"""

from __future__ import annotations

from collections.abc import Iterator

from gateway.inspect.text.extract.base import (
    STRONG_KINDS,
    Block,
    Budget,
    Extracted,
    Package,
    Run,
    Unreadable,
    parse_xml,
)
from gateway.inspect.text.extract.ooxml import (
    A,
    S,
    Styles,
    W,
    docx,
    pptx,
    xlsx,
    xlsx_sheets,
    xlsx_styles,
)
from gateway.inspect.text.extract.opendocument import odf
from gateway.inspect.text.extract.pdftext import pdf
from gateway.inspect.text.extract.plain import html_blocks, plain_blocks
from gateway.inspect.text.extract.richtext import rtf
from gateway.model.partdata import Data, to_bytes

OOXML_WORD = frozenset({"docx", "docm", "dotx", "dotm"})
OOXML_SHEET = frozenset({"xlsx", "xlsm", "xltx"})
OOXML_SLIDES = frozenset({"pptx", "pptm", "potx"})
ODF_FORMATS = frozenset({"odt", "ods", "odp", "odg", "ott", "ots", "otp"})


def extract(fmt: str, data: Data, *, max_chars: int, max_member: int, max_total: int,
            pdf_max_pages: int) -> Extracted:
    """Blocks of a document of format ``fmt``; raises :class:`Unreadable`."""
    budget = Budget(max_chars)
    if fmt in OOXML_WORD | OOXML_SHEET | OOXML_SLIDES | ODF_FORMATS:
        pkg = Package(data, max_member, max_total)
        if fmt in OOXML_WORD:
            out = docx(pkg, budget)
        elif fmt in OOXML_SHEET:
            out = xlsx(pkg, budget)
        elif fmt in OOXML_SLIDES:
            out = pptx(pkg, budget)
        else:
            out = odf(pkg, budget)
    elif fmt == "rtf":
        out = rtf(to_bytes(data), budget)  # the tokenizer reads it whole
    elif fmt == "pdf":
        out = pdf(data, budget, pdf_max_pages)
    else:
        raise Unreadable(f"no text reader for {fmt}")
    out.truncated = out.truncated or budget.truncated
    out.chars = max_chars - max(budget.left, 0)
    return out


def iter_text(blocks: list[Block]) -> Iterator[str]:
    for b in blocks:
        yield b.text


__all__ = ["A", "Block", "Extracted", "ODF_FORMATS", "OOXML_SHEET", "OOXML_SLIDES",
           "OOXML_WORD", "Package", "Run", "S", "STRONG_KINDS", "Unreadable", "W", "Budget",
           "Styles", "docx", "extract", "html_blocks", "iter_text", "odf", "parse_xml", "pdf",
           "plain_blocks", "pptx", "rtf", "xlsx", "xlsx_sheets", "xlsx_styles"]
