"""Text and fonts of RTF documents (also Outlook's RTF bodies), with each run's font and
the code page its font table gives."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from gateway.inspect.text.extract.base import Block, Budget, Extracted, Run, Unreadable

_RTF_TOKEN = re.compile(rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?|\\'([0-9a-fA-F]{2})|\\(.)|([{}])"
                        rb"|([^\\{}\r\n]+)|[\r\n]+", re.DOTALL)
_RTF_SKIP = frozenset({b"colortbl", b"stylesheet", b"info", b"pict", b"object", b"objdata",
                       b"themedata", b"colorschememapping", b"datastore", b"latentstyles",
                       b"xmlnstbl", b"listtable", b"listoverridetable", b"rsidtbl", b"generator",
                       b"fldinst", b"sp", b"bkmkstart", b"bkmkend", b"filetbl", b"revtbl",
                       b"pgdsctbl", b"userprops", b"mmathPr", b"wgrffmtfilter", b"fontemb",
                       b"nonshppict", b"blipuid", b"template", b"xe", b"tc", b"falt", b"panose"})
_RTF_KIND = {b"header": "header", b"headerl": "header", b"headerr": "header", b"headerf": "header",
             b"footer": "footer", b"footerl": "footer", b"footerr": "footer", b"footerf": "footer",
             b"footnote": "footnote", b"shptxt": "textbox", b"annotation": "comment"}
_RTF_PUNCTUATION = {b"emdash": "—", b"endash": "–", b"lquote": "‘", b"rquote": "’",
                    b"ldblquote": "“", b"rdblquote": "”", b"bullet": "•"}
_CHARSET_CP = {0: "cp1252", 1: "cp1252", 2: "cp1252", 163: "cp1258", 238: "cp1250", 204: "cp1251",
               161: "cp1253", 162: "cp1254", 177: "cp1255", 178: "cp1256", 186: "cp1257",
               222: "cp874", 128: "cp932", 134: "gbk", 136: "big5", 129: "cp949"}


def _rtf_font_name(parts: list[bytes]) -> str:
    """A font table entry's name: its text up to the closing ``;``."""
    return b"".join(parts).decode("cp1252", "replace").strip().rstrip(";").strip()


_RTF_BREAKS = frozenset({b"par", b"sect", b"page", b"cell", b"row"})
_RTF_CHARS = {b"line": "\n", b"tab": "\t", **_RTF_PUNCTUATION}
"""Control words that stand for text of their own."""
_RTF_SYMBOLS = {b"~": "\u00a0", b"-": "\xad", b"_": "-"}
"""Control symbols that stand for text: the optional hyphen is kept as U+00AD (in TCVN3
text that byte is "ư")."""
_RTF_ESCAPED = frozenset({b"\\", b"{", b"}"})
_MAX_DEPTH = 200


@dataclass
class _Group:
    """What a ``{…}`` group inherits from its parent and may change for itself."""

    font: int | None = None
    uc: int = 1
    """Characters that stand in for each ``\\u`` (skipped after it)."""
    skip: bool = False
    """A destination whose content is not text (``\\*``, pictures, tables of styles…)."""
    kind: str = "body"
    fonttbl: bool = False


class _FontTable:
    """The font table being read: number → (name, charset)."""

    def __init__(self) -> None:
        self.fonts: dict[int, tuple[str, int]] = {}
        self.num: int | None = None
        self.charset = 0
        self.name: list[bytes] = []

    def begin(self, num: int) -> None:
        self.end()
        self.num, self.charset = num, 0

    def end(self) -> None:
        """Keep the entry read so far (at its group's end or the next ``\\f``); a name read
        before any font number is dropped."""
        if self.num is not None and self.name:
            self.fonts[self.num] = (_rtf_font_name(self.name), self.charset)
        self.name = []

    def word(self, word: bytes, arg: bytes | None) -> None:
        if word == b"f" and arg is not None:
            self.begin(int(arg))
        elif word == b"fcharset" and arg is not None:
            self.charset = int(arg)


