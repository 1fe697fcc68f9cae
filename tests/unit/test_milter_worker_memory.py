"""What a worker frees after a message: a large message's reference cycles (the PDF readers
hold the document's bytes in them) are collected before the heap is trimmed, so the next
large message does not find the last one's part still held."""

from __future__ import annotations

import gc
import io
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.milter.worker import (
    COLLECT_AFTER_BYTES,
    build_checker,
    check_one,
    collect_after,
    message_size,
)
from gateway.model.envelope import Envelope


@pytest.fixture
def no_automatic_collection() -> Iterator[None]:
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Held:
    pass


def _cycle() -> weakref.ref[_Held]:
    held = _Held()
    held.me = held  # type: ignore[attr-defined]
    return weakref.ref(held)


def test_a_large_message_frees_its_cycles(no_automatic_collection: None) -> None:
    held = _cycle()
    assert collect_after(COLLECT_AFTER_BYTES - 1) is False
    assert held() is not None  # a small message leaves them to the collector's own pace
    assert collect_after(COLLECT_AFTER_BYTES) is True
    assert held() is None


def test_the_size_of_either_kind_of_source(tmp_path: Path) -> None:
    spool = tmp_path / "m.eml"
    spool.write_bytes(b"x" * 5000)
    assert message_size("path", str(spool)) == 5000
    assert message_size("bytes", b"x" * 7) == 7
    assert message_size("path", str(tmp_path / "gone.eml")) == 0  # nothing left to free


def test_the_pdf_readers_hold_the_document_in_cycles_until_collected(
        no_automatic_collection: None) -> None:
    """Why the collection is needed: after a check of a message with a PDF, the PDF's bytes
    are still referenced (from the readers' cycles) until the collector runs."""
    from gateway.demo import AGENCY, message, sample_pdf

    pdf = sample_pdf() + b"%" + b"p" * 300_000 + b"\n"  # a comment after %%EOF: unique size
    raw = message(AGENCY, "Công văn", "Gửi kèm.\n", [("cv.pdf", pdf, "application/pdf")])
    checker = build_checker(None, ())

    def readers_of_the_pdf() -> int:
        return sum(1 for o in gc.get_objects() if isinstance(o, io.BytesIO) and not o.closed
                   and o.getbuffer().nbytes == len(pdf))

    report = check_one(checker, "bytes", raw.as_bytes(), Envelope(), "Q1")
    assert report.documents
    assert readers_of_the_pdf() > 0
    collect_after(COLLECT_AFTER_BYTES)
    assert readers_of_the_pdf() == 0
