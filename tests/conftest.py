"""Fixtures shared by every test suite."""

from __future__ import annotations

import pytest

from tests.pki import TestPKI, generate


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    """The test PKI (see ``tests/pki``): certificates, keys, CRLs, directories and ``now``.

    Generated once per test run into a temporary directory; treat it as read-only.
    """
    return generate(tmp_path_factory.mktemp("pki"))
