"""The worker pool with real processes: a report comes back, a hung worker is killed and
replaced at the deadline without losing the pool, a dead worker is replaced, errors are
reported, a worker is recycled after max_jobs."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from gateway.milter.pool import DeadlineExceeded, WorkerFailed, WorkerPool, send_request
from gateway.model.envelope import Envelope
from gateway.model.report import MessageReport, Verdict

MSG = (b"From: a@agency.gov.vn\r\nTo: b@agency.gov.vn\r\nSubject: t\r\n"
       b"Message-ID: <p1@x>\r\n\r\nhello\r\n")
ENV = Envelope(sender="a@agency.gov.vn", recipients=("b@agency.gov.vn",), queue_id="Q1")


@pytest.fixture(scope="module")
def pool():
    p = WorkerPool(1, max_jobs=1000)
    p.start()
    yield p
    p.close()


def _wait_for_worker(pool: WorkerPool, old: set[int], timeout: float = 30) -> int:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        pids = set(pool.pids())
        if pids and not (pids & old):
            return pids.pop()
        time.sleep(0.05)
    raise AssertionError("no replacement worker")


def test_report_from_a_worker(pool: WorkerPool) -> None:
    report = pool.run("bytes", MSG, ENV, "Q1", time.monotonic() + 30)
    assert isinstance(report, MessageReport)
    assert report.verdict is Verdict.NO_DOCUMENTS
    assert report.input == "Q1"


def test_path_source(pool: WorkerPool, tmp_path: Path) -> None:
    p = tmp_path / "m.eml"
    p.write_bytes(MSG)
    assert pool.run("path", str(p), ENV, "Q2", time.monotonic() + 30).input == "Q2"


def test_error_in_worker_is_reported(pool: WorkerPool, tmp_path: Path) -> None:
    before = set(pool.pids())
    with pytest.raises(WorkerFailed, match="FileNotFoundError"):
        pool.run("path", str(tmp_path / "absent.eml"), ENV, "Q3", time.monotonic() + 30)
    assert set(pool.pids()) == before  # the worker survives a failed message


def test_hung_worker_is_killed_at_the_deadline_and_replaced(pool: WorkerPool,
                                                            tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # opening it for reading blocks forever: a stuck check
    (old,) = pool.pids()
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded):
        pool.run("path", str(fifo), ENV, "Q4", time.monotonic() + 0.5)
    assert time.monotonic() - started < 5
    new = _wait_for_worker(pool, {old})
    assert new != old
    end = time.monotonic() + 5
    while os.path.exists(f"/proc/{old}") and time.monotonic() < end:
        time.sleep(0.05)
    assert not os.path.exists(f"/proc/{old}") or _zombie(old), "the hung worker must be gone"
    assert pool.run("bytes", MSG, ENV, "Q5", time.monotonic() + 30).input == "Q5"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z")
    except OSError:
        return True


def _wait_dead(pid: int, timeout: float = 10) -> None:
    end = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}") and not _zombie(pid):
        assert time.monotonic() < end, f"process {pid} still alive"
        time.sleep(0.01)


def test_dead_worker_is_replaced(pool: WorkerPool) -> None:
    (old,) = pool.pids()
    os.kill(old, signal.SIGKILL)
    _wait_dead(old)
    # the next message finds it dead, gets a replacement and is checked
    assert pool.run("bytes", MSG, ENV, "Q6", time.monotonic() + 30).input == "Q6"
    assert old not in pool.pids()


def test_a_killed_worker_is_seen_dead_before_it_is_reaped(pool: WorkerPool) -> None:
    """Its end of the pipe closes when it dies: no message is sent to it while the forkserver
    has not yet reported its exit."""
    (worker,) = list(pool._idle.queue)
    assert worker.alive()
    os.kill(worker.pid, signal.SIGKILL)
    _wait_dead(worker.pid)
    assert not worker.alive()
    # and the next message goes to its replacement
    assert pool.run("bytes", MSG, ENV, "Q5", time.monotonic() + 30).input == "Q5"
    assert worker.pid not in pool.pids()


def test_no_free_worker_within_the_deadline(pool: WorkerPool, tmp_path: Path) -> None:
    fifo = tmp_path / "fifo2"
    os.mkfifo(fifo)
    import threading

    (old,) = pool.pids()
    outcome: list[BaseException | object] = []

    def hold_the_worker() -> None:
        try:
            pool.run("path", str(fifo), ENV, "Q7", time.monotonic() + 2)
            outcome.append("returned")
        except BaseException as exc:  # noqa: BLE001 - examined by the test thread below
            outcome.append(exc)

    t = threading.Thread(target=hold_the_worker)
    t.start()
    end = time.monotonic() + 10
    while not pool._idle.empty():  # the event: the only worker is taken
        assert time.monotonic() < end, "the first message never took the worker"
        time.sleep(0.01)
    with pytest.raises(DeadlineExceeded, match="no free worker"):
        pool.run("bytes", MSG, ENV, "Q8", time.monotonic() + 0.3)
    t.join(30)
    assert not t.is_alive()
    (result,) = outcome  # the stuck check itself failed at its own deadline
    assert isinstance(result, DeadlineExceeded), result
    _wait_for_worker(pool, {old})


def _wire(send: object, obj: object, sndbuf: int | None = None) -> tuple[bytes, object]:
    """What ``send(conn, obj)`` puts on a pipe, read raw, and what ``recv`` makes of it."""
    import socket
    import threading
    from multiprocessing.connection import Connection

    a, b = socket.socketpair()
    if sndbuf:
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    raw: list[bytes] = []
    reader = threading.Thread(target=lambda: raw.extend(iter(lambda: b.recv(4096), b"")))
    reader.start()
    conn = Connection(a.detach())
    send(conn, obj)  # type: ignore[operator]
    conn.close()
    reader.join(30)
    b.close()
    data = b"".join(raw)
    r, w = socket.socketpair()

    def write_back() -> None:
        w.sendall(data)
        w.close()

    threading.Thread(target=write_back).start()
    back = Connection(r.detach())
    try:
        return data, back.recv()
    finally:
        back.close()


@pytest.mark.parametrize("size", [0, 100, 16384, 65536, 300_000, 3_000_000])
def test_a_request_goes_on_the_wire_as_connection_send_puts_it(size: int) -> None:
    """The request writer skips the copy of the message into the pickle's buffer; the bytes
    on the wire are those of ``Connection.send`` (what the worker's ``recv`` reads), also
    when the socket takes them in several partial writes."""
    body = os.urandom(size)
    request = ("check", "bytes", body, ENV, "Q1")
    expected, _ = _wire(lambda c, o: c.send(o), request)
    for sndbuf in (None, 4096):
        wire, back = _wire(send_request, request, sndbuf)
        assert wire == expected
        assert back == request


def test_a_request_to_a_closed_pipe_raises_oserror() -> None:
    import socket
    from multiprocessing.connection import Connection

    a, b = socket.socketpair()
    b.close()
    conn = Connection(a.detach())
    with pytest.raises(OSError):
        send_request(conn, ("check", "bytes", b"x" * 200_000, ENV, "Q1"))
    conn.close()
    with pytest.raises(OSError):
        send_request(conn, ("check", "bytes", b"x", ENV, "Q1"))


def test_worker_recycled_after_max_jobs() -> None:
    p = WorkerPool(1, max_jobs=2)
    p.start()
    try:
        (first,) = p.pids()
        p.run("bytes", MSG, ENV, "a", time.monotonic() + 30)
        p.run("bytes", MSG, ENV, "b", time.monotonic() + 30)
        second = _wait_for_worker(p, {first})
        assert second != first
        assert p.replaced == 1
    finally:
        p.close()
    assert p.pids() == []


def test_broken_rules_fail_at_start(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[limits]\nattachment-max-bytes = -1\n")
    p = WorkerPool(1, rules_path=str(bad), start_timeout=30)
    with pytest.raises(WorkerFailed, match="attachment-max-bytes"):
        p.start()


QUIET_CHECK = """
import sys, time
from pathlib import Path
from bench.mailcorpus import build, make_signer
from gateway.milter.pool import WorkerPool
from gateway.model.envelope import Envelope

mails = [m for m in build("mix", 30, scale=0.02, signer=make_signer(Path(sys.argv[1])))
         if m.kind == "signed_pdf"]
pool = WorkerPool(1, max_jobs=10)
pool.start()
try:
    env = Envelope(sender=mails[0].sender, recipients=("b@agency.gov.vn",), queue_id="Q1")
    report = pool.run("bytes", mails[0].data, env, "Q1", time.monotonic() + 60)
    print(report.verdict.value, *sorted({f.code for d in report.documents for f in d.findings}))
finally:
    pool.close()
"""


def test_a_signer_outside_the_anchors_is_a_finding_not_a_traceback_in_the_log(
        tmp_path: Path) -> None:
    """pyHanko logs a warning with its traceback for each signer it cannot chain; in a worker
    that is noise in the gateway's log (the report already carries the finding)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", QUIET_CHECK, str(tmp_path / "pki")], cwd=root,
                         capture_output=True, text=True, timeout=300, check=True)
    assert out.stdout.startswith("invalid"), out.stdout
    assert "PDF_SIGNATURE_NOT_CONFIRMED" in out.stdout, out.stdout
    assert "Traceback" not in out.stderr and "Failed to build path" not in out.stderr


