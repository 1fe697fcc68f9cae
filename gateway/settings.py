"""Gateway settings: where the milter listens, where decisions and spools go, and so on.

Settings describe the *installation* (sockets, paths, processes); rules (``rules/*.toml``)
describe *policy*. They are read from one TOML file (``/etc/hople/gateway.toml`` by
default; ``etc/gateway.toml.example`` documents every key and its default) by the same
strict loader as the rules: an unknown key, a wrong type or a bad value stops the gateway
with the file, the key path and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.policy.strict import build, read_toml

DEFAULT_PATH = Path("/etc/hople/gateway.toml")

LOG_LEVELS = ("debug", "info", "warning", "error")

_UNIX = re.compile(r"^(?:unix|local):(/.+)$")
_INET = re.compile(r"^inet6?:(\d{1,5})@(.+)$")


def parse_socket(spec: str) -> tuple[str, str | int, str | None]:
    """``unix:/path`` → ``("unix", "/path", None)``; ``inet:PORT@HOST`` →
    ``("inet", PORT, HOST)``. Raises ValueError with the reason."""
    m = _UNIX.match(spec)
    if m:
        return ("unix", m.group(1), None)
    m = _INET.match(spec)
    if m:
        port = int(m.group(1))
        if not 1 <= port <= 65535:
            raise ValueError(f"port {port} is out of range 1-65535")
        return ("inet6" if spec.startswith("inet6") else "inet", port, m.group(2))
    raise ValueError(
        f"{spec!r} is not unix:/absolute/path or inet:PORT@HOST"
    )


@dataclass(frozen=True)
class MilterSettings:
    socket: str = "unix:/run/hople/milter.sock"
    """Where Postfix connects. A unix socket by default: over TCP, Postfix loses about 40 ms
    per message (it does not set TCP_NODELAY on milter sockets). ``inet:PORT@HOST`` only when
    Postfix runs on another host or in another container."""
    socket_mode: str = "0660"
    """Permissions of the unix socket (octal)."""
    socket_group: str = "postfix"
    """Group given to the unix socket so Postfix's smtpd can connect; ``""`` leaves it as
    created. The gateway user must be a member of this group (or be root)."""
    timeout: int = 600
    """libmilter's I/O timeout towards Postfix, in seconds."""
    spool_dir: str = "/var/lib/hople/spool"
    """Messages larger than ``spool-memory-bytes`` are spooled here (mode 0700)."""
    spool_memory_bytes: int = 1024 * 1024
    """Up to this size a message is kept in memory; past it, on disk."""
    workers: int = 2
    """Worker processes running the checks (CPU-bound: about one per core)."""
    worker_max_jobs: int = 500
    """A worker is replaced after this many messages (bounds slow leaks)."""
    worker_memory_limit: int = 2 * 1024**3
    """Address-space limit of each worker process in bytes (0: none). A hostile file that
    makes a library reserve more fails inside the check (a finding) instead of swapping."""

    def check(self) -> None:
        try:
            kind, _, _ = parse_socket(self.socket)
        except ValueError as exc:
            raise ValueError(f"socket: {exc}") from None
        try:
            mode = int(self.socket_mode, 8)
        except ValueError:
            raise ValueError(f"socket-mode: {self.socket_mode!r} is not an octal mode") from None
        if not 0 <= mode <= 0o777:
            raise ValueError(f"socket-mode: {self.socket_mode!r} is out of range")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if not self.spool_dir.startswith("/"):
            raise ValueError(f"spool-dir must be an absolute path, got {self.spool_dir!r}")
        if self.spool_memory_bytes < 0:
            raise ValueError("spool-memory-bytes must not be negative")
        if not 1 <= self.workers <= 64:
            raise ValueError(f"workers must be between 1 and 64, got {self.workers}")
        if self.worker_max_jobs < 1:
            raise ValueError("worker-max-jobs must be at least 1")
        if self.worker_memory_limit != 0 and self.worker_memory_limit < 256 * 1024**2:
            raise ValueError("worker-memory-limit must be 0 (none) or at least 268435456 "
                             "(256 MiB: a worker needs that to load)")

    @property
    def socket_mode_int(self) -> int:
        return int(self.socket_mode, 8)


@dataclass(frozen=True)
class RulesSettings:
    override: str = ""
    """Site rules file merged over the shipped ``rules/default.toml`` (``""``: none)."""


@dataclass(frozen=True)
class StoreSettings:
    url: str = "sqlite:////var/lib/hople/decisions.db"
    """The decision log (``sqlite:////absolute/path.db``)."""


