"""``hople check`` output: library warnings go to the log at debug level (on stderr only with
``-v``), and a signature that is not confirmed shows its reasons."""

from __future__ import annotations

import logging
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from gateway import cli
from tests.pdfgen.build import born_digital_pdf


@pytest.fixture
def restore_logging(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


class LibraryWarning(UserWarning):
    pass


@pytest.mark.parametrize("verbose,shown", [(0, False), (1, True)])
def test_warnings_become_log_records(restore_logging, capsys, caplog, verbose, shown):
    cli._setup_logging(verbose)
    with caplog.at_level(logging.DEBUG, logger="py.warnings"), warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("old algorithm", LibraryWarning, stacklevel=1)
    (record,) = [r for r in caplog.records if r.name == "py.warnings"]
    assert "LibraryWarning: old algorithm" in record.getMessage()
    assert record.levelno == (logging.WARNING if shown else logging.DEBUG)
    assert ("old algorithm" in capsys.readouterr().err) is shown


def test_check_prints_no_library_warning_without_v(tmp_path: Path) -> None:
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(born_digital_pdf(1))  # pyHanko is imported: cryptography warns on import

    def run(*args: str) -> str:
        return subprocess.run([sys.executable, "-W", "default", "-m", "gateway", *args, "check",
                               str(pdf)], capture_output=True, text=True).stderr

    quiet = run()
    assert "Warning" not in quiet and quiet == ""
    loud = run("-v")
    if "CryptographyDeprecationWarning" in loud:  # while the library still warns
        assert loud.startswith("hople: WARNING: py.warnings: CryptographyDeprecationWarning")


def test_check_text_output_names_the_reasons(pki, tmp_path: Path, capsys) -> None:
    from datetime import timedelta

    from tests import signer as S

    parts = S.sign_ooxml(S.make_ooxml(), pki.leaf.key, pki.leaf.cert, chain=pki.chain(pki.leaf),
                         digest="sha1", signing_time=pki.now - timedelta(days=1))
    path = tmp_path / "a.docx"
    path.write_bytes(S.zip_package(parts))
    assert cli.main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "reasons=digest-not-allowed" in out and "ALG_DIGEST_NOT_ALLOWED" in out
