"""The decision log where it may only be read, as a provincial IT department sets it up: the
auditors' account reads the file but cannot write it or its directory, and the log is in WAL
mode (the gateway's setting).

- ``hople audit query``, ``show``, ``verify`` and ``report`` read it, whether the gateway is
  stopped (no ``-wal``/``-shm`` files) or running (records still in the WAL are seen), and
  create or change nothing;
- a ``-wal`` file left without its ``-shm`` (records the reader cannot see) is refused in one
  line, never read as if the file were the whole log;
- ``hople audit purge``, ``hople users`` and ``hople web`` need to write: one line, exit 2;
- the milter given a log it cannot write does not start (one line, exit 1): it never accepts
  mail it cannot record.

Read-only is a read-only bind mount of the log's directory when the tests run as root (root
ignores file modes), else the file and directory modes.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.audit.schema import LATEST
from gateway.audit.store import StoreError, open_store
from gateway.cli import main
from tests.audit.factory import doc, env, report
from tests.audit.test_audit_cli import populate
from tests.unit.test_milter_serve import _settings, _start


def _read_only_view(source: Path, view: Path) -> Iterator[Path]:
    """``source`` as someone who may only read it sees it."""
    if os.geteuid() != 0:
        modes = {p: p.stat().st_mode for p in [source, *source.iterdir()]}
        for p in source.iterdir():
            p.chmod(0o444)
        source.chmod(0o555)
        try:
            yield source
        finally:
            for p, mode in modes.items():
                p.chmod(mode)
        return
    view.mkdir()
    for cmd in (["mount", "--bind", str(source), str(view)],
                ["mount", "-o", "remount,ro,bind", str(view)]):
        cp = subprocess.run(cmd, capture_output=True, text=True)
        if cp.returncode != 0:
            subprocess.run(["umount", str(view)], capture_output=True)
            pytest.skip(f"cannot make a read-only bind mount here: {cp.stderr.strip()}")
    try:
        yield view
    finally:
        subprocess.run(["umount", "-l", str(view)], capture_output=True)


@pytest.fixture
def lib(tmp_path: Path) -> Path:
    """The gateway's directory with a log of four decisions, the gateway stopped."""
    d = tmp_path / "lib"
    d.mkdir()
    populate(f"sqlite:///{d / 'decisions.db'}")
    return d


@pytest.fixture
def ro(lib: Path, tmp_path: Path) -> Iterator[Path]:
    yield from _read_only_view(lib, tmp_path / "ro")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


READS = [
    ("audit", "query"),
    ("audit", "query", "--csv", "--domain", "lamdong.gov.vn"),
    ("audit", "show", "2", "--json"),
    ("audit", "verify"),
    ("audit", "report", "--month", "2026-03", "--csv"),
]


