"""Mutation fuzzing of the whole pipeline: whatever bytes arrive, the gateway answers with a
report (never an exception), the report serialises to the JSON contract, and a signed
document whose signed bytes were changed never comes out valid.

``make test`` runs a bounded number of cases (``HOPLE_FUZZ_CASES``, default 150 per seed
family); ``make test-slow`` runs the long version (marker ``slow``, 3,000 per family).
"""

from __future__ import annotations

import io
import json
import os
import random
import zipfile
import zlib
from datetime import timedelta
from pathlib import Path

import pytest

from gateway.model.envelope import Envelope
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from gateway.trust import build_engine
from tests import signer as S

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "messages"
BOUNDED = int(os.environ.get("HOPLE_FUZZ_CASES", "150"))
LONG = 3000
VERDICTS = {"valid", "invalid", "rejected", "held", "no-documents", "uninspected"}


def mutate(data: bytes, rng: random.Random) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(5)
        if not buf:
            break
        pos = rng.randrange(len(buf))
        if op == 0:  # flip bits
            buf[pos] ^= 1 << rng.randrange(8)
        elif op == 1:  # truncate
            del buf[pos:]
        elif op == 2:  # insert junk
            buf[pos:pos] = rng.randbytes(rng.randint(1, 64))
        elif op == 3:  # duplicate a slice
            end = min(len(buf), pos + rng.randint(1, 256))
            buf[pos:pos] = buf[pos:end]
        else:  # overwrite with a structural byte
            buf[pos] = rng.choice(b"<>\"'=:;\r\n\x00\xff-/")
    return bytes(buf)


def _check_report(report) -> None:
    # damaged input gets a precise finding; INSPECTION_FAILED means an inspector raised
    failed = [f.en for f in report.all_findings if f.code == "INSPECTION_FAILED"]
    assert not failed, failed
    js = json.loads(json.dumps(report.to_json(), ensure_ascii=False))
    assert js["verdict"] in VERDICTS
    assert js["action"] in {"accept", "reject", "tempfail", "hold"}
    for d in js["documents"]:
        assert d["verdict"] in {"valid", "invalid", "not-applicable", "uninspected"}


@pytest.fixture(scope="module")
def checker(pki):
    engine = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir])
    return Checker(load_policy(), trust=engine, clock=lambda: pki.now)


@pytest.fixture(scope="module")
def signed_docx(pki) -> bytes:
    parts = S.sign_ooxml(S.make_ooxml("docx"), pki.leaf.key, pki.leaf.cert,
                         chain=pki.chain(pki.leaf), signing_time=pki.now - timedelta(days=1))
    return S.zip_package(parts)


def _messages(n: int, seed: int) -> list[tuple[str, bytes]]:
    seeds = sorted(CORPUS.glob("*.eml"))
    rng = random.Random(seed)
    out = []
    for i in range(n):
        src = seeds[i % len(seeds)]
        out.append((f"{src.stem}#{i}", mutate(src.read_bytes(), rng)))
    return out


def _run_messages(checker: Checker, n: int, seed: int) -> None:
    for label, raw in _messages(n, seed):
        report = checker.check_message(
            io.BytesIO(raw), Envelope(sender="vanthu.stc@daknong.gov.vn"), label=label)
        _check_report(report)


def _covered_content(data: bytes) -> dict[str, bytes] | None:
    """The signed parts of a DOCX, or None when the (mutated) ZIP cannot be read."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return {i.filename: zf.read(i) for i in zf.infolist()
                    if not i.filename.startswith(("_xmlsignatures", "docProps"))}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            NotImplementedError, RuntimeError, zlib.error):
        return None


def _run_signed(checker: Checker, signed: bytes, n: int, seed: int) -> None:
    original = _covered_content(signed)
    rng = random.Random(seed)
    for i in range(n):
        data = mutate(signed, rng)
        report = checker.check_document("van-ban.docx", data, label=f"signed#{i}")
        _check_report(report)
        doc = report.documents[0]
        if doc.verdict.value == "valid":
            # Valid is only allowed when the mutation left every signed part's content as it
            # was (e.g. it hit the ZIP's slack or an unsigned-by-design part).
            assert _covered_content(data) == original, f"mutation {i} passed as valid"


def test_malformed_charset_name_is_not_an_inspection_failure(checker: Checker) -> None:
    raw = (b"From: a@daknong.gov.vn\nSubject: x\nContent-Type: text/plain; charset=\"\x00tf-8\"\n"
           b"MIME-Version: 1.0\n\nK\xc3\xadnh g\xe1\xbb\xadi\n")
    _check_report(checker.check_message(io.BytesIO(raw), Envelope(sender="a@daknong.gov.vn")))


def test_mutated_messages_always_get_a_report(checker: Checker) -> None:
    _run_messages(checker, BOUNDED, seed=1)


def test_mutated_signed_docx_never_passes_with_changed_content(checker: Checker,
                                                              signed_docx: bytes) -> None:
    _run_signed(checker, signed_docx, BOUNDED, seed=2)


@pytest.fixture(scope="module")
def signed_pdf(pki) -> bytes:
    from tests.pdfgen.build import born_digital_pdf
    from tests.pdfgen.sign import sign

    return sign(born_digital_pdf(2), pki.leaf, pki.chain(pki.leaf))


def _signed_ranges(data: bytes) -> list[tuple[int, int]]:
    import re

    m = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    assert m, "test PDF has no ByteRange"
    a, b, c, d = (int(x) for x in m.groups())
    return [(a, a + b), (c, c + d)]


def _run_pdf(checker: Checker, signed: bytes, n: int, seed: int) -> None:
    rng = random.Random(seed)
    ranges = _signed_ranges(signed)
    for i in range(n):
        data = mutate(signed, rng)
        _check_report(checker.check_document("cong-van.pdf", data, label=f"pdf#{i}"))
        # one flipped bit inside the signed byte ranges must never pass
        start, end = ranges[rng.randrange(2)]
        pos = rng.randrange(start, end)
        flipped = bytearray(signed)
        flipped[pos] ^= 1 << rng.randrange(8)
        report = checker.check_document("cong-van.pdf", bytes(flipped), label=f"pdf-flip#{i}")
        _check_report(report)
        assert report.documents[0].verdict.value != "valid", f"bit flip at {pos} passed"


def test_mutated_signed_pdf_always_gets_a_report(checker: Checker, signed_pdf: bytes) -> None:
    _run_pdf(checker, signed_pdf, max(10, BOUNDED // 8), seed=3)


@pytest.mark.slow
def test_mutated_signed_pdf_long(checker: Checker, signed_pdf: bytes) -> None:
    _run_pdf(checker, signed_pdf, LONG // 3, seed=13)


@pytest.mark.slow
def test_mutated_messages_long(checker: Checker) -> None:
    _run_messages(checker, LONG, seed=11)


@pytest.mark.slow
def test_mutated_signed_docx_long(checker: Checker, signed_docx: bytes) -> None:
    _run_signed(checker, signed_docx, LONG, seed=12)
