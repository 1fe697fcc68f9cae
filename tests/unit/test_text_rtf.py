"""The RTF reader on literal bytes: groups, destinations, the font table and its code pages,
Unicode escapes with their stand-in characters, and the nesting limit."""

from __future__ import annotations

import pytest

from gateway.inspect.text.extract import Budget, Unreadable, rtf

FONTS = (rb"{\fonttbl{\f0\fnil\fcharset163 Times New Roman;}{\f1\fnil .VnTime;}"
         rb"{\f2\fnil\fcharset0 Arial;}}")


def _runs(data: bytes, max_chars: int = 10**6) -> list[tuple[str, str, str | None]]:
    out = rtf(data, Budget(max_chars))
    return [(b.place, r.text, r.font) for b in out.blocks for r in b.runs]


def test_fonts_and_code_pages_come_from_the_font_table() -> None:
    data = b"{\\rtf1\\deff2" + FONTS + rb"{\f0 \'cca}\par{\f1 \'e0b}\par c}"
    assert _runs(data) == [
        # charset 163 is Windows-1258, said in the font name
        ("body paragraph 1", "\u0300a", "Times New Roman (Windows-1258)"),
        # a legacy font keeps its surface bytes (read as Windows-1252)
        ("body paragraph 2", "àb", ".VnTime"),
        # no \f: the default font of \deff
        ("body paragraph 3", "c", "Arial"),
    ]


def test_unicode_escapes_skip_their_stand_ins() -> None:
    data = b"{\\rtf1" + FONTS + rb"\f2 \u7871?a\uc2\u7871\'3f\'3fb\uc0\u-3913 c}"
    assert _runs(data) == [("body paragraph 1", "ếaếb\uf0b7c", "Arial")]


def test_destinations_are_not_text_and_kinds_are_kept() -> None:
    data = (b"{\\rtf1" + FONTS + rb"{\*\generator Writer;}{\info{\title secret}}{\pict 0102}"
            rb"{\header \f2 top\par}body\~one\-two\_three\emdash\par{\footer foot}}")
    places = [(p, t) for p, t, _ in _runs(data)]
    assert places == [("header paragraph 1", "top"),
                      ("body paragraph 1", "body\u00a0one\xadtwo-three—"),
                      ("footer paragraph 1", "foot")]


def test_escaped_braces_and_backslash_are_text() -> None:
    assert [t for _, t, _ in _runs(rb"{\rtf1 a\{b\}c\\d}")] == ["a{b}c\\d"]


def test_the_budget_truncates() -> None:
    out = rtf(rb"{\rtf1 abcdef\par ghijkl\par mnop}", Budget(8))
    assert out.truncated and [b.text for b in out.blocks] == ["abcdef"]


def test_deep_nesting_and_other_formats_are_unreadable() -> None:
    with pytest.raises(Unreadable, match="nested too deep"):
        rtf(b"{\\rtf1" + b"{" * 300, Budget(100))
    assert _runs(b"{\\rtf1" + b"{" * 200 + b"x" + b"}" * 200 + b"}") == [
        ("body paragraph 1", "x", None)]
    with pytest.raises(Unreadable, match="not an RTF"):
        rtf(b"plain text", Budget(100))
