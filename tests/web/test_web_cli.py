"""``hople web`` as an operator starts it: a real process on a free loopback port, with a
secret file, serving the login page and the metrics; bad options are one-line errors."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.store import open_store
from tests.web.data import populate

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_web(url: str, secret: Path) -> tuple[subprocess.Popen[str], int, Any]:
    """``hople web`` on a free port, and its first answer. A port taken by someone else
    between choosing and binding it means another try on another port."""
    last = ""
    for _ in range(3):
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "web", "--db", url, "--listen",
             f"127.0.0.1:{port}", "--secret-file", str(secret), "--threads", "2"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                return proc, port, urllib.request.urlopen(f"http://127.0.0.1:{port}/login",
                                                          timeout=5)
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        stop(proc)
        last = proc.stderr.read() if proc.stderr else ""
        if "in use" not in last:
            break
    raise AssertionError(f"hople web did not answer: {last}")


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_hople_web_serves_login_and_metrics(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'decisions.db'}"
    with open_store(url) as store:
        populate(store)
    secret = tmp_path / "web.key"
    secret.write_text("0123456789abcdef" * 4)
    proc, port, page = start_web(url, secret)
    try:
        assert page.status == 200 and "Đăng nhập" in page.read().decode()
        assert page.headers["Server"] == "hople"
        cookie = page.headers["Set-Cookie"]
        assert cookie.startswith("hople_pre=") and "HttpOnly" in cookie
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
        assert b'hople_decisions_total{action="reject",verdict="rejected"} 1.0' in metrics
        redirect: Any = None
        try:
            urllib.request.build_opener(_NoRedirect).open(
                f"http://127.0.0.1:{port}/decisions", timeout=5)
        except urllib.error.HTTPError as exc:
            redirect = exc
        assert redirect is not None and redirect.code == 303
    finally:
        stop(proc)
    err = proc.stderr.read() if proc.stderr else ""
    assert "serving the decision log (sqlite)" in err and "Traceback" not in err
    with open_store(url) as store:
        from gateway.audit.users import Accounts

        events = [e.event for e in Accounts(store).access_log()]
    assert "login-page" in events and "denied" in events


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@pytest.mark.parametrize("args, message", [
    (["--listen", "nope"], "expected HOST:PORT"),
    (["--listen", "127.0.0.1:99999"], "expected HOST:PORT"),
    (["--metrics-allow", "localhost"], "not an IP address"),
    (["--tz", "Mars/Olympus"], "--tz"),
    (["--secret-file", "missing.key"], "--secret-file"),
    (["--db", "mysql://x"], "unsupported log URL scheme"),
])
def test_hople_web_bad_options_are_one_line_errors(tmp_path: Path, args: list[str],
                                                   message: str, capsys: Any) -> None:
    from gateway.cli import main

    url = f"sqlite:///{tmp_path / 'decisions.db'}"
    # every one of these fails before anything listens
    assert main(["web", "--db", url, "--listen", "127.0.0.1:1", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_short_secret_file_is_refused(tmp_path: Path, capsys: Any) -> None:
    from gateway.cli import main

    short = tmp_path / "short.key"
    short.write_text("tooshort")
    assert main(["web", "--db", f"sqlite:///{tmp_path / 'd.db'}", "--secret-file",
                 str(short)]) == 2
    assert "at least 32 bytes" in capsys.readouterr().err
