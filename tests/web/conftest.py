"""Fixtures of the web tests: a decision log with known content, an account, the Flask app
over it, and the same app served by waitress on a free loopback port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.reports import report_zone
from gateway.audit.store import DecisionStore, open_store
from gateway.audit.users import Accounts
from gateway.audit.web.app import WebConfig, create_app
from gateway.policy.agencies import load_agencies
from tests.web.data import ADMIN, FIRST_PASSWORD, Known, populate


@dataclass
class Site:
    store: DecisionStore
    url: str
    """The store's URL (sqlite:///…)."""
    known: Known
    accounts: Accounts
    app: Any
    config: WebConfig
    base: str = ""
    """http://127.0.0.1:PORT when served."""


def make_site(tmp: Path, **config: Any) -> Site:
    url = f"sqlite:///{tmp / 'decisions.db'}"
    store = open_store(url)
    known = populate(store)
    accounts = Accounts(store)
    accounts.add(ADMIN, FIRST_PASSWORD, full_name="Cán bộ kiểm tra")
    cfg = WebConfig(agencies=load_agencies(), zone=report_zone(), **config)
    app = create_app(store, cfg)
    app.testing = False
    return Site(store, url, known, app.extensions["hople"]["accounts"], app, cfg)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    s = make_site(tmp_path)
    try:
        yield s
    finally:
        s.store.close()


class Served:
    """The app under waitress in a thread (like ``hople web``)."""

    def __init__(self, app: Any, threads: int = 4, **overrides: Any) -> None:
        from gateway.audit.web.server import create_server

        self.server = create_server(app, "127.0.0.1", 0, threads=threads, **overrides)
        self.port = int(self.server.effective_port)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):
            pass  # closed

    def close(self) -> None:
        self.server.task_dispatcher.shutdown(timeout=5)
        self.server.close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def served_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    s = make_site(tmp_path_factory.mktemp("web"))
    served = Served(s.app)
    s.base = f"http://127.0.0.1:{served.port}"
    try:
        yield s
    finally:
        served.close()
        s.store.close()
