"""The compiled token scorer (``gateway/inspect/text/_scorer.c``) against the pure-Python
reference: the same tokens as ``bytes.split()``, the same sums as ``_quick_bound``'s packed
table on literal and seeded random texts, its table's limits, hostile and concurrent
callers, and that a normal install uses it."""

from __future__ import annotations

import os
import random
import threading

import pytest

from gateway.inspect.text import detect, legacy, scorer
from tests.textgen.samples import OTHER_LANGUAGES, VIETNAMESE, vietnamese_corpus

PURE = os.environ.get("HOPLE_PURE_PYTHON") == "1"


def test_a_normal_install_uses_the_compiled_scorer() -> None:
    # `pip install -e .` (scripts/bootstrap.sh) and `setup.py build_ext --inplace` build it;
    # a run that means to test the pure-Python reference alone says so
    if PURE:
        pytest.skip("HOPLE_PURE_PYTHON=1: the pure-Python reference is under test")
    assert scorer.COMPILED, "gateway.inspect.text._scorer is not built (pip install -e .)"
    assert detect._TABLE is not None


compiled = pytest.mark.skipif(not scorer.COMPILED, reason="the compiled scorer is not built")


def _both(text: str) -> tuple[detect.Bound | None, detect.Bound | None]:
    return detect._quick_bound(text), detect._quick_bound(text, reference=True)


WHITE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2028\u2029\u202f\u3000"
LITERALS = [
    "", " ", "\n\n\t", "a", WHITE, "x" + WHITE + "y", WHITE.join(VIETNAMESE.values()),
    "\x00", "a\x00b \x00 người\x00", "\ud800", "ng\udfffười \ud800x\udc00", "\U0001f600 ò",
    "x" * 255, "x" * 256, "x" * 257, "người" * 400 + " " + "người" * 400, "\u0301" * 300,
    "Vie^.t Nam dda^u ddi.nh ca'c (kèm) «trích» § Ì Ò",
    legacy.encode_text(VIETNAMESE["letter"], "tcvn3"),
    legacy.encode_text(VIETNAMESE["letter"], "cp1258"),
    legacy.encode_text(VIETNAMESE["letter"], "vni"),
    legacy.encode_text(VIETNAMESE["letter"], "viqr"),
]


@compiled
@pytest.mark.parametrize("text", LITERALS, ids=range(len(LITERALS)))
def test_literal_texts_give_the_reference_sums(text: str) -> None:
    fast, ref = _both(text)
    assert fast == ref
    assert fast is not None


