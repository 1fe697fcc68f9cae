"""The ``hople`` command's modules import one way: ``gateway/cli.py`` registers the subcommand
modules of each layer, and they take their error type from ``gateway/cli_common.py``, never
from ``gateway.cli`` (which would make a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.cli_common import UsageError, parse_time

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "gateway"


def _gateway_imports(py: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return {m for m in out if m.startswith("gateway")}


def test_no_module_imports_the_command_back() -> None:
    offenders = sorted(
        str(py.relative_to(ROOT)) for py in GATEWAY.rglob("*.py")
        if py.name != "__main__.py" and "gateway.cli" in _gateway_imports(py)
    )
    assert offenders == []


def test_the_shared_module_imports_nothing_of_ours() -> None:
    assert _gateway_imports(GATEWAY / "cli_common.py") == set()


def test_usage_errors_of_the_check_and_of_a_subcommand_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # raised in gateway/cli.py (the check command's --at)
    msg = tmp_path / "x.eml"
    msg.write_bytes(b"From: a@example.org\r\nSubject: x\r\n\r\nbody\r\n")
    assert main(["check", "--at", "soon", str(msg)]) == 2
    assert "--at: not an ISO time: 'soon'" in capsys.readouterr().err
    # raised in a subcommand module (notices) with the same type
    assert main(["notices", "retry", "--db", f"sqlite:///{tmp_path / 'd.db'}"]) == 2
    assert "give notice ids or --failed" in capsys.readouterr().err


def test_parse_time_reads_iso_and_names_the_option() -> None:
    assert parse_time("2026-01-02T03:04:05+07:00").utcoffset() is not None
    assert parse_time("2026-01-02T03:04:05").tzinfo is not None  # naive: local time
    with pytest.raises(UsageError, match="--since: not an ISO time"):
        parse_time("yesterday", "--since")
