"""Converters between Unicode (NFC) and the legacy Vietnamese encodings.

Two views of legacy text exist and both are handled:

* **bytes** — a mail body or a text file in the legacy encoding;
* **surface** — what a Unicode program stores when a legacy *font* is used: every byte shown
  as its Windows-1252 character (or its Latin-1 C1 control where Windows-1252 leaves it
  undefined). DOCX/XLSX/RTF/PDF text in a ``.VnTime`` or ``VNI-Times`` run is a surface.

Encoders are exact inverses on the letters each encoding has; round trips are tested
against the regulation text and against ``iconv``/``recode``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from gateway.inspect.text import tables as T

ENCODINGS = ("tcvn3", "vni", "viscii", "vps", "cp1258", "viqr")

LABELS = {
    "tcvn3": "TCVN3 (ABC)",
    "vni": "VNI",
    "viscii": "VISCII",
    "vps": "VPS",
    "cp1258": "Windows-1258",
    "viqr": "VIQR",
    "utf8-as-cp1252": "UTF-8 read as Windows-1252",
}

_TABLES = {"tcvn3": T.TCVN3, "viscii": T.VISCII, "vps": T.VPS, "cp1258": T.CP1258}
_BASE_CP1252 = {"tcvn3"}
"""Tables whose unlisted bytes are Windows-1252; the others are ISO 8859-1 based."""

EIGHT_BIT = frozenset(_TABLES)


def _cp1252_char(b: int) -> str:
    try:
        return bytes([b]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(b)


def surface_char(b: int) -> str:
    """How a Unicode program shows byte ``b`` of a legacy-font run (Windows-1252 view)."""
    return _cp1252_char(b)


@cache
def byte_table(enc: str) -> tuple[str, ...]:
    """The 256 Unicode values of ``enc``'s bytes (before NFC for Windows-1258)."""
    table = _TABLES[enc]
    base = _cp1252_char if enc in _BASE_CP1252 else chr
    return tuple(table.get(b, base(b)) for b in range(256))


@cache
def surface_translation(enc: str) -> dict[int, str]:
    """surface character → Unicode, for ``str.translate``."""
    full = byte_table(enc)
    out: dict[int, str] = {}
    for b in range(0x80, 0x100):
        for s in {_cp1252_char(b), chr(b)}:
            if full[b] != s:
                out[ord(s)] = full[b]
    for b in range(0x20):
        if full[b] != chr(b):
            out[b] = full[b]
    return out


@cache
def _latin1_translation(enc: str) -> dict[int, str]:
    full = byte_table(enc)
    return {b: full[b] for b in range(256) if full[b] != chr(b)}


def to_bytes(surface: str) -> bytes:
    """Surface text back to the bytes the font received (characters outside the view are
    encoded as ``?``; callers decide first whether the text is a surface at all)."""
    out = bytearray()
    for ch in surface:
        try:
            out += ch.encode("cp1252")
        except UnicodeEncodeError:
            out.append(ord(ch) if ord(ch) < 256 else 0x3F)
    return bytes(out)


# ------------------------------------------------------------------------------------------------
# Decoding


_TCVN3_LOWER_ONLY = frozenset(
    c for c in T.TCVN3.values() if c.islower() and c.upper() not in T.TCVN3.values()
)
_WORD = re.compile(r"[^\W\d_]+")


def restore_case(text: str) -> str:
    """TCVN3 has no upper-case toned letters: in a ``.VnTime`` (not ``…H``) run, ``CỘNG`` is
    typed with the lower-case byte and comes out as ``CộNG``. Upper-case such a letter when
    its line, or its word, is otherwise written in capitals (at least three capitals in the
    line, or two in the word); single capitals such as ``Độ`` are left alone."""
    if not _LOWER_ONLY_RE.search(text):
        return text
    out_lines = []
    for line in text.split("\n"):
        if not _LOWER_ONLY_RE.search(line):
            out_lines.append(line)
            continue
        rest = _LOWER_ONLY_RE.sub("", line)
        if rest == rest.upper() and len(_UPPER_RE.findall(rest)) >= 3:
            out_lines.append(line.upper())
            continue
        out_lines.append(_TONED_WORD_RE.sub(_restore_word, line))
    return "\n".join(out_lines)


def _restore_word(m: re.Match[str]) -> str:
    w = m.group(0)
    rest = _LOWER_ONLY_RE.sub("", w)
    if rest != rest.upper():
        return w
    if len(_UPPER_RE.findall(rest)) >= 2:  # rest has no lower case: its letters are capitals
        return w.upper()
    return w


_LOWER_ONLY_CLASS = "".join(sorted(_TCVN3_LOWER_ONLY))
_LOWER_ONLY_RE = re.compile(f"[{_LOWER_ONLY_CLASS}]")
_UPPER_RE = re.compile(r"[^\W\d_]")
"""Letters; used on text already known to have no lower-case letter."""
_TONED_WORD_RE = re.compile(f"[^\\W\\d_]*[{_LOWER_ONLY_CLASS}][^\\W\\d_]*")


