"""Text and fonts of RTF documents (also Outlook's RTF bodies), with each run's font and
the code page its font table gives."""

from __future__ import annotations

import re
from typing import Any

from gateway.inspect.text.extract.base import Block, Extracted, Run, Unreadable, _Budget

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


def rtf(data: bytes, budget: _Budget) -> Extracted:
    if not data.startswith(b"{\\rtf"):
        raise Unreadable("not an RTF document")
    out = Extracted()
    fonts: dict[int, tuple[str, int]] = {}  # number → (name, charset)
    # group state: [font, uc, skip, kind, in_fonttbl]
    stack: list[list[Any]] = []
    state: list[Any] = [None, 1, False, "body", False]
    para_no = {"body": 0}
    cur_runs: list[Run] = []
    cur_kind = "body"
    pending: list[bytes | str] = []
    ft_num: int | None = None
    ft_charset = 0
    ft_name: list[bytes] = []
    skip_chars = 0
    depth_limit = 200
    default_font: int | None = None

    def flush_text() -> None:
        nonlocal pending
        if not pending:
            return
        num = state[0] if state[0] is not None else default_font
        name, charset = fonts.get(num, (None, 0)) if num is not None else (None, 0)
        text_parts = []
        for p in pending:
            if isinstance(p, bytes):
                cp = "cp1252" if name and _is_legacy(name) else _CHARSET_CP.get(charset, "cp1252")
                try:
                    text_parts.append(p.decode(cp))
                except (UnicodeDecodeError, LookupError):
                    text_parts.append(p.decode("latin-1"))
            else:
                text_parts.append(p)
        text = "".join(text_parts)
        pending = []
        if text and budget.take(len(text)):
            font = name
            if charset == 163 and not (name and _is_legacy(name)):
                font = f"{name or 'font'} (Windows-1258)"
            cur_runs.append(Run(text, font))

    def end_block() -> None:
        nonlocal cur_runs
        flush_text()
        if cur_runs:
            para_no[cur_kind] = para_no.get(cur_kind, 0) + 1
            blk = Block("rtf", f"{cur_kind} paragraph {para_no[cur_kind]}", cur_kind,
                        len(out.blocks), cur_runs)
            out.blocks.append(blk)
        cur_runs = []

    for m in _RTF_TOKEN.finditer(data):
        if budget.truncated:
            break
        word, arg, hexb, sym, brace, text = m.groups()
        if brace == b"{":
            flush_text()
            if len(stack) > depth_limit:
                raise Unreadable("RTF groups nested too deep")
            stack.append(list(state))
            continue
        if brace == b"}":
            flush_text()
            if state[4] and ft_num is not None and ft_name:  # the end of a font table entry
                fonts[ft_num] = (_rtf_font_name(ft_name), ft_charset)
                ft_name = []
            prev_kind = state[3]
            state = stack.pop() if stack else [None, 1, False, "body", False]
            if prev_kind != state[3]:
                end_block()
                cur_kind = state[3]
            continue
        if state[2] and not state[4]:
            continue
        if word is not None:
            if word == b"fonttbl":
                state[4] = True
                state[2] = True
                continue
            if state[4]:
                if word == b"f" and arg is not None:
                    if ft_num is not None and ft_name:
                        fonts[ft_num] = (_rtf_font_name(ft_name), ft_charset)
                    ft_num, ft_charset, ft_name = int(arg), 0, []
                elif word == b"fcharset" and arg is not None:
                    ft_charset = int(arg)
                elif word in _RTF_SKIP or word in (b"panose", b"falt"):
                    pass
                continue
            if word in _RTF_SKIP:
                state[2] = True
                continue
            if word in _RTF_KIND:
                end_block()
                state[3] = _RTF_KIND[word]
                cur_kind = state[3]
                continue
            if word == b"deff" and arg is not None:
                default_font = int(arg)
            elif word == b"f" and arg is not None:
                flush_text()
                state[0] = int(arg)
            elif word == b"uc" and arg is not None:
                state[1] = max(0, int(arg))
            elif word == b"u" and arg is not None:
                n = int(arg)
                pending.append(chr(n + 65536 if n < 0 else n) if -32768 <= n < 65536 else "?")
                skip_chars = state[1]
            elif word in (b"par", b"sect", b"page", b"cell", b"row"):
                end_block()
            elif word == b"line":
                pending.append("\n")
            elif word == b"tab":
                pending.append("\t")
            elif word in _RTF_PUNCTUATION:
                pending.append(_RTF_PUNCTUATION[word])
            continue
        if hexb is not None:
            if state[4]:
                ft_name.append(bytes([int(hexb, 16)]))
                continue
            if skip_chars:
                skip_chars -= 1
                continue
            pending.append(bytes([int(hexb, 16)]))
            continue
        if sym is not None:
            if sym == b"*":
                state[2] = True
            elif sym in (b"\\", b"{", b"}"):
                if state[4]:
                    ft_name.append(sym)
                elif skip_chars:
                    skip_chars -= 1
                else:
                    pending.append(sym)
            elif sym == b"~":
                pending.append("\u00a0")
            elif sym == b"-":
                pending.append("\xad")  # optional hyphen: in TCVN3 text this byte is "ư"
            elif sym == b"_":
                pending.append("-")
            continue
        if text is not None:
            if state[4]:
                ft_name.append(text)
                continue
            if skip_chars:
                n = min(skip_chars, len(text))
                skip_chars -= n
                text = text[n:]
            if text:
                pending.append(text)
    end_block()
    out.truncated = budget.truncated
    return out


def _is_legacy(name: str) -> bool:
    from gateway.inspect.text.detect import font_encoding

    return font_encoding(name) is not None
