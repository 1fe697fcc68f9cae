"""The PDF text layer finds the last cross-reference as pdfminer does, without pdfminer's
backward line reader (slow through data appended after the file's end)."""

from __future__ import annotations

import io
import random

import pytest
from pdfminer.pdfdocument import PDFDocument, PDFNoValidXRef
from pdfminer.pdfparser import PDFParser

from gateway.inspect.text.extract import Budget, pdf
from gateway.inspect.text.extract.pdftext import find_startxref
from tests.pdfgen.build import born_digital_pdf


def _pdfminer(data: bytes) -> int | None:
    parser = PDFParser(io.BytesIO(data))
    doc = PDFDocument.__new__(PDFDocument)  # only its find_xref, not the whole reading
    try:
        return doc.find_xref(parser)
    except PDFNoValidXRef:
        return None


CASES = [
    b"%PDF-1.4\nstartxref\n123\n%%EOF\n",
    b"%PDF-1.4\r\nstartxref\r\n123\r\n%%EOF",
    b"%PDF-1.4\rstartxref\r  \r\n  456  \r%%EOF\r",
    b"%PDF-1.4\nstartxref\n123\n%%EOF\nstartxref\n789\n%%EOF\n",
    b"%PDF-1.4\nstartxref\n123\n%%EOF\nxx startxref\n789\n",  # not a line of its own
    b"%PDF-1.4\nstartxref\n12a\n%%EOF\n",  # not a number
    b"%PDF-1.4\nstartxref\n",  # nothing after it
    b"%PDF-1.4\nstartxref\n\n\n",
    b"startxref\n123\n",  # the first line: pdfminer's backward reader never returns it
    b"%PDF-1.4\nstartxref\n99999999999\n",  # past 2**31
    b"%PDF-1.4\n  startxref \t\n 77\n",
    b"%PDF-1.4\nstartxrefstartxref\n5\n",
    b"%PDF-1.4\n%%EOF\n",
    b"",
]


@pytest.mark.parametrize("data", CASES)
def test_same_position_as_pdfminer(data: bytes) -> None:
    assert find_startxref(data) == _pdfminer(data)


def test_same_position_through_appended_bytes() -> None:
    rng = random.Random(7)
    base = born_digital_pdf(1)
    for size in (0, 1, 1000, 70_000):
        data = base + rng.randbytes(size)
        assert find_startxref(data) == _pdfminer(data)
    data = base + b"\nstartxref\n" + rng.randbytes(5000)  # a decoy line followed by noise
    assert find_startxref(data) == _pdfminer(data)


def test_text_read_through_appended_bytes() -> None:
    base = born_digital_pdf(2)
    plain = pdf(base, Budget(100_000), 10)
    padded = pdf(base + random.Random(3).randbytes(300_000), Budget(100_000), 10)
    assert plain.blocks
    assert [b.text for b in padded.blocks] == [b.text for b in plain.blocks]


def test_same_position_on_random_tails() -> None:
    rng = random.Random(12)
    pieces = [b"startxref", b"123", b"4", b" ", b"\t", b"\x0b", b"\x0c", b"\r", b"\n", b"\r\n",
              b"%%EOF", b"x", b"startxref 1", b"00", b"12 ", b"\x00"]
    for _ in range(3000):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        assert find_startxref(data) == _pdfminer(data), data


def test_same_position_on_many_decoys() -> None:
    """Many ``startxref`` not alone on their line, long blank stretches: still pdfminer's
    answer (and each byte is looked at a bounded number of times, not once per decoy)."""
    cases = [
        b"%PDF-1.4\nstartxref\n42\n" + b"startxref x" * 20_000,
        b"%PDF-1.4\nstartxref" + b" " * 50_000 + b"\n" + b"\n" * 50_000 + b"  42 \n",
        b"%PDF-1.4\n" + b"x startxref" * 20_000 + b"\nstartxref\n7",
        b"%PDF-1.4\n" + b"startxref\t" * 20_000 + b"\n9\n",
    ]
    for data in cases:
        assert find_startxref(data) == _pdfminer(data)
