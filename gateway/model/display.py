"""Showing untrusted text (file names, addresses, headers, request paths, finding places)
to a person without letting it rearrange or control what they see.

Bidirectional controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C) and control
characters (C0, DEL, C1: terminal escape sequences, carriage returns) are replaced by a
visible ``<U+XXXX>``: ``invoice\\u202efdp.exe.docx`` is shown as
``invoice<U+202E>fdp.exe.docx``, never as "invoicexcod.exe.pdf", and ``\\x1b[2J`` cannot clear
an auditor's terminal. Used by the web pages (every value a template prints), the text
tables and ``hople audit show``, the CSV exports (before the formula guard) and the readable
report of ``hople check``. It lives in ``model`` so every layer that shows text can use it."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["SUSPECT", "one_line", "visible", "visible_any"]

SUSPECT = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""Characters that are never shown as they are."""


def _mark(m: re.Match[str]) -> str:
    return f"<U+{ord(m.group(0)):04X}>"


def visible(text: str) -> str:
    """``text`` with every :data:`SUSPECT` character replaced by ``<U+XXXX>``."""
    return SUSPECT.sub(_mark, text) if SUSPECT.search(text) else text


def visible_any(value: Any) -> Any:
    """:func:`visible` for strings; any other value as it is."""
    return visible(value) if isinstance(value, str) else value


def one_line(exc: BaseException, limit: int = 200) -> str:
    """An exception's text on one line of at most ``limit`` characters (its type's name when
    it has no text), for a finding's reason or a log line."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
