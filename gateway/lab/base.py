"""The lab's state and its directory layout, shared by the Postfix, process and mail parts."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path
from typing import Any

from gateway.lab.tools import LabError, terminate


class LabBase:
    """Settings, ports, child processes and paths of one lab (see :class:`gateway.lab.Lab`)."""

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

    @property
    def other_socket_path(self) -> Path:
        return self._p("gw", "other.sock")

    def _tail(self, name: str, lines: int = 15) -> str:
        try:
            text = self._p(name).read_text(encoding="utf-8", errors="replace")
        except (OSError, LabError):
            return "(no log)"
        return " | ".join(text.strip().splitlines()[-lines:])

    @staticmethod
    def _terminate(proc: subprocess.Popen[bytes], timeout: float) -> None:
        """Stop a process this lab started and everything in its session."""
        terminate(proc, timeout)
