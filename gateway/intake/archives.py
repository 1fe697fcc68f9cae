"""Archives other than ZIP, read through libarchive: RAR 4 and 5, 7z, tar (plain or gzip,
bzip2, xz, zstd compressed), cab, ISO 9660, and a single file compressed with gzip, bzip2, xz or
zstd (``report.docx.gz``).

The walker (``intake/mime.py``) calls :func:`expand` for an attachment whose first bytes are one
of these containers (``archive_formats.magic_format``). Members are read one block at a time
with the ``[limits]`` of the rules enforced while reading (never trusting the sizes the headers
claim): member count, bytes per member, bytes in total, inflated/compressed ratio and time. Over
a limit the archive's content is not inspected (``ARCHIVE_LIMIT``); an encrypted member or
encrypted headers give ``ARCHIVE_ENCRYPTED`` (send it again without a password); a damaged
archive gives ``ARCHIVE_UNREADABLE`` naming the format. Nothing is skipped silently.

Member names are shown as the sender's archiver wrote them: UTF-8 (RAR 5, RAR 4 with Unicode
names, 7z, Joliet, pax) or, for the byte names of old WinRAR and tar, the legacy Vietnamese and
DOS code pages (:func:`decode_name`).
"""

from __future__ import annotations

import ctypes
import locale
import os
import tempfile
import time
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import BinaryIO

from gateway.intake.archive_formats import FORMATS, is_tar
from gateway.intake.rar5 import rar5_headers
from gateway.policy.schema import Limits

try:
    import libarchive.ffi as laffi
    from libarchive.exception import ArchiveError
except (ImportError, OSError, AttributeError) as _exc:  # no libarchive13 / libarchive-c
    _MISSING: str | None = f"{type(_exc).__name__}: {_exc}"  # findings, never a dead milter
else:
    _MISSING = None

_COMPRESSORS = {"gz": ".gz", "bz2": ".bz2", "xz": ".xz", "zst": ".zst"}
_READERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # fmt: (libarchive format readers, filters). Only built-in filters: never "all", which
    # would run external programs (lrzip, lzop, grzip) on hostile input.
    "rar": (("rar", "rar5"), ()),
    "7z": (("7zip",), ()),
    "tar": (("tar",), ()),
    "cab": (("cab",), ()),
    "iso": (("iso9660",), ()),
    "gz": (("raw",), ("gzip",)),
    "bz2": (("raw",), ("bzip2",)),
    "xz": (("raw",), ("xz",)),
    "zst": (("raw",), ("zstd",)),
}
_BLOCK = 1 << 20
_RAR_END_SLACK = 32


# -- member names -------------------------------------------------------------------------

_LEGACY = ("cp1258", "cp437", "cp850")
"""Byte names that are not UTF-8: WinRAR and tar on Vietnamese Windows write the ANSI/OEM
code page 1258 (tone marks as combining characters); DOS-era archivers write 437/850."""


