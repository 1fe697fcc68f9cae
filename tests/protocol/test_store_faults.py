"""The decision log unavailable, through a real Postfix: SQLite on a full disk, PostgreSQL
stopped. (A log that is read-only when the gateway starts stops the start:
tests/audit/test_audit_read_only.py; a tmpfs cannot be remounted read-only under an open
database.) A message whose decision cannot be recorded gets no final answer (451, the sender's
server retries; a refusal is given once the log can say so); once the log is back, the retried
messages are delivered once with their headers, nothing is lost, and the chain verifies.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from gateway.lab import Lab, unavailable_reason
from tests.protocol.test_faults import (
    _fill,
    build_batch,
    reconcile,
    retry_until_answered,
    send_all,
)

pytestmark = pytest.mark.postfix


@pytest.fixture(scope="module")
def logfs() -> Iterator[Path]:
    """A small tmpfs of its own for the SQLite decision log."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    d = Path(tempfile.mkdtemp(prefix="hople-logfs-"))
    cp = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(d)],
                        capture_output=True, text=True)
    if cp.returncode != 0:
        d.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {cp.stderr.strip()}")
    try:
        yield d
    finally:
        subprocess.run(["umount", "-l", str(d)], capture_output=True)
        d.rmdir()


@pytest.fixture(scope="module")
def lab(logfs: Path) -> Iterator[Lab]:
    lab = Lab(workers=2, store_url=f"sqlite:///{logfs / 'decisions.db'}")
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


def _faulty_round(lab: Lab, new_message: Callable[..., EmailMessage], label: str,
                  fault: Callable[[], None], recover: Callable[[], None]) -> None:
    lab.store().close()  # the test's own reader must not hold the file during the fault
    lab._store = None
    batch = build_batch(new_message, 9, label)
    fault()
    try:
        first = send_all(lab, batch, clients=3)
    finally:
        recover()
    codes = [t.final for t in first]
    refused = [c for (kind, _), c in zip(batch, codes, strict=True) if kind == "freemail"]
    assert all(code in (550, 451) for code, _ in refused), refused
    tempfailed = [c for c in codes if c[0] == 451]
    assert tempfailed, f"the fault must cost some answers: {codes}"
    assert all(text.startswith("4.3.0") for _, text in tempfailed), tempfailed
    assert "cannot record the decision" in lab.gateway_log()
    last, attempts = retry_until_answered(lab, batch, first)
    reconcile(lab, batch, last, attempts, label)


def test_sqlite_disk_full(lab: Lab, logfs: Path, new_message) -> None:
    fill: list[Path] = []
    _faulty_round(lab, new_message, "log-disk-full",
                  lambda: fill.append(_fill(logfs, 0)), lambda: fill[0].unlink())


def test_postgresql_stopped(lab: Lab, pg_server, new_message) -> None:
    url = pg_server.create_db("faults")
    lab.stop_gateway()
    lab._store_url = url
    lab._write_gateway_config()
    lab.start_gateway()
    ctl = str(pg_server.bindir / "pg_ctl")
    opts = (f"-c listen_addresses=127.0.0.1 -c port={pg_server.port} "
            f"-c unix_socket_directories={pg_server.root} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")

    def stop() -> None:
        pg_server._run(ctl, "-D", str(pg_server.datadir), "-m", "fast", "-w", "stop")

    def start() -> None:
        cp = pg_server._run(ctl, "-D", str(pg_server.datadir), "-o", opts, "-l",
                            str(pg_server.root / "log"), "-w", "-t", "60", "start", check=False)
        assert cp.returncode == 0, cp.stdout + cp.stderr + (pg_server.root / "log").read_text()

    try:
        _faulty_round(lab, new_message, "postgresql-stopped", stop, start)
    finally:
        status = pg_server._run(ctl, "-D", str(pg_server.datadir), "status", check=False)
        if status.returncode == 3:  # stopped: leave the shared server running for the others
            start()