@compiled
def test_texts_past_the_length_limit_are_refused_alike() -> None:
    text = "người " * (detect._MAX_PACKED_TEXT // 6 + 1)
    assert len(text) > detect._MAX_PACKED_TEXT
    assert _both(text) == (None, None)


def _alphabets() -> list[str]:
    corpus = vietnamese_corpus()
    return [
        "".join(sorted(set(corpus))),  # Unicode Vietnamese as written
        "".join(sorted(set(legacy.encode_text(corpus, "tcvn3")))),  # mojibake surfaces
        "".join(sorted(set(legacy.encode_text(corpus, "cp1258")))),
        "".join(sorted(set(legacy.encode_text(corpus, "vni")))),
        "".join(sorted(set("".join(OTHER_LANGUAGES.values())))),
        "abcdefghijklmnopqrstuvwxyzABCDDEFdd^(+'`?~.0123456789",
        WHITE + "\x00\ud800\udfff\u0300\u0301\u0323",
    ]


@compiled
@pytest.mark.parametrize("seed", range(6))
def test_seeded_random_texts_give_the_reference_sums(seed: int) -> None:
    rng = random.Random(seed)
    alphabets = _alphabets()
    words = vietnamese_corpus().split()
    for _ in range(150):
        parts: list[str] = []
        for _ in range(rng.randint(0, 40)):
            r = rng.random()
            if r < 0.4:
                alpha = rng.choice(alphabets)
                parts.append("".join(rng.choice(alpha) for _ in range(rng.randint(1, 12))))
            elif r < 0.8:
                parts.append(rng.choice(words))
            elif r < 0.95:
                parts.append(legacy.encode_text(rng.choice(words), rng.choice(
                    ["tcvn3", "vni", "cp1258", "viqr"])))
            else:  # long tokens, around the length the compiled table stores
                parts.append(rng.choice(words) * rng.randint(20, 80))
        text = "".join(p + rng.choice(WHITE) * rng.randint(0, 2) for p in parts)
        fast, ref = _both(text)
        assert fast == ref, text[:200]


def _identity(tok: bytes) -> scorer.Figures:
    """Figures that tell tokens apart: the sums then check the tokenisation itself."""
    return 1, len(tok), sum(tok), tok.count(b"\x00"), tok[0] * len(tok)


def _expected(data: bytes) -> scorer.Figures:
    tokens = data.split()
    f = [_identity(t) for t in tokens]
    return (len(tokens), sum(x[1] for x in f), sum(x[2] for x in f), sum(x[3] for x in f),
            sum(x[4] for x in f))


@compiled
@pytest.mark.parametrize("seed", range(4))
def test_tokens_are_those_of_bytes_split_on_any_bytes(seed: int) -> None:
    rng = random.Random(seed)
    table = scorer.compiled_table()
    # every byte value, white space and the control bytes beside it more often, tokens of
    # every length across the 8-byte chunks
    common = b" \t\n\x0b\x0c\r\x1c\x1f\x00!\x20\x21\x80\xff"
    for _ in range(400):
        n = rng.choice([0, 1, 7, 8, 9, 15, 16, 17, 64, 300, 2000])
        data = bytes(rng.choice(common) if rng.random() < 0.4 else rng.randrange(256)
                     for _ in range(n))
        assert scorer.compiled_scan(table, data, _identity)[0] == _expected(data), data


@compiled
def test_the_table_is_bounded_and_emptied_when_full() -> None:
    table = scorer.compiled_table(1, 10, 64)
    data = b" ".join(b"t%d" % i for i in range(25))
    assert scorer.compiled_scan(table, data, _identity)[0] == _expected(data)
    assert len(table) == 10  # no entry past max_entries
    assert scorer.compiled_scan(table, data, _identity)[0] == _expected(data)
    assert len(table) == 10  # emptied before the scan, then filled again
    table = scorer.compiled_table(1, 1000, 64)
    data = b" ".join(b"%030d" % i for i in range(10))
    assert scorer.compiled_scan(table, data, _identity)[0] == _expected(data)
    assert len(table) == 2  # no key bytes past max_bytes
    from gateway.inspect.text._scorer import MAX_KEY

    long = b"y" * (MAX_KEY + 1)
    assert table.add(long, (1, 2, 3, 4, 5)) is False and table.get(long) is None
    table.clear()
    assert len(table) == 0 and table.get(b"%030d" % 0) is None
    # figures past 32 bits are summed, not stored
    assert table.add(b"big", (2**40, 0, 0, 0, 0)) is False
    assert scorer.compiled_scan(table, b"big big", lambda t: (2**40, 0, 0, 0, 0))[0] == \
        (2**41, 0, 0, 0, 0)


@compiled
def test_bad_arguments_are_errors() -> None:
    table = scorer.compiled_table()
    with pytest.raises(TypeError):
        table.scan("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        table.add(b"x", (1, 2, 3))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        table.add("x", (1, 2, 3, 4, 5))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        table.add(b"x", (1, 2, 3, 4, "5"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        scorer.compiled_table(0, -1, 10)


@compiled
def test_same_hash_seed_many_tokens_and_a_fixed_seed_stay_exact() -> None:
    # a fixed seed (the worst case: an attacker who knows it) and a table filled with many
    # tokens of one length: every sum still equals the reference
    table = scorer.compiled_table(0)
    rng = random.Random(9)
    data = b" ".join(bytes(rng.randrange(97, 99) for _ in range(17)) for _ in range(50_000))
    assert scorer.compiled_scan(table, data, _identity)[0] == _expected(data)
    assert scorer.compiled_scan(table, data, _identity)[0] == _expected(data)


@compiled
def test_concurrent_callers_get_exact_sums() -> None:
    table = scorer.compiled_table()
    rng = random.Random(3)
    words = [w.encode() for w in vietnamese_corpus().split()]
    texts = [b" ".join(rng.choice(words) + b"%d" % rng.randrange(300) for _ in range(3000))
             for _ in range(8)]
    wrong: list[bytes] = []

    def run(text: bytes) -> None:
        for _ in range(5):
            if scorer.compiled_scan(table, text, _identity)[0] != _expected(text):
                wrong.append(text)

    threads = [threading.Thread(target=run, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []
