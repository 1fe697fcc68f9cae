"""Secrecy stamps (độ mật): ``MẬT``, ``TỐI MẬT``, ``TUYỆT MẬT`` as marks, not as words.

A stamp is a standalone token group: a line, table cell, text box or shape whose whole text
is the mark (optionally labelled ``Độ mật:`` or followed by a short bracketed note), written
in capitals as stamps are. The same words inside a sentence (``tài liệu mật``, ``bí mật nhà
nước``), compounds (``mật khẩu``, ``bảo mật``, ``mật độ``, ``mật ong``) and urgency marks
(``KHẨN``, ``THƯỢNG KHẨN``, ``HỎA TỐC``) are not stamps.
"""

from __future__ import annotations

import functools
import re
import unicodedata

LEVELS = ("TUYỆT MẬT", "TỐI MẬT", "MẬT")

_FRAME = " \t\r\n\u00a0\u2002\u2003\u2009*-–—_=|<>«»\"'“”‘’.:;#~•·+"
_PAIRS = {"(": ")", "[": "]", "{": "}"}
_SPACES = re.compile(r"\s+")
_CELL_SPLIT = re.compile(r"\t+| {3,}|\s\|\s")

_STAMP = re.compile(
    r"(?:(?:MỨC\s+)?ĐỘ\s+MẬT\s*[:：]\s*)?"
    r"(?P<level>TUYỆT\s+MẬT|TỐI\s+MẬT|MẬT)"
    r"(?:\s*[(\[][^()\[\]]{0,60}[)\]])?"
)
_LABELLED = re.compile(
    r"(?:MỨC\s+)?ĐỘ\s+MẬT\s*[:：]\s*(?P<level>TUYỆT\s+MẬT|TỐI\s+MẬT|MẬT)\s*[.;]?", re.IGNORECASE)
_UNACCENTED = re.compile(r"(?P<level>TUYET\s+MAT|TOI\s+MAT)")


def _clean(text: str) -> str:
    """``text`` normalised, its white space runs made single spaces, its frame and brackets
    stripped; short texts are remembered (a body line read for a stamp is cleaned by
    ``segment_stamp`` and again by ``unaccented_stamp``)."""
    return _clean_short(text) if len(text) <= _CLEAN_REMEMBERED else _clean_text(text)


_CLEAN_REMEMBERED = 200
"""The longest text ``_clean`` remembers (a body line is read for a stamp up to 160)."""


def _clean_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _SPACES.sub(" ", text).strip(_FRAME)
    while len(text) > 2 and _PAIRS.get(text[0]) == text[-1]:
        text = text[1:-1].strip(_FRAME)
    return text


_clean_short = functools.lru_cache(maxsize=64)(_clean_text)


def _level(m: re.Match[str]) -> str:
    return _SPACES.sub(" ", m.group("level")).upper()


def segment_stamp(text: str, *, any_case: bool = False) -> str | None:
    """The secrecy level if ``text`` (one line, cell, text box or shape) is a stamp.

    ``any_case``: also accept ``Mật``/``Tối mật`` written in lower case — used for text boxes
    and shapes, whose only content a stamp is."""
    cells = [text]
    if "\t" in text or "  " in text or "|" in text:
        cells += _CELL_SPLIT.split(text)
    for cell in cells:
        c = _clean(cell)
        if not c or len(c) > 90:
            continue
        m = _LABELLED.fullmatch(c)
        if m:
            return _level(m)
        core = re.sub(r"\s*[(\[][^()\[\]]{0,60}[)\]]$", "", c)
        if core == core.upper() or any_case:
            m = _STAMP.fullmatch(c.upper() if any_case else core + c[len(core):].upper())
            if m:
                return _level(m)
    return None


def unaccented_stamp(text: str) -> str | None:
    """``TUYET MAT`` / ``TOI MAT`` standalone in capitals (typed without diacritics, or OCR):
    only a hint, never decisive alone."""
    c = _clean(text)
    if c and c == c.upper() and len(c) <= 40:
        m = _UNACCENTED.fullmatch(c)
        if m:
            level = _SPACES.sub(" ", m.group("level"))
            return {"TUYET MAT": "TUYỆT MẬT", "TOI MAT": "TỐI MẬT"}[level]
    return None