def decode_name(raw: bytes) -> str:
    """A member name in NFC: UTF-8 when the bytes are UTF-8, else the legacy code page that
    reads most like words (letters and the combining marks on them)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        best, best_score = raw.decode("latin-1"), -1
        for codec in _LEGACY:
            try:
                cand = raw.decode(codec)
            except UnicodeDecodeError:
                continue
            score = sum(1 for i, ch in enumerate(cand) if ch.isalnum() or ch in " ._-()/"
                        or (unicodedata.category(ch) == "Mn" and i and cand[i - 1].isalpha()))
            if score > best_score:
                best, best_score = cand, score
        text = best
    text = unicodedata.normalize("NFC", text).replace("\\", "/")
    parts = [p for p in text.split("/") if p not in ("", ".")]
    return "/".join(parts)


@lru_cache(maxsize=1)
def _utf8_ctype() -> None:
    """libarchive converts UTF-16 names (7z, RAR 4 Unicode, Joliet) to the C locale's charset:
    under the plain C locale a Vietnamese name would be lost, so reading needs a UTF-8 one."""
    current = (locale.setlocale(locale.LC_CTYPE) or "").lower().replace("-", "")
    if "utf8" in current:
        return
    for candidate in ("C.UTF-8", "C.utf8", "en_US.UTF-8"):
        try:
            locale.setlocale(locale.LC_CTYPE, candidate)
            return
        except locale.Error:
            continue


# -- the libarchive calls that libarchive-c does not declare ---------------------------------

@lru_cache(maxsize=1)
def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(laffi.libarchive_path)  # own handle: leaves libarchive-c's prototypes alone
    for fn in ("archive_entry_is_data_encrypted", "archive_entry_is_metadata_encrypted"):
        getattr(lib, fn).argtypes = [ctypes.c_void_p]
        getattr(lib, fn).restype = ctypes.c_int
    lib.archive_read_data.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t]
    lib.archive_read_data.restype = ctypes.c_ssize_t
    lib.archive_read_next_header2.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    lib.archive_read_next_header2.restype = ctypes.c_int
    lib.archive_error_string.argtypes = [ctypes.c_void_p]
    lib.archive_error_string.restype = ctypes.c_char_p
    return lib


# -- reading -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Member:
    path: str
    """Path inside the archive, ``/``-separated, NFC."""
    data: bytes


@dataclass(frozen=True)
class Problem:
    code: str
    """``ARCHIVE_LIMIT``, ``ARCHIVE_ENCRYPTED`` or ``ARCHIVE_UNREADABLE``."""
    reason: str


@dataclass
class Expansion:
    label: str
    """The format as findings name it: ``RAR 5``, ``7z``, ``tar (gzip)``, ``gzip``…"""
    members: list[Member] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class _Limit(Exception):
    pass


class _Damaged(Exception):
    def __init__(self, reason: str, member: str | None = None) -> None:
        super().__init__(reason)
        self.member = member


def _label(fmt: str, data: bytes) -> str:
    if fmt == "rar":
        return "RAR 5" if data[6:7] == b"\x01" else "RAR 4"
    return FORMATS[fmt][1]


def _single_name(fmt: str, data: bytes, outer: str) -> str:
    """The name of the one file in a gzip/bzip2/xz/zstd stream: gzip's stored name, else the
    outer name without its suffix (``report.docx.gz`` → ``report.docx``)."""
    if fmt == "gz" and len(data) > 10 and data[3] & 0x08:
        pos = 10
        if data[3] & 0x04:
            pos += 2 + int.from_bytes(data[10:12], "little")
        end = data.find(b"\0", pos, pos + 1024)
        if end > pos:
            name = decode_name(data[pos:end]).rsplit("/", 1)[-1]
            if name:
                return name
    base = outer.rsplit("/", 1)[-1]
    suffix = _COMPRESSORS[fmt]
    if base.lower().endswith(suffix) and len(base) > len(suffix):
        return base[: -len(suffix)]
    for short, inner in ((".tgz", ".tar"), (".tbz2", ".tar"), (".txz", ".tar")):
        if base.lower().endswith(short):
            return base[: -len(short)] + inner
    return base + ".unpacked"


class _Reader:
    """One libarchive read handle over bytes in memory, with the limits applied while reading."""

    def __init__(self, data: bytes, fmt: str, limits: Limits,
                 clock: Callable[[], float], already: int = 0) -> None:
        self.data, self.fmt, self.limits, self.clock = data, fmt, limits, clock
        self.started = clock()
        self.total = already
        """Bytes unpacked, counting those of the message's earlier archives (total limit)."""
        self.own = 0
        """Bytes unpacked from this archive (ratio limit)."""
        self.count = 0
        self.lib = _lib()
        self.buf = ctypes.create_string_buffer(_BLOCK)

    def error(self, a: int) -> str:
        msg = self.lib.archive_error_string(a)
        return msg.decode("utf-8", "replace") if msg else "unknown error"

    def check_time(self) -> None:
        if self.clock() - self.started > self.limits.archive_max_seconds:
            raise _Limit(f"reading took longer than {self.limits.archive_max_seconds} s")

    def read_member(self, a: int, name: str, declared: int | None, cap: int) -> bytes:
        chunks: list[bytes] = []
        self.pump(a, name, declared, cap, chunks.append)
        return b"".join(chunks)

    def pump(self, a: int, name: str, declared: int | None, cap: int,
             write: Callable[[bytes], object]) -> int:
        """Pass the current entry's bytes to ``write`` block by block, within the limits."""
        lim = self.limits
        if declared is not None and declared > cap:
            raise _Limit(f"member {name} is {declared} bytes, limit {cap}")
        size = 0
        while True:
            n = self.lib.archive_read_data(a, self.buf, _BLOCK)
            if n < 0:
                raise _Damaged(f"{name}: {self.error(a)}", member=name)
            if n == 0:
                return size
            write(ctypes.string_at(self.buf, n))
            size += n
            self.total += n
            self.own += n
            if size > cap:
                raise _Limit(f"member {name} inflates past {cap} bytes")
            if self.total > lim.archive_max_total_bytes:
                raise _Limit(f"more than {lim.archive_max_total_bytes} bytes inflated")
            if self.own > lim.archive_max_ratio * len(self.data):
                raise _Limit(f"inflates more than {lim.archive_max_ratio}:1")
            self.check_time()


