"""python-docx is in the ``demo`` extra, not a runtime dependency: ``make demo`` on an install
without it stops with one line naming the extra, before starting anything."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from gateway import demo, lab


def test_demo_without_python_docx_names_the_extra(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "docx" else real(name, *args)

    monkeypatch.setattr(lab, "unavailable_reason", lambda: None)
    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    monkeypatch.setattr(lab, "Lab", lambda **kw: pytest.fail("the demo must not start"))
    assert demo.run() == 2
    err = capsys.readouterr().err
    assert "python-docx is not installed" in err and ".[demo]" in err


def test_the_demo_extra_is_installed_here() -> None:
    """The dev install (scripts/bootstrap.sh) includes what the demo needs."""
    assert importlib.util.find_spec("docx") is not None
    assert demo.sample_docx().startswith(b"PK\x03\x04")
