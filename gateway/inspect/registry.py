"""Which inspectors run on which formats. Add a check by adding a line here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway.inspect.base import InspectContext, InspectorFn
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.report import SignatureReport

SiblingSignatures = Callable[
    [Document, list[Document], InspectContext], tuple[SignatureReport, ...]]
"""Signatures of a document that travel beside it (a detached ``.p7s``): given the document
and the other files of the same message folder, return their verified reports."""

MessageCheck = Callable[[Any, InspectContext], list[Finding]]
"""A check on the whole parsed message (``gateway.intake.mime.ParsedMessage``): headers,
body text parts. Used for checks that are not about one document (Unicode, secrecy)."""

OOXML = frozenset({"docx", "docm", "xlsx", "xlsm", "pptx", "pptm", "dotx", "dotm", "xltx", "potx"})
ODF = frozenset({"odt", "ods", "odp", "odg", "ott", "ots", "otp"})
LEGACY_OFFICE = frozenset({"doc", "xls", "ppt"})
PDF = frozenset({"pdf"})
IMAGES = frozenset({"png", "jpeg", "tiff", "gif", "bmp", "webp"})
TEXTUAL = frozenset({"txt", "csv", "html", "rtf"})
CMS = frozenset({"p7s", "p7m"})


def _table() -> list[tuple[frozenset[str], InspectorFn]]:
    table: list[tuple[frozenset[str], InspectorFn]] = []
    # Each capability registers its inspectors below (format set, function).
    from gateway.inspect.legacy_office import inspect_legacy_office
    from gateway.inspect.odf import inspect_odf
    from gateway.inspect.ooxml import inspect_ooxml

    table.append((OOXML, inspect_ooxml))
    table.append((ODF, inspect_odf))
    table.append((LEGACY_OFFICE, inspect_legacy_office))
    from gateway.inspect.cms import inspect_cms
    from gateway.inspect.images import inspect_image
    from gateway.inspect.pdf import inspect_pdf

    table.append((PDF, inspect_pdf))
    from gateway.inspect.text.inspector import DOCUMENT_FORMATS, PLAIN_FORMATS, inspect_text

    table.append((DOCUMENT_FORMATS | PLAIN_FORMATS, inspect_text))  # Art. 9.5, 8.2
    table.append((IMAGES, inspect_image))
    table.append((CMS | {"other"}, inspect_cms))  # DER signatures often sniff as "other"
    return table


_TABLE = _table()


def inspectors_for(fmt: str) -> list[InspectorFn]:
    return [fn for formats, fn in _TABLE if fmt in formats]


def _message_table() -> list[MessageCheck]:
    table: list[MessageCheck] = []
    # Each capability registers its message-level checks below.
    from gateway.inspect.cms import detached_signatures

    table.append(detached_signatures)
    from gateway.inspect.text.message import check_message as text_message_check

    table.append(text_message_check)  # Art. 9.5 bodies/subject/names, 8.2 stamps
    return table


_MESSAGE_TABLE = _message_table()


def message_checks() -> list[MessageCheck]:
    return list(_MESSAGE_TABLE)


def sibling_signature_checks() -> list[SiblingSignatures]:
    from gateway.inspect.cms import signatures_beside

    return [signatures_beside]


def sibling_index(docs: list[Document]) -> list[Document]:
    """The message's documents as the sibling checks take them: indexed once per message
    (by name and digest), so pairing signatures with files stays linear."""
    from gateway.inspect.cms import Siblings

    return Siblings(docs)
