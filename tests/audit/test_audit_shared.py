"""Pieces shared by ``hople audit``, ``hople users``/``hople web`` and the web page: the
catalogue texts of a stored finding and the commands' error guard."""

from __future__ import annotations

import argparse
import dataclasses
import sqlite3
from pathlib import Path

import pytest

from gateway.audit import render
from gateway.audit.guard import guard
from gateway.audit.records import Decision
from gateway.cli import main
from gateway.cli_common import UsageError
from gateway.model import catalog
from tests.audit.test_audit_cli import populate, run


def break_text(monkeypatch: pytest.MonkeyPatch) -> str:
    """EDITABLE_NOT_SIGNED with texts that cannot be filled (a stray brace, an index);
    the log is written before (recording renders the texts with the real catalogue)."""
    spec = catalog.CATALOG["EDITABLE_NOT_SIGNED"]
    bad = dataclasses.replace(spec, vi="Tệp {name} {0} lỗi", en="File {name} { broken")
    monkeypatch.setitem(catalog.CATALOG, "EDITABLE_NOT_SIGNED", bad)
    return "EDITABLE_NOT_SIGNED"


def test_catalogue_texts_fill_the_name_and_a_missing_parameter() -> None:
    vi, en = render.catalog_texts("SENDER_FREEMAIL", "x.docx")
    assert "…" in en and "{" not in en and vi
    assert render.catalog_texts("NO_SUCH_CODE", "x") == ("", "")


def test_catalogue_texts_that_cannot_be_filled_are_shown_unfilled(
        monkeypatch: pytest.MonkeyPatch) -> None:
    broken_text = break_text(monkeypatch)
    assert render.catalog_texts(broken_text, "a.docx") == ("Tệp {name} {0} lỗi",
                                                           "File {name} { broken")


def test_audit_show_uses_the_same_filling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    populate(url)
    break_text(monkeypatch)
    code, out, err = run(capsys, "audit", "show", "--db", url, "4")
    assert code == 0, err
    assert "File {name} { broken" in out


def test_web_decision_page_uses_the_same_filling(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.web.conftest import make_site
    from tests.web.test_web_app import signed_in

    site = make_site(tmp_path)
    broken_text = break_text(monkeypatch)
    try:
        client = signed_in(site)
        d: Decision | None = next(
            (x for x in site.store.query(limit=100)
             if any(f.code == broken_text for doc in x.documents for f in doc.findings)), None)
        assert d is not None
        r = client.get(f"/decisions/{d.id}")
        assert r.status_code == 200
        assert "File {name} { broken" in r.text
    finally:
        site.store.close()


@pytest.mark.parametrize("argv", [["audit", "query"], ["users", "list"]],
                         ids=["audit", "users"])
def test_a_file_that_is_not_a_database_is_one_line_for_both_commands(
        tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not an SQLite database" * 100)
    assert main([*argv, "--db", f"sqlite:///{junk}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hople: {argv[0]}: ") or f"{argv[0]}: " in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(("exc", "line"), [
    (sqlite3.OperationalError("disk I/O error\nat page 7"), "database error: disk I/O error"),
    (sqlite3.DatabaseError(""), "database error: DatabaseError"),
], ids=["first-line", "no-message"])
def test_a_database_error_inside_a_command_is_its_first_line(exc: Exception, line: str) -> None:
    """The guard names a driver error by its first line (the type when it has no text), with
    the same helper as the store."""

    @guard
    def command(args: argparse.Namespace) -> int:
        raise exc

    with pytest.raises(UsageError) as info:
        command(argparse.Namespace(command="audit"))
    assert str(info.value) == f"audit: {line}"
