"""Defensive reading of ZIP-based packages (OOXML, ODF) for signature checks.

A signature check is only as good as the bytes it hashes, so the container is checked
before any part is read:

* the central directory and every local file header must agree (name, compression
  method, CRC and sizes unless a data descriptor follows) — a known forgery builds a
  package whose central directory shows one part and whose local header another;
* entries must tile the archive: no unlisted bytes hidden between entries, no overlapping
  entries, no prefix before the first entry;
* no duplicate part names, not even differing only in case (OPC part names are
  case-insensitive), no absolute or ``..`` names, no encrypted entries;
* sizes and inflation ratios stay within the limits of the rules (zip bombs).

Problems are collected in :attr:`SafeZip.problems` (the package stays readable so the
caller can still say *what* was signed); a package that cannot be opened at all raises
:class:`ZipProblem`.
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.model.partdata import Data, open_stream
from gateway.zip_member import MemberUnreadable, iter_member, read_member

_LFH = struct.Struct("<4sHHHHHIIIHH")
_LFH_SIG = b"PK\x03\x04"
_DD_SIG = b"PK\x07\x08"


class ZipProblem(Exception):
    """The package cannot be read (or a member is over a limit). ``str()`` is short."""


@dataclass(frozen=True)
class ZipLimits:
    max_members: int = 10000
    max_member_bytes: int = 256 * 1024 * 1024
    max_total_bytes: int = 512 * 1024 * 1024
    max_ratio: int = 200
    """Inflated/compressed ratio above which a member larger than 1 MiB is a bomb."""

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> ZipLimits:
        lim = options.get("limits") or {}
        return cls(
            max_members=int(lim.get("archive_max_members", cls.max_members)),
            max_member_bytes=int(lim.get("archive_max_member_bytes", cls.max_member_bytes)),
            max_total_bytes=int(lim.get("archive_max_total_bytes", cls.max_total_bytes)),
            max_ratio=int(lim.get("archive_max_ratio", cls.max_ratio)),
        )


class SafeZip:
    """A read-only view of a ZIP package whose structure has been checked."""

    def __init__(self, data: Data, limits: ZipLimits | None = None) -> None:
        self.limits = limits or ZipLimits()
        self.problems: list[str] = []
        self._data = data
        try:
            self._zf = zipfile.ZipFile(open_stream(data))
            infos = self._zf.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
                NotImplementedError, RuntimeError) as exc:
            raise ZipProblem(f"not a readable ZIP package ({_short(exc)})") from None
        if len(infos) > self.limits.max_members:
            raise ZipProblem(f"{len(infos)} entries, over the limit of {self.limits.max_members}")
        self._infos: dict[str, zipfile.ZipInfo] = {}
        self._folded: dict[str, str] = {}
        self.dirs: list[str] = []
        total = 0
        for info in infos:
            name = info.filename
            if name.endswith("/"):
                self.dirs.append(name)
                continue
            if name in self._infos:
                self.problems.append(f"the entry {name} appears twice")
                continue
            folded = name.casefold()
            if folded in self._folded:
                self.problems.append(
                    f"the entries {self._folded[folded]} and {name} differ only in case")
                continue
            if name.startswith("/") or "\\" in name or any(p == ".." for p in name.split("/")):
                self.problems.append(f"the entry name {name!r} is not a valid part name")
            if info.flag_bits & 0x1:
                self.problems.append(f"the entry {name} is encrypted")
            if info.file_size > self.limits.max_member_bytes:
                self.problems.append(
                    f"the entry {name} inflates to {info.file_size} bytes, over the limit")
            elif (info.file_size > (1 << 20) and info.compress_size > 0
                  and info.file_size / info.compress_size > self.limits.max_ratio):
                self.problems.append(f"the entry {name} has a zip-bomb inflation ratio")
            total += info.file_size
            self._infos[name] = info
            self._folded[folded] = name
        if total > self.limits.max_total_bytes:
            self.problems.append(f"the package inflates to {total} bytes, over the limit")
        self._check_layout(infos)

    # -- structure ------------------------------------------------------------------------

    def _check_layout(self, infos: list[zipfile.ZipInfo]) -> None:
        data = self._data
        spans: list[tuple[int, int, str]] = []
        for info in infos:
            off = info.header_offset
            if off < 0 or off + _LFH.size > len(data):
                self.problems.append(f"the local header of {info.filename} lies outside the file")
                continue
            (sig, _ver, flags, method, _t, _d, crc, csize, usize, nlen, xlen) = _LFH.unpack_from(
                data, off)
            if sig != _LFH_SIG:
                self.problems.append(f"no local header where the directory places {info.filename}")
                continue
            raw_name = data[off + _LFH.size: off + _LFH.size + nlen]
            if raw_name != _central_name_bytes(info):
                self.problems.append(
                    f"the local header of {info.filename} names another entry "
                    f"({raw_name[:80].decode('utf-8', 'replace')})")
            if method != info.compress_type:
                self.problems.append(f"the local header of {info.filename} has another compression")
            if not flags & 0x8:
                zip64 = csize == 0xFFFFFFFF or usize == 0xFFFFFFFF
                if not zip64 and (crc != info.CRC or csize != info.compress_size
                                  or usize != info.file_size):
                    self.problems.append(
                        f"the local header of {info.filename} disagrees with the directory "
                        "(CRC or size)")
            start = off
            end = off + _LFH.size + nlen + xlen + info.compress_size
            if flags & 0x8:
                end += _descriptor_len(data, end, info)
            elif _has_signed_descriptor(data, end, info):
                # Some old writers (OpenOffice.org 2) append a signed data descriptor
                # without setting the flag; it repeats the directory's CRC and sizes.
                end += 16
            spans.append((start, end, info.filename))
        spans.sort()
        expected = 0
        for start, end, name in spans:
            if start < expected:
                self.problems.append(f"the entry {name} overlaps another entry")
            elif start > expected:
                self.problems.append(
                    f"{start - expected} bytes before the entry {name} are not listed in the "
                    "directory")
            expected = max(expected, end)
        cd_start = self._central_directory_offset()
        if cd_start is not None and spans and cd_start > expected:
            self.problems.append(
                f"{cd_start - expected} bytes after the last entry are not listed in the directory")

    def _central_directory_offset(self) -> int | None:
        start_dir = getattr(self._zf, "start_dir", None)
        return int(start_dir) if isinstance(start_dir, int) else None

    # -- access ---------------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        """Every file entry (directories excluded), in directory order."""
        return list(self._infos)

    def lookup(self, name: str) -> str | None:
        """The stored name matching ``name`` exactly, else case-insensitively, else None."""
        if name in self._infos:
            return name
        return self._folded.get(name.casefold())

    def size(self, name: str) -> int:
        return self._infos[name].file_size

    def read(self, name: str) -> bytes:
        """Inflate one entry (CRC checked by :mod:`zipfile`).

        :raises ZipProblem: the entry is over a limit, encrypted or damaged.
        """
        info = self._readable(name)
        try:
            return read_member(self._zf, info, self.limits.max_member_bytes)
        except MemberUnreadable as exc:
            raise _unreadable(name, exc) from None

    def digest(self, name: str, algorithm: str) -> bytes:
        """The ``algorithm`` (hashlib name) digest of one entry, inflated and hashed chunk by
        chunk: the entry is never held whole (same checks and errors as :meth:`read`)."""
        info = self._readable(name)
        h = hashlib.new(algorithm)
        try:
            for chunk in iter_member(self._zf, info, self.limits.max_member_bytes):
                h.update(chunk)
        except MemberUnreadable as exc:
            raise _unreadable(name, exc) from None
        return h.digest()

    def _readable(self, name: str) -> zipfile.ZipInfo:
        info = self._infos[name]
        if info.file_size > self.limits.max_member_bytes:
            raise ZipProblem(f"{name}: over the size limit")
        if info.flag_bits & 0x1:
            raise ZipProblem(f"{name}: encrypted")
        return info


def _unreadable(name: str, exc: MemberUnreadable) -> ZipProblem:
    if exc.over_cap:
        return ZipProblem(f"{name}: over the size limit")
    return ZipProblem(f"{name}: damaged entry ({_short(exc)})")


def _central_name_bytes(info: zipfile.ZipInfo) -> bytes:
    if info.flag_bits & 0x800:
        return info.filename.encode("utf-8")
    orig = getattr(info, "orig_filename", info.filename)
    try:
        return orig.encode("cp437")
    except UnicodeEncodeError:
        return orig.encode("utf-8")


def _descriptor_len(data: Data, pos: int, info: zipfile.ZipInfo) -> int:
    zip64 = info.file_size > 0xFFFFFFFF or info.compress_size > 0xFFFFFFFF
    body = 20 if zip64 else 12
    if data[pos: pos + 4] == _DD_SIG:
        return 4 + body
    return body


def _has_signed_descriptor(data: Data, pos: int, info: zipfile.ZipInfo) -> bool:
    if data[pos: pos + 4] != _DD_SIG or pos + 16 > len(data):
        return False
    crc_and_sizes: tuple[int, int, int] = struct.unpack_from("<III", data, pos + 4)
    return crc_and_sizes == (info.CRC, info.compress_size, info.file_size)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]


__all__ = ["SafeZip", "ZipLimits", "ZipProblem"]
