"""A private Postfix instance on loopback with the gateway as its milter and a recording sink.

Used by the end-to-end tests (``tests/protocol``) and by ``python -m gateway.demo``. It needs
root and the Debian ``postfix`` package (which ships ``smtp-sink``); nothing else of the
machine is touched: the instance has its own configuration, queue and data directories in
a temporary directory, listens on free loopback ports chosen at start, relays everything to
``smtp-sink`` (one file per delivered message) and runs ``hople serve`` as a subprocess with
a generated settings file and an SQLite decision log in the same directory.

Layout of the lab directory::

    etc/        Postfix configuration (main.cf, master.cf)    → Lab.config_dir
    spool/      Postfix queue
    data/       Postfix data (owned by postfix)
    sink/       one file per delivered message
    gw/         gateway settings, rules override, socket, spool, decision log, notice key
    postfix.log, sink.log, gateway.log

Ports: ``smtp_port`` (smtpd with the milter), ``notice_port`` (smtpd without the milter,
where the gateway's notices are submitted), ``sink_port`` (smtp-sink), and ``other_port``
(smtpd with another milter, only when ``other_milter`` is given: the benchmark's no-op
milter, to compare against).

Teardown (:meth:`Lab.stop`, also on a failed start and at interpreter exit) stops Postfix,
the gateway and the sink, waits for each to exit, and removes the directory.
"""

from __future__ import annotations

import atexit
import email.policy
import json
import os
import re
import secrets
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

POSTFIX = "/usr/sbin/postfix"
POSTCONF = "/usr/sbin/postconf"
POSTQUEUE = "/usr/sbin/postqueue"
SMTP_SINK = "/usr/sbin/smtp-sink"

MESSAGE_SIZE_LIMIT = 41943040
"""40 MiB: a 25 MiB attachment is about 34 MiB once base64-encoded, and a slightly larger one
must still reach the gateway so that the sender gets the Article 5.2 reply."""

SINK_PSEUDO = re.compile(rb"^X-(Client|Helo|Mail|Rcpt|Xforward)-[A-Za-z-]*:", re.IGNORECASE)
REPO = Path(__file__).resolve().parent.parent


class LabError(RuntimeError):
    """The lab could not start or do what was asked (the message says why)."""


def unavailable_reason() -> str | None:
    """Why a lab cannot run here, or None when it can."""
    if os.geteuid() != 0:
        return "the Postfix lab needs root"
    for tool in (POSTFIX, POSTCONF, POSTQUEUE, SMTP_SINK):
        if not os.access(tool, os.X_OK):
            return f"{tool} is missing (apt-get install postfix)"
    try:
        import pwd

        pwd.getpwnam("postfix")
    except KeyError:
        return "there is no postfix user (is the postfix package installed?)"
    import importlib.util

    if importlib.util.find_spec("Milter") is None:
        return "pymilter is not installed"
    return None


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) != 0


def free_ports(n: int) -> list[int]:
    """``n`` distinct loopback ports that nothing listens on.

    Postfix and smtp-sink bind with SO_REUSEPORT, so a stale listener would silently share a
    port with a new one: each candidate is also checked by connecting to it."""
    out: list[int] = []
    for _ in range(50 * n):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in out and _port_is_free(port):
            out.append(port)
            if len(out) == n:
                return out
    raise LabError("could not find free loopback ports")


def _wait_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        if not _port_is_free(port):
            return True
        time.sleep(0.05)
    return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child counts as gone
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().split(b") ", 1)[1][:1] != b"Z"
    except OSError:
        return False


def to_bytes(msg: bytes | str | Message) -> bytes:
    """A message as CRLF wire bytes."""
    if isinstance(msg, Message):
        data = msg.as_bytes(policy=email.policy.SMTP if isinstance(msg, EmailMessage)
                            else email.policy.compat32.clone(linesep="\r\n"))
    elif isinstance(msg, str):
        data = msg.encode("utf-8")
    else:
        data = msg
    return re.sub(rb"\r?\n", b"\r\n", data)


