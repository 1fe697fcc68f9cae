"""The two exact pre-tests the compiled token scan answers on the way (``_scorer.c``
``token_flags``): "surely NFC" lets the detection skip ``unicodedata.is_normalized``, and
"no UTF-8 mojibake bytes" lets it skip ``_has_utf8_mojibake``. Each is a sufficient
condition only: the set of code points the scan calls surely NFC is checked here against a
derivation from ``unicodedata`` over every code point, the mojibake bytes against the regex,
and the detection's answers with the pre-tests against its answers without them."""

from __future__ import annotations

import random
import re
import unicodedata
from typing import Literal

import pytest

from gateway.inspect.text import detect, scorer
from tests.textgen.samples import VIETNAMESE, vietnamese_corpus

compiled = pytest.mark.skipif(not scorer.COMPILED, reason="the compiled scorer is not built")

ALL = [cp for cp in range(0x110000) if not 0xD800 <= cp < 0xE000]


def _scan(text: str) -> tuple[bool, bool]:
    """(surely NFC, no mojibake bytes) of a fresh scan that stores nothing."""
    table = scorer.compiled_table(max_entries=0, max_bytes=0)
    _, _, sure_nfc, no_mojibake = table.scan(text.encode("utf-8", "surrogatepass"))
    return sure_nfc, no_mojibake


def _unsafe() -> set[int]:
    """Code points that may not be in a set whose every string is NFC: a non-zero combining
    class, a change under NFC, or a place after the first in a canonical decomposition
    (those may compose with what precedes them; taken over every code point, which is more
    than the composition pairs)."""
    bad: set[int] = set()
    for cp in ALL:
        c = chr(cp)
        if unicodedata.combining(c) or unicodedata.normalize("NFC", c) != c:
            bad.add(cp)
        bad.update(ord(x) for x in unicodedata.normalize("NFD", c)[1:])
        d = unicodedata.decomposition(c)
        if d and not d.startswith("<"):
            bad.update(int(x, 16) for x in d.split()[1:])
    return bad


@pytest.fixture(scope="module")
def sure_set() -> list[int]:
    """The code points the compiled scan calls surely NFC, each scanned alone."""
    table = scorer.compiled_table(max_entries=0, max_bytes=0)
    return [cp for cp in ALL if table.scan(chr(cp).encode("utf-8"))[2]]


@compiled
def test_the_surely_nfc_set_holds_no_code_point_that_unicodedata_calls_unsafe(sure_set):
    bad = _unsafe()
    assert {0x0301, 0x0300, 0x0323, 0x2000, 0x2001, 0x0340, 0x037E} <= bad  # the derivation sees
    assert not bad & set(sure_set), sorted(bad & set(sure_set))[:20]
    # and it is the set that makes the pre-test worth having: Vietnamese letters, punctuation
    assert set(map(ord, "".join(VIETNAMESE.values()))) <= set(sure_set)
    assert {ord(c) for c in "đĐơƯệỹỸ–—‘’“”…"} <= set(sure_set)
    assert 0x0300 not in sure_set and 0x20AC not in sure_set


@compiled
def test_strings_from_the_set_are_nfc_and_one_code_point_outside_it_is_not_sure(sure_set):
    rng = random.Random(12)
    sure = set(sure_set)
    outside = [cp for cp in ALL if cp not in sure]
    for _ in range(3000):
        s = "".join(chr(rng.choice(sure_set)) for _ in range(rng.randrange(1, 12)))
        assert unicodedata.is_normalized("NFC", s), ascii(s)
        assert _scan(s)[0], ascii(s)
        i = rng.randrange(len(s) + 1)
        odd = s[:i] + chr(rng.choice(outside)) + s[i:]
        assert not _scan(odd)[0], ascii(odd)
    for bad in ("\ud800", "a\udfffb", "x\u0301", "\u2000", "e\u0302\u0301"):
        assert not _scan(bad)[0], ascii(bad)


LEADS = [chr(c) for c in range(0xC2, 0xC7)] + ["\u00e1"]
TRAILS = ["\u0080", "\u0085", "\u009f", "\u00a0", "\u00a9", "\u00ba", "\u00bb", "\u00bf",
          "\u0152", "\u0161", "\u02dc", "\u2013", "\u201c", "\u2026", "\u20ac", "\u2122",
          "\u00c0", "\u00e1", "a", " ", "\n", "\u0301", ""]


def _mojibake_cases() -> list[str]:
    cases = [lead + trail for lead in LEADS for trail in TRAILS]
    cases += ["x" + c + "y" for c in cases] + ["ngư" + c + " ời" for c in cases]
    rng = random.Random(7)
    pool = LEADS + TRAILS[:-1] + ["\u00e1", "\u00c3", "\u00a1", "\u00c2", "ệ", "x", " "]
    cases += ["".join(rng.choice(pool) for _ in range(rng.randrange(1, 10)))
              for _ in range(5000)]
    return cases


