"""The golden corpus: every message in messages/ gives the outcome expected.toml promises."""

from __future__ import annotations

import io
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.model.envelope import Envelope
from gateway.pipeline import Checker, domain_of
from gateway.policy.load import load_policy

HERE = Path(__file__).resolve().parent
EXPECTED = tomllib.loads((HERE / "expected.toml").read_text(encoding="utf-8"))
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(load_policy(), clock=lambda: AT)


def test_every_message_has_an_expectation() -> None:
    names = {p.stem for p in (HERE / "messages").glob("*.eml")}
    assert names == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_message(name: str, checker: Checker) -> None:
    exp = EXPECTED[name]
    raw = (HERE / "messages" / f"{name}.eml").read_bytes()
    from email.parser import BytesHeaderParser
    from email.utils import parseaddr

    sender = parseaddr(str(BytesHeaderParser().parsebytes(raw)["From"]))[1]
    assert domain_of(sender)
    report = checker.check_message(io.BytesIO(raw), Envelope(sender=sender), label=name)
    codes = {f.code for f in report.all_findings}
    assert report.verdict.value == exp["verdict"], codes
    assert report.action.label == exp["action"]
    assert set(exp.get("codes", [])) <= codes
    assert not set(exp.get("absent", [])) & codes
    if "smtp" in exp:
        assert str(report.smtp_reply).startswith(exp["smtp"])
    else:
        assert report.smtp_reply is None
