"""Settings file: defaults, the documented example, strict errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.policy.strict import RulesError
from gateway.settings import Settings, load_settings, parse_socket

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "etc" / "gateway.toml.example"


def test_defaults() -> None:
    s = load_settings(None)
    assert s.milter.socket == "unix:/run/hople/milter.sock"
    assert s.store.url == "sqlite:////var/lib/hople/decisions.db"
    assert s.milter.workers == 2
    assert s.milter.spool_memory_bytes == 1024 * 1024
    assert s.rules_path is None
    assert s.trust.anchor_dirs == ()
    assert s.log.level == "info"


def test_example_documents_every_default() -> None:
    """The example file sets every key to its default: it is the reference."""
    assert load_settings(EXAMPLE) == Settings()
    text = EXAMPLE.read_text(encoding="utf-8")
    import dataclasses

    for section in dataclasses.fields(Settings):
        assert f"[{section.name}]" in text
        for f in dataclasses.fields(getattr(Settings(), section.name)):
            assert f"\n{f.name.replace('_', '-')} = " in text, f"{section.name}.{f.name}"


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "gateway.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_values_and_relative_paths(tmp_path: Path) -> None:
    p = _write(tmp_path, """
[milter]
socket = "inet:8891@127.0.0.1"
workers = 4
[rules]
override = "local.toml"
[notices]
marker-secret-file = "keys/notice.key"
[trust]
anchor-dirs = ["anchors", "/etc/hople/anchors"]
[log]
level = "debug"
""")
    s = load_settings(p)
    assert s.milter.socket == "inet:8891@127.0.0.1"
    assert s.milter.workers == 4
    assert s.rules_path == tmp_path / "local.toml"
    assert s.notices.marker_secret_file == str(tmp_path / "keys" / "notice.key")
    assert s.trust.anchor_dirs == (str(tmp_path / "anchors"), "/etc/hople/anchors")
    assert s.log.level == "debug"


@pytest.mark.parametrize(
    ("text", "key", "reason"),
    [
        ('[milter]\nsokcet = "unix:/x"\n', "milter.sokcet", "unknown key"),
        ("[milter]\nworkers = 0\n", "milter", "workers must be between 1 and 64"),
        ('[milter]\nworkers = "2"\n', "milter.workers", "expected an integer"),
        ('[milter]\nsocket = "tcp:25"\n', "milter", "socket"),
        ('[milter]\nsocket = "inet:70000@127.0.0.1"\n', "milter", "out of range"),
        ('[milter]\nsocket = "unix:relative.sock"\n', "milter", "socket"),
        ('[milter]\nsocket-mode = "rw"\n', "milter", "octal"),
        ('[milter]\nspool-dir = "spool"\n', "milter", "absolute"),
        ('[log]\nlevel = "loud"\n', "log", "level must be one of"),
        ("[notices]\nsmtp-port = 0\n", "notices", "out of range"),
        ('[trust]\nanchor-dirs = "x"\n', "trust.anchor-dirs", "expected a list"),
        ("[store]\nurl = 5\n", "store.url", "expected a string"),
    ],
)
def test_errors_name_file_key_and_reason(tmp_path: Path, text: str, key: str, reason: str) -> None:
    p = _write(tmp_path, text)
    with pytest.raises(RulesError) as ei:
        load_settings(p)
    msg = str(ei.value)
    assert str(p) in msg
    assert f": {key}" in msg
    assert reason in msg
    assert "\n" not in msg


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="not valid TOML"):
        load_settings(_write(tmp_path, "[milter\n"))
    with pytest.raises(RulesError, match="cannot read"):
        load_settings(tmp_path / "absent.toml")


def test_parse_socket() -> None:
    assert parse_socket("unix:/run/hople/milter.sock") == ("unix", "/run/hople/milter.sock", None)
    assert parse_socket("local:/a/b") == ("unix", "/a/b", None)
    assert parse_socket("inet:8891@localhost") == ("inet", 8891, "localhost")
    with pytest.raises(ValueError):
        parse_socket("inet:@localhost")


def test_serve_rejects_a_bad_settings_file(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from gateway.cli import main

    p = _write(tmp_path, "[milter]\nworkers = -1\n")
    assert main(["serve", "--config", str(p)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hople: settings error: ") and "workers" in err and str(p) in err
    assert "Traceback" not in err
