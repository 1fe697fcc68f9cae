"""Everything ``hople serve`` prepares before the milter listens, without pymilter: the rules,
the decision log, the notice service and the worker pool (``build_engine``), the spool
directory, the socket's permissions and the log handler. A failure is a :class:`ServeError`
(one line for the operator) or the loader's own error, which the CLI reports."""

from __future__ import annotations

import grp
import logging
import os
import sys
from pathlib import Path
from typing import Any

from gateway.milter.engine import Engine
from gateway.settings import Settings

log = logging.getLogger("hople.milter")


class ServeError(Exception):
    """The gateway cannot start (one line for the operator)."""


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def prepare_spool(path: str) -> None:
    p = Path(path)
    try:
        p.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(p, 0o700)
        for stale in p.glob("msg-*"):  # left by a crash: nobody reads them any more
            stale.unlink(missing_ok=True)
    except OSError as exc:
        raise ServeError(f"spool directory {path}: {exc.strerror or exc}") from None


def socket_permissions(path: str, mode: int, group: str) -> None:
    try:
        if group:
            try:
                gid = grp.getgrnam(group).gr_gid
            except KeyError:
                raise ServeError(f"milter socket group {group!r} does not exist") from None
            os.chown(path, -1, gid)
        os.chmod(path, mode)
    except OSError as exc:
        raise ServeError(f"milter socket {path}: {exc.strerror or exc}") from None


def build_engine(settings: Settings) -> tuple[Engine, Any, Any]:
    """Load the rules, open the log, start the workers. Returns (engine, pool, store)."""
    from gateway.audit.store import StoreError, open_store
    from gateway.milter.pool import WorkerFailed, WorkerPool
    from gateway.notices.marker import read_secret
    from gateway.policy.load import load_policy

    rules_path = settings.rules_path
    policy = load_policy(rules_path)  # RulesError: reported by the CLI, names file and key
    secret = read_secret(settings.notices.marker_secret_file)
    if secret is None:
        log.warning("no usable notice secret at %s: the gateway's own notices will be checked "
                    "like any message", settings.notices.marker_secret_file)
    try:
        store = open_store(settings.store.url)
    except StoreError as exc:
        raise ServeError(f"decision log: {exc}") from None
    from gateway.notices.service import NoticeService

    try:  # templates are checked here: a broken one stops the start (RulesError, file+reason)
        notices = NoticeService.from_config(settings, policy, secret)
    except StoreError as exc:
        store.close()
        raise ServeError(f"notice outbox: {exc}") from None
    except Exception:  # noqa: BLE001 - not handled here: close the log, then re-raise
        store.close()
        raise
    pool = WorkerPool(
        settings.milter.workers,
        str(rules_path) if rules_path else None,
        settings.trust.anchor_dirs,
        max_jobs=settings.milter.worker_max_jobs,
        memory_limit=settings.milter.worker_memory_limit,
    )
    try:
        pool.start()
    except WorkerFailed as exc:
        store.close()
        if notices is not None:
            notices.stop()
        raise ServeError(str(exc)) from None
    failure = policy.rules.failure
    engine = Engine(
        pool, store,
        on_error=failure.on_error,
        deadline_seconds=failure.deadline_seconds,
        notice_secret=secret,
        rules_hash=policy.hash,
        notifier=notices,
    )
    return engine, pool, store


__all__ = ["ServeError", "build_engine", "prepare_spool", "setup_logging", "socket_permissions"]
