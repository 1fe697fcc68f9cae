"""7z (py7zr), tar and single-file compression (standard library), ISO 9660 and zstd tar
(libarchive's writer) and a stored cabinet file (written from the CAB layout)."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import tempfile
from pathlib import Path
from typing import Literal

import libarchive
import py7zr


def seven_zip(members: dict[str, bytes], *, password: str | None = None,
              header_encryption: bool = False) -> bytes:
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password=password,
                            header_encryption=header_encryption) as z:
        for name, data in members.items():
            z.writestr(data, name)
    return buf.getvalue()


_TAR_WRITE_MODES: dict[str, Literal["w:", "w:gz", "w:bz2", "w:xz"]] = {
    "": "w:", "gz": "w:gz", "bz2": "w:bz2", "xz": "w:xz"}


def tar(members: dict[str, bytes], *, compression: str = "", encoding: str = "utf-8",
        fmt: int = tarfile.PAX_FORMAT) -> bytes:
    """``compression`` is "", "gz", "bz2" or "xz" (``tarfile``'s modes); GNU or ustar
    format with a legacy ``encoding`` writes byte names in that code page."""
    buf = io.BytesIO()
    mode = _TAR_WRITE_MODES[compression]
    with tarfile.open(fileobj=buf, mode=mode, format=fmt, encoding=encoding) as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def with_libarchive(members: dict[str, bytes], fmt: str, filter_name: str | None = None) -> bytes:
    """An archive written by libarchive (``iso9660``, ``gnutar`` with ``zstd``, …)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        with libarchive.file_writer(str(out), fmt, filter_name) as w:
            for name, data in members.items():
                w.add_file_from_memory(name, len(data), data)
        return out.read_bytes()


def compress(data: bytes, kind: str, name: str = "") -> bytes:
    """One file compressed alone: gzip (with its stored ``name``), bzip2, xz or zstd."""
    if kind == "gz":
        plain = gzip.compress(data, mtime=0)
        if not name:
            return plain
        # FNAME as gzip(1) writes it on Linux: the file name's bytes (UTF-8), zero-terminated
        return plain[:3] + bytes([plain[3] | 0x08]) + plain[4:10] + name.encode() + b"\0" \
            + plain[10:]
    if kind == "bz2":
        return bz2.compress(data)
    if kind == "xz":
        return lzma.compress(data)
    if kind == "zst":
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            with libarchive.file_writer(str(out), "raw", "zstd") as w:
                w.add_file_from_memory("data", len(data), data)
            return out.read_bytes()
    raise ValueError(kind)


def cab(members: dict[str, bytes]) -> bytes:
    """A cabinet file with one uncompressed folder: CFHEADER, CFFOLDER, CFFILE entries, then
    one CFDATA block per 32 KiB (checksum 0 = not computed, which the format allows)."""
    blob = b"".join(members.values())
    blocks = [blob[i:i + 0x8000] for i in range(0, len(blob), 0x8000)] or [b""]
    files = b""
    offset = 0
    for name, data in members.items():
        files += struct.pack("<IIHHHH", len(data), offset, 0, 0x5A21, 0, 0x20)
        files += name.encode("utf-8") + b"\0"
        offset += len(data)
    head_len = 36 + 8
    data_start = head_len + len(files)
    cfdata = b"".join(struct.pack("<IHH", 0, len(b), len(b)) + b for b in blocks)
    total = data_start + len(cfdata)
    header = struct.pack("<4sIIIIIBBHHHHH", b"MSCF", 0, total, 0, head_len, 0, 3, 1, 1,
                         len(members), 0, 0, 0)
    folder = struct.pack("<IHH", data_start, len(blocks), 0)  # typeCompress 0 = none
    return header + folder + files + cfdata
