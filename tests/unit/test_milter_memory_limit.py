"""Workers run under an address-space limit (``milter.worker-memory-limit``): a 7z that
declares a 4 GiB LZMA dictionary makes liblzma's reservation fail inside libarchive, which is
an ARCHIVE_UNREADABLE finding (the message is invalid), not a machine swapping."""

from __future__ import annotations

import io
import struct
import time
import zlib
from email.message import EmailMessage
from pathlib import Path

import pytest

from gateway.milter.pool import WorkerPool
from gateway.model.envelope import Envelope
from gateway.model.report import Verdict
from gateway.policy.strict import RulesError
from gateway.settings import Settings, settings_from_dict

GIB = 1024**3
ENV = Envelope(sender="vanthu@snv.daknong.gov.vn", recipients=("ubnd@daknong.gov.vn",))


def hostile_7z(dict_size: int = 0xF000_0000) -> bytes:
    """A stored-header 7z (py7zr) whose LZMA coder declares ``dict_size``; CRCs fixed."""
    py7zr = pytest.importorskip("py7zr")
    buf = io.BytesIO()
    small = 1 << 16
    with py7zr.SevenZipFile(buf, "w", filters=[{"id": py7zr.FILTER_LZMA,
                                                 "dict_size": small}]) as z:
        z.set_encoded_header_mode(False)  # a plain header, so its coder properties show
        z.writestr(b"Ke hoach nam 2026\n" * 50, "ke-hoach.txt")
    data = bytearray(buf.getvalue())
    props = bytes([0x5D]) + struct.pack("<I", small)  # lc/lp/pb, dictionary size
    offset, size = struct.unpack_from("<QQ", data, 12)
    start = 32 + offset
    header = data[start:start + size]
    at = header.find(props)
    assert at >= 0 and header.find(props, at + 1) < 0
    header[at + 1:at + 5] = struct.pack("<I", dict_size)
    data[start:start + size] = header
    struct.pack_into("<I", data, 28, zlib.crc32(header))  # next-header CRC
    struct.pack_into("<I", data, 8, zlib.crc32(bytes(data[12:32])))  # start-header CRC
    return bytes(data)


def _message(data: bytes) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = ENV.sender, "ubnd@daknong.gov.vn", "Ho so"
    m.set_content("Kinh gui.")
    m.add_attachment(data, maintype="application", subtype="x-7z-compressed",
                     filename="ho-so.7z")
    return m.as_bytes()


def _address_limit(pid: int) -> str:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max address space"):
            return line.split()[3]
    raise AssertionError("no address-space line")


def test_the_setting_defaults_to_2_gib_and_0_turns_it_off() -> None:
    assert Settings().milter.worker_memory_limit == 2 * GIB
    assert settings_from_dict({"milter": {"worker-memory-limit": 0}}).milter \
        .worker_memory_limit == 0
    for bad in (-1, 1024):
        with pytest.raises(RulesError, match="worker-memory-limit"):
            settings_from_dict({"milter": {"worker-memory-limit": bad}})


def test_the_example_settings_document_it() -> None:
    text = (Path(__file__).resolve().parents[2] / "etc" / "gateway.toml.example").read_text()
    assert "\nworker-memory-limit = 2147483648\n" in text


def test_a_hostile_dictionary_is_a_finding_in_a_limited_worker() -> None:
    raw = _message(hostile_7z())
    pool = WorkerPool(1, memory_limit=2 * GIB)
    pool.start()
    try:
        (pid,) = pool.pids()
        assert _address_limit(pid) == str(2 * GIB)
        report = pool.run("bytes", raw, ENV, "Q7", time.monotonic() + 60)
    finally:
        pool.close()
    assert report.verdict is Verdict.INVALID
    (f,) = [f for d in report.documents for f in d.findings if f.code == "ARCHIVE_UNREADABLE"]
    assert "allocate memory" in f.en


def test_without_a_limit_the_worker_keeps_the_gateway_s() -> None:
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    pool = WorkerPool(1, memory_limit=0)
    pool.start()
    try:
        (pid,) = pool.pids()
        assert _address_limit(pid) == ("unlimited" if soft == resource.RLIM_INFINITY
                                       else str(soft))
    finally:
        pool.close()
