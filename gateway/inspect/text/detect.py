"""Recognise legacy Vietnamese text: by font name, by declared charset, and by content.

Content detection is a trial decoding with each encoding, scored by the syllable checker:
an encoding is accepted only when its decoding yields clearly more well-formed Vietnamese
words with diacritics than the text as it stands, and few malformed ones. Correct Unicode
Vietnamese gets worse under every trial decoding; English has nothing to decode; French,
German or Spanish decode into non-syllables.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from gateway.inspect.text import legacy, scorer
from gateway.inspect.text.vietnamese import WORD_RE, has_vietnamese_letters, is_syllable

# --------------------------------------------------------------------------------------------
# Fonts

_SUBSET = re.compile(r"^[A-Z]{6}\+")
_STYLE = re.compile(r"[,-](bold|italic|oblique|regular|bolditalic|boldoblique|roman|medium)\b.*$",
                    re.IGNORECASE)


@dataclass(frozen=True)
class FontEncoding:
    encoding: str
    upper: bool
    """An all-capitals font (``.VnTimeH``): the decoded text is shown upper-case."""


@lru_cache(maxsize=4096)
def font_encoding(name: str | None) -> FontEncoding | None:
    """The legacy encoding a font name implies, or None for a Unicode (or unknown) font.

    ``.Vn…`` (also ``Vn…`` without the dot, as PDF font names have it) and the TCVN3 UI font
    ``VK Sans Serif`` → TCVN3, ``…H`` → all capitals; ``VNI-…`` → VNI; ``VPS …`` → VPS;
    ``…VISCII…`` → VISCII. A PDF subset tag ``ABCDEF+`` and style suffixes are ignored.
    """
    if not name:
        return None
    n = _SUBSET.sub("", name.strip().strip("'\""))
    n = _STYLE.sub("", n).strip()
    if not n:
        return None
    low = n.lower()
    if low.startswith(("vni-", "vni ", "vni_")) or low == "vni":
        return FontEncoding("vni", False)
    if low.startswith("vps ") or low.startswith("vps-") or low.startswith("vps_"):
        return FontEncoding("vps", n.endswith("H"))
    if "viscii" in low:
        return FontEncoding("viscii", False)
    if low.startswith("vk sans serif"):
        return FontEncoding("tcvn3", False)
    if n.startswith(".") and low.startswith(".vn") and len(n) > 3:
        return FontEncoding("tcvn3", n.endswith("H"))
    if low.startswith("vn") and len(n) > 3 and n[2].isupper() and not low.startswith("vni"):
        return FontEncoding("tcvn3", n.endswith("H"))
    return None


# --------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True)
class Score:
    words: int
    """All words."""
    good: int
    """Words with a non-ASCII letter that are well-formed Vietnamese syllables."""
    bad: int
    """Words with a non-ASCII letter that are not."""
    plain_good: int
    """ASCII words that are well-formed syllables (Vietnamese without tone, or chance)."""


def _status_changers(enc: str) -> re.Pattern[str]:
    """The characters that decoding ``enc`` turns from a letter into a non-letter or back,
    the only ones that can join, split or create words (VNI: none, its sequences are letters
    becoming a letter)."""
    letter = re.compile(r"[^\W\d_]")
    if enc == "vni":
        table = {k: v for k, v in legacy.VNI_REVERSE.items()}
    else:
        table = {chr(k): v for k, v in legacy.surface_translation(enc).items()}
    chars = sorted({c for k, v in table.items() for c in k
                    if any((letter.match(x) is None) != (letter.match(c) is None) for x in v + k)})
    return re.compile("[" + "".join(re.escape(c) for c in chars) + "]" if chars else "(?!)")


_CHANGERS = {enc: _status_changers(enc) for enc in ("tcvn3", "vni", "cp1258")}
_COMBINING = re.compile("[\u0300-\u036f]")
_FLIPS_TCVN3 = _CHANGERS["tcvn3"]
_FLIPS_CP1258 = _CHANGERS["cp1258"]
assert not any(c.isspace() for c in _FLIPS_TCVN3.pattern + _FLIPS_CP1258.pattern if ord(c) > 127)

_TOKEN_SCORES: dict[str, tuple[int, int, int, int, int, int, int]] = {}
"""Whitespace token → (words, good, bad, plain_good, TCVN3 flips, Windows-1258 flips, free
combining marks): texts repeat their tokens, and so do the trial decodings of one text, so
each distinct token is judged once (no flip character and no combining mark is white
space, so the token counts add up to the text's)."""


def _token_score(token: str) -> tuple[int, int, int, int, int, int, int]:
    words = good = bad = plain = 0
    for w in WORD_RE.findall(token):
        words += 1
        ok = is_syllable(w)
        if w.isascii():
            plain += ok
        elif ok:
            good += 1
        else:
            bad += 1
    if token.isascii():
        r = (words, good, bad, plain, 0, 0, 0)
    else:
        r = (words, good, bad, plain, len(_FLIPS_TCVN3.findall(token)),
             len(_FLIPS_CP1258.findall(token)), int(_COMBINING.search(token) is not None))
    if len(_TOKEN_SCORES) > 200_000:
        _TOKEN_SCORES.clear()
    _TOKEN_SCORES[token] = r
    return r


def _measure(text: str) -> tuple[Score, dict[str, int], bool]:
    """The score of ``text``, how many of its characters each 8-bit trial decoding would
    flip between letter and non-letter (VNI: none), and whether it holds free combining
    marks — one pass over its distinct white-space tokens."""
    words = good = bad = plain = f_tcvn3 = f_cp1258 = marks = 0
    cache = _TOKEN_SCORES
    for token, n in Counter(text.split()).items():
        r = cache.get(token)
        if r is None:
            r = _token_score(token)
        words += n * r[0]
        good += n * r[1]
        bad += n * r[2]
        plain += n * r[3]
        if r[4] or r[5] or r[6]:
            f_tcvn3 += n * r[4]
            f_cp1258 += n * r[5]
            marks |= r[6]
    return (Score(words, good, bad, plain), {"tcvn3": f_tcvn3, "cp1258": f_cp1258, "vni": 0},
            bool(marks))


def score(text: str) -> Score:
    """Count the words of ``text`` (``WORD_RE``; no word spans white space, so the text is
    split on white space once and each distinct token is judged once)."""
    return _measure(text)[0]


@dataclass(frozen=True)
class Detection:
    encoding: str
    converted: str
    before: Score
    after: Score

    @property
    def label(self) -> str:
        return legacy.LABELS.get(self.encoding, self.encoding)


def accepts(before: Score, after: Score, *, min_gain: int, strict: bool = False) -> bool:
    """Whether a trial decoding is clearly better Vietnamese than the text as it stands."""
    gain = after.good - before.good
    if gain < min_gain:
        return False
    if after.good < 3 * after.bad:  # at least 75 % of the decoded words with marks are valid
        return False
    if after.good < 2 * before.good:
        return False
    if strict:
        # Text with no font signal: the decoding must read as Vietnamese overall (most
        # words are syllables), which English/French/German text with a few decodable
        # letters does not.
        if after.words and (after.good + after.plain_good) < 0.6 * after.words:
            return False
    return True


# Characters a candidate changes; a text without any of them cannot be that encoding.
_CP1252_HIGH = re.compile("[\u00a0-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6"
                          "\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a"
                          "\u20ac\u2122\u0080-\u009f]")
_VIQR_HINT = re.compile(r"[aAeEoOuU][\^(+]|[aeiouyAEIOUY][\^(+]?['`?~.](?=[a-zA-Z])"
                        r"|\b[dD][dD][aeiouAEIOU]")
_UTF8_MOJIBAKE = re.compile(
    "[\u00c2-\u00c6][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e"
    "\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030"
    "\u2039\u203a\u20ac\u2122]|\u00e1[\u00ba\u00bb]")
_UTF8_TRAIL = _UTF8_MOJIBAKE.pattern.split("]|")[0].split("]", 1)[1] + "]"
_UTF8_BY_LEAD = tuple((lead, re.compile(lead + trail)) for lead, trail in (
    *((chr(c), _UTF8_TRAIL) for c in range(0xC2, 0xC7)), ("\u00e1", "[\u00ba\u00bb]")))
"""``_UTF8_MOJIBAKE`` split by its lead character: each search then starts with a literal,
which the regex engine finds at memory-scan speed (and is skipped when the lead is absent)."""


def _has_utf8_mojibake(text: str) -> bool:
    return any(lead in text and pat.search(text) is not None for lead, pat in _UTF8_BY_LEAD)


_VIQR_MARKS = "^(+'`?~"
_DOT_LETTER = re.compile(r"\.[a-zA-Z]")


def _viqr_hints(text: str, min_gain: int) -> int:
    """``len(_VIQR_HINT.findall(text))``, or a smaller count when it is certainly below
    ``min_gain``: every hint holds a mark character, a ``.`` before a letter or a ``dd``
    pair of its own, and those are counted by fast scans first."""
    quick = sum(text.count(c) for c in _VIQR_MARKS)
    quick += sum(text.count(p) for p in ("dd", "dD", "Dd", "DD"))
    if quick < min_gain:
        quick += len(_DOT_LETTER.findall(text))
        if quick < min_gain:
            return quick
    return len(_VIQR_HINT.findall(text))

CONTENT_CANDIDATES = ("tcvn3", "vni", "cp1258", "viqr", "utf8-as-cp1252")
"""Trial decodings for text with no font signal. VPS and VISCII share bytes and are only
tried on raw bytes (bodies) — VPS only when named (as the charset or a font)."""


SAMPLE_WINDOW = 100_000
"""Long texts are judged on three windows (start, middle, end) of this many characters;
the accepted decoding is then applied to the whole text."""


def _sample(text: str) -> str:
    n = len(text)
    if n <= 4 * SAMPLE_WINDOW:
        return text
    mid = n // 2
    w = SAMPLE_WINDOW
    return "\n".join((text[:w], text[mid - w // 2: mid + w // 2], text[-w:]))


def _cannot_gain(margin: int, flips: int, free_marks: bool) -> bool:
    """Whether a TCVN3, VNI or Windows-1258 trial decoding of a text provably cannot double
    its good words — the test every content detection must pass — without decoding it;
    ``margin`` is its good words minus its malformed ones (``before.good - before.bad``, or a
    lower bound of it), ``flips`` how many of its characters the decoding turns from letter
    to non-letter or back (or an upper bound).

    Those decodings change characters one for one (VNI: letter sequences into one letter).
    A word that no changed character touches comes out the same; every other word yields at
    most one good word, plus one per character whose letter status flips (and a flip touches
    at most two words beside it). So ``after.good - 2 * before.good`` is at most
    ``before.bad + 3 * flips - before.good``: clearly Unicode Vietnamese (many good words,
    few malformed ones) is settled by its own score. Free combining marks could join words
    under NFC, so a text holding any is decoded as before."""
    return margin > 0 and not free_marks and margin > 3 * flips


@dataclass(frozen=True)
class Bound:
    """The figures of a text the early exits need, from one look-up per white-space token."""

    margin: int
    """``good - bad``."""
    flips: dict[str, int]
    """The letter-status flips of each 8-bit trial (VNI: none)."""
    free_marks: bool
    """Whether the text holds a free combining mark."""
    viqr: int
    """``len(_VIQR_HINT.findall(text))``."""
    surely_nfc: bool = field(default=False, compare=False)
    """True: every code point is in ranges where any string is NFC; False: not known."""
    no_utf8_mojibake: bool = field(default=False, compare=False)
    """True: ``_has_utf8_mojibake`` is False (the bytes every match holds are absent)."""


_MAX_PACKED_TEXT = 1_000_000
"""The longest text ``_quick_bound`` sums (longer: None). The reference's 21-bit fields
hold its figures (no count reaches 2**21, the signed word score not 2**20 either way: a
word is a letter at least, and a non-letter follows it); the compiled sums are 64-bit, but
take the same limit so that both answer alike (the detection passes at most 400,000)."""


_MAY_HINT = re.compile(rb"[\^(+'`?~.]|[dD][dD]")
"""What every VIQR hint holds (an ASCII token without it has none)."""


def _figures(tok: bytes) -> scorer.Figures:
    """A UTF-8 white-space token's figures for ``_quick_bound`` (see ``scorer.Figures``)."""
    if tok.isascii():
        # no word score, no flip, no combining mark: only VIQR hints (the syllable checks
        # are left to the exact token pass, which counts ASCII words)
        if _MAY_HINT.search(tok) is None:
            return 0, 0, 0, 0, 0
        return 0, 0, 0, 0, len(_VIQR_HINT.findall(tok.decode("ascii")))
    s = tok.decode("utf-8", "surrogatepass")
    r = _TOKEN_SCORES.get(s) or _token_score(s)
    hints = len(_VIQR_HINT.findall(s)) if not s.isalpha() or "d" in s or "D" in s else 0
    return r[1] - r[2], r[4], r[5], r[6], hints


_PACKED = scorer.PackedTable(_figures)
_TABLE = scorer.compiled_table() if scorer.COMPILED else None


def _quick_bound(text: str, utf8: bytes | None = None, *,
                 reference: bool = False) -> Bound | None:
    """The good words minus the malformed ones, the flips of each 8-bit trial, whether free
    combining marks occur and the VIQR hints of ``text``, exactly, from one pass: the text's
    UTF-8 (``utf8`` when the caller has it) split on ASCII white space, each token's figures
    looked up in a table and summed (``scorer``: compiled when built, ``reference`` forces
    the pure-Python sums). Words, flip characters, combining marks and VIQR hints never
    span white space, so the token figures add up to the text's. None for a text longer
    than ``_MAX_PACKED_TEXT``."""
    if len(text) > _MAX_PACKED_TEXT:
        return None
    data = text.encode("utf-8", "surrogatepass") if utf8 is None else utf8
    sure_nfc = no_mojibake = False  # the reference does not know: the full checks run
    if _TABLE is None or reference:
        margin, tcvn3, cp1258, marks, hints = scorer.packed_sums(_PACKED, data)
    else:
        (margin, tcvn3, cp1258, marks, hints), sure_nfc, no_mojibake = scorer.compiled_scan(
            _TABLE, data, _figures)
    return Bound(margin, {"tcvn3": tcvn3, "cp1258": cp1258, "vni": 0}, marks > 0, hints,
                 sure_nfc, no_mojibake)


def detect_content(text: str, *, min_gain: int = 3,
                   candidates: tuple[str, ...] = CONTENT_CANDIDATES) -> Detection | None:
    """Best trial decoding of ``text`` (a Unicode string) that reads as Vietnamese."""
    return detect_form(text, min_gain=min_gain, candidates=candidates)[0]


def detect_form(text: str, *, min_gain: int = 3,
                candidates: tuple[str, ...] = CONTENT_CANDIDATES,
                utf8: bytes | None = None) -> tuple[Detection | None, bool]:
    """``detect_content`` and whether ``text`` is in NFC (found on the way, so that a
    caller's check for decomposed text needs no second pass). ``utf8``: the text's UTF-8
    encoding, exactly (``text.encode("utf-8")``), when the caller decoded it from there."""
    if not text:
        return None, True
    high: bool | None = None
    quick: Bound | None = None
    if utf8 is not None and _TABLE is not None and not text.isascii() \
            and len(text) <= 4 * SAMPLE_WINDOW:
        # the token scan the 8-bit trials make anyway, made first: it may prove NFC
        high = _CP1252_HIGH.search(text) is not None
        if high and any(enc in _CHANGERS for enc in candidates):
            quick = _quick_bound(text, utf8)
    # Decomposed Unicode is Unicode: judge and compare its NFC form.
    nfc = (quick is not None and quick.surely_nfc) or unicodedata.is_normalized("NFC", text)
    if nfc:
        full = text
    else:
        full, utf8, quick, high = unicodedata.normalize("NFC", text), None, None, None
    text = _sample(full)
    if text is not full:
        utf8, quick, high = None, None, None
    return _detect(text, full, min_gain, candidates, utf8, quick, high), nfc


_CP1252_HIGH_UTF8 = re.compile(
    b"[\xc2\xc3]|\xc5[\x92\x93\xa0\xa1\xb8\xbd\xbe]|\xc6\x92|\xcb[\x86\x9c]"
    b"|\xe2\x80[\x93\x94\x98-\x9e\xa0-\xa2\xa6\xb0\xb9\xba]|\xe2\x82\xac|\xe2\x84\xa2")
"""``_CP1252_HIGH`` over valid UTF-8: U+0080..U+00FF are the characters whose first byte is
C2 or C3, the others are spelt out."""


def settled_utf8(data: bytes, *, min_gain: int = 3) -> bool:
    """True when ``detect_form(data.decode("utf-8"), min_gain=min_gain, utf8=data)`` is
    certainly ``(None, True)``, found from ``data`` alone (one scan, no decoding); False: not
    known (the caller decodes and runs ``detect_form``). True also says ``data`` is valid
    UTF-8: every byte of a surely-NFC scan is in a whole UTF-8 sequence (``_scorer.c``,
    ``token_flags``). It takes the early exits ``detect_form`` takes for such a text: not
    ASCII, short enough to be read whole, a Windows-1252 letter in it, surely NFC, every
    8-bit trial unable to gain, fewer VIQR hints than ``min_gain``, no mojibake bytes."""
    if _TABLE is None or not data or data.isascii() or len(data) > 4 * SAMPLE_WINDOW:
        return False
    if _CP1252_HIGH_UTF8.search(data) is None:
        return False
    scanned = scorer.compiled_scan_if_nfc(_TABLE, data, _figures)
    if scanned is None:
        return False
    (margin, tcvn3, cp1258, marks, hints), no_mojibake = scanned
    if not no_mojibake or hints >= min_gain:
        return False
    flips = {"tcvn3": tcvn3, "cp1258": cp1258, "vni": 0}
    return all(_cannot_gain(margin, flips[enc], marks > 0) for enc in _CHANGERS)


def _detect(text: str, full: str, min_gain: int, candidates: tuple[str, ...],
            utf8: bytes | None, quick: Bound | None = None,
            high: bool | None = None) -> Detection | None:
    """``quick``, ``high``: ``text``'s token sums and ``_CP1252_HIGH`` test, if known."""
    if high is None:
        high = _CP1252_HIGH.search(text) is not None
    before: Score | None = None
    flips: dict[str, int] = {}
    free_marks = False
    bounded = quick is not None
    best: Detection | None = None
    for enc in candidates:
        if enc == "viqr":
            # the gate counts the hints of the first 200,000 characters: fewer in the whole
            # text (the token sums) is fewer there
            if quick is not None and quick.viqr < min_gain:
                continue
            if _viqr_hints(text[:200_000], min_gain) < min_gain:
                continue
        elif enc == "utf8-as-cp1252":
            if (quick is not None and quick.no_utf8_mojibake) or not _has_utf8_mojibake(text):
                continue
        elif not high:
            continue
        elif enc in _CHANGERS:
            if before is None:
                if not bounded:
                    quick, bounded = _quick_bound(text, utf8), True
                if quick is not None and _cannot_gain(quick.margin, quick.flips[enc],
                                                      quick.free_marks):
                    continue
                before, flips, free_marks = _measure(text)
            if _cannot_gain(before.good - before.bad, flips[enc], free_marks):
                continue
        try:
            converted = trial_decode(text, enc, fix_case=False)  # case does not change the score
        except (UnicodeError, LookupError, ValueError):  # a trial that cannot apply: none
            continue
        if converted == text:
            continue
        if before is None:
            before = score(text)
        after = score(converted)
        if enc == "utf8-as-cp1252":
            # Double-encoded UTF-8 is specific on its own: the bytes form valid UTF-8.
            if not (after.good >= min_gain and after.good >= 3 * after.bad
                    and converted.count("\ufffd") <= 0.1 * max(after.words, 1)
                    and has_vietnamese_letters(converted)):
                continue
        elif not accepts(before, after, min_gain=min_gain, strict=True):
            continue
        if enc == "viqr" and after.good < 0.2 * after.words:
            continue
        cand = Detection(enc, converted, before, after)
        if best is None or (after.good - after.bad) > (best.after.good - best.after.bad):
            best = cand
    if best is None:
        return None
    return Detection(best.encoding, trial_decode(full, best.encoding), best.before, best.after)


def trial_decode(text: str, enc: str, fix_case: bool = True) -> str:
    if enc == "utf8-as-cp1252":
        # Undefined Windows-1252 bytes may already be lost (U+FFFD): decode what is left.
        return unicodedata.normalize("NFC", legacy.to_bytes(text).decode("utf-8", "replace"))
    return legacy.decode_text(text, enc, fix_case=fix_case)


def detect_bytes(data: bytes, *, min_gain: int = 3, vps: bool = False) -> Detection | None:
    """Trial decodings of raw bytes that are not valid UTF-8 (8-bit legacy bodies)."""
    if not data:
        return None
    view = legacy.cp1252_view(data)
    best = detect_content(view, min_gain=min_gain, candidates=("tcvn3", "vni", "cp1258", "viqr"))
    sample = (data if len(data) <= 4 * SAMPLE_WINDOW
              else _sample(data.decode("latin-1")).encode("latin-1"))
    before = score(sample.decode("latin-1"))
    for enc in ("viscii",) + (("vps",) if vps else ()):
        after = score(legacy.decode_bytes(sample, enc))
        if accepts(before, after, min_gain=min_gain, strict=True):
            if best is None or (after.good - after.bad) > (best.after.good - best.after.bad):
                best = Detection(enc, legacy.decode_bytes(data, enc), before, after)
    return best


def decodes_as_vietnamese(surface: str, enc: str, upper: bool = False) -> Detection | None:
    """For a run in a legacy font: does its text decode as Vietnamese under that font's
    encoding? (At least one well-formed word with diacritics gained, few malformed.)"""
    converted = legacy.decode_text(surface, enc, upper=upper)
    if converted == surface:
        return None
    before, after = score(surface), score(converted)
    if not accepts(before, after, min_gain=1):
        return None
    return Detection(enc, converted, before, after)
