"""Byte tables of the legacy Vietnamese encodings, written out as data.

Each 8-bit table lists only the bytes whose meaning differs from the base code page named
beside it; every other byte keeps the base meaning. The tables are checked in the tests
against glibc ``iconv`` (VISCII, CP1258, and TCVN 5712 for the letter bytes), Python's
``cp1258`` codec and GNU ``recode`` (VPS, VNI), whichever is installed.

Sources of truth: TCVN 5712:1993 (VN3 subset, the one ``.VnTime`` fonts implement),
RFC 1456 (VISCII, VIQR), the Microsoft code page 1258, the published VPS chart, and the
VNI-Windows font layout.
"""

from __future__ import annotations

import unicodedata


def _table(text: str) -> dict[int, str]:
    """Parse ``HH:c`` (or ``HH:U+XXXX``) items separated by white space."""
    out: dict[int, str] = {}
    for item in text.split():
        byte, _, char = item.partition(":")
        if char.startswith("U+") and len(char) > 2:
            char = chr(int(char[2:], 16))
        if len(char) != 1:
            raise ValueError(f"bad table item {item!r}")
        out[int(byte, 16)] = char
    return out


# --- TCVN 5712:1993 VN3 ("TCVN3", "ABC"; fonts .VnTime, .VnArial, ...) -----------------------
# Base: Windows-1252. VN3 has the 67 lower-case toned letters and the 7 upper-case untoned
# letters Ă Â Ê Ô Ơ Ư Đ; upper-case toned letters are drawn by the "…H" fonts from the
# lower-case bytes. 0xAD (the soft hyphen in Windows-1252) is "ư".
# glibc's TCVN5712-1 is the larger VN1 set, which also puts upper-case letters at
# 0x01–0x17, 0x80–0x9F and a few bytes above 0xA0; real .VnTime documents use those bytes as
# Windows-1252 punctuation (smart quotes, dashes), so they are NOT taken from VN1 here.
TCVN3 = _table("""
    A1:Ă  A2:Â  A3:Ê  A4:Ô  A5:Ơ  A6:Ư  A7:Đ  A8:ă  A9:â  AA:ê  AB:ô  AC:ơ  AD:ư  AE:đ
    B5:à  B6:ả  B7:ã  B8:á  B9:ạ  BB:ằ  BC:ẳ  BD:ẵ  BE:ắ
    C6:ặ  C7:ầ  C8:ẩ  C9:ẫ  CA:ấ  CB:ậ  CC:è  CE:ẻ  CF:ẽ
    D0:é  D1:ẹ  D2:ề  D3:ể  D4:ễ  D5:ế  D6:ệ  D7:ì  D8:ỉ  DC:ĩ  DD:í  DE:ị  DF:ò
    E1:ỏ  E2:õ  E3:ó  E4:ọ  E5:ồ  E6:ổ  E7:ỗ  E8:ố  E9:ộ  EA:ờ  EB:ở  EC:ỡ  ED:ớ  EE:ợ  EF:ù
    F1:ủ  F2:ũ  F3:ú  F4:ụ  F5:ừ  F6:ử  F7:ữ  F8:ứ  F9:ự  FA:ỳ  FB:ỷ  FC:ỹ  FD:ý  FE:ỵ
""")

# --- VISCII (RFC 1456) -------------------------------------------------------------------------
# Base: ISO 8859-1. All 134 letters; six C0 bytes and all of 0x80–0x9F are letters.
VISCII = _table("""
    02:Ẳ  05:Ẵ  06:Ẫ  14:Ỷ  19:Ỹ  1E:Ỵ  80:Ạ  81:Ắ
    82:Ằ  83:Ặ  84:Ấ  85:Ầ  86:Ẩ  87:Ậ  88:Ẽ  89:Ẹ
    8A:Ế  8B:Ề  8C:Ể  8D:Ễ  8E:Ệ  8F:Ố  90:Ồ  91:Ổ
    92:Ỗ  93:Ộ  94:Ợ  95:Ớ  96:Ờ  97:Ở  98:Ị  99:Ỏ
    9A:Ọ  9B:Ỉ  9C:Ủ  9D:Ũ  9E:Ụ  9F:Ỳ  A0:Õ  A1:ắ
    A2:ằ  A3:ặ  A4:ấ  A5:ầ  A6:ẩ  A7:ậ  A8:ẽ  A9:ẹ
    AA:ế  AB:ề  AC:ể  AD:ễ  AE:ệ  AF:ố  B0:ồ  B1:ổ
    B2:ỗ  B3:Ỡ  B4:Ơ  B5:ộ  B6:ờ  B7:ở  B8:ị  B9:Ự
    BA:Ứ  BB:Ừ  BC:Ử  BD:ơ  BE:ớ  BF:Ư  C4:Ả  C5:Ă
    C6:ẳ  C7:ẵ  CB:Ẻ  CE:Ĩ  CF:ỳ  D0:Đ  D1:ứ  D5:ạ
    D6:ỷ  D7:ừ  D8:ử  DB:ỹ  DC:ỵ  DE:ỡ  DF:ư  E4:ả
    E5:ă  E6:ữ  E7:ẫ  EB:ẻ  EE:ĩ  EF:ỉ  F0:đ  F1:ự
    F6:ỏ  F7:ọ  F8:ụ  FB:ũ  FC:ủ  FE:ợ  FF:Ữ
""")

