"""Fixtures shared by every test suite."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.audit.pgserver import PgServer, find_bindir, start_server
from tests.pki import TestPKI, generate

_databases = itertools.count(1)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """The test PKI (see ``tests/pki``): certificates, keys, CRLs, directories and ``now``.

    Generated once per test run into a temporary directory; treat it as read-only.
    """
    return generate(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One private PostgreSQL server for the whole run (started as an unprivileged user on a
    free loopback port); skipped cleanly when the server binaries or psycopg are missing."""
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
    """A fresh database on the shared server."""
    return pg_server.create_db(f"t{next(_databases)}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh decision-store URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'decisions.db'}"
    return str(request.getfixturevalue("pg_url"))
