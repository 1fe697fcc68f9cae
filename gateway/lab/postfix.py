"""The lab's Postfix instance: its configuration (main.cf, master.cf), start and stop."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from gateway.lab.base import LabBase
from gateway.lab.tools import (
    MESSAGE_SIZE_LIMIT,
    POSTCONF,
    POSTFIX,
    LabError,
    pid_alive,
    wait_port,
)


class PostfixMixin(LabBase):
    """Configures, starts and stops the lab's private Postfix."""

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
        if not wait_port(self.smtp_port, 20):
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
            while pid_alive(pid) and time.monotonic() < end:
                time.sleep(0.1)
            if pid_alive(pid):
                os.kill(pid, signal.SIGKILL)
