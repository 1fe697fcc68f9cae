"""Giving back the pages of library files a process touched only while it started."""

from __future__ import annotations

MADV_DONTNEED = 4


def read_only_file_mappings(smaps: str = "/proc/self/smaps") -> list[tuple[int, int]]:
    """Address ranges of this process's mappings of files that are not writable and hold no
    anonymous page (code and read-only data of the interpreter and the libraries, as read
    from their files: nothing in them differs from the file)."""
    out = []
    current: tuple[int, int] | None = None
    with open(smaps) as fp:
        for line in fp:
            fields = line.split()
            if not fields[0].endswith(":"):  # a mapping's header: range perms offset dev inode path
                lo, hi = (int(x, 16) for x in fields[0].split("-"))
                path = fields[5] if len(fields) >= 6 else ""
                current = (lo, hi) if path.startswith("/") and "w" not in fields[1] else None
            elif fields[0] == "Anonymous:" and current is not None:
                if fields[1] == "0":
                    out.append(current)
                current = None
    return out


def release_library_pages() -> int:
    """Unmap the pages of the libraries' files this process has touched (``MADV_DONTNEED`` on
    :func:`read_only_file_mappings`); returns how many ranges were released.

    Importing runs every library's start-up code and reads its tables: pages of files that
    a process which is done starting may never touch again. In the pool's forkserver
    (``gateway.milter.preload``), which only forks once it has imported everything a check
    needs, that is about 23 MiB (cryptography's Rust extension alone leaves 5 MiB resident)
    that no worker uses either; in the milter process, about 6 MiB of what its start-up
    (imports, rules, decision log) touched. The pages stay in the page cache, where a
    process finds those it needs again as a minor fault (a worker does not inherit the
    forkserver's mappings of unmodified file pages anyway: it maps them on first use), and
    the kernel can drop the rest. Nothing can be lost: only mappings without anonymous
    (modified) pages are released."""
    import ctypes

    try:
        ranges = read_only_file_mappings()
        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
    except (OSError, ValueError, AttributeError):  # no /proc or no madvise: nothing released
        return 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    released = 0
    for lo, hi in ranges:
        if madvise(lo, hi - lo, MADV_DONTNEED) == 0:
            released += 1
    return released


__all__ = ["MADV_DONTNEED", "read_only_file_mappings", "release_library_pages"]