NO_TRACKER = r"""
import logging, os, signal, sys, time
from multiprocessing import resource_tracker
from gateway.milter.pool import WorkerPool
from gateway.model.envelope import Envelope

logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format="LOG %(message)s")
msg = sys.argv[1].encode()
env = Envelope(sender="a@agency.gov.vn", recipients=("b@agency.gov.vn",), queue_id="Q1")


def children():
    out = []
    for pid in os.listdir("/proc"):
        try:
            stat = open(f"/proc/{pid}/stat").read()
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
        except (OSError, ValueError):
            continue
        if pid.isdigit() and int(stat.rsplit(")", 1)[1].split()[1]) == os.getpid():
            out.append(cmd.replace(b"\0", b" ").decode())
    return out


pool = WorkerPool(1, max_jobs=1000)
pool.start()
try:
    print("V1", pool.run("bytes", msg, env, "Q1", time.monotonic() + 60).verdict.value)
    (old,) = pool.pids()
    os.kill(old, signal.SIGKILL)
    while os.path.exists(f"/proc/{old}") and "Z" not in open(f"/proc/{old}/stat").read():
        time.sleep(0.05)
    print("V2", pool.run("bytes", msg, env, "Q2", time.monotonic() + 60).verdict.value)
    print("REPLACED", old not in pool.pids(), pool.replaced)
    print("TRACKER", any("resource_tracker" in c for c in children()))
    print("FORKSERVER", any("forkserver" in c for c in children()))
    resource_tracker.register("/hople-test-sem", "semaphore")  # what no gateway code does
    time.sleep(0.5)
finally:
    pool.close()
"""