class _RtfReader:
    """One pass over the tokens: a stack of groups, the font table, and the text pending
    in the current font until a font change, a group boundary or a paragraph end."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.out = Extracted()
        self.table = _FontTable()
        self.stack: list[_Group] = []
        self.group = _Group()
        self.para_no = {"body": 0}
        self.runs: list[Run] = []
        self.kind = "body"
        self.pending: list[bytes | str] = []
        self.skip_chars = 0
        self.default_font: int | None = None

    def read(self, data: bytes) -> Extracted:
        for m in _RTF_TOKEN.finditer(data):
            if self.budget.truncated:
                break
            self.token(*m.groups())
        self.end_block()
        self.out.truncated = self.budget.truncated
        return self.out

    def token(self, word: bytes | None, arg: bytes | None, hexb: bytes | None,
              sym: bytes | None, brace: bytes | None, text: bytes | None) -> None:
        if brace == b"{":
            self.open_group()
        elif brace == b"}":
            self.close_group()
        elif self.group.skip and not self.group.fonttbl:
            return
        elif word is not None:
            self.control(word, arg)
        elif hexb is not None:
            self.byte(bytes([int(hexb, 16)]))
        elif sym is not None:
            self.symbol(sym)
        elif text is not None:
            self.text(text)

    # -- groups and paragraphs ------------------------------------------------------------

    def open_group(self) -> None:
        self.flush_text()
        if len(self.stack) > _MAX_DEPTH:
            raise Unreadable("RTF groups nested too deep")
        self.stack.append(replace(self.group))

    def close_group(self) -> None:
        self.flush_text()
        if self.group.fonttbl:  # the end of a font table entry
            self.table.end()
        prev_kind = self.group.kind
        self.group = self.stack.pop() if self.stack else _Group()
        if prev_kind != self.group.kind:
            self.end_block()
            self.kind = self.group.kind

    def end_block(self) -> None:
        self.flush_text()
        if self.runs:
            kind = self.kind
            self.para_no[kind] = self.para_no.get(kind, 0) + 1
            self.out.blocks.append(Block("rtf", f"{kind} paragraph {self.para_no[kind]}", kind,
                                         len(self.out.blocks), self.runs))
        self.runs = []

    def flush_text(self) -> None:
        """The pending text becomes a run in the current font, decoded by its code page."""
        if not self.pending:
            return
        num = self.group.font if self.group.font is not None else self.default_font
        name, charset = self.table.fonts.get(num, (None, 0)) if num is not None else (None, 0)
        legacy_font = bool(name and _is_legacy(name))
        cp = "cp1252" if legacy_font else _CHARSET_CP.get(charset, "cp1252")
        text = "".join(_decode(p, cp) for p in self.pending)
        self.pending = []
        if text and self.budget.take(len(text)):
            font = name
            if charset == 163 and not legacy_font:
                font = f"{name or 'font'} (Windows-1258)"
            self.runs.append(Run(text, font))

    # -- tokens ---------------------------------------------------------------------------

    def control(self, word: bytes, arg: bytes | None) -> None:
        group = self.group
        if word == b"fonttbl":
            group.fonttbl = True
            group.skip = True
        elif group.fonttbl:
            self.table.word(word, arg)
        elif word in _RTF_SKIP:
            group.skip = True
        elif word in _RTF_KIND:
            self.end_block()
            group.kind = self.kind = _RTF_KIND[word]
        else:
            self.content_word(word, arg)

    def content_word(self, word: bytes, arg: bytes | None) -> None:
        if word in _RTF_BREAKS:
            self.end_block()
        elif word in _RTF_CHARS:
            self.pending.append(_RTF_CHARS[word])
        elif arg is None:
            return
        elif word == b"deff":
            self.default_font = int(arg)
        elif word == b"f":
            self.flush_text()
            self.group.font = int(arg)
        elif word == b"uc":
            self.group.uc = max(0, int(arg))
        elif word == b"u":
            n = int(arg)
            self.pending.append(chr(n + 65536 if n < 0 else n) if -32768 <= n < 65536 else "?")
            self.skip_chars = self.group.uc

    def byte(self, b: bytes) -> None:
        if self.group.fonttbl:
            self.table.name.append(b)
        elif self.skip_chars:
            self.skip_chars -= 1
        else:
            self.pending.append(b)

    def symbol(self, sym: bytes) -> None:
        if sym == b"*":
            self.group.skip = True
        elif sym in _RTF_ESCAPED:
            self.byte(sym)
        elif sym in _RTF_SYMBOLS:
            self.pending.append(_RTF_SYMBOLS[sym])

    def text(self, text: bytes) -> None:
        if self.group.fonttbl:
            self.table.name.append(text)
            return
        if self.skip_chars:
            n = min(self.skip_chars, len(text))
            self.skip_chars -= n
            text = text[n:]
        if text:
            self.pending.append(text)


def rtf(data: bytes, budget: Budget) -> Extracted:
    if not data.startswith(b"{\\rtf"):
        raise Unreadable("not an RTF document")
    return _RtfReader(budget).read(data)


def _decode(piece: bytes | str, cp: str) -> str:
    if isinstance(piece, str):
        return piece
    try:
        return piece.decode(cp)
    except (UnicodeDecodeError, LookupError):
        return piece.decode("latin-1")


def _is_legacy(name: str) -> bool:
    from gateway.inspect.text.detect import font_encoding

    return font_encoding(name) is not None
