"""`hople serve` as a process, without Postfix: it listens where the settings say (unix socket
with the configured mode, or inet when asked), speaks the milter protocol (option negotiation
with the actions it needs), stops cleanly on SIGTERM and removes its socket; a broken setup
fails with one line."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_QUARANTINE = 0x01, 0x10, 0x20


def _settings(tmp: Path, socket_spec: str, extra: str = "") -> Path:
    (tmp / "notice.key").write_bytes(b"k" * 32)
    p = tmp / "gateway.toml"
    p.write_text(
        "[milter]\n"
        f'socket = "{socket_spec}"\n'
        'socket-group = ""\n'
        'socket-mode = "0660"\n'
        f'spool-dir = "{tmp / "spool"}"\n'
        "workers = 1\n"
        "[store]\n"
        f'url = "sqlite:///{tmp / "decisions.db"}"\n'
        "[notices]\n"
        f'marker-secret-file = "{tmp / "notice.key"}"\n'
        "smtp-port = 9\n" + extra,
        encoding="utf-8",
    )
    return p


def _start(config: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "gateway", "serve", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                            start_new_session=True)


def _connect(family: int, address: object, proc: subprocess.Popen[bytes]) -> socket.socket:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise AssertionError(proc.stdout.read().decode() if proc.stdout else "exited")
        s = socket.socket(family, socket.SOCK_STREAM)
        if s.connect_ex(address) == 0:  # type: ignore[arg-type]
            return s
        s.close()
        time.sleep(0.05)
    raise AssertionError("the milter did not listen")


def _negotiate(s: socket.socket) -> tuple[int, int, int]:
    s.settimeout(10)
    s.sendall(struct.pack(">IcIII", 13, b"O", 6, 0x1FF, 0x1FFFFF))
    (length,) = struct.unpack(">I", _recv(s, 4))
    body = _recv(s, length)
    assert body[:1] == b"O"
    return struct.unpack(">III", body[1:13])


def _recv(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk, "connection closed"
        buf += chunk
    return buf


def _stop(proc: subprocess.Popen[bytes]) -> str:
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    return out.decode("utf-8", "replace")


def test_unix_socket_negotiation_and_clean_stop(tmp_path: Path) -> None:
    sock = tmp_path / "run" / "milter.sock"
    proc = _start(_settings(tmp_path, f"unix:{sock}"))
    try:
        s = _connect(socket.AF_UNIX, str(sock), proc)
        with s:
            version, actions, _protocol = _negotiate(s)
        assert version == 6
        assert actions & SMFIF_ADDHDRS and actions & SMFIF_CHGHDRS and actions & SMFIF_QUARANTINE
        assert (sock.stat().st_mode & 0o777) == 0o660
        assert (tmp_path / "spool").stat().st_mode & 0o777 == 0o700
    finally:
        out = _stop(proc)
    assert proc.returncode == 0, out
    assert "listening on unix:" in out and out.rstrip().endswith("stopped")
    assert not sock.exists(), "the socket is removed on shutdown"


def test_inet_socket_when_asked(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = _start(_settings(tmp_path, f"inet:{port}@127.0.0.1"))
    try:
        with _connect(socket.AF_INET, ("127.0.0.1", port), proc) as s:
            assert _negotiate(s)[0] == 6
    finally:
        out = _stop(proc)
    assert proc.returncode == 0, out


def test_broken_rules_override_fails_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "local.toml"
    bad.write_text("[failure]\non-error = \"shrug\"\n")
    cfg = _settings(tmp_path, f"unix:{tmp_path / 'm.sock'}", f'[rules]\noverride = "{bad}"\n')
    proc = _start(cfg)
    out, _ = proc.communicate(timeout=60)
    text = out.decode()
    assert proc.returncode == 2
    assert "hople: rules error:" in text and "on-error" in text and str(bad) in text
    assert "Traceback" not in text


def test_unwritable_store_fails_with_one_line(tmp_path: Path) -> None:
    cfg = _settings(tmp_path, f"unix:{tmp_path / 'm.sock'}")
    cfg.write_text(cfg.read_text().replace(f"sqlite:///{tmp_path / 'decisions.db'}",
                                           f"sqlite:///{tmp_path / 'absent' / 'dir' / 'x.db'}"))
    proc = _start(cfg)
    out, _ = proc.communicate(timeout=60)
    text = out.decode()
    assert proc.returncode == 1, text
    assert "hople: serve: decision log:" in text and "Traceback" not in text


def test_unwritable_spool_fails_with_one_line(tmp_path: Path) -> None:
    cfg = _settings(tmp_path, f"unix:{tmp_path / 'm.sock'}")
    cfg.write_text(cfg.read_text().replace(str(tmp_path / "spool"), "/proc/hople-spool"))
    proc = _start(cfg)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1 and "spool directory" in out.decode()


# -- negotiation and per-message macros, with clients the gateway did not write ----------------

MILTERTEST = "/usr/bin/miltertest"

FULL_SESSION = r"""
local conn = mt.connect("unix:" .. SOCK, 40, 0.25)
if conn == nil then error("connect failed") end
local err = mt.negotiate(conn, 6, 0x1FF, nil)
if err ~= nil then error("negotiate: " .. err) end
for _, a in ipairs({SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_QUARANTINE}) do
  if not mt.test_action(conn, a) then error("action not requested: " .. a) end