_ODD_BYTES = frozenset(bytes([b]) for b in range(1, 256, 2))


def expand(data: bytes, fmt: str, outer_name: str, limits: Limits,
           clock: Callable[[], float] = time.monotonic, already: int = 0) -> Expansion:
    """Read every member of the archive ``data`` (sniffed as ``fmt``) within ``limits``.

    ``already`` is what the message's other archives unpacked: the total limit is one budget
    for all of them, so that archives nested in archives cannot multiply it."""
    out = Expansion(_label(fmt, data))
    if _MISSING is not None:
        out.problems.append(Problem("ARCHIVE_UNREADABLE",
                                    f"{out.label}: no archive reader on this server ({_MISSING})"))
        return out
    _utf8_ctype()
    hidden: frozenset[bytes] = frozenset()
    # RAR 4 main header (type 0x73) flags: 0x01 marks one volume of a split archive. A cut
    # archive can end right after the type byte, so the flags are sliced, not indexed.
    volume = out.label == "RAR 4" and data[9:10] == b"\x73" and data[10:11] in _ODD_BYTES
    if fmt == "rar" and out.label == "RAR 5":
        info = rar5_headers(data)
        if info.headers_encrypted:
            out.problems.append(Problem("ARCHIVE_ENCRYPTED", "the file list is encrypted"))
            return out
        hidden, volume = info.encrypted, info.volume
    if fmt in ("tar", "iso") and b"%PDF-" in data[: 512 if fmt == "tar" else 1024]:
        # a PDF reader takes these bytes for a PDF (header within the first 1 KiB) that is none
        # of the members: a crafted two-format file, judged by neither reading alone
        out.problems.append(Problem("ARCHIVE_UNREADABLE", f"{out.label}: the same bytes also "
                                    "read as a PDF; send the documents as separate files"))
        return out
    if volume:
        out.problems.append(Problem(
            "ARCHIVE_UNREADABLE", f"{out.label}: one part of a multi-volume archive, which "
            "cannot be inspected alone; send the documents in one archive or unpacked"))
        return out
    reader = _Reader(data, fmt, limits, clock, already)
    encrypted: list[str] = []
    try:
        if fmt in _COMPRESSORS:
            _read_compressed(reader, out, outer_name)
        else:
            _read_all(reader, data, fmt, out, hidden, encrypted)
    except _Limit as exc:
        out.members.clear()  # like ZIP: over a limit, nothing of the archive is inspected
        out.problems.append(Problem("ARCHIVE_LIMIT", str(exc)))
        return out
    except _Damaged as exc:
        reason = str(exc)
        if "encrypt" not in reason.lower():
            out.problems.append(Problem("ARCHIVE_UNREADABLE", f"{out.label}: {reason}"))
        elif exc.member is not None:
            encrypted.append(exc.member)
        elif not encrypted:  # not after an encrypted member: libarchive cannot skip past it
            out.problems.append(Problem("ARCHIVE_ENCRYPTED", "the file list is encrypted"))
    if encrypted:
        more = f" (+{len(encrypted) - 5})" if len(encrypted) > 5 else ""
        shown = ", ".join(encrypted[:5]) + more
        word = "member" if len(encrypted) == 1 else "members"
        out.problems.append(Problem("ARCHIVE_ENCRYPTED", f"{word} {shown}"))
    return out


