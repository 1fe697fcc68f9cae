"""`hople check`: human and JSON Lines output, exit codes, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import __version__
from gateway.cli import main
from tests.unit.test_intake import docx_bytes, png_bytes
from tests.unit.test_pipeline_core import message


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {
        "clean.eml": message(),
        "freemail.eml": message("a@gmail.com", [("a.png", png_bytes(), "image/png")]),
        "scan.png": png_bytes(),
        "plan.docx": docx_bytes(),
        "broken.docx": docx_bytes()[:200],
    }
    paths = {}
    for name, data in out.items():
        p = tmp_path / name
        p.write_bytes(data)
        paths[name] = p
    return paths


def test_json_lines_in_input_order(files: dict[str, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    order = ["scan.png", "clean.eml", "plan.docx"]
    rc = main(["check", "--json", *[str(files[n]) for n in order]])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    reports = [json.loads(line) for line in lines]
    assert [r["input"] for r in reports] == [str(files[n]) for n in order]
    assert [r["kind"] for r in reports] == ["document", "message", "document"]
    assert [r["verdict"] for r in reports] == ["valid", "no-documents", "invalid"]
    assert rc == 1


def test_exit_zero_when_all_valid(files: dict[str, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(files["scan.png"]), str(files["clean.eml"])]) == 0
    out = capsys.readouterr().out
    assert "VALID" in out and "NO-DOCUMENTS" in out


def test_free_mail_message_reports_rejection(files: dict[str, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--json", str(files["freemail.eml"])]) == 1
    r = json.loads(capsys.readouterr().out)
    assert r["verdict"] == "rejected" and r["smtp_reply"].startswith("550 5.7.1")


def test_damaged_file_is_a_finding_not_an_error(files: dict[str, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", "--json", str(files["broken.docx"])])
    captured = capsys.readouterr()
    assert rc == 1 and "Traceback" not in captured.err
    r = json.loads(captured.out)
    assert r["verdict"] == "invalid"
    assert r["documents"][0]["findings"]


def test_unreadable_path_is_a_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gateway", "check", str(tmp_path / "absent.eml")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "absent.eml" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_bad_options(files: dict[str, Path],
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--at", "yesterday", str(files["scan.png"])]) == 2
    assert "--at" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["check"])
    assert info.value.code == 2


def test_rules_option(files: dict[str, Path], tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    rules = tmp_path / "r.toml"
    rules.write_text("[freemail]\nwith-documents = \"accept\"\n", encoding="utf-8")
    # delivered instead of refused, but still not a valid official document
    assert main(["check", "--json", "--rules", str(rules), str(files["freemail.eml"])]) == 1
    r = json.loads(capsys.readouterr().out)
    assert (r["action"], r["verdict"], r["smtp_reply"]) == ("accept", "invalid", None)
    bad = tmp_path / "bad.toml"
    bad.write_text("[nope]\n", encoding="utf-8")
    assert main(["check", "--rules", str(bad), str(files["scan.png"])]) == 2


def test_version() -> None:
    proc = subprocess.run([sys.executable, "-m", "gateway", "--version"], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and proc.stdout.strip() == f"hople-gateway {__version__}"


def test_inspector_failure_prints_no_traceback(files: dict[str, Path],
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from gateway import pipeline as pipeline_mod

    def boom(doc, ctx):
        raise RuntimeError("exploded")

    monkeypatch.setattr(pipeline_mod, "inspectors_for", lambda fmt: [boom])
    rc = main(["check", "--json", str(files["scan.png"])])
    out, err = capsys.readouterr()
    assert rc == 1 and json.loads(out)["verdict"] == "invalid"
    assert "Traceback" not in err
    assert main(["-v", "check", str(files["scan.png"])]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "exploded" in err