@dataclass(frozen=True)
class NoticeSettings:
    marker_secret_file: str = "/etc/hople/notice.key"
    """Secret (at least 16 bytes) for the ``X-Hople-Notice`` marker: the gateway's own notices
    carry an HMAC under it and are not checked again. A missing file disables the skip (every
    message is checked)."""
    smtp_host: str = "127.0.0.1"
    """Where notices are submitted: a Postfix listener without the milter."""
    smtp_port: int = 10587
    smtp_timeout_seconds: float = 30.0
    """Timeout of one SMTP submission."""
    from_address: str = ""
    """``From:`` of the notices (``""``: ``hople-gateway@`` this host's name)."""
    envelope_sender: str = ""
    """``MAIL FROM`` of the notices: null by default (RFC 3834), so a notice that cannot be
    delivered never bounces."""
    retry_first_seconds: float = 60.0
    """Wait after the first failed submission; it doubles after each failure…"""
    retry_max_seconds: float = 3600.0
    """…up to this wait."""
    max_attempts: int = 12
    """Attempts before a notice is marked failed (``hople notices retry`` re-queues it)."""
    poll_seconds: float = 30.0
    """Longest sleep of the sender thread (it also wakes when a notice is queued)."""

    def check(self) -> None:
        if not 1 <= self.smtp_port <= 65535:
            raise ValueError(f"smtp-port {self.smtp_port} is out of range 1-65535")
        if self.smtp_timeout_seconds <= 0 or self.poll_seconds <= 0:
            raise ValueError("smtp-timeout-seconds and poll-seconds must be positive")
        if not 0 < self.retry_first_seconds <= self.retry_max_seconds:
            raise ValueError("retry-first-seconds must be positive and at most "
                             "retry-max-seconds")
        if not 1 <= self.max_attempts <= 1000:
            raise ValueError(f"max-attempts must be between 1 and 1000, got {self.max_attempts}")
        for key, value in (("from-address", self.from_address),
                           ("envelope-sender", self.envelope_sender)):
            if value and ("@" not in value or any(c in value for c in " <>\r\n")):
                raise ValueError(f"{key} must be a plain address (a@b), got {value!r}")


@dataclass(frozen=True)
class TrustSettings:
    anchor_dirs: tuple[str, ...] = ()
    """Directories of trusted root and intermediate certificates (PEM or DER)."""


@dataclass(frozen=True)
class LogSettings:
    level: str = "info"
    """``debug``, ``info``, ``warning`` or ``error``. Logs carry the Postfix queue id, never
    message content."""

    def check(self) -> None:
        if self.level not in LOG_LEVELS:
            raise ValueError(f"level must be one of {', '.join(LOG_LEVELS)}, got {self.level!r}")


@dataclass(frozen=True)
class Settings:
    milter: MilterSettings = field(default_factory=MilterSettings)
    rules: RulesSettings = field(default_factory=RulesSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    notices: NoticeSettings = field(default_factory=NoticeSettings)
    trust: TrustSettings = field(default_factory=TrustSettings)
    log: LogSettings = field(default_factory=LogSettings)

    @property
    def rules_path(self) -> Path | None:
        return Path(self.rules.override) if self.rules.override else None


def settings_from_dict(data: dict[str, Any], source: str = "(settings)") -> Settings:
    """Build settings from a parsed TOML mapping (strict: unknown keys fail)."""
    return build(Settings, data, source)


def load_settings(path: Path | None = None) -> Settings:
    """Read ``path``; ``None`` gives the defaults.

    Relative paths inside the file (``rules.override``, ``notices.marker-secret-file``,
    ``trust.anchor-dirs``) are taken relative to the file's directory.

    :raises RulesError: naming the file, the key path and the reason.
    """
    if path is None:
        return Settings()
    settings = settings_from_dict(read_toml(path), str(path))
    return _resolve_relative(settings, path.parent)


def _resolve_relative(s: Settings, base: Path) -> Settings:
    import dataclasses

    def res(p: str) -> str:
        return p if not p or p.startswith("/") else str((base / p).resolve())

    return dataclasses.replace(
        s,
        rules=dataclasses.replace(s.rules, override=res(s.rules.override)),
        notices=dataclasses.replace(
            s.notices, marker_secret_file=res(s.notices.marker_secret_file)
        ),
        trust=dataclasses.replace(
            s.trust, anchor_dirs=tuple(res(d) for d in s.trust.anchor_dirs)
        ),
    )


__all__ = [
    "DEFAULT_PATH",
    "LogSettings",
    "MilterSettings",
    "NoticeSettings",
    "RulesSettings",
    "Settings",
    "StoreSettings",
    "TrustSettings",
    "load_settings",
    "parse_socket",
    "settings_from_dict",
]