def _read_compressed(reader: _Reader, out: Expansion, outer_name: str) -> None:
    """gzip/bzip2/xz/zstd: the decompressed stream goes to a temporary file (within the total
    limit); it is one file, or a tar whose members are then read from that file."""
    with tempfile.TemporaryFile(prefix="hople-archive-", buffering=0) as spool:
        size, head = _spool_stream(reader, spool)
        spool.seek(0)
        if not is_tar(head):
            name = _single_name(reader.fmt, reader.data, outer_name)
            cap = reader.limits.archive_max_member_bytes
            if size > cap:
                raise _Limit(f"member {name} inflates past {cap} bytes")
            out.members.append(Member(name, spool.read(size + 1)))
            return
        out.label = f"tar ({FORMATS[reader.fmt][1]})"
        reader.total -= size  # counted again member by member
        reader.own -= size
        _read_all(reader, spool, "tar", out, frozenset(), [])


def _spool_stream(reader: _Reader, spool: BinaryIO) -> tuple[int, bytes]:
    a = _open(reader.data, reader.fmt)
    entry = laffi.entry_new()
    try:
        r = reader.lib.archive_read_next_header2(a, entry)
        if r not in (laffi.ARCHIVE_OK, laffi.ARCHIVE_WARN, laffi.ARCHIVE_EOF):
            raise _Damaged(reader.error(a))
        if r == laffi.ARCHIVE_EOF:
            return 0, b""
        expected = _READERS[reader.fmt][1][0]
        if (laffi.filter_name(a, 0) or b"").decode("ascii", "replace") != expected:
            raise _Damaged(f"not a valid {expected} stream")  # raw would pass it through as is
        size = reader.pump(a, "stream", None, reader.limits.archive_max_total_bytes, spool.write)
    finally:
        laffi.entry_free(entry)
        laffi.read_free(a)
    spool.seek(0)
    return size, spool.read(512)


def _open(source: bytes | BinaryIO, fmt: str) -> int:
    formats, filters = _READERS[fmt]
    a: int = laffi.read_new()
    try:
        for f in filters:  # ARCHIVE_WARN here means "through an external program": refused
            if laffi.get_read_filter_function(f)(a) != laffi.ARCHIVE_OK:
                raise _Damaged(f"no built-in {f} decoder in this libarchive")
        for f in formats:
            laffi.get_read_format_function(f)(a)
        if isinstance(source, bytes):
            laffi.read_open_memory(a, ctypes.c_char_p(source), len(source))
        else:
            os.lseek(source.fileno(), 0, os.SEEK_SET)
            laffi.read_open_fd(a, source.fileno(), _BLOCK)
    except _Damaged:
        laffi.read_free(a)
        raise
    except ArchiveError as exc:  # libarchive-c raises on a fatal open
        laffi.read_free(a)
        msg = exc.msg
        text = msg.decode("utf-8", "replace") if isinstance(msg, bytes) else str(msg)
        raise _Damaged(text) from None
    return a