@compiled
def test_no_mojibake_bytes_means_no_mojibake_match() -> None:
    flagged = 0
    for text in _mojibake_cases():
        has = detect._has_utf8_mojibake(text)
        no_bytes = _scan(text)[1]
        assert not (has and no_bytes), ascii(text)
        flagged += has
    assert flagged > 1000  # the cases exercise the pattern
    # the leads U+00C2..U+00C6 before a trail's lead byte (C2, C5, C6, CB, E2), U+00E1 only
    # before U+00BA/U+00BB: Vietnamese capitals such as NHÂN, XÃ pass
    for lead in LEADS[:-1]:
        assert not _scan(lead + "\u00a0")[1] and not _scan("x" + lead + "\u2122 ")[1]
        assert _scan(lead)[1] and _scan("x" + lead + " ")[1] and _scan(lead + "N\u00a0")[1]
    assert _scan("ỦY BAN NHÂN DÂN, CỘNG HÒA XÃ HỘI")[1]
    assert _scan("\u00e1")[1] and _scan("\u00e1 \u00ba")[1] and _scan("\u00e1\u00bc")[1]
    assert not _scan("\u00e1\u00ba")[1] and not _scan("x\u00e1\u00bbc")[1]
    assert _scan(vietnamese_corpus()[:5000])[1]


def _without_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    real = scorer.compiled_scan

    def unknown(*a: object, **k: object) -> tuple[scorer.Figures, bool, bool]:
        return real(*a, **k)[0], False, False  # type: ignore[arg-type]

    monkeypatch.setattr(scorer, "compiled_scan", unknown)


def _texts() -> list[str]:
    rng = random.Random(3)
    body = vietnamese_corpus()[:3000]
    texts = [body, unicodedata.normalize("NFD", body), body + "\u0301", "Ca\u0301c ba\u0323n",
             body.encode("utf-8").decode("cp1252", "replace"), "Â€ " + body, body + " ạº",
             "đây là văn bản \u2000 thử", "Hà Nội – “xin chào” … ‘ok’"]
    pool = list(body[:400]) + LEADS + TRAILS[:-1] + ["\u0301", "\u0303", "\u2000", "Ã"]
    for _ in range(300):
        texts.append("".join(rng.choice(pool) for _ in range(rng.randrange(1, 200))))
    return texts


@compiled
def test_the_detection_answers_the_same_with_and_without_the_pre_tests(monkeypatch) -> None:
    texts = _texts()
    fast = [detect.detect_form(t, utf8=t.encode("utf-8", "surrogatepass")) for t in texts]
    assert any(detect._quick_bound(t) and detect._quick_bound(t).surely_nfc  # type: ignore[union-attr]
               for t in texts)
    with monkeypatch.context() as mp:
        _without_flags(mp)
        slow = [detect.detect_form(t, utf8=t.encode("utf-8", "surrogatepass")) for t in texts]
    for t, a, b in zip(texts, fast, slow, strict=True):
        assert a == b, ascii(t[:80])
        assert a[1] == unicodedata.is_normalized("NFC", t)


@compiled
def test_a_surely_nfc_body_skips_the_normalization_check(monkeypatch) -> None:
    body = vietnamese_corpus()[:20000]
    assert _scan(body)[0]
    calls: list[str] = []
    real = unicodedata.is_normalized

    def spy(form: Literal["NFC", "NFD", "NFKC", "NFKD"], s: str) -> bool:
        calls.append(s)
        return real(form, s)

    monkeypatch.setattr(unicodedata, "is_normalized", spy)
    assert detect.detect_form(body, utf8=body.encode())[1] is True
    assert body not in calls
    decomposed = unicodedata.normalize("NFD", body)
    assert detect.detect_form(decomposed, utf8=decomposed.encode())[1] is False
    assert decomposed in calls


def test_the_reference_path_knows_neither_pre_test() -> None:
    q = detect._quick_bound("Việt Nam", reference=True)
    assert q is not None and not q.surely_nfc and not q.no_utf8_mojibake


@compiled
def test_every_trail_the_pattern_takes_starts_with_a_byte_the_scan_looks_for() -> None:
    trail = re.compile(detect._UTF8_TRAIL)
    firsts = {chr(cp).encode("utf-8")[0] for cp in ALL if trail.fullmatch(chr(cp))}
    assert firsts == {0xC2, 0xC5, 0xC6, 0xCB, 0xE2}
    for cp in ALL:
        if trail.fullmatch(chr(cp)):
            assert not _scan("\u00c3" + chr(cp))[1], hex(cp)
