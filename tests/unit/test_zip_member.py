"""The one capped read of a ZIP member, and the three readers built on it (the MIME walk,
SafeZip and the text extractor) giving a finding, never a traceback, for the same members."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage

import pytest

from gateway.inspect.safe_zip import SafeZip, ZipLimits, ZipProblem
from gateway.inspect.text.extract import Package, Unreadable
from gateway.intake.mime import Walker
from gateway.policy.schema import Documents, Limits
from gateway.zip_member import MemberUnreadable, read_member

TEXT = b"<w:document>" + b"van ban hanh chinh " * 4000 + b"</w:document>"


def _zip(data: bytes, method: int, name: str = "word/document.xml") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr(name, data)
    return buf.getvalue()


def _damaged(method: int, name: str = "word/document.xml") -> bytes:
    """The compressed stream of the only member overwritten in its middle (headers intact)."""
    data = bytearray(_zip(TEXT, method, name))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).infolist()[0]
    start = info.header_offset + 30 + len(info.filename)
    for i in range(start + 8, start + min(info.compress_size, 200) - 8):
        data[i] = 0xFF
    return bytes(data)


METHODS = {"deflate": zipfile.ZIP_DEFLATED, "bzip2": zipfile.ZIP_BZIP2,
           "lzma": zipfile.ZIP_LZMA}


def _member(data: bytes) -> tuple[zipfile.ZipFile, zipfile.ZipInfo]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    return zf, zf.infolist()[0]


@pytest.mark.parametrize("method", list(METHODS))
def test_a_good_member_is_read_whole(method: str) -> None:
    assert read_member(*_member(_zip(TEXT, METHODS[method])), cap=len(TEXT)) == TEXT


@pytest.mark.parametrize("method", list(METHODS))
def test_the_read_stops_past_the_cap(method: str) -> None:
    with pytest.raises(MemberUnreadable) as err:
        read_member(*_member(_zip(TEXT, METHODS[method])), cap=len(TEXT) - 1)
    assert err.value.over_cap and "inflates past" in str(err.value)


@pytest.mark.parametrize("method", list(METHODS))
def test_a_damaged_stream_is_one_exception(method: str) -> None:
    with pytest.raises(MemberUnreadable) as err:
        read_member(*_member(_damaged(METHODS[method])), cap=1 << 24)
    assert not err.value.over_cap and str(err.value)


def _walk_zip(data: bytes) -> list[str]:
    m = EmailMessage()
    m["From"] = "a@x.vn"
    m.set_content("x")
    m.add_attachment(data, maintype="application", subtype="octet-stream", filename="hs.zip")
    # the text compresses well: only the damage is under test here
    walker = Walker(Limits(archive_max_ratio=10**6), Documents())
    parsed = walker.walk_message(io.BytesIO(m.as_bytes()))
    return [f.code for f in parsed.items[0].findings]


@pytest.mark.parametrize("method", list(METHODS))
def test_every_reader_reports_a_damaged_member(method: str) -> None:
    # the MIME walk: a finding on the archive (an LZMA error used to escape it)
    assert _walk_zip(_damaged(METHODS[method], "a.txt")) == ["ARCHIVE_UNREADABLE"]
    data = _damaged(METHODS[method])
    with pytest.raises(ZipProblem, match="damaged entry"):
        SafeZip(data).read("word/document.xml")
    with pytest.raises(Unreadable, match="word/document.xml: "):
        Package(data, 1 << 24, 1 << 24).read("word/document.xml")


def test_every_reader_keeps_its_cap() -> None:
    data = _zip(TEXT, zipfile.ZIP_DEFLATED)
    with pytest.raises(ZipProblem, match="over the size limit"):
        SafeZip(data, ZipLimits(max_member_bytes=100)).read("word/document.xml")
    with pytest.raises(Unreadable, match="inflates past 100 bytes"):
        Package(data, 100, 1 << 24).read("word/document.xml")
    # the package's total budget is the cap of its last read
    pkg = Package(data, 1 << 24, len(TEXT) + 10)
    assert pkg.read("word/document.xml") == TEXT
    with pytest.raises(Unreadable, match="inflates past 10 bytes"):
        pkg.read("word/document.xml")
