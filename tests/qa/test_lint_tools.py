"""scripts/strip_unused_ignores.py (part of scripts/lint-fix.sh) removes exactly what mypy
reports as unused, and the lint configuration names the checks the project relies on."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "strip_unused_ignores.py"


def _strip(tmp_path: Path, source: str, report: str) -> str:
    f = tmp_path / "m.py"
    f.write_text(source, encoding="utf-8")
    out = subprocess.run([sys.executable, str(SCRIPT)], input=report.replace("F", str(f)),
                         capture_output=True, text=True, check=True)
    assert (f"{f}: " in out.stdout) == ("Unused" in report)
    return f.read_text(encoding="utf-8")


def test_whole_ignore_removed_and_used_ones_kept(tmp_path: Path) -> None:
    src = ("a = f()  # type: ignore\n"
           "b = g()  # type: ignore[arg-type]\n"
           "c = h()  # type: ignore[misc]  # why\n")
    report = ('F:1: error: Unused "type: ignore" comment  [unused-ignore]\n'
              'F:3: error: Unused "type: ignore" comment  [unused-ignore]\n'
              "Found 2 errors in 1 file\n")
    assert _strip(tmp_path, src, report) == ("a = f()\n"
                                             "b = g()  # type: ignore[arg-type]\n"
                                             "c = h()  # why\n")


def test_only_the_unused_codes_of_a_list_go(tmp_path: Path) -> None:
    src = "x = d[k].y  # type: ignore[index, attr-defined]\n"
    report = 'F:1: error: Unused "type: ignore[index]" comment  [unused-ignore]\n'
    assert _strip(tmp_path, src, report) == "x = d[k].y  # type: ignore[attr-defined]\n"


def test_other_errors_leave_the_file_alone(tmp_path: Path) -> None:
    src = "x = 1  # type: ignore[assignment]\n"
    report = 'F:1: error: Incompatible types in assignment  [assignment]\n'
    assert _strip(tmp_path, src, "") == src
    assert _strip(tmp_path, src, report) == src


def test_lint_configuration_names_the_bug_catching_rules() -> None:
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lint = conf["tool"]["ruff"]["lint"]
    assert {"F", "B", "BLE", "UP", "I"} <= set(lint["select"])
    assert conf["tool"]["ruff"]["line-length"] == 100
    mypy = conf["tool"]["mypy"]
    assert mypy["warn_unused_ignores"] is True
    strict = [o for o in mypy["overrides"] if "gateway.pipeline" in o["module"]]
    assert strict and strict[0]["disallow_untyped_defs"] is True
    # `strict = true` in an override silently applies to every module: never use it there
    assert all("strict" not in o for o in mypy["overrides"])
