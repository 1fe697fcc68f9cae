"""Is this Vietnamese? A syllable checker used to score trial decodings.

Vietnamese is written one syllable per word: onset + rhyme + at most one tone, with a
closed set of onsets and rhymes, and syllables ending in c/ch/p/t only take the sắc or nặng
tone. A trial decoding of mojibake that is really Vietnamese yields almost only valid
syllables; decoding English, French or German text the same way does not.
"""

from __future__ import annotations

import re
import unicodedata

from gateway.inspect.text.tables import TONE_MARKS

_ONSETS = (
    "ngh", "ng", "gh", "gi", "kh", "ph", "th", "tr", "ch", "nh", "qu",
    "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "",
)

_RHYMES = frozenset("""
a ac ach am an ang anh ap at ai ao au ay
ăc ăm ăn ăng ăp ăt ăk
âc âm ân âng âp ât âu ây
e ec em en eng ep et eo
ê êch êm ên ênh êp êt êu
i ich im in inh ip it iu ia
iêc iêm iên iêng iêp iêt iêu
yêm yên yêng yêt yêu
o oc om on ong op ot oi oong ooc
ô ôc ôm ôn ông ôp ôt ôi
ơ ơm ơn ơp ơt ơi
u uc um un ung up ut ui ua
uôc uôm uôn uông uôt uôi
ư ưc ưm ưn ưng ưt ưi ưu ưa
ươc ươm ươn ương ươp ươt ươi ươu
y
oa oac oach oai oam oan oang oanh oap oat oay oao
oăc oăm oăn oăng oăt
oe oen oet oeo oem
uân uâng uât uây
uê uêch uênh uên uêt
uy uych uynh uyt uyu uya uyên uyêt uyn
uơ
""".split())

_STOPS = ("c", "ch", "p", "t", "k")
_FRONT = ("i", "e", "ê", "y")
_TONE_NAMES = set(TONE_MARKS.values())

_cache: dict[str, bool] = {}


def _split(word: str) -> tuple[str, str | None] | None:
    """Lower-case NFC word → (toneless base, tone) or None if it has two tones."""
    d = unicodedata.normalize("NFD", word.lower())
    tone = None
    base_chars = []
    for c in d:
        t = TONE_MARKS.get(c)
        if t is not None:
            if tone is not None:
                return None
            tone = t
        else:
            base_chars.append(c)
    return unicodedata.normalize("NFC", "".join(base_chars)), tone


def _valid(word: str) -> bool:
    parts = _split(word)
    if parts is None:
        return False
    base, tone = parts
    if not base or len(base) > 7:
        return False
    for onset in _ONSETS:
        if not base.startswith(onset):
            continue
        rhyme = base[len(onset):]
        if onset == "gi" and (rhyme == "" or rhyme[0] not in "aăâeêoôơuư"):
            # "gì", "gìn": the g + i reading
            rhyme = base[1:]
            onset = "g"
        if onset == "qu" and rhyme == "":
            continue
        if rhyme not in _RHYMES:
            continue
        if onset in ("k", "gh", "ngh") and not rhyme.startswith(_FRONT):
            continue
        if onset == "c" and rhyme.startswith(_FRONT):
            continue
        if rhyme.endswith(_STOPS) and tone not in (None, "acute", "dot"):
            continue
        if rhyme.endswith(_STOPS) and tone is None:
            continue
        return True
    return False


def is_syllable(word: str) -> bool:
    """Whether ``word`` (any case, NFC or not) is a well-formed Vietnamese syllable."""
    r = _cache.get(word)
    if r is None:
        if len(_cache) > 200_000:
            _cache.clear()
        r = _cache[word] = _valid(word)
    return r


_VN_ONLY = re.compile(
    "[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1\u01af\u01b0\u1ea0-\u1ef9]")
WORD_RE = re.compile(r"[^\W\d_]+")


def has_vietnamese_letters(text: str) -> bool:
    """Letters that exist only for Vietnamese (ă, đ, ơ, ư, ĩ, ũ, U+1EA0–U+1EF9)."""
    return _VN_ONLY.search(text) is not None


def marked(word: str) -> bool:
    """A word with a non-ASCII letter (what legacy encodings get wrong)."""
    return not word.isascii()