def test_no_resource_tracker_process_and_a_dead_worker_is_still_replaced() -> None:
    """The forkserver runs without multiprocessing's resource tracker process: a worker that
    is killed is replaced all the same, and a registration that the tracker would have had to
    clean up (the gateway makes none) is an error in the log, not a silent leak."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-W", "ignore", "-c", NO_TRACKER, MSG.decode()],
                         cwd=root, capture_output=True, text=True, timeout=300, check=True)
    lines = out.stdout.splitlines()
    assert "V1 no-documents" in lines and "V2 no-documents" in lines, out.stdout + out.stderr
    assert "REPLACED True 1" in lines, out.stdout
    assert "FORKSERVER True" in lines and "TRACKER False" in lines, out.stdout
    assert any("registered the semaphore '/hople-test-sem'" in line for line in lines), out.stdout
    assert "Traceback" not in out.stderr, out.stderr


def test_a_tracker_of_other_internals_is_left_to_multiprocessing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in relies on 3.11's private tracker state: without it, nothing is patched
    (multiprocessing starts its own tracker as usual) instead of the milter failing to start."""
    from multiprocessing import resource_tracker

    from gateway.milter.pool import watch_resource_registrations

    class Other:  # a tracker whose state is kept elsewhere
        def ensure_running(self) -> None:
            pass

    other = Other()
    monkeypatch.setattr(resource_tracker, "_resource_tracker", other)
    assert watch_resource_registrations() is False
    assert not hasattr(other, "_fd")