def _vni_decoder() -> tuple[re.Pattern[str], dict[str, str]]:
    rev: dict[str, str] = {}
    for uni, surf in T.VNI.items():
        if surf != uni:
            rev[surf] = uni
    rev.update(T.VNI_DECODE_EXTRA)
    keys = sorted(rev, key=len, reverse=True)
    return re.compile("|".join(re.escape(k) for k in keys)), rev


_VNI_RE, VNI_REVERSE = _vni_decoder()

_VIQR_RE = re.compile(
    r"\\([\\'`?~.^(+dD])"
    r"|([aAeEoOuUiIyY])(?=[\^(+'`?~.])([\^(+]?)(['`?~.]?)"
    r"|(d[dD]|D[dD])"
)
_VIQR_MOD_OK = {"^": "aAeEoO", "(": "aA", "+": "oOuU"}
_COMBINING_MOD = {"^": "\u0302", "(": "\u0306", "+": "\u031b"}
_COMBINING_TONE = {"'": "\u0301", "`": "\u0300", "?": "\u0309", "~": "\u0303", ".": "\u0323"}


def _viqr_sub(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return m.group(1)
    if m.group(5) is not None:
        return "Đ" if m.group(5)[0] == "D" else "đ"
    base, mod, tone = m.group(2), m.group(3), m.group(4)
    literal = ""
    if mod and base not in _VIQR_MOD_OK[mod]:
        # "i^" is no letter: the modifier is literal and so is anything after it.
        return base + mod + tone
    tail = _VIQR_WORD_TAIL.search(m.string[max(0, m.start() - 24):m.start()]) if tone else None
    if tail is not None and _VIQR_TONED.search(tail.group(0)):
        # A syllable has one tone: after "na`y" a "." ends the sentence.
        literal, tone = tone, ""
    s = base + (_COMBINING_MOD[mod] if mod else "") + (_COMBINING_TONE[tone] if tone else "")
    return unicodedata.normalize("NFC", s) + literal


_VIQR_WORD_TAIL = re.compile(r"(?:\\.|[A-Za-z^(+'`?~.])*$")
_VIQR_TONED = re.compile(r"(?<!\\)[aeiouyAEIOUY][\^(+]?['`?~.]")


def decode_text(surface: str, enc: str, *, upper: bool = False, fix_case: bool = True) -> str:
    """Decode a legacy surface (see module doc) to NFC Unicode.

    ``upper``: the run's font is an all-capitals font (``.VnTimeH``): upper-case the result.
    Characters that are not part of the surface view (real Unicode letters) pass unchanged.
    """
    if enc in EIGHT_BIT:
        out = surface.translate(surface_translation(enc))
    elif enc == "vni":
        out = _VNI_RE.sub(lambda m: VNI_REVERSE[m.group(0)], surface)
    elif enc == "viqr":
        out = _VIQR_RE.sub(_viqr_sub, surface)
    elif enc == "utf8-as-cp1252":
        out = to_bytes(surface).decode("utf-8", "replace")
    else:
        raise ValueError(f"unknown encoding {enc!r}")
    out = unicodedata.normalize("NFC", out)
    if upper:
        return out.upper()
    if enc == "tcvn3" and fix_case:
        return restore_case(out)
    return out


def decode_bytes(data: bytes, enc: str, *, upper: bool = False) -> str:
    """Decode bytes in a legacy encoding to NFC Unicode."""
    if enc in EIGHT_BIT:
        out = unicodedata.normalize(
            "NFC", data.decode("latin-1").translate(_latin1_translation(enc)))
        if upper:
            return out.upper()
        return restore_case(out) if enc == "tcvn3" else out
    if enc == "vni":
        return decode_text(cp1252_view(data), "vni", upper=upper)
    if enc == "viqr":
        return decode_text(data.decode("latin-1"), "viqr", upper=upper)
    raise ValueError(f"unknown encoding {enc!r}")


def cp1252_view(data: bytes) -> str:
    """The bytes as a VNI document shows them: code page 1252, the five bytes it leaves
    undefined kept as their C1 characters."""
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return "".join(_cp1252_char(b) for b in data)


def repair_pdf_tcvn3(text: str) -> str:
    """PDF text layers of ``.VnTime`` documents give U+2212 for byte 0xAD (ư) and U+2219 for
    0xB7 (ã); put the bytes back when the character touches a letter."""
    text = re.sub(r"(?<=[^\W\d_])\u2212|\u2212(?=[^\W\d_])", "\xad", text)
    return re.sub(r"(?<=[^\W\d_])\u2219|\u2219(?=[^\W\d_])", "\xb7", text)


_SPLIT_PAIR = re.compile(r"([^\W\d_]+) (?=([^\W\d_]+))")


def join_lost_u(decoded: str) -> str:
    """Readers that map byte 0xAD (TCVN3 "ư") through WinAnsi's soft hyphen get a space:
    ``ng ời`` for ``người``. Join two fragments with "ư" when the left one is no syllable
    and the joined word is one."""
    from gateway.inspect.text.vietnamese import is_syllable

    def sub(m: re.Match[str]) -> str:
        left, right = m.group(1), m.group(2)
        if not is_syllable(left) and is_syllable(left + ("Ư" if left.isupper() else "ư") + right):
            return left + ("Ư" if left.isupper() else "ư")
        return m.group(0)

    return _SPLIT_PAIR.sub(sub, decoded)


# ------------------------------------------------------------------------------------------------
# Encoding (used by the tests, the benchmark and anyone who must produce legacy text)


@cache
def _reverse(enc: str) -> dict[str, int]:
    full = byte_table(enc)
    rev: dict[str, int] = {}
    for b in range(256):
        rev.setdefault(full[b], b)
    # Prefer the listed letters over base-code-page duplicates.
    for b, c in _TABLES[enc].items():
        rev[c] = b
    return rev


def _tone_split(ch: str) -> tuple[str, str | None]:
    d = unicodedata.normalize("NFD", ch)
    tones = [c for c in d if c in T.TONE_MARKS]
    if not tones:
        return ch, None
    base = unicodedata.normalize("NFC", "".join(c for c in d if c not in T.TONE_MARKS))
    return base, tones[0]


def encode_bytes(text: str, enc: str, *, upper_font: bool = False, errors: str = "strict") -> bytes:
    """Unicode → bytes of ``enc``. ``upper_font``: write for a ``…H`` font (lower-case bytes).
    ``errors``: ``strict`` raises :class:`UnicodeEncodeError`; ``replace`` writes ``?``."""
    text = unicodedata.normalize("NFC", text)
    if upper_font:
        text = text.lower()
    if enc == "vni":
        return to_bytes(encode_text(text, "vni", errors=errors))
    if enc == "viqr":
        return encode_text(text, "viqr", errors=errors).encode("latin-1", "replace")
    rev = _reverse(enc)
    out = bytearray()
    for i, ch in enumerate(text):
        b = rev.get(ch)
        if b is not None and not (enc == "tcvn3" and ch in _TCVN3_NOT_LETTERS):
            out.append(b)
            continue
        if enc == "tcvn3" and ch.lower() in rev and ch.isupper():
            out.append(rev[ch.lower()])  # VN3 has no upper-case toned letters
            continue
        if enc == "cp1258":
            base, tone = _tone_split(ch)
            if tone is not None and base in rev:
                out.append(rev[base])
                out.append(rev[tone])
                continue
        if errors == "replace":
            out.append(0x3F)
            continue
        raise UnicodeEncodeError(enc, text, i, i + 1, "character not in the encoding")
    return bytes(out)


def encode_text(text: str, enc: str, *, upper_font: bool = False, errors: str = "strict") -> str:
    """Unicode → the surface a legacy-font run stores (VIQR: the ASCII text)."""
    text = unicodedata.normalize("NFC", text)
    if upper_font:
        text = text.lower()
    if enc == "vni":
        return "".join(T.VNI.get(c, c) for c in text)
    if enc == "viqr":
        return _viqr_encode(text)
    data = encode_bytes(text, enc, errors=errors)
    return "".join(_cp1252_char(b) for b in data)


_VOWELS = frozenset("aeiouyAEIOUY")
_TCVN3_NOT_LETTERS = frozenset(set(T.VIETNAMESE_LETTERS) - set(T.TCVN3.values()))
"""Vietnamese letters that VN3 lacks (upper-case toned): Windows-1252 has some of them
(``Ã`` at 0xC3) but a ``.VnTime`` font does not draw them; write the lower-case byte."""


def _viqr_encode(text: str) -> str:
    """RFC 1456 VIQR. A literal mark that a decoder would take for a diacritic (a ``.``
    after an untoned vowel, ``^`` after ``a``…) is escaped with a backslash; after a toned
    syllable it is not (a syllable has one tone)."""
    out: list[str] = []
    prev = ""
    toned = False
    letters = set(T.VIETNAMESE_LETTERS)
    for ch in text:
        if ch in "đĐ":
            piece = "dd" if ch == "đ" else "DD"
        elif ch in letters:
            d = unicodedata.normalize("NFD", ch)
            mod = tone = ""
            for c in d[1:]:
                if c in T.TONE_MARKS:
                    tone = T.VIQR_TONE[T.TONE_MARKS[c]]
                elif c == "\u0302":
                    mod = "^"
                elif c == "\u0306":
                    mod = "("
                elif c == "\u031b":
                    mod = "+"
            piece = d[0] + mod + tone
            toned = toned or bool(tone)
        elif ch == "\\":
            piece = "\\\\"
        elif ch in "^(+" and prev in _VOWELS:
            piece = "\\" + ch
        elif ch in "'`?~." and (prev in _VOWELS or prev in "^(+") and not toned:
            piece = "\\" + ch
        elif ch in "dD" and prev in "dD" and out and not out[-1].endswith(("dd", "DD")):
            piece = "\\" + ch
        else:
            piece = ch
        if not (ch.isalpha() or ch in letters):
            toned = False
        out.append(piece)
        prev = piece[-1] if piece else ""
    return "".join(out)

