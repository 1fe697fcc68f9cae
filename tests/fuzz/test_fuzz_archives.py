"""Mutation fuzzing of the archives read through libarchive: whatever the bytes, intake
answers with members and/or findings (never an exception), and an archive whose bytes were
changed is never reported as an empty, finding-free archive unless it still reads.

``make test`` runs a bounded number of cases per format (``HOPLE_FUZZ_CASES``, default 150
shared by the formats); ``make test-slow`` the long version (marker ``slow``).
"""

from __future__ import annotations

import os
import random

import pytest

from gateway.intake import archive_formats, archives
from gateway.policy.schema import Limits
from tests.archgen.build import cab, compress, seven_zip, tar, with_libarchive
from tests.archgen.rar import Member, rar4, rar5
from tests.fuzz.test_fuzz_pipeline import mutate

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MEMBERS = {"Hồ sơ/Công văn.pdf": PDF * 20, "b.txt": b"Kinh gui " * 50}
SEEDS = {
    "rar": lambda: rar5([Member(k, v) for k, v in MEMBERS.items()]),
    "rar4": lambda: rar4([Member(k, v) for k, v in MEMBERS.items()]),
    "7z": lambda: seven_zip(MEMBERS),
    "tar.gz": lambda: tar(MEMBERS, compression="gz"),
    "tar.xz": lambda: tar(MEMBERS, compression="xz"),
    "tar": lambda: tar(MEMBERS),
    "cab": lambda: cab(MEMBERS),
    "iso": lambda: with_libarchive(MEMBERS, "iso9660"),
    "bz2": lambda: compress(PDF * 40, "bz2"),
    "zst": lambda: compress(PDF * 40, "zst"),
}
BOUNDED = max(1, int(os.environ.get("HOPLE_FUZZ_CASES", "150")) // len(SEEDS))
LONG = 2000


def _run(kind: str, cases: int) -> None:
    seed = SEEDS[kind]()
    rng = random.Random(kind)
    limits = Limits(archive_max_seconds=30)
    for _ in range(cases):
        data = mutate(seed, rng)
        fmt = archive_formats.magic_format(data)
        if fmt is None:
            continue  # no longer this container: sniffing decides what it is
        got = archives.expand(data, fmt, f"f.{kind}", limits)
        assert got.members or got.problems or len(data) < 64, (kind, data[:80])
        for p in got.problems:
            assert p.code in {"ARCHIVE_LIMIT", "ARCHIVE_UNREADABLE", "ARCHIVE_ENCRYPTED"}
            assert p.reason


@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_fuzz_archives_bounded(kind: str) -> None:
    _run(kind, BOUNDED)


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(SEEDS))
def test_fuzz_archives_long(kind: str) -> None:
    _run(kind, LONG)
