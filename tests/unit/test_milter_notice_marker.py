"""The X-Hople-Notice marker: valid only for its Message-ID, its secret, and its time."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.notices.marker import MAX_AGE_SECONDS, make_marker, read_secret, verify_marker

SECRET = b"0123456789abcdef0123456789abcdef"
NOW = 1_800_000_000.0


def test_round_trip() -> None:
    value = make_marker(SECRET, "<n1@gw.example>", now=NOW)
    assert value.startswith("v1; t=1800000000; mac=")
    assert verify_marker(SECRET, value, "<n1@gw.example>", now=NOW + 60)
    assert verify_marker(SECRET, "  " + value + " ", " <n1@gw.example> ", now=NOW)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda v, m: (v, "<other@gw.example>"),                       # another message
        lambda v, m: (v.replace("t=1800000000", "t=1800000001"), m),  # time changed
        lambda v, m: (v[:-1] + ("0" if v[-1] != "0" else "1"), m),    # mac changed
        lambda v, m: ("v2" + v[2:], m),                               # unknown version
        lambda v, m: ("", m),
        lambda v, m: ("garbage; t=x", m),
        lambda v, m: (v, ""),                                         # no Message-ID
    ],
)
def test_forgeries_fail(mutate) -> None:
    value, mid = mutate(make_marker(SECRET, "<n1@gw.example>", now=NOW), "<n1@gw.example>")
    assert not verify_marker(SECRET, value, mid, now=NOW)


def test_wrong_secret_and_short_secret() -> None:
    value = make_marker(SECRET, "<n1@x>", now=NOW)
    assert not verify_marker(b"another-secret-of-32-bytes-000000", value, "<n1@x>", now=NOW)
    assert not verify_marker(b"short", value, "<n1@x>", now=NOW)
    with pytest.raises(ValueError):
        make_marker(b"short", "<n1@x>")


def test_expiry_and_future() -> None:
    value = make_marker(SECRET, "<n1@x>", now=NOW)
    assert verify_marker(SECRET, value, "<n1@x>", now=NOW + MAX_AGE_SECONDS)
    assert not verify_marker(SECRET, value, "<n1@x>", now=NOW + MAX_AGE_SECONDS + 1)
    assert not verify_marker(SECRET, value, "<n1@x>", now=NOW - 3600)


def test_read_secret(tmp_path: Path) -> None:
    p = tmp_path / "k"
    p.write_bytes(SECRET + b"\n")
    assert read_secret(str(p)) == SECRET
    p.write_bytes(b"short\n")
    assert read_secret(str(p)) is None
    assert read_secret(str(tmp_path / "absent")) is None