# --- VPS -----------------------------------------------------------------------------------------
# Base: ISO 8859-1. Like VISCII it uses C0 bytes and all of 0x80–0x9F, with other positions.
VPS = _table("""
    02:Ạ  03:Ậ  04:Ặ  05:Ẹ  06:Ệ  10:Ị  11:Ọ  12:Ộ
    13:Ợ  14:Ụ  15:Ự  19:Ỵ  1C:Ẫ  1D:Ữ  80:À  81:Ả
    82:Ã  83:Ấ  84:Ầ  85:Ẩ  86:ọ  87:ỗ  88:Ă  89:ế
    8A:ề  8B:ể  8C:ệ  8D:Ắ  8E:Ằ  8F:Ẳ  90:Ế  91:U+2018
    92:U+2019  93:Ề  94:Ể  95:Ễ  96:Ố  97:Ồ  98:Ổ  99:Ỗ
    9A:ý  9B:ỷ  9C:ỵ  9D:Ớ  9E:Ờ  9F:Ở  A1:ắ  A2:ằ
    A3:ẳ  A4:ẵ  A5:ặ  A6:Ỡ  A7:ớ  A8:Ù  A9:ờ  AA:ở
    AB:ỡ  AC:Ũ  AD:Ứ  AE:ợ  AF:Ừ  B0:ổ  B1:Ử  B2:Ỳ
    B3:Ỹ  B4:Í  B5:Ì  B6:ộ  B7:Ỉ  B8:Ĩ  B9:Ó  BA:ử
    BB:ữ  BC:Ò  BD:Ỏ  BE:Õ  BF:ự  C0:ầ  C3:ấ  C4:ẩ
    C5:ẫ  C6:ậ  C7:đ  C8:ẻ  CB:ẹ  CC:ỉ  CD:ễ  CE:ị
    CF:ỹ  D0:Ư  D1:Ủ  D2:ồ  D3:ố  D5:ỏ  D6:ơ  D7:È
    D8:ừ  D9:ứ  DB:ũ  DC:ư  DE:Ẻ  E4:ả  E5:ạ  E6:ă
    EB:ẽ  EF:ĩ  F0:Ẵ  F1:Đ  F7:Ơ  F8:ụ  FB:ủ  FD:Ỷ
    FE:Ẽ  FF:ỳ
""")

# --- Windows-1258 ------------------------------------------------------------------------------
# Base: ISO 8859-1 for 0xA0–0xFF; 0x80–0x9F as listed (undefined bytes keep their C1 value).
# Five bytes are combining tone marks written after the letter; decoding ends with NFC.
CP1258 = _table("""
    80:€  82:‚  83:ƒ  84:„  85:…  86:†  87:‡  88:ˆ
    89:‰  8B:‹  8C:Œ  91:U+2018  92:U+2019  93:“  94:”  95:•
    96:–  97:—  98:˜  99:™  9B:›  9C:œ  9F:Ÿ  C3:Ă
    CC:U+0300  D0:Đ  D2:U+0309  D5:Ơ  DD:Ư  DE:U+0303  E3:ă  EC:U+0301
    F0:đ  F2:U+0323  F5:ơ  FD:ư  FE:₫
""")

TONE_MARKS = {
    "\u0301": "acute", "\u0300": "grave", "\u0309": "hook", "\u0303": "tilde", "\u0323": "dot",
}

