"""Fixtures of the decision-log tests: a fresh log per test on each backend (``backend_url``
and the private PostgreSQL server come from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gateway.audit.store import DecisionStore, open_store


@pytest.fixture
def store(backend_url: str) -> Iterator[DecisionStore]:
    s = open_store(backend_url)
    try:
        yield s
    finally:
        s.close()
