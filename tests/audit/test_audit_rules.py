"""The agency map (rules/agencies.toml), retention durations and the progress bar."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.audit.progress import Progress
from gateway.audit.retention import RetentionError, cutoff, minus_months, parse_duration
from gateway.policy.agencies import SHIPPED_AGENCIES, load_agencies, parse_agencies
from gateway.policy.strict import RulesError


@pytest.mark.parametrize("address,code", [
    ("annv.stttt@daknong.gov.vn", "stttt"),
    ("stttt@lamdong.gov.vn", "stttt"),
    ("vp.stttt@DAKNONG.gov.vn", "stttt"),
    ("<annv.vhtt.daksong@daknong.gov.vn>", "vhtt.daksong"),  # longest suffix wins
    ("ducan.daksong@daknong.gov.vn", "daksong"),
    ("daksong@daknong.gov.vn", "daksong"),
    ("xstttt@daknong.gov.vn", "unknown"),  # labels, not characters
    ("nobody@daknong.gov.vn", "unknown"),
    ("a@mail.lamdong.gov.vn", "unknown"),
    ("stttt@gmail.com", "external"),
    ("stttt@notdaknong.gov.vn", "external"),
    ("", "none"),
    (None, "none"),
    ("not-an-address", "unknown"),
])
def test_shipped_agency_map(address: str | None, code: str) -> None:
    assert load_agencies().resolve(address).code == code


def test_shipped_map_is_nfc_and_has_the_province_domains() -> None:
    import unicodedata

    amap = load_agencies()
    assert amap.domains == ("daknong.gov.vn", "lamdong.gov.vn")
    stttt = amap.by_code("stttt")
    assert stttt is not None and stttt.name == "Sở Thông tin và Truyền thông"
    for a in amap.agencies:
        assert unicodedata.normalize("NFC", a.name) == a.name
    text = SHIPPED_AGENCIES.read_text(encoding="utf-8")
    assert unicodedata.normalize("NFC", text) == text


def test_agency_owning_a_domain() -> None:
    amap = parse_agencies({"domains": ["daknong.gov.vn"], "agency": [
        {"code": "bv", "name": "Bệnh viện tỉnh", "domains": ["benhvien.vn"]}]}, "t")
    assert amap.resolve("a@benhvien.vn").code == "bv"
    assert amap.resolve("a@khoa.benhvien.vn").code == "bv"


@pytest.mark.parametrize("data,path,reason", [
    ({"colour": 1}, "colour", "unknown key"),
    ({"schema": 2}, "schema", "unsupported schema"),
    ({"domains": ["not a domain"]}, "domains[0]", "not a domain name"),
    ({"agency": [{"code": "a", "name": "A", "local": ["a"], "extra": 1}]}, "agency[0].extra",
     "unknown key"),
    ({"agency": [{"code": "a", "name": "A", "local": ["a"]},
                 {"code": "b", "name": "B", "local": ["a"]}]}, "agency[1].local[0]",
     "already belongs to 'a'"),
    ({"agency": [{"code": "a", "name": "A", "local": ["a"]},
                 {"code": "a", "name": "B", "local": ["b"]}]}, "agency[1].code", "used twice"),
    ({"agency": [{"code": "external", "name": "X", "local": ["x"]}]}, "agency[0].code",
     "reserved"),
    ({"agency": [{"code": "a", "name": "", "local": ["a"]}]}, "agency[0].name", "non-empty"),
    ({"agency": [{"code": "a", "name": "A", "local": ["Sở"]}]}, "agency[0].local[0]",
     "lower-case ASCII"),
    ({"agency": [{"code": "a", "name": "A"}]}, "agency[0]", "at least one"),
    ({"agency": [{"code": "a", "name": "A", "local": "a"}]}, "agency[0].local",
     "list of strings"),
])
def test_agency_map_errors_name_the_key(data: dict, path: str, reason: str) -> None:
    with pytest.raises(RulesError) as info:
        parse_agencies(data, "map.toml")
    assert info.value.path == path and reason in info.value.reason
    assert str(info.value).startswith("map.toml: ")


def test_agency_map_file_errors(tmp_path: Path) -> None:
    bad = tmp_path / "a.toml"
    bad.write_text("domains = [", encoding="utf-8")
    with pytest.raises(RulesError, match="not valid TOML"):
        load_agencies(bad)
    with pytest.raises(RulesError, match="cannot read"):
        load_agencies(tmp_path / "missing.toml")


# -- retention --------------------------------------------------------------------------------

NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)


def test_minus_months_clamps_the_day() -> None:
    assert minus_months(NOW, 1).date().isoformat() == "2026-02-28"
    assert minus_months(NOW, 12).date().isoformat() == "2025-03-31"
    assert minus_months(datetime(2024, 2, 29), 12).date().isoformat() == "2023-02-28"
    assert minus_months(NOW, 15).date().isoformat() == "2024-12-31"


@pytest.mark.parametrize("text,expected", [
    ("12m", (12, "months")), ("18months", (18, "months")), ("2y", (2, "years")),
    ("1 year", (1, "years")), ("400d", (400, "days")), ("60w", (60, "weeks")),
    (" 13MO ", (13, "months")),
])
def test_parse_duration(text: str, expected: tuple[int, str]) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "12", "m12", "12x", "-12m", "1.5y", "12m3d"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(RetentionError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["11m", "0d", "364d", "51w", "0y"])
def test_purge_cutoff_refuses_less_than_12_months(text: str) -> None:
    with pytest.raises(RetentionError, match=r"at least 12 months \(Article 11.2e\)"):
        cutoff(text, NOW)


def test_purge_cutoff_accepts_12_months_and_more() -> None:
    assert cutoff("12m", NOW) == datetime(2025, 3, 31, 12, 0, tzinfo=UTC)
    assert cutoff("1y", NOW) == cutoff("12m", NOW)
    assert cutoff("18m", NOW).date().isoformat() == "2024-09-30"
    assert cutoff("400d", NOW).date().isoformat() == "2025-02-24"
    # 365 days is less than 12 calendar months across a leap day
    with pytest.raises(RetentionError):
        cutoff("365d", datetime(2024, 3, 31, tzinfo=UTC))
    assert cutoff("366d", datetime(2024, 3, 31, tzinfo=UTC))


# -- progress bar -----------------------------------------------------------------------------


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_silent_when_not_a_terminal() -> None:
    out = io.StringIO()
    with Progress(10, "export", stream=out) as p:
        for i in range(10):
            p.update(i + 1)
    assert out.getvalue() == ""


def test_progress_draws_on_a_terminal() -> None:
    out = _Tty()
    with Progress(4, "export", stream=out) as p:
        for i in range(4):
            p.update(i + 1)
    text = out.getvalue()
    assert "\rexport [" in text and "4/4 100%" in text and text.endswith("\n")
    assert "#" * 30 in text
