"""What the decision log makes of a value before storing and hashing it."""

from __future__ import annotations

import random

import pytest

from gateway.audit.records import MAX_TEXT, clean_text


def _slow(value: object, limit: int) -> str:
    """The full conversion (valid UTF-8, no NUL, bounded), for every value."""
    text = str(value).encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@pytest.mark.parametrize("value", [
    "", "a@daknong.gov.vn", "x" * MAX_TEXT, "x" * (MAX_TEXT + 1), "a\x00b", "\x00",
    "Nguyễn Văn An <a@x.vn>", "caf\udce9", "\udcff" * 3, "tab\tand\nnewline", "\x7f\x01",
    12345, 1.5,
])
@pytest.mark.parametrize("limit", [1, 5, 100, MAX_TEXT])
def test_clean_text_is_the_full_conversion(value: object, limit: int) -> None:
    assert clean_text(value, limit) == _slow(value, limit)


def test_clean_text_on_random_strings() -> None:
    rng = random.Random(12)
    alphabet = "ab @.<>\x00\x7fđĐạ\u0300\udce9\ud800€"
    for _ in range(3000):
        value = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        limit = rng.randint(1, 14)
        assert clean_text(value, limit) == _slow(value, limit), (value, limit)
    assert clean_text(None) is None
