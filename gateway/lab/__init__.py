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
Parts: ``tools`` (stateless helpers: ports, processes, message bytes), ``base`` (settings and
directory layout), ``postfix`` (the Postfix instance), ``processes`` (smtp-sink, the gateway,
the other milter) and ``mail`` (sending, delivery, queue, logs); :class:`Lab` joins them.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from gateway.lab.mail import MailMixin
from gateway.lab.postfix import PostfixMixin
from gateway.lab.processes import ProcessesMixin
from gateway.lab.tools import (
    MESSAGE_SIZE_LIMIT,
    POSTCONF,
    POSTFIX,
    POSTQUEUE,
    SMTP_SINK,
    LabError,
    free_ports,
    port_is_free,
    strip_sink_pseudo_headers,
    to_bytes,
    unavailable_reason,
)


class Lab(PostfixMixin, ProcessesMixin, MailMixin):
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


__all__ = ["Lab", "LabError", "MESSAGE_SIZE_LIMIT", "POSTCONF", "POSTFIX", "POSTQUEUE",
           "SMTP_SINK", "port_is_free", "free_ports", "strip_sink_pseudo_headers", "to_bytes",
           "unavailable_reason"]
