"""Sniffing against office files and PDFs from other producers (../shared/interop, skipped
when absent): a well-formed package is never called damaged, a plain PDF never a polyglot,
and every one of them is identified."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from gateway.intake.sniff import sniff_detail

INTEROP = Path(__file__).resolve().parents[2] / ".." / "shared" / "interop"
OFFICE = {"docx", "xlsx", "pptx", "odt", "ods", "odp", "ott", "pdf"}
KNOWN_BROKEN = {
    "eu-dss/false-zip-comment.odp",  # a misleading ZIP comment: no ZIP reader opens it here
    "libreoffice-test_docs/invalid_ooo2_x_macro5.odt",  # its parts zipped inside a folder
}

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not (INTEROP / "MANIFEST.tsv").is_file(),
                       reason="../shared/interop is not present"),
]


def _files() -> list[tuple[str, str]]:
    if not (INTEROP / "MANIFEST.tsv").is_file():
        return []
    with (INTEROP / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        return [(r["file"], r["format"]) for r in csv.DictReader(fh, delimiter="\t")
                if r["format"] in OFFICE and r["file"] not in KNOWN_BROKEN]


@pytest.mark.parametrize("path, fmt", _files())
def test_files_from_other_producers_sniff_as_what_they_are(path: str, fmt: str) -> None:
    found = sniff_detail((INTEROP / path).read_bytes(), Path(path).name)
    assert found.identified and found.damage is None and found.also is None, found
    assert found.fmt == fmt or (fmt, found.fmt) in {("ott", "odt")}, found
