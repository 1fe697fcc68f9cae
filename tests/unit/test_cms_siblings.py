"""Pairing detached signatures with the files they sign is linear in the number of
documents: the message's files are indexed once (by folder, name and digest) and each CMS file
is parsed once, whatever the number of files (before: every file rescanned every other file,
about 40,000 steps for 200 files)."""

from __future__ import annotations

import pytest

from gateway.inspect import cms
from tests.pdfgen.check import engine_for
from tests.unit.test_cms import CONTENT, _check, _cms, _message

N = 200


@pytest.fixture(scope="module")
def engine(pki):
    return engine_for(pki)


def _counting(monkeypatch, name: str) -> list[int]:
    calls = [0]
    real = getattr(cms, name)

    def wrapper(*a, **k):
        calls[0] += 1
        return real(*a, **k)

    monkeypatch.setattr(cms, name, wrapper)
    return calls


def test_pairing_200_files_is_linear_and_still_pairs_by_name_and_by_digest(pki, engine,
                                                                         monkeypatch):
    notes = [(f"ghi-chu-{i}.txt", f"Ghi chu so {i}\n".encode(), "text/plain")
             for i in range(N - 3)]
    by_name = _cms(pki, pki.leaf, CONTENT, detached=True)
    by_digest = _cms(pki, pki.leaf, notes[7][1], detached=True)  # its name points at nothing
    raw = _message([("cong-van.pdf", CONTENT, "application/pdf"),
                    ("cong-van.pdf.p7s", by_name, "application/pkcs7-signature"),
                    *notes,
                    ("chu-ky.p7s", by_digest, "application/pkcs7-signature")])
    folders = _counting(monkeypatch, "_folder")
    parses = _counting(monkeypatch, "parse_cms")
    report = _check(pki, engine, raw)
    assert len(report.documents) == N
    signed = {d.path: [s.format for s in d.signatures] for d in report.documents if d.signatures}
    assert signed == {"cong-van.pdf": ["cms-detached"], "ghi-chu-7.txt": ["cms-detached"]}
    assert all(s.is_good for d in report.documents for s in d.signatures)
    assert not [f for f in report.findings if f.code == "CMS_CONTENT_MISSING"]
    # linear: a few steps per file (index, lookups), one parse per CMS file and check
    assert folders[0] <= 6 * N, folders[0]
    assert parses[0] <= 6, parses[0]


def test_a_detached_signature_pointing_at_nothing_is_still_missing(pki, engine):
    sig = _cms(pki, pki.leaf, b"not here", detached=True)
    raw = _message([("a.txt", b"khac\n", "text/plain"),
                    ("b.pdf.p7s", sig, "application/pkcs7-signature")])
    report = _check(pki, engine, raw)
    assert [f.params["expected"] for f in report.findings
            if f.code == "CMS_CONTENT_MISSING"] == ["b.pdf"]
