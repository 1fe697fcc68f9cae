"""A large part is its mapped temp file, not bytes in memory (``gateway/model/partdata.py``):
it reads as its bytes for everything the inspectors do, libraries read it through its file,
searches and digests give its pages back as they go, every inspector finds what it finds in
the same bytes in memory, it is gone once the check is over, and a part that cannot be mapped
fails the check instead of passing unread."""

from __future__ import annotations

import hashlib
import io
import mmap
import os
import random
import re
import tempfile
from pathlib import Path
from typing import Any

import pytest

from gateway.intake import spills, stream
from gateway.intake.mime import Walker
from gateway.model import partdata
from gateway.model.envelope import Envelope
from gateway.model.partdata import PartFile, find_all, open_stream, to_bytes
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from gateway.policy.schema import Documents, Limits

PAGE = mmap.PAGESIZE


def mapped(data: bytes) -> PartFile:
    f = tempfile.TemporaryFile()
    f.write(data)
    f.flush()
    return PartFile(f)


def _rss_file() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssFile:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no RssFile in /proc/self/status")


@pytest.fixture
def small_windows(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(partdata, "WINDOW", 2 * PAGE)
    return 2 * PAGE


def test_a_mapped_part_reads_as_its_bytes(small_windows: int) -> None:
    data = random.Random(1).randbytes(5 * small_windows + 77)
    data = data[:small_windows - 3] + b"begin" + data[small_windows + 2:]  # across a window
    part = mapped(data)
    assert len(part) == len(data)
    assert part[:10] == data[:10] and part[-2048:] == data[-2048:] and part[7] == data[7]
    assert part.find(b"begin") == data.find(b"begin") == small_windows - 3
    assert part.rfind(data[-5:]) == data.rfind(data[-5:])
    assert b"begin" in part  # a plain mapping says False: it compares single byte values
    assert (b"no such bytes" + bytes(20) in part) is False
    assert data[100] in part
    assert part == data and data == part  # bytes.__eq__ defers to the mapping's own
    assert part != data[:-1] + b"!" and part != data[:-1]
    assert part.startswith(data[:9]) and not part.startswith(b"%PDF-")
    assert partdata.sha256(part) == hashlib.sha256(data).hexdigest() == partdata.sha256(data)
    assert partdata.digest(part, "sha1") == hashlib.sha1(data).digest()
    assert to_bytes(part) == data and type(to_bytes(part)) is bytes
    assert re.compile(rb"begin").search(part).start() == small_windows - 3  # type: ignore[union-attr]
    part.close()
    assert part.closed and part.file.closed


def test_find_all_finds_every_offset_across_windows(small_windows: int) -> None:
    rng = random.Random(2)
    made = bytearray(rng.randbytes(9 * small_windows))
    for at in (0, small_windows - 1, small_windows - 10, small_windows, 3 * small_windows - 5,
               len(made) - 10):
        made[at:at + 10] = b"/ByteRange"
    data = bytes(made) + b"/ByteRange"  # the very end too
    want = [m.start() for m in re.finditer(rb"(?=/ByteRange)", data)]
    assert list(find_all(mapped(data), b"/ByteRange")) == want
    assert list(find_all(data, b"/ByteRange")) == want
    assert list(find_all(mapped(b"aaaa"), b"aa")) == [0, 1, 2]  # overlapping too, as bytes
    assert list(find_all(mapped(data), b"/ByteRange", start=small_windows)) == \
        [w for w in want if w >= small_windows]


def test_streams_read_the_file_each_at_its_own_position() -> None:
    data = random.Random(3).randbytes(300_000)
    part = mapped(data)
    one, two = open_stream(part), open_stream(part)
    assert one.read(10) == data[:10]
    two.seek(-100, os.SEEK_END)
    assert two.read() == data[-100:]
    assert one.read(5) == data[10:15] and one.tell() == 15
    one.seek(0)
    assert one.read() == data
    assert isinstance(open_stream(data), io.BytesIO)


def test_a_search_and_a_digest_leave_the_mapping_untouched() -> None:
    """A whole-part search through ``find_all`` and a digest read the file a window at a
    time: none of the part's pages become the process's; the same search with the mapping's
    own ``find`` makes all of them resident (what this guards against)."""
    size = 64 << 20
    part = mapped(bytes(size))
    before = _rss_file()
    assert list(find_all(part, b"/ByteRange")) == []
    assert b"/ByteRange" not in part
    partdata.sha256(part)
    with open_stream(part) as fp:
        fp.seek(-10, os.SEEK_END)
        assert fp.read() == bytes(10)
    windowed = _rss_file() - before
    assert part.find(b"/ByteRange") < 0
    whole = _rss_file() - before
    part.release()
    released = _rss_file() - before
    part.close()
    assert windowed < 1 << 20
    assert whole > size // 2
    assert released < 1 << 20


def test_a_file_that_lost_bytes_is_an_error_never_fewer_bytes() -> None:
    """Reads from the file check that it still holds the whole part: a search, a digest or a
    copy of a file that ends early raise ``OSError`` (an inspector's error finding, or the
    check's tempfail), never a result over the bytes that are left."""
    part = mapped(random.Random(5).randbytes(3 * PAGE))
    part.file.truncate(PAGE)  # nothing reads the mapping past here (that would be SIGBUS)
    with pytest.raises(OSError):
        list(find_all(part, b"/ByteRange"))
    with pytest.raises(OSError):
        partdata.sha256(part)
    with pytest.raises(OSError):
        to_bytes(part)
    part.close()


# -- through intake and the inspectors ------------------------------------------------------


@pytest.fixture(autouse=True)
def map_smaller_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parts of a few hundred KB mapped, as the parts over ``MAP_BYTES`` are."""
    monkeypatch.setattr(spills, "MAP_BYTES", 400_000)


def _message_bytes(attachments: list[tuple[str, bytes, str]]) -> bytes:
    from gateway.demo import AGENCY, message

    return message(AGENCY, "Công văn", "Gửi kèm.\n", attachments).as_bytes()


def _message(tmp_path: Path, attachments: list[tuple[str, bytes, str]]) -> Path:
    path = tmp_path / "spool" / "msg.eml"
    path.parent.mkdir()
    path.write_bytes(_message_bytes(attachments))
    return path


def test_intake_maps_a_large_part_and_leaves_no_file(tmp_path: Path) -> None:
    pdf, middle, small = _scan(600_000), _scan(300_000), _scan(10_000)
    assert len(pdf) > spills.MAP_BYTES > len(middle) > stream.SPILL_BYTES > len(small)
    path = _message(tmp_path, [("a.pdf", pdf, "application/pdf"),
                               ("b.pdf", middle, "application/pdf"),
                               ("c.pdf", small, "application/pdf")])
    policy = load_policy(None)
    with path.open("rb") as fp:
        parsed = Walker(policy.rules.limits, policy.rules.documents).walk_message(fp)
    big, medium, little = (item.document.data for item in parsed.items)
    assert isinstance(big, PartFile) and big == pdf
    assert type(medium) is bytes and medium == middle  # decoded straight into memory
    assert type(little) is bytes and little == small
    assert parsed.files == [big]
    assert os.listdir(path.parent) == ["msg.eml"]  # the part's file has no name on disk
    assert parsed.digests[id(big)][1] == hashlib.sha256(pdf).hexdigest()
    fd = big.file.fileno()
    parsed.close()
    assert big.closed and parsed.files == []
    with pytest.raises(OSError):
        os.fstat(fd)


def test_only_a_body_that_may_decode_past_map_bytes_goes_through_a_temp_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A body read back into memory anyway is decoded there, with no temp file written; one
    that may decode to more than MAP_BYTES goes through its temp file and is mapped. Base64
    decodes to at most 3 bytes in 4, so the raw body may be a third larger."""
    assert spills.decoded_at_most(4000, "base64") == 3000
    assert spills.decoded_at_most(4000, "quoted-printable") == 4000
    assert spills.decoded_at_most(4000, "8bit") == 4000
    made: list[Any] = []
    real = tempfile.TemporaryFile

    def counting(*a: Any, **kw: Any) -> Any:
        made.append(kw.get("prefix"))
        return real(*a, **kw)

    monkeypatch.setattr(spills.tempfile, "TemporaryFile", counting)
    fits = random.Random(1).randbytes(300_000)  # base64 on the wire: about 410 KB
    path = _message(tmp_path, [("a.bin", fits, "application/octet-stream")])
    assert path.stat().st_size > spills.MAP_BYTES > len(fits)
    with path.open("rb") as fp:
        parsed = Walker(Limits(), Documents()).walk_message(fp)
    assert [type(i.document.data) for i in parsed.items] == [bytes]
    assert parsed.items[0].document.data == fits and made == []
    assert parsed.digests[id(parsed.items[0].document.data)][1] == \
        hashlib.sha256(fits).hexdigest()
    parsed.close()

    larger = random.Random(2).randbytes(420_000)
    path.unlink()
    path.write_bytes(_message_bytes([("b.bin", larger, "application/octet-stream")]))
    with path.open("rb") as fp:
        parsed = Walker(Limits(), Documents()).walk_message(fp)
    assert made == ["part-"] and isinstance(parsed.items[0].document.data, PartFile)
    assert parsed.items[0].document.data == larger
    parsed.close()


def _scan(size: int) -> bytes:
    """A scanned PDF of about ``size`` bytes or more: pages of a seal-stamped scan."""
    from tests.pdfgen.build import scanned_pdf
    from tests.pdfgen.scans import ScanSpec, page_image

    return scanned_pdf([page_image(ScanSpec(seal=True))] * max(1, size // 150_000), quality=95)


def _signed_docx(pki: Any) -> bytes:
    from tests import signer as S

    parts = S.make_ooxml("docx", big_parts={"word/media/scan.bin": random.Random(4).randbytes(
        700_000)})
    parts = S.sign_ooxml(parts, pki.leaf.key, pki.leaf.cert, chain=pki.chain(pki.leaf))
    return S.zip_package(parts)


def _signed_pdf(pki: Any) -> bytes:
    from tests.pdfgen import sign as S

    return S.sign(_scan(900_000), pki.leaf, pki.chain(pki.leaf))


def _report(path: Path, pki: Any) -> dict[str, Any]:
    from tests.pdfgen.check import engine_for

    checker = Checker(load_policy(None), trust=engine_for(pki), clock=lambda: pki.now)
    with path.open("rb") as fp:
        report = checker.check_message(fp, Envelope(sender="vanthu@daknong.gov.vn"))
    return report.to_json()  # the hople.report/1 contract, without the time it took


def test_every_inspector_finds_the_same_in_a_mapped_part(
        tmp_path: Path, pki: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same message checked with its large parts mapped and with every part in memory:
    the same report (verdicts, findings, signatures, facts, digests, sizes)."""
    import zipfile

    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("hop-dong.docx", _signed_docx(pki))
    path = _message(tmp_path, [("scan.pdf", _scan(800_000), "application/pdf"),
                               ("ky-so.pdf", _signed_pdf(pki), "application/pdf"),
                               ("ky-so.docx", _signed_docx(pki), "application/vnd.openxmlformats-"
                                "officedocument.wordprocessingml.document"),
                               ("ho-so.zip", zipped.getvalue(), "application/zip")])
    made: list[PartFile] = []
    real = spills.PartFile

    def counting(file: Any) -> PartFile:
        made.append(real(file))
        return made[-1]

    monkeypatch.setattr(spills, "PartFile", counting)
    mapped_report = _report(path, pki)
    assert len(made) == 4 and all(p.closed for p in made)  # each large part, closed after
    monkeypatch.setattr(stream, "SPILL_BYTES", 1 << 40)
    monkeypatch.setattr(stream, "TOKEN_BYTES", 1 << 40)
    assert _report(path, pki) == mapped_report
    assert len(made) == 4
    verdicts = {d["path"]: d["verdict"] for d in mapped_report["documents"]}
    assert verdicts["ky-so.pdf"] == verdicts["ky-so.docx"] == "valid", verdicts


def test_a_part_that_cannot_be_mapped_fails_the_check(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A mapping refused (no address space, no memory) is an error the milter answers with a
    tempfail, never a part left out; the parts mapped before it are closed."""
    path = _message(tmp_path, [("a.pdf", _scan(500_000), "application/pdf"),
                               ("b.pdf", _scan(600_000), "application/pdf")])
    made: list[PartFile] = []
    real = spills.PartFile

    def second_fails(file: Any) -> PartFile:
        if made:
            raise OSError(12, "Cannot allocate memory")
        made.append(real(file))
        return made[-1]

    monkeypatch.setattr(spills, "PartFile", second_fails)
    with path.open("rb") as fp, pytest.raises(OSError):
        Checker(load_policy(None)).check_message(fp, Envelope())
    assert len(made) == 1 and made[0].closed
    assert os.listdir(path.parent) == ["msg.eml"]


@pytest.mark.parametrize(("where", "code"), [("after the header", "PDF_UNREADABLE"),
                                             ("before the end", "PDF_SIGNATURE_ORPHANED")])
def test_a_damaged_pdf_with_signature_data_reads_the_same_mapped(
        where: str, code: str, small_windows: int) -> None:
    """Signature data no field claims, in a file whose offsets are all wrong (read through the
    repair ladder, whose object scan runs over the whole file) or at its end: the same
    findings and facts from the mapping as from the bytes."""
    from tests.pdfgen.check import inspect

    scan = _scan(300_000)
    extra = b"%/ByteRange \n [0 1 2 3]\n"
    if where == "after the header":
        data = scan.replace(b"\n", b"\n" + extra, 1)
    else:
        at = scan.rindex(b"startxref")
        data = scan[:at] + extra + scan[at:]
    from_bytes, from_map = inspect(data), inspect(mapped(data))  # type: ignore[arg-type]
    assert code in {f.code for f in from_bytes.findings}
    assert from_map == from_bytes
