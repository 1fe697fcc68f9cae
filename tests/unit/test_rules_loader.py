"""The strict rules loader: shipped rules load; broken files fail naming file, key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli import main
from gateway.model.findings import Action, Severity
from gateway.policy.load import SHIPPED, load_policy
from gateway.policy.strict import RulesError


def write(tmp_path: Path, text: str, name: str = "local.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_shipped_rules_load_with_lists() -> None:
    policy = load_policy()
    assert policy.rules.limits.attachment_max_bytes == 25 * 1024 * 1024
    assert policy.is_freemail("gmail.com")
    assert policy.is_freemail("zing.vn")  # from rules/freemail-extra.txt, not the package
    assert policy.is_freemail("hn.vnn.vn")  # sub-domain of a listed domain
    assert not policy.is_freemail("daknong.gov.vn")
    assert not policy.is_freemail("lamdong.gov.vn")
    assert len(policy.hash) == 64


@pytest.mark.parametrize(
    "text, path, reason",
    [
        ("[limits]\nattachment-max-mb = 3\n", "limits.attachment-max-mb", "unknown key"),
        ("[limits]\nattachment-max-bytes = \"big\"\n", "limits.attachment-max-bytes", "integer"),
        ("[limits]\nattachment-max-bytes = -1\n", "limits", "must be positive"),
        ("[freemail]\nwith-documents = \"bounce\"\n", "freemail.with-documents", "not one of"),
        ("[failure]\non-error = \"ignore\"\n", "failure", "on-error"),
        ("[findings.NO_SUCH_CODE]\nseverity = \"error\"\n", "findings.NO_SUCH_CODE", "no such"),
        ("[findings.TYPE_MISMATCH]\nseverity = \"fatal\"\n", "findings.TYPE_MISMATCH.severity",
         "is not one of info, warning, error"),
        ("schema = 2\n", "", "not supported"),
        ("frobnicate = true\n", "frobnicate", "unknown key"),
    ],
)
def test_broken_override_names_file_key_and_reason(
    tmp_path: Path, text: str, path: str, reason: str
) -> None:
    f = write(tmp_path, text)
    with pytest.raises(RulesError) as info:
        load_policy(f)
    err = info.value
    assert err.source == str(f)
    assert err.path == path or path in str(err)
    assert reason in str(err)


def test_invalid_toml_is_a_rules_error(tmp_path: Path) -> None:
    f = write(tmp_path, "[limits\n")
    with pytest.raises(RulesError, match="not valid TOML"):
        load_policy(f)


def test_override_merges_key_by_key_and_changes_hash(tmp_path: Path) -> None:
    base = load_policy()
    f = write(tmp_path,
              "[limits]\nattachment-max-bytes = 1000\n[freemail]\ndomains = [\"example.org\"]\n")
    policy = load_policy(f)
    assert policy.rules.limits.attachment_max_bytes == 1000
    assert policy.rules.limits.archive_max_depth == base.rules.limits.archive_max_depth
    assert policy.is_freemail("example.org") and policy.is_freemail("gmail.com")
    assert policy.hash != base.hash


def test_allow_list_wins_over_free_list(tmp_path: Path) -> None:
    f = write(tmp_path, "[freemail]\nallow = [\"gmail.com\"]\n")
    assert not load_policy(f).is_freemail("gmail.com")


def test_extra_list_file_relative_to_override(tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("# comment\nExample.NET  # trailing\n\n", encoding="utf-8")
    f = write(tmp_path, "[freemail]\nlists = [\"mine.txt\"]\n")
    policy = load_policy(f)
    assert policy.is_freemail("example.net")
    assert policy.is_freemail("zing.vn")  # the shipped list is still read


def test_missing_list_file_is_reported(tmp_path: Path) -> None:
    f = write(tmp_path, "[freemail]\nlists = [\"absent.txt\"]\n")
    with pytest.raises(RulesError, match="absent.txt"):
        load_policy(f)


def test_finding_override_changes_severity_and_action(tmp_path: Path) -> None:
    from gateway.model.catalog import make_finding

    f = write(tmp_path, "[findings.TYPE_MISMATCH]\nseverity = \"error\"\naction = \"hold\"\n")
    policy = load_policy(f)
    adjusted = policy.adjust(make_finding("TYPE_MISMATCH", name="a", declared="pdf", actual="docx"))
    assert adjusted.severity is Severity.ERROR and adjusted.action is Action.HOLD
    untouched = policy.adjust(make_finding("OTHER_ATTACHMENT", name="a", media_type="x/y"))
    assert untouched.severity is Severity.INFO


def test_rules_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check"]) == 0
    assert "rules OK" in capsys.readouterr().out
    bad = write(tmp_path, "[limits]\nattachment-max-mb = 3\n")
    assert main(["rules", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "limits.attachment-max-mb" in err and str(bad) in err and "Traceback" not in err


def test_example_override_loads_when_uncommented(tmp_path: Path) -> None:
    """rules/local.toml.example documents real keys: uncommented, it must load."""
    import re

    example = (SHIPPED.parent / "local.toml.example").read_text(encoding="utf-8")
    lines = []
    for line in example.splitlines():
        m = re.match(r"^# (\[.*\]|[a-z-]+ = .*)$", line)
        lines.append(m.group(1).split("  #")[0] if m else line)
    f = write(tmp_path, "\n".join(lines) + "\n")
    policy = load_policy(f)
    assert policy.rules.failure.on_error == "accept-unchecked"
    assert policy.rules.freemail.without_documents is Action.REJECT
