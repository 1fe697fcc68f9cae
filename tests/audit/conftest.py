"""Fixtures of the decision-log tests: a private PostgreSQL server for the whole run, and a
fresh log per test on each backend (``backend_url`` is parametrised over SQLite and
PostgreSQL; the PostgreSQL cases carry the ``postgres`` marker and skip cleanly when the
server binaries are absent)."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Iterator

import pytest

from gateway.audit.store import DecisionStore, open_store
from tests.audit.pgserver import PgServer, find_bindir, start_server

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    if find_bindir() is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    if shutil.which("runuser") is None:
        pytest.skip("runuser is needed to start PostgreSQL as an unprivileged user")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed")
    server = start_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    return pg_server.create_db(f"t{next(_counter)}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'decisions.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(backend_url: str) -> Iterator[DecisionStore]:
    s = open_store(backend_url)
    try:
        yield s
    finally:
        s.close()