_WORD = r"[^\W\d_]"
_IN_SUBJECT = re.compile(rf"(?<!{_WORD})(TUYỆT\s+MẬT|TỐI\s+MẬT|MẬT)(?!{_WORD})")
_IN_SUBJECT_ANY = re.compile(rf"(?<!{_WORD})(TUYỆT\s+MẬT|TỐI\s+MẬT|MẬT)(?!{_WORD})", re.IGNORECASE)
_EXCLUDE_PREV = {"BẢO", "BÍ", "CƠ", "THÂN", "ĐỘ", "GIỮ"}
_EXCLUDE_NEXT = {"KHẨU", "ĐỘ", "ONG", "THIẾT", "MÃ", "THÁM", "VỤ", "LỆNH", "MÍA", "GẤU",
                 "NGỌT", "ĐẮNG", "TÌNH", "NGỮ", "ƯỚC", "THƯ", "DANH", "KHU", "NGHỊ", "PHÁP",
                 "TÍN", "SỐ", "TRUYỀN", "ĐÀM", "HIỆU", "TIN"}
_REPLY = re.compile(r"^\s*(?:(?:re|fw|fwd|tl|tr|trả lời|chuyển tiếp|aw|wg)\s*(?:\[\d+\])?\s*:\s*)+",
                    re.IGNORECASE)
_OPEN = "([{<«“\"'"
_CLOSE = ")]}>»”\"'"
_SEP = ":-–—|/,;"


def _neighbour_words(s: str, start: int, end: int) -> tuple[str, str]:
    before = re.findall(rf"{_WORD}+", s[:start])
    after = re.findall(rf"{_WORD}+", s[end:])
    return (before[-1].upper() if before else "", after[0].upper() if after else "")


def subject_stamp(subject: str) -> str | None:
    """The secrecy level marked in a Subject, e.g. ``[MẬT] Báo cáo…``, ``TUYỆT MẬT - …``,
    ``Báo cáo tình hình (TỐI MẬT)`` or ``Gửi tài liệu MẬT về…``; never ``Đổi mật khẩu``,
    ``V/v bảo mật thông tin`` or ``HỎA TỐC``."""
    s = _REPLY.sub("", unicodedata.normalize("NFC", subject or "")).strip()
    if not s:
        return None
    all_caps = s == s.upper()
    for m in _IN_SUBJECT_ANY.finditer(s):
        token = m.group(0)
        is_caps = token == token.upper()
        prev_word, next_word = _neighbour_words(s, m.start(), m.end())
        level = _SPACES.sub(" ", token).upper()
        before = s[: m.start()].rstrip()
        after = s[m.end():].lstrip()
        if prev_word == "ĐỘ" and after.startswith((":", "：")):
            continue  # "Độ mật: Mật" — the value is matched on its own
        if re.search(r"ĐỘ\s+MẬT\s*[:：]\s*$", before, re.IGNORECASE):
            return level
        bracketed = before.endswith(tuple(_OPEN)) and after.startswith(tuple(_CLOSE))
        if bracketed:
            return level
        if prev_word in _EXCLUDE_PREV or next_word in _EXCLUDE_NEXT:
            continue
        at_start = not before or before[-1] in _SEP
        at_end = not after or after[0] in _SEP
        if not is_caps:
            continue
        if all_caps:
            # In a subject written all in capitals only a mark set apart counts.
            if at_start and at_end:
                return level
            continue
        return level
    return None


def filename_stamp(name: str) -> str | None:
    """A secrecy level spelt out in a file name (``Bao_cao_TOI_MAT.docx``, ``(MẬT) …``):
    a weak signal."""
    stem = unicodedata.normalize("NFC", name.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    s = re.sub(r"[_\-.]+", " ", stem)
    for pat, level in ((r"TUYỆT MẬT|TUYET MAT", "TUYỆT MẬT"), (r"TỐI MẬT|TOI MAT", "TỐI MẬT"),
                       (r"MẬT", "MẬT")):
        m = re.search(rf"(?<!{_WORD})(?:{pat})(?!{_WORD})", s)
        if m:
            prev_word, next_word = _neighbour_words(s, m.start(), m.end())
            if level == "MẬT" and (prev_word in _EXCLUDE_PREV or next_word in _EXCLUDE_NEXT):
                continue
            return level
    return None
