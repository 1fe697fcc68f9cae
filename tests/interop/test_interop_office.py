"""Signed OOXML/ODF/legacy files made by other software (../shared/interop), compared with
the verdicts of their source projects for the layers the gateway decides by itself:
integrity, coverage, presence (and signer attribution, which the gateway folds into
integrity). Trust and revocation rows only have to come out not valid.

Skipped when the shared corpus is absent (a plain clone of the repository).
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.model.report import Coverage, Integrity, Verdict
from gateway.pipeline import Checker
from gateway.policy.load import load_policy

INTEROP = Path(__file__).resolve().parents[2] / ".." / "shared" / "interop"
FORMATS = {"docx", "docm", "xlsx", "xlsm", "pptx", "pptm", "odt", "ods", "odp", "ott", "odg",
           "doc", "xls", "ppt"}
DECIDED = {"integrity", "coverage", "presence", "container", "signer"}
SIGNATURE_FORMATS = {"ooxml-xmldsig", "odf-xmldsig", "legacy-office"}

pytestmark = [
    pytest.mark.interop,
    pytest.mark.skipif(not (INTEROP / "MANIFEST.tsv").is_file(),
                       reason="../shared/interop is not present"),
]


def _rows() -> list[dict[str, str]]:
    if not (INTEROP / "MANIFEST.tsv").is_file():
        return []
    with (INTEROP / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t") if r["format"] in FORMATS]


def _layer(evidence: str) -> str:
    first = evidence.split(";", 1)[0].strip()
    value = first.split("=", 1)[1] if first.startswith("layer=") else first
    return value.split("(")[0].split("+")[0].strip()


def outcome(doc) -> str:
    """The gateway's document-signature verdict, worst signature first."""
    sigs = [s for s in doc.signatures if s.format in SIGNATURE_FORMATS]
    if not sigs:
        codes = {f.code for f in doc.findings}
        unreadable = {"DOCUMENT_UNREADABLE", "ARCHIVE_UNREADABLE"}
        return "unreadable" if codes & unreadable else "unsigned"
    if any(s.integrity is Integrity.BROKEN for s in sigs):
        return "invalid"
    if any(s.coverage is Coverage.PARTIAL for s in sigs):
        return "partial"
    if any(s.integrity is Integrity.UNVERIFIABLE for s in sigs):
        return "unverifiable"
    return "valid"


def agrees(expected: str, got: str) -> bool:
    if expected == "invalid":
        # A signature that covers less than the format requires is refused as well;
        # LibreOffice calls a stream added to an OOo 2 signature "invalid".
        return got in ("invalid", "partial")
    return expected == got


@pytest.fixture(scope="module")
def results():
    checker = Checker(load_policy(), trust=None,
                      clock=lambda: datetime(2025, 6, 1, tzinfo=UTC))
    out = []
    for row in _rows():
        data = (INTEROP / row["file"]).read_bytes()
        report = checker.check_document(Path(row["file"]).name, data)
        out.append((row, report))
    return out


def test_corpus_is_there(results):
    assert len(results) >= 30


def test_nothing_crashes(results):
    for row, report in results:
        codes = [f.code for d in report.documents for f in d.findings]
        assert "INSPECTION_FAILED" not in codes, row["file"]


def test_refused_by_the_source_never_comes_out_good(results):
    for row, report in results:
        if row["expected"] not in ("invalid", "partial"):
            continue
        # (An archive-shaped file can still be "valid" for the images it holds: that is the
        # archive rule's call; what matters here is that no signature comes out good.)
        if outcome(report.documents[0]) != "unsigned":
            assert report.verdict is not Verdict.VALID, row["file"]
        for doc in report.documents:
            assert not any(s.is_good for s in doc.signatures), row["file"]
            if _layer(row["evidence"]) in DECIDED:
                assert outcome(doc) != "valid", row["file"]


def test_agreement_on_decided_layers(results, capsys):
    agree, total, misses = 0, 0, []
    tally: Counter[str] = Counter()
    for row, report in results:
        if row["expected"] == "unknown" or _layer(row["evidence"]) not in DECIDED:
            continue
        doc = report.documents[0]  # the file itself (archive members follow it)
        got = outcome(doc)
        total += 1
        tally[f"{row['expected']}->{got}"] += 1
        if agrees(row["expected"], got):
            agree += 1
        else:
            misses.append(f"{row['file']}: expected {row['expected']}, gateway {got}")
    with capsys.disabled():
        print(f"\ninterop agreement: {agree}/{total}")
        for m in misses:
            print(f"  disagreement: {m}")
    # Known, explained disagreements: eu-dss false-zip-comment.odp (its central directory
    # is unreadable; DSS streams the local headers instead), OOo macro5 (the package is
    # nested in a folder, which LibreOffice repairs) and the OpenPGP samples (not X.509:
    # unverifiable by design).
    assert agree >= total - 4, misses
    # The gateway never says "valid" where the source refused.
    assert not any("expected invalid, gateway valid" in m or "expected partial, gateway valid" in m
                   for m in misses)


def test_unsigned_samples_stay_unsigned_and_macro_only_is_explained(results):
    for row, report in results:
        if row["expected"] != "unsigned":
            continue
        doc = report.documents[0]
        assert outcome(doc) == "unsigned", row["file"]
        if "macro" in row["evidence"].lower():
            assert "SIG_MACRO_SIGNATURE_ONLY" in [f.code for f in doc.findings]


def test_every_signature_not_confirmed_names_its_reasons(results):
    # Without a trust engine nothing is confirmed: each signature must still say why, and
    # the old SHA-1 / 1,024-bit files of the corpus name the algorithm policy.
    seen = set()
    for row, report in results:
        for doc in report.documents:
            for s in doc.signatures:
                assert s.reasons, row["file"]
                seen.update(s.reasons)
    assert {"digest-not-allowed", "key-too-small", "trust-unknown"} <= seen
