"""The pymilter adapter: one :class:`GatewayMilter` per SMTP connection, and ``serve()``.

This is the only module that imports pymilter. It collects what Postfix sends (connection,
envelope, SASL user, queue id, headers, body) into a bounded spool, hands the finished
message to the :class:`~gateway.milter.engine.Engine`, and turns the engine's decision into
libmilter actions: accept with the verdict headers (after deleting any forged
``X-Legal-Validity*`` header), quarantine (the Postfix hold queue) and accept, reject or
tempfail with a reply.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import Milter

from gateway.milter.engine import (
    GATEWAY_TEMPFAIL,
    Decider,
    Decision,
    MessageData,
    first_header,
    forged_headers,
    reply_lines,
)
from gateway.milter.pages import release_library_pages
from gateway.milter.spool import MessageSpool
from gateway.milter.startup import (
    ServeError,
    build_engine,
    prepare_spool,
    setup_logging,
    socket_permissions,
)
from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.settings import Settings, parse_socket

log = logging.getLogger("hople.milter")

NAME = "hople-gateway"
NEEDED_ACTIONS = Milter.ADDHDRS | Milter.CHGHDRS | Milter.QUARANTINE
"""The only actions the gateway uses: add the verdict headers, delete forged ones (and tag the
Subject), hold. It never changes bodies, recipients or the sender."""
ACTION_NAMES = ((Milter.ADDHDRS, "ADDHDRS (add headers)"),
                (Milter.CHGHDRS, "CHGHDRS (change or delete headers)"),
                (Milter.QUARANTINE, "QUARANTINE (hold queue)"))
FLAGS = NEEDED_ACTIONS
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}
SPOOL_RESERVE_BYTES = 1024 * 1024
"""Free space the spool file system must keep beyond the size a client declares (``SIZE=``)
before a message is taken; below it MAIL FROM is answered 452."""
SPOOL_FULL = ("452", "4.3.1", "Cong kiem tra tam thoi het cho luu thu; vui long gui lai sau. / "
              "The gateway is out of spool space; please try again later.")
SPOOL_FAILED = ("451", "4.3.0", "Cong kiem tra khong luu duoc thu; vui long gui lai sau. / "
                "The gateway could not spool the message; please try again later.")
MILTER_ERRORS: tuple[type[BaseException], ...] = (Milter.milter.error, AttributeError)
"""What reading a macro raises when the MTA connection is gone (AttributeError: the context
was already released)."""


def _addr(text: str) -> str:
    """``<a@b>`` → ``a@b``; ``<>`` → ``""``."""
    t = text.strip()
    if t.startswith("<") and ">" in t:
        t = t[1 : t.index(">")]
    return t.strip()


def postfix_value(value: str) -> str:
    """A folded header value as libmilter expects it: continuation lines joined by LF (the
    MTA writes its own line ends)."""
    return value.replace("\r\n", "\n")


def declared_size(params: tuple[str, ...]) -> int:
    """The ``SIZE=`` a client declared at MAIL FROM (0 when none or malformed)."""
    for p in params:
        key, _, value = p.partition("=")
        if key.upper() == "SIZE" and value.isdigit():
            return int(value[:15])
    return 0


def spool_free_bytes(path: str) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def missing_actions(offered: int) -> list[str]:
    return [name for bit, name in ACTION_NAMES if not offered & bit]


class GatewayMilter(Milter.Base):
    """One SMTP connection. Per-message state (envelope, macros, spool) is reset at MAIL
    FROM, after end of message and on abort."""

    def __init__(self, engine: Decider, spool_dir: str, spool_memory: int) -> None:
        self.engine = engine
        self.spool_dir = spool_dir
        self.spool_memory = spool_memory
        self.client_name: str | None = None
        self.client_addr: str | None = None
        self.spool: MessageSpool | None = None
        self._connected_at: float | None = time.monotonic()  # negotiation: the first byte
        self._previous_qid: str | None = None
        self._reset()

    # -- negotiation ------------------------------------------------------------------------

    def negotiate(self, opts: list[int]) -> int:
        """Ask for the actions the gateway uses and nothing else; refuse an MTA that does not
        offer them (it then applies its ``milter_default_action``, e.g. tempfail), instead of
        checking mail whose answer could not be applied."""
        offered = opts[0]
        missing = missing_actions(offered)
        if missing:
            log.error("refusing the MTA at negotiation: it does not allow %s (offered actions "
                      "0x%x, needed 0x%x); the MTA applies its milter_default_action",
                      ", ".join(missing), offered, NEEDED_ACTIONS)
            return Milter.REJECT
        rc = super().negotiate(opts)  # the protocol steps, from the callbacks overridden
        if rc != Milter.CONTINUE:
            log.error("refusing the MTA at negotiation: cannot negotiate the protocol steps "
                      "(offered 0x%x)", opts[1])
            return Milter.REJECT
        opts[0] = self._actions = NEEDED_ACTIONS
        return Milter.CONTINUE

    # -- state ------------------------------------------------------------------------------

    def _reset(self) -> None:
        self._close_spool()
        if getattr(self, "queue_id", None):
            self._previous_qid = self.queue_id
        self.sender: str | None = None
        self.recipients: list[str] = []
        self.sasl_user: str | None = None
        self.queue_id: str | None = None
        self.headers: list[tuple[str, bytes]] = []
        self.received_at: float | None = None
        self.in_body = False
        self.spool_failed: tuple[str, str, str] | None = None
        """The reply for the end of a message whose spool write failed."""

    def _macro(self, name: str) -> str | None:
        try:
            value = self.getsymval(name)
        except MILTER_ERRORS:
            return None
        return str(value) if value else None

    def _fresh_qid(self) -> str | None:
        """The queue id macro, unless it is the previous message's: libmilter keeps the
        MAIL-stage macros of the previous message when the MTA sends none."""
        qid = self._macro("i")
        return qid if qid and qid != self._previous_qid else None

    # -- callbacks ------------------------------------------------------------------------

    @Milter.noreply  # always continues: the MTA need not wait for the answer
    def connect(self, hostname: str, family: int, hostaddr: Any) -> int:
        self.client_name = hostname
        if isinstance(hostaddr, tuple) and hostaddr:
            self.client_addr = str(hostaddr[0])
        elif hostaddr:
            self.client_addr = str(hostaddr)
        return Milter.CONTINUE

    def envfrom(self, mailfrom: str, *params: str) -> int:
        self._reset()
        now = time.monotonic()
        self.received_at = self._connected_at if self._connected_at is not None else now
        self._connected_at = None
        self.sender = _addr(mailfrom)
        self.queue_id = self._fresh_qid()
        stale = self.queue_id is None and self._previous_qid is not None and (
            self._macro("i") == self._previous_qid)
        if stale:
            log.warning("MAIL FROM without fresh macros (queue id %s is the previous "
                        "message's): queue id and SASL login of this message are unknown",
                        self._previous_qid)
        else:
            self.sasl_user = self._macro("{auth_authen}")
        need = declared_size(params) + SPOOL_RESERVE_BYTES
        try:
            free = spool_free_bytes(self.spool_dir)
        except OSError as exc:
            log.error("%s: spool %s unusable: %s: %s; tempfail", self.queue_id or "-",
                      self.spool_dir, type(exc).__name__, exc)
            return self._tempfail(SPOOL_FAILED)
        if free < need:
            log.error("%s: spool %s has %d bytes free, %d needed: tempfail (452)",
                      self.queue_id or "-", self.spool_dir, free, need)
            return self._tempfail(SPOOL_FULL)
        self.spool = MessageSpool(self.spool_memory, self.spool_dir)
        return Milter.CONTINUE

    @Milter.noreply
    def envrcpt(self, to: str, *params: str) -> int:
        self.recipients.append(_addr(to))
        return Milter.CONTINUE

    # Header lines and body chunks are taken without a reply (SMFIP_NR_HDR, SMFIP_NR_BODY)
    # and there is no end-of-headers step (SMFIP_NOEOH): the MTA streams the message instead
    # of waiting for a round trip per header and chunk. A spool write that fails drops the
    # rest of the message and tempfails it at its end (see ``eom``).
    @Milter.noreply
    @Milter.decode("bytes")
    def header(self, name: str, value: bytes) -> int:
        if isinstance(value, str):  # an MTA without negotiation hands str
            value = value.encode("utf-8", "surrogateescape")
        self.headers.append((name, value))
        raw = value.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        self._spool(name.encode("utf-8", "surrogateescape") + b": " + raw + b"\r\n")
        return Milter.CONTINUE

    @Milter.noreply
    def body(self, chunk: bytes) -> int:
        if not self.in_body:
            self._end_headers()
        self._spool(chunk)
        return Milter.CONTINUE

    def _end_headers(self) -> None:
        """The blank line between header and body (no end-of-headers step is asked for: it
        comes before the first body chunk, or at the end of a message without body)."""
        self.in_body = True
        self._spool(b"\r\n")

    def _spool(self, data: bytes) -> None:
        if self.spool is not None:
            try:
                self.spool.write(data)
            except OSError as exc:
                self._spool_error(exc)

    def _spool_error(self, exc: OSError) -> tuple[str, str, str]:
        """Drop the message; its end is answered with the tempfail returned (452 when the disk
        is full)."""
        log.error("%s: cannot spool the message: %s: %s; tempfail at its end",
                  self.queue_id or "-", type(exc).__name__, exc)
        self._close_spool()
        self.spool_failed = SPOOL_FULL if exc.errno == errno.ENOSPC else SPOOL_FAILED
        return self.spool_failed

    def _tempfail(self, reply: tuple[str, ...]) -> int:
        try:
            self.setreply(*reply)
        except MILTER_ERRORS as exc:
            log.warning("%s: reply not set: %s: %s", self.queue_id or "-",
                        type(exc).__name__, exc)
        return Milter.TEMPFAIL

    def eom(self) -> int:
        qid = self._fresh_qid() or self.queue_id
        self.queue_id = qid
        if not self.in_body:  # a message without body
            self._end_headers()
        spool = self.spool
        if spool is None:
            failed = self.spool_failed
            if failed is None:  # no MAIL FROM seen: should not happen with a sane MTA
                log.error("%s: end of message without a message: tempfail", qid or "-")
            answer = self._tempfail(failed or SPOOL_FAILED)
            self._reset()
            return answer
        try:
            try:
                kind, source = spool.contents_for_worker()
            except OSError as exc:
                return self._tempfail(self._spool_error(exc))
            env = Envelope(
                sender=self.sender if self.sender is not None else "",
                recipients=tuple(self.recipients),
                client_addr=self.client_addr,
                client_name=self.client_name,
                sasl_user=self.sasl_user,
                queue_id=qid,
                message_id=first_header(self.headers, "Message-ID"),
                from_header=first_header(self.headers, "From"),
            )
            data = MessageData(env, list(self.headers), kind, source, spool.size,
                               received_at=self.received_at)
            decision = self.engine.decide(data, progress=self.progress, apply=self._apply)
        finally:
            self._reset()
        return self._answer(decision)

    def abort(self) -> int:
        self._reset()
        return Milter.CONTINUE

    def close(self) -> int:
        self._reset()
        return Milter.CONTINUE

    def _close_spool(self) -> None:
        spool: MessageSpool | None = getattr(self, "spool", None)
        if spool is not None:
            try:
                spool.close()
            except OSError as exc:
                log.warning("spool file not closed: %s: %s", type(exc).__name__, exc)
            self.spool = None

    # -- decision → libmilter --------------------------------------------------------------

    def _apply(self, d: Decision) -> None:
        """Hand the decision to the MTA (raises when an action cannot be applied)."""
        if d.skipped:
            return
        if d.action in (Action.ACCEPT, Action.HOLD):
            for name, idx in forged_headers(self.headers):
                self.chgheader(name, idx, "")
            for name, value in d.add_headers:
                self.addheader(name, postfix_value(value))
            if d.subject is not None:  # [notices] annotate-delivered
                self.chgheader("Subject", 1, postfix_value(d.subject))
            if d.action is Action.HOLD:
                self.quarantine(d.quarantine_reason or "hople: held")
            return
        reply = d.reply
        if reply is not None:
            self.setreply(reply.code, reply.status, *reply_lines(reply.text))

    def _answer(self, d: Decision) -> int:
        """The final return code; a downgraded decision still tries to set its reply."""
        if d.downgraded is not None:
            reply = d.reply or GATEWAY_TEMPFAIL
            return self._tempfail((reply.code, reply.status, *reply_lines(reply.text)))
        if d.action in (Action.ACCEPT, Action.HOLD):
            return Milter.ACCEPT
        return Milter.REJECT if d.action is Action.REJECT else Milter.TEMPFAIL


# -- serve -------------------------------------------------------------------------------------


def _register_callbacks() -> None:
    """What ``Milter.runmilter`` does before opening the socket (pymilter 1.0.5)."""
    milter = Milter.milter
    milter.set_connect_callback(Milter.connect_callback)
    milter.set_helo_callback(lambda ctx, host: ctx.getpriv().hello(host))
    milter.set_envfrom_callback(lambda ctx, *b: ctx.getpriv().envfrom_bytes(*b))
    milter.set_envrcpt_callback(lambda ctx, *b: ctx.getpriv().envrcpt_bytes(*b))
    milter.set_header_callback(lambda ctx, f, v: ctx.getpriv().header_bytes(f, v))
    milter.set_eoh_callback(lambda ctx: ctx.getpriv().eoh())
    milter.set_body_callback(lambda ctx, chunk: ctx.getpriv().body(chunk))
    milter.set_eom_callback(lambda ctx: ctx.getpriv().eom())
    milter.set_abort_callback(lambda ctx: ctx.getpriv().abort())
    milter.set_close_callback(Milter.close_callback)


def serve(settings: Settings) -> int:
    """Run the milter until SIGTERM/SIGINT (libmilter turns them into a clean stop)."""
    setup_logging(settings.log.level)
    kind, where, _host = parse_socket(settings.milter.socket)
    prepare_spool(settings.milter.spool_dir)
    if kind == "unix":
        Path(str(where)).parent.mkdir(parents=True, exist_ok=True)
    engine, pool, store = build_engine(settings)
    # libmilter turns SIGTERM/SIGINT/SIGHUP into a clean stop from its own signal thread
    # (sigwait), which only works if no other thread can receive them: block them here, in
    # the main thread, before any thread starts (the notice sender, pool restarts); every
    # thread inherits the mask. The worker processes are already running and unaffected.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    spool_dir = settings.milter.spool_dir
    spool_memory = settings.milter.spool_memory_bytes
    Milter.factory = lambda: GatewayMilter(engine, spool_dir, spool_memory)
    Milter.set_flags(FLAGS)
    Milter.set_exception_policy(Milter.TEMPFAIL)
    _register_callbacks()
    milter = Milter.milter
    old_umask = os.umask(0o077)
    try:
        milter.setconn(settings.milter.socket)
        milter.settimeout(settings.milter.timeout)
        milter.register(
            NAME,
            data=lambda ctx: ctx.getpriv().data(),
            unknown=lambda ctx, cmd: ctx.getpriv().unknown(cmd),
            negotiate=Milter.negotiate_callback,
        )
        milter.opensocket(True)
        if kind == "unix":
            socket_permissions(str(where), settings.milter.socket_mode_int,
                                settings.milter.socket_group)
    except (milter.error, ServeError) as exc:
        os.umask(old_umask)
        pool.close()
        store.close()
        if engine.notifier is not None:
            engine.notifier.stop()
        raise ServeError(f"cannot listen on {settings.milter.socket}: {exc}") from None
    os.umask(old_umask)
    log.info("listening on %s with %d workers (rules %s, deadline %.0f s, on error: %s)",
             settings.milter.socket, settings.milter.workers, engine.rules_hash[:12],
             engine.deadline_seconds, engine.on_error)
    if engine.notifier is not None:
        engine.notifier.start()  # the outbox sender thread
    release_library_pages()  # started: what only the start-up touched can go
    rc = 0
    try:
        milter.main()
    except milter.error as exc:
        log.error("milter stopped: %s", exc)
        rc = 1
    finally:
        log.info("stopping: %d workers", len(pool.pids()))
        pool.close()
        store.close()
        if engine.notifier is not None:
            engine.notifier.stop()
        if kind == "unix":
            try:
                os.unlink(str(where))
            except OSError:
                pass
    log.info("stopped")
    return rc


__all__ = ["GatewayMilter", "serve"]
