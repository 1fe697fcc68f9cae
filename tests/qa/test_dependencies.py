"""The dependencies in pyproject.toml say the truth: every third-party package the gateway
imports is declared, every declared runtime dependency is imported, test- and demo-only
packages are extras, and constraints.txt pins each of them (scripts/bootstrap.sh installs
with it)."""

from __future__ import annotations

import ast
import importlib.metadata as md
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
# imported only by `make demo` (gateway/demo.py), which checks for it and names the extra
DEMO_ONLY = {"python-docx"}


def _name(requirement: str) -> str:
    name = re.match(r"[A-Za-z0-9._-]+", requirement)
    assert name, requirement
    return re.sub(r"[-_.]+", "-", name.group(0)).lower()


def _imported_distributions() -> dict[str, set[str]]:
    """Distribution (normalised name) → files of gateway/ that import it."""
    tops = md.packages_distributions()
    out: dict[str, set[str]] = {}
    for py in (ROOT / "gateway").rglob("*.py"):
        for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for top in {n.split(".")[0] for n in names}:
                if top in sys.stdlib_module_names or top == "gateway":
                    continue
                dists = tops.get(top)
                assert dists, f"{py.relative_to(ROOT)} imports {top}, which nothing installs"
                # pyhanko is provided by pyHanko (pyhanko-cli adds a subpackage to it)
                dist = "pyhanko" if "pyHanko" in dists else dists[0]
                out.setdefault(_name(dist), set()).add(str(py.relative_to(ROOT)))
    return out


def test_every_imported_package_is_declared_and_every_runtime_one_is_imported() -> None:
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    imported = _imported_distributions()
    undeclared = {d: sorted(f) for d, f in imported.items()
                  if d not in runtime and d not in DEMO_ONLY}
    assert undeclared == {}
    assert sorted(runtime - set(imported)) == []
    assert imported.get("python-docx") == {"gateway/demo.py"}


def test_test_and_demo_packages_are_extras_not_runtime() -> None:
    runtime = {_name(r) for r in PROJECT["dependencies"]}
    extras = PROJECT["optional-dependencies"]
    for name in ("python-docx", "openpyxl", "pytest", "ruff", "mypy", "chardet", "defusedxml"):
        assert name not in runtime, name
    assert "python-docx" in {_name(r) for r in extras["demo"]}
    assert {"python-docx", "openpyxl", "ruff", "mypy"} <= {_name(r) for r in extras["dev"]}


def test_dependencies_whose_internals_we_use_have_an_upper_bound() -> None:
    bounded = {_name(r): r for r in PROJECT["dependencies"] if "<" in r}
    assert {"pymilter", "pyhanko", "pyhanko-certvalidator"} <= set(bounded)


def test_constraints_pin_every_declared_dependency_but_not_the_project() -> None:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line}"
            pins[_name(name)] = version
    assert "hople-gateway" not in pins
    declared = [*PROJECT["dependencies"], *PROJECT["optional-dependencies"]["dev"],
                *PROJECT["optional-dependencies"]["demo"]]
    missing = sorted({_name(r) for r in declared} - set(pins))
    assert missing == []
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    assert "-c constraints.txt" in bootstrap
