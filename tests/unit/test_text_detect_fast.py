"""The fast paths of content detection give the verdicts of the full trial decodings.

``score`` counts words per distinct white-space token; ``_cannot_gain`` skips the TCVN3,
VNI and Windows-1258 trials of text that is clearly Unicode Vietnamese; the VIQR and
double-encoded UTF-8 gates scan with literal searches. Each is compared here against the
plain computation on mixtures built to sit on both sides of every threshold: Unicode
Vietnamese with growing shares of pasted legacy text, other languages, decomposed text,
stray combining marks and the characters whose letter status a decoding flips.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from gateway.inspect.text import detect, legacy, scorer
from gateway.inspect.text.vietnamese import WORD_RE, is_syllable
from tests.textgen.samples import OTHER_LANGUAGES, VIETNAMESE, vietnamese_corpus

UNICODE_LINES = [ln for ln in vietnamese_corpus().splitlines() if ln.strip()]
FOREIGN_LINES = [ln for t in OTHER_LANGUAGES.values() for ln in t.splitlines() if ln.strip()]
NOISE = "¡¢£¤¥¦§¨©«¬\xad®¶·¸»×÷ÌÒÞìòþŠšŽž\u0300\u0301\u0323^(+'`?~.dd DD\u00e1\u00ba\u00c3\u00a1"


def slow_score(text: str) -> detect.Score:
    counts = Counter(WORD_RE.findall(text))
    words = good = bad = plain = 0
    for w, n in counts.items():
        words += n
        ok = is_syllable(w)
        if w.isascii():
            plain += n if ok else 0
        elif ok:
            good += n
        else:
            bad += n
    return detect.Score(words, good, bad, plain)


def _legacy(line: str, enc: str) -> str:
    return legacy.encode_text(line, enc, errors="replace")


def mixtures(seed: int, n: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts: list[str] = []
        share = rng.random()  # how much of the text is pasted legacy text
        enc = rng.choice(["tcvn3", "vni", "cp1258", "viqr"])
        for _ in range(rng.randint(1, 12)):
            r = rng.random()
            if r < share:
                parts.append(_legacy(rng.choice(UNICODE_LINES), enc))
            elif r < share + 0.15:
                parts.append(rng.choice(FOREIGN_LINES))
            else:
                parts.append(rng.choice(UNICODE_LINES))
            if rng.random() < 0.3:
                k = rng.randint(1, 6)
                parts.append("".join(rng.choice(NOISE) for _ in range(k)))
        sep = rng.choice(["\n", " ", "\n\n", "\t"])
        out.append(sep.join(parts))
    return out


def full_detection(text: str, min_gain: int) -> detect.Detection | None:
    """detect_content without the provable early exit and without the packed token sums
    (the VIQR trial behind its character gate alone)."""
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(detect, "_cannot_gain", lambda *a: False)
        mp.setattr(detect, "_quick_bound", lambda *a: None)
        return detect.detect_content(text, min_gain=min_gain)
    finally:
        mp.undo()


@pytest.mark.parametrize("seed", range(4))
def test_score_counts_like_findall(seed: int) -> None:
    for text in mixtures(seed, 60):
        assert detect.score(text) == slow_score(text)
    odd = "a\u00a0b\u2003c\u3000d\x1ce\x85f ngườiĐ123ư_x \u0301a"
    assert detect.score(odd) == slow_score(odd)


@pytest.mark.parametrize("seed", range(6))
def test_early_exit_keeps_every_verdict(seed: int) -> None:
    detected = skipped = 0
    for text in mixtures(100 + seed, 50):
        for min_gain in (2, 3):
            fast = detect.detect_content(text, min_gain=min_gain)
            slow = full_detection(text, min_gain=min_gain)
            assert (fast and (fast.encoding, fast.converted)) == \
                (slow and (slow.encoding, slow.converted)), text[:200]
            detected += slow is not None
        before = detect.score(text)
        skipped += before.good > before.bad
    # the mixtures reach both sides: some are detected, many are settled early
    assert detected > 5 and skipped > 10


def test_clearly_unicode_skips_the_trials(monkeypatch: pytest.MonkeyPatch) -> None:
    tried: list[str] = []
    real = detect._trial

    def spy(text: str, enc: str, fix_case: bool = True) -> str:
        tried.append(enc)
        return real(text, enc, fix_case)

    monkeypatch.setattr(detect, "_trial", spy)
    text = "\n".join(VIETNAMESE.values()) * 20
    assert detect.detect_content(text) is None
    assert not {"tcvn3", "vni", "cp1258"} & set(tried)
    # one TCVN3 paragraph pasted into a Unicode letter of the same size is still found
    tried.clear()
    mixed = VIETNAMESE["letter"] + "\n" + legacy.encode_text(VIETNAMESE["letter"] * 3, "tcvn3")
    det = detect.detect_content(mixed)
    assert det is not None and det.encoding == "tcvn3"


def test_flip_characters_are_the_ones_that_change_letter_status() -> None:
    import re

    letter = re.compile(r"[^\W\d_]")
    for enc in ("tcvn3", "cp1258"):
        table = legacy.surface_translation(enc)
        for k, v in table.items():
            flips = (letter.match(chr(k)) is None) != (letter.match(v) is None)
            assert (detect._CHANGERS[enc].search(chr(k)) is not None) == flips, (enc, hex(k))
    vni_pairs = "".join(k + v for k, v in legacy._VNI_REV.items())
    assert detect._CHANGERS["vni"].search(vni_pairs) is None


def _slow_figures(text: str) -> tuple[int, dict[str, int], bool, int]:
    """What ``_quick_bound`` sums, computed on the whole text with the plain passes."""
    s = slow_score(text)
    flips = {enc: len(detect._CHANGERS[enc].findall(text)) for enc in ("tcvn3", "cp1258")}
    flips["vni"] = 0
    return (s.good - s.bad, flips, detect._COMBINING.search(text) is not None,
            len(detect._VIQR_HINT.findall(text)))


ODD = ("a\u00a0b\u2003c\u3000d\x1ce\x85f ngườiĐ123ư_x \u0301a Mình trình ò Ì «ư» §1 "
       "Vie^.t Nam dda^u ddi.nh\x0bx\x0cy\u2028z \ud800 ca'c")


# the token sums, compiled (when built) and the pure-Python reference
PATHS = [pytest.param(False, id="compiled", marks=pytest.mark.skipif(
             not scorer.COMPILED, reason="the compiled scorer is not built")),
         pytest.param(True, id="reference")]


@pytest.mark.parametrize("reference", PATHS)
@pytest.mark.parametrize("seed", range(4))
def test_packed_sums_are_the_whole_text_figures(seed: int, reference: bool) -> None:
    for text in [*mixtures(200 + seed, 60), ODD, ODD * 50]:
        q = detect._quick_bound(text, reference=reference)
        assert q is not None
        assert (q.margin, q.flips, q.free_marks, q.viqr) == _slow_figures(text), text[:120]


@pytest.mark.parametrize("reference", PATHS)
def test_packed_sums_hold_a_negative_margin_and_refuse_what_overflows(reference: bool) -> None:
    bad = "café " * 3000 + "người " * 10  # malformed words outnumber the good ones
    q = detect._quick_bound(bad, reference=reference)
    assert q is not None and q.margin == 10 - 3000
    assert detect._quick_bound("x " * (detect._MAX_PACKED_TEXT // 2 + 1),
                               reference=reference) is None


ADVERSARIAL = {
    # a Unicode letter with one TCVN3 paragraph pasted in the middle
    "tcvn3": VIETNAMESE["letter"] + "\n" + legacy.encode_text(VIETNAMESE["letter"] * 3, "tcvn3")
    + "\n" + VIETNAMESE["header"],
    # Windows-1258 decomposed surface between Unicode lines
    "cp1258": VIETNAMESE["header"] + legacy.encode_text(VIETNAMESE["letter"] * 3, "cp1258"),
    # VNI pasted after a Unicode header
    "vni": VIETNAMESE["header"] + legacy.encode_text(VIETNAMESE["letter"] * 2, "vni"),
    # VIQR lines inside Unicode text
    "viqr": VIETNAMESE["header"] + legacy.encode_text(VIETNAMESE["letter"] * 3, "viqr"),
}


@pytest.mark.parametrize("enc", sorted(ADVERSARIAL))
def test_pasted_legacy_text_inside_unicode_is_still_found(enc: str) -> None:
    text = ADVERSARIAL[enc]
    fast = detect.detect_content(text)
    slow = full_detection(text, 3)
    assert fast is not None and fast.encoding == enc
    assert slow is not None and (fast.encoding, fast.converted) == (slow.encoding, slow.converted)


def test_decomposed_unicode_and_free_marks_take_the_exact_path() -> None:
    import unicodedata

    letter = VIETNAMESE["letter"] * 5
    # decomposed Unicode is judged in NFC: nothing to find
    assert detect.detect_content(unicodedata.normalize("NFD", letter)) is None
    # a free combining mark in the text: the packed sums report it, so no early exit
    marked = letter + " \u0301x"
    q = detect._quick_bound(marked)
    assert q is not None and q.free_marks
    assert not detect._cannot_gain(q.margin, q.flips["tcvn3"], q.free_marks)
    # Windows-1258 surface hidden among decomposed Unicode is still found
    mixed = unicodedata.normalize("NFD", VIETNAMESE["header"]) + \
        legacy.encode_text(VIETNAMESE["letter"] * 3, "cp1258")
    fast, slow = detect.detect_content(mixed), full_detection(mixed, 3)
    assert fast is not None and fast.encoding == "cp1258"
    assert slow is not None and fast.converted == slow.converted


def test_clearly_unicode_takes_no_token_pass_but_the_packed_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def no_measure(text: str) -> None:
        raise AssertionError("the exact token pass ran")

    monkeypatch.setattr(detect, "_measure", no_measure)
    text = "\n".join(VIETNAMESE.values()) * 20 + " «trích» Mình trình (kèm theo) ?"
    assert detect.detect_content(text) is None


def _clear_tables() -> None:
    detect._PACKED.clear()
    if detect._TABLE is not None:
        detect._TABLE.clear()


@pytest.mark.parametrize("reference", PATHS)
def test_packed_sums_with_tokens_new_to_the_table(reference: bool) -> None:
    _clear_tables()
    first = mixtures(300, 1)[0]
    assert detect._quick_bound(first, reference=reference) is not None
    # known tokens, new ones, and new ones repeated: each new token is packed once
    text = first + " Zq1 Zq2 Zq1 ngườiZ " + first + " Zq2"
    q = detect._quick_bound(text, reference=reference)
    assert q is not None and (q.margin, q.flips, q.free_marks, q.viqr) == _slow_figures(text)
    for tok in (b"Zq1", b"ng\xc6\xb0\xe1\xbb\x9diZ"):
        if reference:
            assert tok in detect._PACKED
        else:
            assert detect._TABLE is not None and detect._TABLE.get(tok) == detect._figures(tok)


@pytest.mark.parametrize("reference", PATHS)
def test_a_new_token_is_seen_beside_a_negative_margin(reference: bool) -> None:
    _clear_tables()
    bad = "café " * 40
    assert detect._quick_bound(bad, reference=reference) is not None
    text = bad + " «x»"  # the only new token: flips, no word score of its own
    q = detect._quick_bound(text, reference=reference)
    assert q is not None and (q.margin, q.flips, q.viqr) == (-40, {"tcvn3": 2, "cp1258": 0,
                                                                  "vni": 0}, 0)


def test_texts_too_long_for_the_packed_fields_take_the_counter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(detect, "_MAX_PACKED_TEXT", 10)
    for text in mixtures(400, 20):
        assert detect._quick_bound(text) is None
        assert detect.score(text) == slow_score(text)
        fast = detect.detect_content(text)
        slow = full_detection(text, 3)
        assert (fast and (fast.encoding, fast.converted)) == (slow and (slow.encoding,
                                                                        slow.converted))