def _read_all(reader: _Reader, source: bytes | BinaryIO, fmt: str, out: Expansion,
              hidden: frozenset[bytes], encrypted: list[str]) -> None:
    lib, lim = reader.lib, reader.limits
    a = _open(source, fmt)
    entry = laffi.entry_new()
    try:
        while True:
            reader.check_time()
            r = lib.archive_read_next_header2(a, entry)
            if r == laffi.ARCHIVE_EOF:
                break
            if r not in (laffi.ARCHIVE_OK, laffi.ARCHIVE_WARN):
                # ARCHIVE_RETRY too: the reader would skip the bytes it could not parse
                raise _Damaged(reader.error(a))
            if laffi.entry_filetype(entry) & 0o170000 != 0o100000:
                continue  # directories, symlinks, devices: no content of their own
            if laffi.entry_hardlink(entry) and not laffi.entry_size(entry):
                continue  # a second name for a member already read
            raw = laffi.entry_pathname(entry) or b""
            path = decode_name(raw) or "unnamed"
            reader.count += 1
            if reader.count > lim.archive_max_members:
                raise _Limit(f"more than {lim.archive_max_members} members")
            if (raw in hidden or lib.archive_entry_is_data_encrypted(entry)
                    or lib.archive_entry_is_metadata_encrypted(entry)):
                encrypted.append(path)
                continue
            declared = laffi.entry_size(entry) if laffi.entry_size_is_set(entry) else None
            data = reader.read_member(a, path, declared, lim.archive_max_member_bytes)
            out.members.append(Member(path, data))
        if fmt == "tar":
            _check_tar_end(source, laffi.filter_bytes(a, 0))
        elif fmt == "rar" and isinstance(source, bytes):
            _check_rar_end(source, laffi.filter_bytes(a, 0))
        elif fmt == "7z" and isinstance(source, bytes):
            _check_7z_header(source)
    finally:
        laffi.entry_free(entry)
        laffi.read_free(a)


def _check_rar_end(data: bytes, consumed: int) -> None:
    """libarchive's RAR readers end quietly at a header they do not understand: the bytes
    they never reached are damage (or something appended), not an empty archive. A few bytes
    of the end-of-archive header are left unread by design."""
    rest = len(data) - consumed
    if rest > _RAR_END_SLACK:
        raise _Damaged(f"{rest} of {len(data)} bytes were never reached (bad header or data "
                       "appended after the end)")


def _check_7z_header(data: bytes) -> None:
    """libarchive lists no member, without an error, for a 7z whose start header is garbage:
    the start header's CRC and the place of the next header must add up, and nothing but
    padding may follow it (7z format, signature header: CRC32 of the 20 bytes after it)."""
    if len(data) < 32 or zlib.crc32(data[12:32]) != int.from_bytes(data[8:12], "little"):
        raise _Damaged("the start header is damaged (its CRC does not match)")
    offset = int.from_bytes(data[12:20], "little")
    size = int.from_bytes(data[20:28], "little")
    end = 32 + offset + size
    if end > len(data):
        raise _Damaged(f"truncated: the header ends at byte {end} of {len(data)}")
    if data.count(b"\0", end) != len(data) - end:
        raise _Damaged(f"{len(data) - end} bytes after the end of the archive")


def _check_tar_end(source: bytes | BinaryIO, consumed: int) -> None:
    """A tar ends with zero blocks; anything after them (a document appended, or a stream
    that starts with an end marker) would be bytes nobody inspected."""
    if isinstance(source, bytes):
        rest = len(source) - consumed
        if rest > 0 and source.count(b"\0", consumed) != rest:
            raise _Damaged(f"{rest} bytes after the end of the archive")
        return
    source.seek(consumed)
    while block := source.read(_BLOCK):
        if block.count(b"\0") != len(block):
            raise _Damaged("bytes after the end of the archive")


__all__ = ["Expansion", "Member", "Problem", "decode_name", "expand"]