def test_the_auditors_commands_read_a_log_they_may_only_read(
        lib: Path, ro: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expected = {}
    for argv in READS:  # the same commands on the writable log, as the gateway's user
        code, out, err = _run(capsys, *argv, "--db", f"sqlite:///{lib / 'decisions.db'}")
        assert code == 0, err
        expected[argv] = out
    before = sorted(p.name for p in lib.iterdir())
    assert not any(n.endswith(("-wal", "-shm")) for n in before)  # the gateway is stopped
    for argv in READS:
        code, out, err = _run(capsys, *argv, "--db", f"sqlite:///{ro / 'decisions.db'}")
        assert (code, err) == (0, ""), (argv, err)
        assert out == expected[argv], argv
    assert "4 records verified" in expected[("audit", "verify")]
    assert sorted(p.name for p in lib.iterdir()) == before  # nothing created


def test_a_reader_sees_records_the_running_gateway_has_only_in_its_wal(
        lib: Path, ro: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With the gateway running, its last records may be in the ``-wal`` file only: a
    read-only reader must see them (reading the file alone would lose them)."""
    with open_store(f"sqlite:///{lib / 'decisions.db'}") as gateway:
        gateway.database.execute("PRAGMA wal_autocheckpoint = 0")
        new = gateway.record(report(doc("moi.docx", signed=True)), env(queue_id="E5"),
                             decided_at=datetime(2026, 4, 3, 9, tzinfo=UTC), action_taken="tagged")
        assert (lib / "decisions.db-wal").stat().st_size > 0
        code, out, err = _run(capsys, "audit", "query", "--queue-id", "E5",
                              "--db", f"sqlite:///{ro / 'decisions.db'}")
        assert (code, err) == (0, "")
        assert out.splitlines()[2].split()[0] == str(new)
        code, out, err = _run(capsys, "audit", "verify", "--db", f"sqlite:///{ro / 'decisions.db'}")
        assert code == 0 and "5 records verified" in out, out + err


def test_a_wal_without_its_shm_is_refused_not_read_without_it(
        tmp_path: Path, lib: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A ``-wal`` with records left beside the log but no ``-shm`` (a copy, a crash): a
    reader that cannot create the ``-shm`` cannot see those records, so it says so."""
    copy = tmp_path / "copy"
    copy.mkdir()
    with open_store(f"sqlite:///{lib / 'decisions.db'}") as gateway:
        gateway.database.execute("PRAGMA wal_autocheckpoint = 0")
        gateway.record(report(doc("moi.docx")), env(queue_id="E5"),
                       decided_at=datetime(2026, 4, 3, 9, tzinfo=UTC), action_taken="tagged")
        for name in ("decisions.db", "decisions.db-wal"):
            (copy / name).write_bytes((lib / name).read_bytes())
    for view in _read_only_view(copy, tmp_path / "copy-ro"):
        code, out, err = _run(capsys, "audit", "query", "--db",
                              f"sqlite:///{view / 'decisions.db'}")
        assert code == 2 and out == ""
        assert "cannot read the log" in err and "Traceback" not in err
        assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("argv", [
    ("audit", "purge", "--older-than", "12m"),
    ("users", "add", "thanhtra", "--generate"),
    ("users", "list"),
])
def test_commands_that_write_say_so_in_one_line(
        ro: Path, argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    data = (ro / "decisions.db").read_bytes()
    code, out, err = _run(capsys, *argv, "--db", f"sqlite:///{ro / 'decisions.db'}")
    assert code == 2, (out, err)
    assert "read-only here" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert (ro / "decisions.db").read_bytes() == data


def test_hople_web_does_not_start_on_a_log_it_cannot_write(
        ro: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The page keeps its accounts, sessions and access log in the log: refused at start."""
    secret = tmp_path / "web.key"
    secret.write_bytes(b"s" * 32)
    code, out, err = _run(capsys, "web", "--db", f"sqlite:///{ro / 'decisions.db'}",
                          "--listen", "127.0.0.1:1", "--secret-file", str(secret))
    assert code == 2 and "read-only here" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_the_milter_does_not_start_on_a_log_it_cannot_write(ro: Path, tmp_path: Path) -> None:
    """Started, it would have to accept or refuse mail it cannot record: it stops instead."""
    cfg = _settings(tmp_path, f"unix:{tmp_path / 'm.sock'}")
    cfg.write_text(cfg.read_text().replace(f"sqlite:///{tmp_path / 'decisions.db'}",
                                           f"sqlite:///{ro / 'decisions.db'}"))
    proc = _start(cfg)
    out, _ = proc.communicate(timeout=60)
    text = out.decode()
    assert proc.returncode == 1, text
    assert "hople: serve: decision log:" in text and "read-only here" in text
    assert "Traceback" not in text
    assert not (tmp_path / "m.sock").exists()


def test_a_reader_refuses_a_log_of_another_schema_instead_of_migrating_it(
        lib: Path, ro: Path) -> None:
    with contextlib.closing(sqlite3.connect(lib / "decisions.db")) as db, db:  # older version
        db.execute("DELETE FROM schema_version WHERE version = ?", (LATEST,))
    with pytest.raises(StoreError, match=f"version {LATEST - 1}, this gateway reads "
                                         f"version {LATEST}"):
        open_store(f"sqlite:///{ro / 'decisions.db'}", read_only=True)
    with contextlib.closing(sqlite3.connect(lib / "decisions.db")) as db, db:  # back again
        db.execute("INSERT INTO schema_version (version, summary, applied_at) "
                   "VALUES (?, 'restored', '2026-12-06T00:00:00Z')", (LATEST,))
    with open_store(f"sqlite:///{ro / 'decisions.db'}", read_only=True) as s:
        assert s.count() == 4


def test_a_missing_log_is_not_created_by_a_reader(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such log file"):
        open_store(f"sqlite:///{tmp_path / 'absent.db'}", read_only=True)
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_open_reads_and_checks_the_schema_on_each_backend(backend_url: str) -> None:
    """PostgreSQL too: a reader (an auditors' role may have only SELECT) migrates nothing."""
    populate(backend_url)
    with open_store(backend_url, read_only=True) as reader:
        assert reader.count() == 4 and reader.verify().ok
        assert [d.queue_id for d in reader.query(oldest_first=True)] == ["A1", "B2", "C3", "D4"]
    with open_store(backend_url) as writer, writer.lock:
        writer.database.execute("DELETE FROM schema_version WHERE version = ?", (LATEST,))
    with pytest.raises(StoreError, match=f"this gateway reads version {LATEST}"):
        open_store(backend_url, read_only=True)