end
for _, a in ipairs({SMFIF_CHGBODY, SMFIF_ADDRCPT, SMFIF_DELRCPT, SMFIF_CHGFROM}) do
  if mt.test_action(conn, a) then error("unneeded action requested: " .. a) end
end
if not mt.test_option(conn, SMFIP_NOHELO) then error("HELO not skipped") end
if not mt.test_option(conn, SMFIP_NOEOH) then error("end of headers not skipped") end
if not mt.test_option(conn, SMFIP_NR_HDR) then error("a reply to each header awaited") end
mt.conninfo(conn, "client.test", "127.0.0.1")
local function message(n, macros)
  if macros then
    mt.macro(conn, SMFIC_MAIL, "i", "QMT" .. n, "{auth_authen}", "clerk" .. n)
  end
  mt.mailfrom(conn, "<vt" .. n .. "@stc.daknong.gov.vn>")
  mt.rcptto(conn, "<ubnd@daknong.gov.vn>")
  mt.header(conn, "From", "vt" .. n .. "@stc.daknong.gov.vn")
  mt.header(conn, "Message-ID", "<mt" .. n .. "@stc.daknong.gov.vn>")
  mt.header(conn, "X-Legal-Validity", "valid")
  mt.bodystring(conn, "hello\r\n")
  mt.eom(conn)
  if mt.getreply(conn) ~= SMFIR_ACCEPT then error("message " .. n .. " not accepted") end
  if not mt.eom_check(conn, MT_HDRADD, "X-Legal-Validity", "no-documents") then
    error("verdict header not added")
  end
  if not mt.eom_check(conn, MT_HDRDELETE, "X-Legal-Validity") then
    error("forged header not deleted")
  end
end
message(1, true)
message(2, false)
message(3, true)
mt.disconnect(conn)
mt.echo("miltertest-ok")
"""

def _miltertest(script: str, tmp_path: Path, **defines: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "session.lua"
    path.write_text(script)
    args = [MILTERTEST]
    for k, v in defines.items():
        args += ["-D", f"{k}={v}"]
    return subprocess.run(args + ["-s", str(path)], capture_output=True, text=True, timeout=120)


def test_miltertest_negotiation_headers_and_per_message_macros(tmp_path: Path) -> None:
    """Debian's miltertest (libmilter's own client code): the gateway asks for exactly the
    actions it uses, strips the forged header and adds its own, and a second message on the
    connection sent without macros is not logged with the first one's queue id or login."""
    import pytest

    if not os.access(MILTERTEST, os.X_OK):
        pytest.skip("miltertest is not installed (apt-get install miltertest)")
    sock = tmp_path / "m.sock"
    proc = _start(_settings(tmp_path, f"unix:{sock}"))
    try:
        _connect(socket.AF_UNIX, str(sock), proc).close()
        cp = _miltertest(FULL_SESSION, tmp_path, SOCK=str(sock))
        assert cp.returncode == 0 and "miltertest-ok" in cp.stdout, cp.stdout + cp.stderr
    finally:
        out = _stop(proc)
    assert "refusing" not in out and "Traceback" not in out, out
    from gateway.audit.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'decisions.db'}")
    try:
        rows = {r.message_id: r for r in store.query()}
    finally:
        store.close()
    assert len(rows) == 3
    first, second, third = (rows[f"<mt{n}@stc.daknong.gov.vn>"] for n in (1, 2, 3))
    assert (first.queue_id, first.sasl_user) == ("QMT1", "clerk1")
    assert (second.queue_id, second.sasl_user) == (None, None)
    assert (third.queue_id, third.sasl_user) == ("QMT3", "clerk3")
    assert all(r.action_taken == "accept" and r.session_ms is not None for r in rows.values())


def test_raw_client_offering_fewer_actions_is_refused(tmp_path: Path) -> None:
    """A protocol client of our own: an MTA that does not offer adding or changing headers or
    quarantine gets its connection closed at negotiation (it then applies
    milter_default_action), before any message is checked or logged."""
    sock = tmp_path / "m.sock"
    proc = _start(_settings(tmp_path, f"unix:{sock}"))
    try:
        for withheld in (SMFIF_ADDHDRS, SMFIF_CHGHDRS, SMFIF_QUARANTINE):
            with _connect(socket.AF_UNIX, str(sock), proc) as s:
                s.settimeout(10)
                s.sendall(struct.pack(">IcIII", 13, b"O", 6, 0x1FF & ~withheld, 0x1FFFFF))
                assert s.recv(64) == b"", "the connection must be closed, not negotiated"
        with _connect(socket.AF_UNIX, str(sock), proc) as s:
            version, actions, _ = _negotiate(s)
        assert actions == SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE
    finally:
        out = _stop(proc)
    assert out.count("refusing the MTA at negotiation") == 3, out
    assert "it does not allow QUARANTINE (hold queue)" in out
    assert "it does not allow ADDHDRS (add headers)" in out
    assert not (tmp_path / "decisions.db").exists() or _rows(tmp_path) == 0


def _rows(tmp_path: Path) -> int:
    from gateway.audit.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'decisions.db'}")
    try:
        return len(store.query())
    finally:
        store.close()
