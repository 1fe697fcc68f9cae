"""The project's own conventions: every finding code is complete and cites a real provision,
imports point one way, and only the milter adapter knows about pymilter."""

from __future__ import annotations

import ast
import re
import unicodedata
from pathlib import Path

import pytest

from gateway.model.articles import ARTICLES, article_label_vi
from gateway.model.catalog import CATALOG
from gateway.model.findings import Action, Severity

ROOT = Path(__file__).resolve().parents[2]
GATEWAY = ROOT / "gateway"
DECISION = ROOT.parent / "shared" / "regulation" / "decision-12-2012-QD-UBND.vi.txt"
VIETNAMESE = re.compile(r"[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]",
                        re.IGNORECASE)


@pytest.mark.parametrize("code", sorted(CATALOG))
def test_every_code_is_complete(code: str) -> None:
    spec = CATALOG[code]
    assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", code), "codes are UPPER_SNAKE with a group"
    assert spec.article in ARTICLES, (
        f"{code} cites {spec.article}, not in gateway/model/articles.py")
    assert isinstance(spec.severity, Severity) and isinstance(spec.action, Action)
    assert spec.vi.strip() and spec.en.strip()
    assert VIETNAMESE.search(spec.vi), f"{code}: the Vietnamese text has no Vietnamese letters"
    assert unicodedata.is_normalized("NFC", spec.vi), f"{code}: Vietnamese text is not NFC"
    assert spec.vi != spec.en
    code_, status = spec.smtp.split(" ")
    assert code_[0] == "5" and status.startswith("5."), "reject replies are permanent (5xx)"


def test_articles_exist_in_the_decision() -> None:
    if not DECISION.exists():
        pytest.skip("regulation text not present")
    text = DECISION.read_text(encoding="utf-8")
    body = text[text.index("QUY CHẾ"):] if "QUY CHẾ" in text else text
    for article in ARTICLES:
        number = article.split(".")[0]
        assert re.search(rf"^Điều {number}\.", body, re.MULTILINE), article
    assert article_label_vi("9.2a") == "điểm a khoản 2 Điều 9"
    assert article_label_vi("5.2") == "khoản 2 Điều 5"


def test_codes_used_in_code_exist() -> None:
    used: set[str] = set()
    for py in GATEWAY.rglob("*.py"):
        text = py.read_text(encoding="utf-8")
        for m in re.finditer(r"make_finding\(\s*[\"']([A-Z0-9_]+)[\"']", text):
            used.add(m.group(1))
    missing = sorted(used - set(CATALOG))
    assert not missing, f"codes used but not in the catalogue: {missing}"


def _imports(py: Path) -> set[str]:
    tree = ast.parse(py.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
    return out


def _layer_files(layer: str) -> list[Path]:
    base = GATEWAY / layer
    return sorted(base.rglob("*.py")) if base.is_dir() else [GATEWAY / f"{layer}.py"]


def test_only_the_milter_adapter_imports_pymilter() -> None:
    offenders = [
        str(py.relative_to(ROOT))
        for py in GATEWAY.rglob("*.py")
        if "milter" not in py.relative_to(GATEWAY).parts[:1]
        and any(m == "Milter" or m.startswith("Milter.") or m == "milter" for m in _imports(py))
    ]
    assert not offenders


def test_model_imports_nothing_of_ours_but_model() -> None:
    for py in _layer_files("model"):
        ours = {m for m in _imports(py) if m.startswith("gateway")}
        assert all(m.startswith("gateway.model") for m in ours), (py.name, ours)


FORBIDDEN_FOR_INSPECTORS = ("gateway.milter", "gateway.audit", "gateway.notices",
                            "gateway.pipeline", "gateway.cli", "gateway.trust", "socket",
                            "urllib.request", "http.client", "requests", "smtplib")


def test_inspectors_are_pure() -> None:
    """No network, no MTA, no log store: inspectors get the clock and trust passed in."""
    for py in _layer_files("inspect"):
        bad = {m for m in _imports(py) if m.startswith(FORBIDDEN_FOR_INSPECTORS)}
        assert not bad, (str(py.relative_to(ROOT)), bad)


def test_the_shared_zip_read_imports_nothing_of_ours() -> None:
    """intake and inspect both read ZIP members through it, so it sits below both."""
    ours = {m for m in _imports(GATEWAY / "zip_member.py") if m.startswith("gateway")}
    assert not ours


def test_the_shared_event_loop_imports_nothing_of_ours() -> None:
    """trust and inspect both run pyHanko's coroutines through it, so it sits below both."""
    ours = {m for m in _imports(GATEWAY / "event_loop.py") if m.startswith("gateway")}
    assert not ours


def test_intake_does_not_import_the_inspectors() -> None:
    for py in _layer_files("intake"):
        bad = {m for m in _imports(py) if m.startswith("gateway.inspect")}
        assert not bad, (str(py.relative_to(ROOT)), bad)


def test_policy_and_intake_do_not_reach_up() -> None:
    up = ("gateway.milter", "gateway.audit", "gateway.notices", "gateway.pipeline", "gateway.cli")
    for layer in ("policy", "intake"):
        for py in _layer_files(layer):
            bad = {m for m in _imports(py) if m.startswith(up)}
            assert not bad, (str(py.relative_to(ROOT)), bad)


def test_no_machine_paths_in_the_tree() -> None:
    pattern = re.compile("/" + "work/|/" + "tmp/hople")
    hits = []
    for path in ROOT.rglob("*"):
        if any(p in (".git", ".venv", "__pycache__", ".pytest_cache") for p in path.parts):
            continue
        if path.is_file() and path.suffix in {".py", ".md", ".toml", ".txt", ".service", ".cfg",
                                              ""}:
            try:
                if pattern.search(path.read_text(encoding="utf-8")):
                    hits.append(str(path.relative_to(ROOT)))
            except (UnicodeDecodeError, OSError):
                continue
    assert not hits