# --- VNI-Windows (fonts VNI-Times, VNI-Helve, ...) ---------------------------------------------
# A letter is an ASCII base followed by one "mark" character (as Windows-1252 shows it);
# a few letters are single characters. Upper-case letters use upper-case marks.
# Keyed by the tone _split_letter gives, None for none (every letter not in _VNI_SINGLE that
# has no modifier or a horn has a tone).
_VNI_TONE: dict[str | None, str] = {
    "acute": "ù", "grave": "ø", "hook": "û", "tilde": "õ", "dot": "ï"}
_VNI_HAT_TONE = {None: "â", "acute": "á", "grave": "à", "hook": "å", "tilde": "ã", "dot": "ä"}
_VNI_BREVE_TONE = {None: "ê", "acute": "é", "grave": "è", "hook": "ú", "tilde": "ü", "dot": "ë"}
_VNI_SINGLE = {  # letters drawn by one character of the font
    "ơ": "ô", "ư": "ö", "đ": "ñ", "í": "í", "ì": "ì", "ỉ": "æ", "ĩ": "ó", "ị": "ò", "ỵ": "î",
}


def _split_letter(ch: str) -> tuple[str, str | None, str | None]:
    """'ệ' → ('e', 'hat', 'dot'); 'ơ' → ('o', 'horn', None); 'đ' → ('đ', None, None)."""
    d = unicodedata.normalize("NFD", ch)
    base, modifier, tone = d[0], None, None
    for c in d[1:]:
        if c in TONE_MARKS:
            tone = TONE_MARKS[c]
        elif c == "\u0302":
            modifier = "hat"
        elif c == "\u0306":
            modifier = "breve"
        elif c == "\u031b":
            modifier = "horn"
    return base, modifier, tone


def _vietnamese_letters() -> list[str]:
    """The 134 precomposed Vietnamese letters (67 lower, 67 upper case), NFC."""
    bases = {"a": (None, "hat", "breve"), "e": (None, "hat"), "i": (None,),
             "o": (None, "hat", "horn"), "u": (None, "horn"), "y": (None,)}
    combining = {"hat": "\u0302", "breve": "\u0306", "horn": "\u031b"}
    out: list[str] = []
    for base, mods in bases.items():
        for mod in mods:
            for tone in (None, *TONE_MARKS):
                s = base + (combining[mod] if mod else "") + (tone or "")
                c = unicodedata.normalize("NFC", s)
                if len(c) == 1 and c != base:
                    out.append(c)
    out.append("đ")
    return out + [c.upper() for c in out]


VIETNAMESE_LETTERS: tuple[str, ...] = tuple(_vietnamese_letters())
"""Every precomposed letter Vietnamese adds to ASCII (134)."""


def _vni_table() -> dict[str, str]:
    out: dict[str, str] = {}
    for ch in VIETNAMESE_LETTERS:
        low = ch.lower()
        if low in _VNI_SINGLE:
            s = _VNI_SINGLE[low]
        else:
            base, mod, tone = _split_letter(low)
            if mod == "horn":  # ơ, ư + tone: the single horn letter, then the tone mark
                s = _VNI_SINGLE[unicodedata.normalize("NFC", base + "\u031b")] + _VNI_TONE[tone]
            elif mod == "hat":
                s = base + _VNI_HAT_TONE[tone]
            elif mod == "breve":
                s = base + _VNI_BREVE_TONE[tone]
            else:
                s = base + _VNI_TONE[tone]
        out[ch] = s.upper() if ch.isupper() else s
    return out


VNI: dict[str, str] = _vni_table()
"""Unicode letter → VNI-Windows surface (as Windows-1252 shows the font's bytes)."""

VNI_DECODE_EXTRA: dict[str, str] = {
    # Alternative spellings some converters wrote for i/y with a tone mark.
    "iù": "í", "iø": "ì", "iû": "ỉ", "iõ": "ĩ", "iï": "ị", "yï": "ỵ",
    "IÙ": "Í", "IØ": "Ì", "IÛ": "Ỉ", "IÕ": "Ĩ", "IÏ": "Ị", "YÏ": "Ỵ",
}

# --- VIQR (RFC 1456) ----------------------------------------------------------------------------
VIQR_TONE = {"acute": "'", "grave": "`", "hook": "?", "tilde": "~", "dot": "."}
VIQR_MODIFIER = {"hat": "^", "breve": "(", "horn": "+"}
VIQR_MARKS = frozenset("'`?~.^(+")
