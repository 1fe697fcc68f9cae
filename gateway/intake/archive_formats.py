"""The archive formats read through libarchive (``archives.py``), told by their first bytes.

:func:`magic_format` names the container at offset 0 (or the ISO 9660 descriptor at 32 KiB);
type sniffing (``sniff.py``) and the MIME walk (``mime.py``) use it and :data:`FORMATS` to
send such an attachment to :func:`archives.expand` without loading libarchive themselves.
"""

from __future__ import annotations

import re

from gateway.model.partdata import Data

#: Formats read here: sniffed name → (media type, label used in findings).
FORMATS: dict[str, tuple[str, str]] = {
    "rar": ("application/vnd.rar", "RAR"),
    "7z": ("application/x-7z-compressed", "7z"),
    "tar": ("application/x-tar", "tar"),
    "gz": ("application/gzip", "gzip"),
    "bz2": ("application/x-bzip2", "bzip2"),
    "xz": ("application/x-xz", "xz"),
    "zst": ("application/zstd", "zstd"),
    "cab": ("application/vnd.ms-cab-compressed", "cab"),
    "iso": ("application/x-iso9660-image", "ISO 9660"),
}
#: Name extensions of these formats (for the name/content mismatch check).
EXTENSIONS: dict[str, str] = {
    "rar": "rar", "7z": "7z", "tar": "tar", "gz": "gz", "tgz": "gz", "bz2": "bz2",
    "tbz2": "bz2", "xz": "xz", "txz": "xz", "zst": "zst", "cab": "cab", "iso": "iso",
}


def magic_format(data: Data) -> str | None:
    """The container format at offset 0 (or the ISO 9660 descriptor at 32 KiB), else None."""
    if data[:7] == b"Rar!\x1a\x07\x00" or data[:8] == b"Rar!\x1a\x07\x01\x00":
        return "rar"
    if data[:6] == b"7z\xbc\xaf\x27\x1c":
        return "7z"
    if data[:3] == b"\x1f\x8b\x08":
        return "gz"
    if data[:3] == b"BZh" and data[3:4].isdigit() and data[4:10] in (
        b"1AY&SY", b"\x17rE8P\x90"
    ):
        return "bz2"
    if data[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return "zst"
    if data[:8] == b"MSCF\0\0\0\0":
        return "cab"
    if is_tar(data):
        return "tar"
    if any(data[off:off + 6] in (b"\x01CD001", b"\xffCD001") for off in (0x8000, 0x8800, 0x9000)):
        return "iso"
    return None


def is_tar(data: Data) -> bool:
    """A ustar/GNU header (magic at 257), or a pre-POSIX header whose checksum adds up."""
    if len(data) < 512:
        return False
    head = data[:512]
    if head[257:262] == b"ustar":
        return True
    field_ = head[148:156].strip(b" \0")
    if not field_ or not re.fullmatch(rb"[0-7]+", field_) or not head[:100].strip(b"\0"):
        return False
    total = sum(head[:148]) + 8 * 0x20 + sum(head[156:])
    return int(field_, 8) == total


__all__ = ["EXTENSIONS", "FORMATS", "is_tar", "magic_format"]
