"""A plain UTF-8 body that is clearly Unicode Vietnamese in NFC is checked from its bytes
without being decoded (``message._check_part``'s first branch): its findings must be those of
the full check, for every body, whether the shortcut is taken or not."""

from __future__ import annotations

import dataclasses
import random
import unicodedata
from typing import Literal

import pytest

from gateway.inspect.text import detect, legacy, message, scorer
from gateway.inspect.text.common import Options
from gateway.intake.parsed import TextPart
from tests.textgen.samples import VIETNAMESE, vietnamese_corpus

pytestmark = pytest.mark.skipif(not scorer.COMPILED, reason="the compiled scorer is not built")

PIECES = [
    "Độ mật: MẬT", "TỐI MẬT", "** TUYỆT MẬT **", "TOI MAT", "MẬT (bản sao)", "độ mật cao",
    "Độ\n mật", "chế độ mật khẩu", "MAT", "", "   ", "\t", "x " * 90, "Kính gửi: UBND tỉnh",
    VIETNAMESE["prose_secret_words"], "Tiếng Việt có dấu đầy đủ.", "a. b? c~ dd",
    "Ä‘Æ°á»£c", "\u00a0", "\u2028", "đô\u0323 m", "English words only here",
]


def _bodies(rng: random.Random, prose: list[str]) -> list[bytes]:
    out = []
    for _ in range(200):
        lines = [rng.choice(PIECES) if rng.random() < 0.4 else rng.choice(prose)
                 for _ in range(rng.randint(0, 60))]
        text = "\n".join(lines)
        form: Literal["NFC", "NFD"] | None = rng.choice(("NFC", "NFC", "NFC", "NFD", None))
        text = unicodedata.normalize(form, text) if form else text
        kind = rng.random()
        if kind < 0.2:  # legacy text typed in a Unicode body: TCVN3, VNI, Windows-1258, VIQR
            text = legacy.encode_text(text, rng.choice(("tcvn3", "vni", "cp1258", "viqr")),
                                      errors="replace")
        elif kind < 0.3:  # UTF-8 read as Windows-1252 and sent again as UTF-8
            text = text.encode("utf-8").decode("cp1252", "replace")
        data = text.encode("utf-8")
        if rng.random() < 0.1:  # legacy bytes behind the label, or a damaged sequence
            data = rng.choice((legacy.encode_bytes(text, "tcvn3", errors="replace"),
                               data + b"\xc3", b"\xed\xa0\x80" + data))
        out.append(data)
    return out


def test_the_bytes_shortcut_finds_what_the_full_check_finds(
        monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(21)
    corpus = vietnamese_corpus()
    prose = [ln for ln in corpus.splitlines() if ln.strip()][:400] or ["Văn bản hành chính."]
    taken = 0
    for data in _bodies(rng, prose):
        charset = rng.choice(("utf-8", "UTF-8", '"utf8"', "utf-8 "))
        opts = dataclasses.replace(Options(), stamp_top_blocks=rng.choice((0, 2, 20)))
        tp = TextPart("body:text/plain", "text/plain", charset, data)
        fast = message._check_part(tp, opts)
        taken += detect.settled_utf8(data, min_gain=3)
        with monkeypatch.context() as m:  # the full check, always
            m.setattr(message, "_plain_utf8", lambda _tp: False)
            assert fast == message._check_part(tp, opts), data[:200]
    assert 20 < taken < 180  # the shortcut was taken, and not always


def test_a_settled_body_is_valid_utf8_and_found_clean_by_the_detection() -> None:
    rng = random.Random(22)
    prose = [ln for ln in vietnamese_corpus().splitlines() if ln.strip()][:400]
    for data in _bodies(rng, prose or ["Văn bản."]):
        if detect.settled_utf8(data, min_gain=3):
            assert detect.detect_form(data.decode("utf-8"), min_gain=3, utf8=data) == (None, True)


def test_the_cp1252_letters_are_found_in_utf8_as_in_the_text() -> None:
    chars = [chr(c) for c in range(0x80, 0x2200)] + ["a", "\u20ac", "\u2122", "\U0001f600"]
    for c in chars:
        if 0xD800 <= ord(c) <= 0xDFFF:
            continue
        for text in (c, "x" + c + "y"):
            assert (detect._CP1252_HIGH_UTF8.search(text.encode()) is not None) == \
                (detect._CP1252_HIGH.search(text) is not None), hex(ord(c))


def test_stamp_lines_from_utf8_are_those_of_the_text() -> None:
    rng = random.Random(23)
    words = ["Độ mật", "ĐỘ MẬT", "đô\u0323 m", "MẬT", "MA\u0301T", "đ", "độ", "Đ", "M", "x", "\n",
             " ", "\u00a0", "\u3000", "\u2028", "😀", "é"]
    for _ in range(2000):
        text = "".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        for form in ("NFC", "NFD", None):
            body = unicodedata.normalize(form, text) if form else text
            data = body.encode("utf-8")
            expected = [len(body[:i].encode("utf-8")) for i in scorer.stamp_line_starts(body)]
            assert scorer.stamp_line_starts_utf8(data) == expected, repr(body)
            opts = Options()
            assert message._body_stamp_utf8(data, "b", opts) == \
                message._body_stamp(body, "b", opts), repr(body)