class Lab:
    """A private Postfix + gateway + sink. Use as a context manager or call start()/stop().

    :param workers: gateway worker processes.
    :param rules: text of a rules override file (TOML) or None for the shipped rules.
    :param keep: leave the directory behind on stop (for debugging).
    :param store_url: the gateway's decision log (default: SQLite in the lab directory).
    :param other_milter: command of a second milter (``{socket}`` is replaced by its socket
        path), started beside the gateway and wired to a fourth listener, ``other_port``.
    :param sink_files: smtp-sink writes one file per message (False: it only counts them,
        for throughput runs where the sink's disk writes would be measured too).
    """

    def __init__(
        self,
        *,
        workers: int = 2,
        rules: str | None = None,
        keep: bool = False,
        log_level: str = "info",
        base_dir: str | None = None,
        store_url: str | None = None,
        other_milter: list[str] | None = None,
        sink_files: bool = True,
    ) -> None:
        self.workers = workers
        self.rules_text = rules
        self.keep = keep
        self.log_level = log_level
        self.base_dir = base_dir
        self._store_url = store_url
        self.other_milter = other_milter
        self.sink_files = sink_files
        self.other_port = 0
        self._other: subprocess.Popen[bytes] | None = None
        self.dir: Path | None = None
        self.smtp_port = self.notice_port = self.sink_port = 0
        self._sink: subprocess.Popen[bytes] | None = None
        self._gateway: subprocess.Popen[bytes] | None = None
        self._postfix_started = False
        self._store: Any = None
        self._stopped = True
        self.gateway_exit_code: int | None = None
        """Exit status of the last stopped gateway (0 after a clean SIGTERM shutdown)."""
        self.notice_secret = secrets.token_hex(32).encode("ascii")

    # -- paths --------------------------------------------------------------------------------

    def _p(self, *parts: str) -> Path:
        if self.dir is None:
            raise LabError("the lab is not started")
        return self.dir.joinpath(*parts)

    @property
    def config_dir(self) -> Path:
        """Postfix's configuration directory (for ``postconf -c`` / ``postqueue -c``)."""
        return self._p("etc")

    @property
    def queue_dir(self) -> Path:
        return self._p("spool")

    @property
    def sink_dir(self) -> Path:
        return self._p("sink")

    @property
    def gateway_dir(self) -> Path:
        return self._p("gw")

    @property
    def gateway_config(self) -> Path:
        return self._p("gw", "gateway.toml")

    @property
    def socket_path(self) -> Path:
        return self._p("gw", "milter.sock")

    @property
    def store_url(self) -> str:
        """The decision log: ``store_url`` if given, else an SQLite file in ``gw/``."""
        return self._store_url or "sqlite:///" + str(self._p("gw", "decisions.db"))

    @property
    def spool_dir(self) -> Path:
        return self._p("gw", "spool")

    # -- life cycle ---------------------------------------------------------------------------

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Lab:
        reason = unavailable_reason()
        if reason:
            raise LabError(reason)
        self._stopped = False
        atexit.register(self.stop)
        try:
            self._make_dirs()
            self.smtp_port, self.notice_port, self.sink_port, self.other_port = free_ports(4)
            self._start_sink()
            self._write_gateway_config()
            self.start_gateway()
            self._start_other_milter()
            self._configure_postfix()
            self._start_postfix()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop everything this lab started; safe to call twice and after a failed start."""
        if self._stopped:
            return
        self._stopped = True
        errors: list[str] = []
        if self._store is not None:
            try:
                self._store.close()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"store: {exc}")
            self._store = None
        if self._postfix_started:
            try:
                self._stop_postfix()
            except Exception as exc:  # noqa: BLE001
                errors.append(f"postfix: {exc}")
        try:
            self.stop_gateway()
        except Exception as exc:  # noqa: BLE001
            errors.append(f"gateway: {exc}")
        if self._other is not None:
            self._terminate(self._other, 10)
            self._other = None
        if self._sink is not None:
            self._terminate(self._sink, 5)
            self._sink = None
        if self.dir is not None and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)
        try:
            atexit.unregister(self.stop)
        except Exception:  # noqa: BLE001
            pass
        if errors:
            print("lab teardown: " + "; ".join(errors), file=sys.stderr)

    # -- setup --------------------------------------------------------------------------------

    def _make_dirs(self) -> None:
        import pwd

        pw = pwd.getpwnam("postfix")
        self.dir = Path(tempfile.mkdtemp(prefix="hople-lab-", dir=self.base_dir))
        os.chmod(self.dir, 0o755)  # user postfix must traverse it
        for name in ("etc", "spool", "gw"):
            self._p(name).mkdir(mode=0o755)
            os.chmod(self._p(name), 0o755)
        for name in ("data", "sink"):
            self._p(name).mkdir(mode=0o755)
            os.chown(self._p(name), pw.pw_uid, pw.pw_gid)
        key = self._p("gw", "notice.key")
        key.write_bytes(self.notice_secret + b"\n")
        os.chmod(key, 0o600)

    def _start_sink(self) -> None:
        log = open(self._p("sink.log"), "wb")  # noqa: SIM115 - owned by the process
        dump = ["-d", str(self.sink_dir) + "/%H%M%S."] if self.sink_files else []
        self._sink = subprocess.Popen(
            [SMTP_SINK, "-u", "postfix", "-4", *dump, f"127.0.0.1:{self.sink_port}", "256"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        if not _wait_port(self.sink_port, 10, self._sink):
            raise LabError(f"smtp-sink did not start: {self._tail('sink.log')}")

    @property
    def other_socket_path(self) -> Path:
        return self._p("gw", "other.sock")

    @property
    def other_pid(self) -> int | None:
        return self._other.pid if self._other is not None and self._other.poll() is None else None

    def _start_other_milter(self, timeout: float = 30) -> None:
        if not self.other_milter:
            return
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"]
                                         if env.get("PYTHONPATH") else "")
        sock = str(self.other_socket_path)
        log = open(self._p("other-milter.log"), "ab")  # noqa: SIM115 - owned by the process
        self._other = subprocess.Popen(
            [a.replace("{socket}", sock) for a in self.other_milter],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            cwd=str(self.dir), start_new_session=True,
        )
        log.close()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._other.poll() is not None:
                raise LabError(f"the other milter exited: {self._tail('other-milter.log')}")
            if self.other_socket_path.exists():
                os.chmod(sock, 0o666)  # Postfix connects as user postfix
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    if s.connect_ex(sock) == 0:
                        return
            time.sleep(0.05)
        raise LabError(f"the other milter did not listen: {self._tail('other-milter.log')}")

    def _write_gateway_config(self) -> None:
        rules = ""
        if self.rules_text is not None:
            path = self._p("gw", "rules.toml")
            path.write_text(self.rules_text, encoding="utf-8")
            rules = str(path)
        self.gateway_config.write_text(
            "# generated by gateway.lab\n"
            "[milter]\n"
            f'socket = "unix:{self.socket_path}"\n'
            'socket-group = "postfix"\n'
            f'spool-dir = "{self.spool_dir}"\n'
            f"workers = {self.workers}\n"
            "timeout = 600\n"
            "[rules]\n"
            f'override = "{rules}"\n'
            "[store]\n"
            f'url = "{self.store_url}"\n'
            "[notices]\n"
            f'marker-secret-file = "{self._p("gw", "notice.key")}"\n'
            f"smtp-port = {self.notice_port}\n"
            "[log]\n"
            f'level = "{self.log_level}"\n',
            encoding="utf-8",
        )

    def _postconf(self, *args: str) -> str:
        cp = subprocess.run([POSTCONF, "-c", str(self.config_dir), *args],
                            capture_output=True, text=True, timeout=60)
        if cp.returncode != 0:
            raise LabError(f"postconf {' '.join(args)}: {cp.stderr.strip()}")
        return cp.stdout

    def _configure_postfix(self) -> None:
        default_dir = subprocess.run([POSTCONF, "-d", "-h", "config_directory"],
                                     capture_output=True, text=True, check=True).stdout.strip()
        for candidate in (Path(default_dir) / "master.cf",
                          Path("/usr/share/postfix/master.cf.dist")):
            if candidate.is_file():
                shutil.copy(candidate, self.config_dir / "master.cf")
                break
        else:
            raise LabError("no master.cf to start from (is the postfix package installed?)")
        (self.config_dir / "main.cf").write_text("")
        milter = f"unix:{self.socket_path}"
        self._postconf(
            "-e",
            "compatibility_level=3.6",
            f"queue_directory={self.queue_dir}",
            f"data_directory={self._p('data')}",
            "myhostname=gw.lab.invalid",
            "mydestination=", "alias_maps=", "alias_database=", "local_recipient_maps=",
            "inet_interfaces=loopback-only", "inet_protocols=ipv4", "mynetworks=127.0.0.0/8",
            f"relayhost=[127.0.0.1]:{self.sink_port}",
            "smtp_dns_support_level=disabled", "smtpd_peername_lookup=no",
            f"maillog_file_prefixes={self.dir},/dev/stdout",
            f"maillog_file={self._p('postfix.log')}",
            f"message_size_limit={MESSAGE_SIZE_LIMIT}",
            f"smtpd_milters={milter}",
            f"non_smtpd_milters={milter}",
            "milter_default_action=tempfail",
            "milter_protocol=6",
            "milter_connect_timeout=10s",
            "milter_command_timeout=30s",
            "milter_content_timeout=300s",
            # retry quickly so tests do not wait for the default backoff
            "queue_run_delay=5s", "minimal_backoff_time=5s", "maximal_backoff_time=10s",
        )
        self._postconf("-M#", "smtp/inet")
        self._postconf(
            "-M",
            f"127.0.0.1:{self.smtp_port}/inet=127.0.0.1:{self.smtp_port} inet n - n - - smtpd",
        )
        self._postconf(
            "-M",
            f"127.0.0.1:{self.notice_port}/inet=127.0.0.1:{self.notice_port} inet n - n - - "
            "smtpd -o smtpd_milters= -o non_smtpd_milters=",
        )
        if self.other_milter:
            other = f"unix:{self.other_socket_path}"
            self._postconf(
                "-M",
                f"127.0.0.1:{self.other_port}/inet=127.0.0.1:{self.other_port} inet n - n - - "
                f"smtpd -o smtpd_milters={other} -o non_smtpd_milters=",
            )
        for line in self._postconf("-M").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1] != "inet":
                self._postconf("-F", f"{parts[0]}/{parts[1]}/chroot=n")
        for line in self._postconf("-M").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[1] == "inet":
                self._postconf("-F", f"{parts[0]}/{parts[1]}/chroot=n")

    def _start_postfix(self) -> None:
        for action in ("check", "start"):
            cp = subprocess.run([POSTFIX, "-c", str(self.config_dir), action],
                                capture_output=True, text=True, timeout=120,
                                stdin=subprocess.DEVNULL)
            if cp.returncode != 0:
                raise LabError(f"postfix {action} failed: {(cp.stderr or cp.stdout).strip()} "
                               f"{self._tail('postfix.log')}")
            if action == "start":
                self._postfix_started = True
        if not _wait_port(self.smtp_port, 20):
            raise LabError(f"postfix did not listen on {self.smtp_port}: "
                           f"{self._tail('postfix.log')}")

    def _master_pid(self) -> int | None:
        try:
            return int(self._p("spool", "pid", "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def _stop_postfix(self) -> None:
        pid = self._master_pid()
        subprocess.run([POSTFIX, "-c", str(self.config_dir), "stop"], capture_output=True,
                       timeout=60, stdin=subprocess.DEVNULL)
        self._postfix_started = False
        if pid:
            end = time.monotonic() + 15
            while _pid_alive(pid) and time.monotonic() < end:
                time.sleep(0.1)
            if _pid_alive(pid):
                os.kill(pid, signal.SIGKILL)

    # -- the gateway --------------------------------------------------------------------------

    @property
    def gateway_pid(self) -> int | None:
        return self._gateway.pid if self.gateway_running and self._gateway else None

    @property
    def gateway_running(self) -> bool:
        return self._gateway is not None and self._gateway.poll() is None

    def start_gateway(self, timeout: float = 60) -> None:
        """Start ``hople serve`` and wait until its socket accepts connections."""
        if self.gateway_running:
            return
        env = dict(os.environ)
        env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"]
                                         if env.get("PYTHONPATH") else "")
        env["PYTHONUNBUFFERED"] = "1"
        log = open(self._p("gateway.log"), "ab")  # noqa: SIM115 - owned by the process
        self._gateway = subprocess.Popen(
            [sys.executable, "-m", "gateway", "serve", "--config", str(self.gateway_config)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            cwd=str(self.dir), start_new_session=True,
        )
        log.close()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self._gateway.poll() is not None:
                raise LabError(f"the gateway exited ({self._gateway.returncode}): "
                               f"{self._tail('gateway.log')}")
            if self.socket_path.exists():
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    if s.connect_ex(str(self.socket_path)) == 0:
                        return
            time.sleep(0.05)
        self.stop_gateway()
        raise LabError(f"the gateway did not listen within {timeout:.0f} s: "
                       f"{self._tail('gateway.log')}")

    def stop_gateway(self, timeout: float = 20) -> None:
        """SIGTERM the gateway and wait for it (libmilter needs about 5 s to wind down)."""
        proc = self._gateway
        if proc is None:
            return
        self._terminate(proc, timeout)
        self.gateway_exit_code = proc.returncode
        self._gateway = None

    def restart_gateway(self) -> None:
        self.stop_gateway()
        self.start_gateway()

    def set_rules(self, toml_text: str | None) -> None:
        """Restart the gateway with ``toml_text`` as its rules override (None: shipped rules).
        A broken rules text raises LabError with the gateway's message."""
        self.stop_gateway()
        self.rules_text = toml_text
        self._write_gateway_config()
        self.start_gateway()

    @staticmethod
    def _terminate(proc: subprocess.Popen[bytes], timeout: float) -> None:
        """Stop a process this lab started and everything in its session."""
        pgid = None
        try:
            pgid = os.getpgid(proc.pid)
        except ProcessLookupError:
            pass
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        if pgid is not None and pgid == proc.pid:  # its own session: leftovers die with it
            try:
                os.killpg(pgid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    # -- mail ----------------------------------------------------------------------------------

    def send(
        self,
        msg: bytes | str | Message,
        sender: str,
        rcpts: list[str],
        *,
        port: int | None = None,
        timeout: float = 180,
    ) -> tuple[int, str]:
        """Send one message over SMTP; returns the final reply ``(code, text)``: 250 when
        accepted, otherwise the first refusal (MAIL, every RCPT, or end of DATA). Never
        raises on a 4xx/5xx reply (only when the connection itself fails)."""
        data = to_bytes(msg)
        with smtplib.SMTP("127.0.0.1", port or self.smtp_port, timeout=timeout) as s:
            code, text = s.ehlo("client.lab.invalid")
            if code != 250:
                return code, text.decode("utf-8", "replace")
            code, text = s.mail(sender, [] if data.isascii() else ["BODY=8BITMIME"])
            if code != 250:
                s.rset()
                return code, text.decode("utf-8", "replace")
            accepted = 0
            refusal: tuple[int, bytes] | None = None
            for r in rcpts:
                code, text = s.rcpt(r)
                if code in (250, 251):
                    accepted += 1
                elif refusal is None:
                    refusal = (code, text)
            if not accepted:
                s.rset()
                assert refusal is not None
                return refusal[0], refusal[1].decode("utf-8", "replace")
            try:
                code, text = s.data(data)
            except smtplib.SMTPDataError as exc:  # refused at DATA (before the content)
                err = exc.smtp_error  # bytes from the server, str when smtplib made it up
                return exc.smtp_code, (
                    err if isinstance(err, str) else err.decode("utf-8", "replace"))
            return code, text.decode("utf-8", "replace")

    def maillog(self) -> str:
        try:
            return self._p("postfix.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def gateway_log(self) -> str:
        try:
            return self._p("gateway.log").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def queue_ids_for(self, message_id: str) -> list[str]:
        """Postfix queue ids that carried this Message-ID (several after retries)."""
        mid = message_id.strip().strip("<>")
        pat = re.compile(r"\b([0-9A-F]{6,}|[0-9B-DF-HJ-NP-TV-Zb-df-hj-np-tv-z]{10,}):"
                         r" message-id=<" + re.escape(mid) + r">")
        return list(dict.fromkeys(pat.findall(self.maillog())))

    def delivered_queue_id(self, message_id: str) -> str | None:
        log = self.maillog()
        for qid in self.queue_ids_for(message_id):
            if re.search(re.escape(qid) + r": to=<[^>]*>, relay=[^ ]*, .*status=sent", log):
                return qid
        return None

    def _sink_files(self) -> list[Path]:
        try:
            return sorted(self.sink_dir.iterdir(), key=lambda p: p.stat().st_mtime)
        except OSError:
            return []

    def wait_delivered(self, message_id: str, timeout: float = 30) -> bytes:
        """The message as the sink received it (smtp-sink's own ``X-Client-…`` pseudo-header
        lines removed), once Postfix has logged its delivery. Raises LabError on timeout."""
        mid = message_id.strip().strip("<>").encode("utf-8")
        needle = re.compile(rb"^Message-ID:[ \t]*<" + re.escape(mid) + rb">", re.I | re.M)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.delivered_queue_id(message_id):
                for f in reversed(self._sink_files()):
                    try:
                        data = f.read_bytes()
                    except OSError:
                        continue
                    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
                    if needle.search(head):
                        return strip_sink_pseudo_headers(data)
            time.sleep(0.1)
        raise LabError(f"message <{message_id}> not delivered within {timeout:.0f} s; "
                       f"queue: {self.queue()}; log: {self._tail('postfix.log')}")

    def delivered_count(self) -> int:
        return len(self._sink_files())

    def queue(self) -> list[dict[str, Any]]:
        """``postqueue -j`` entries (queue_name, queue_id, sender, recipients…)."""
        cp = subprocess.run([POSTQUEUE, "-c", str(self.config_dir), "-j"],
                            capture_output=True, text=True, timeout=60)
        out = []
        for line in cp.stdout.splitlines():
            line = line.strip()
            if line:
                try:
                    out.append(json.loads(line))
                except ValueError:
                    continue
        return out

    def held(self) -> list[str]:
        """Queue ids in Postfix's hold queue (where the gateway's quarantine puts messages)."""
        return [e["queue_id"] for e in self.queue() if e.get("queue_name") == "hold"]

    def flush(self) -> None:
        """Ask Postfix to retry every deferred message now."""
        subprocess.run([POSTQUEUE, "-c", str(self.config_dir), "-f"], capture_output=True,
                       timeout=60)

    def store(self) -> Any:
        """The gateway's decision log, open for queries (closed by stop())."""
        if self._store is None:
            from gateway.audit.store import open_store

            self._store = open_store(self.store_url)
        return self._store

    def _tail(self, name: str, lines: int = 15) -> str:
        try:
            text = self._p(name).read_text(encoding="utf-8", errors="replace")
        except (OSError, LabError):
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:])


def strip_sink_pseudo_headers(data: bytes) -> bytes:
    """smtp-sink -d writes ``X-Client-Addr``, ``X-Mail-Args``… before the message."""
    lines = data.split(b"\n")
    i = 0
    while i < len(lines) and SINK_PSEUDO.match(lines[i]):
        i += 1
    return b"\n".join(lines[i:])


__all__ = ["Lab", "LabError", "MESSAGE_SIZE_LIMIT", "free_ports", "strip_sink_pseudo_headers",
           "to_bytes", "unavailable_reason"]
