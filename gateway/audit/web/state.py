"""What the pages of the web app share: the open store, the accounts, the login throttle,
the metrics, the cached chain check and the settings (one :class:`AppState` per app, found
with :func:`state`), and the helpers every page uses (clock, cookies, the error page)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Response, current_app, g, render_template
from werkzeug.wrappers import Response as BaseResponse

from gateway.audit.metrics import LogMetrics
from gateway.audit.records import Decision
from gateway.audit.reports import decision_agency_address
from gateway.audit.store import DecisionStore
from gateway.audit.users import Accounts
from gateway.audit.web.config import WebConfig
from gateway.audit.web.security import Throttle

__all__ = ["AppState", "VerifyCache", "refuse", "state"]


class VerifyCache:
    """``store.verify()`` computed at most once per ``ttl`` seconds (unless asked fresh)."""

    def __init__(self, store: DecisionStore, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        self._mu = threading.Lock()
        self._at = 0.0
        self._result: Any = None
        self._when: datetime | None = None

    def get(self, fresh: bool) -> tuple[Any, datetime]:
        with self._mu:
            age = time.monotonic() - self._at
            if self._result is None or age > self.ttl or fresh:
                self._result = self.store.verify()
                self._at = time.monotonic()
                self._when = datetime.now(UTC)
            assert self._when is not None
            return self._result, self._when


@dataclass
class AppState:
    store: DecisionStore
    config: WebConfig
    accounts: Accounts = field(init=False)
    throttle: Throttle = field(init=False)
    metrics: LogMetrics = field(init=False)
    verify_cache: VerifyCache = field(init=False)

    def __post_init__(self) -> None:
        c = self.config
        self.accounts = Accounts(self.store, clock=c.clock, lockout=c.lockout,
                                 sessions=c.sessions)
        self.throttle = Throttle(c.address_fail_limit, c.address_fail_window)
        self.metrics = LogMetrics(self.store)
        self.verify_cache = VerifyCache(self.store, c.verify_cache_seconds)

    def now(self) -> datetime:
        return (self.config.clock or (lambda: datetime.now(UTC)))()

    def local(self, at: datetime | None) -> str:
        return at.astimezone(self.config.zone).strftime("%Y-%m-%d %H:%M:%S") if at else "–"

    def agency_of(self, d: Decision) -> str:
        return self.config.agencies.resolve(decision_agency_address(d)).code

    def set_cookie(self, resp: BaseResponse, name: str, value: str, max_age: int | None) -> None:
        resp.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        samesite="Strict", secure=self.config.https)

    def clear_cookie(self, resp: BaseResponse, name: str) -> None:
        resp.delete_cookie(name, path="/", httponly=True, samesite="Strict",
                           secure=self.config.https)


def state() -> AppState:
    """The state of the app serving the current request."""
    found: AppState = current_app.extensions["hople"]["state"]
    return found


def refuse(status: int, vi: str, en: str, event: str) -> Response:
    """The error page (Vietnamese and English) with ``status``; ``event`` goes to the
    access log."""
    g.event = event
    return Response(render_template("error.html", status=status, vi=vi, en=en),
                    status=status, mimetype="text/html")
