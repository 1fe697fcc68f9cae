"""`hople check`'s readable report shows names and finding texts from a sender with their
control and bidirectional characters as ``<U+XXXX>``, as the audit commands do (one
implementation, ``gateway.model.display``): ``invoice\\u202efdp.exe.docx`` is never shown
reordered, and an escape sequence in a name cannot drive the terminal."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit import display as audit_display
from gateway.cli import main
from gateway.model import display
from tests.unit.test_intake import docx_bytes
from tests.unit.test_pipeline_core import message

RLO_NAME = "invoice\u202efdp.exe.docx"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def test_a_bidi_file_name_in_a_message_is_shown_escaped(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    eml = tmp_path / "m.eml"
    eml.write_bytes(message(attachments=[(RLO_NAME, docx_bytes(), DOCX_TYPE),
                                         ("a\x1b[2Jb.docx", docx_bytes(), DOCX_TYPE)]))
    rc = main(["check", str(eml)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "\u202e" not in out and "\x1b" not in out
    assert "invoice<U+202E>fdp.exe.docx" in out  # the document line and its findings' texts
    assert "a<U+001B>[2Jb.docx" in out


def test_a_bidi_input_path_is_shown_escaped(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / RLO_NAME
    doc.write_bytes(docx_bytes())
    main(["check", str(doc)])
    out = capsys.readouterr().out
    assert "\u202e" not in out and out.count("invoice<U+202E>fdp.exe.docx") >= 2


def test_the_audit_commands_use_the_same_implementation() -> None:
    assert audit_display.visible is display.visible


def test_a_refused_message_shows_its_smtp_reply(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    eml = tmp_path / "free.eml"
    eml.write_bytes(message("a@gmail.com", [("x.docx", docx_bytes(), DOCX_TYPE)]))
    assert main(["check", str(eml)]) == 1
    out = capsys.readouterr().out
    assert "REJECTED" in out and "  SMTP reply: 550 5.7.1 " in out


def test_an_exception_is_reported_on_one_bounded_line() -> None:
    from gateway.model.display import one_line

    assert one_line(ValueError("bad\n  xref\ttable")) == "bad xref table"
    assert one_line(OSError(" \n ")) == "OSError"  # no text: its type, never an empty reason
    long = one_line(RuntimeError("x" * 500), 300)
    assert len(long) == 300 and long.endswith("…")
