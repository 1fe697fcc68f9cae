"""Per-message spool: memory up to a threshold, then a private file in the spool directory.

In memory the spool keeps the pieces as the MTA handed them (header lines, body chunks) and
joins them once, when the message is complete: no buffer is grown and copied chunk by chunk.
Past ``max_size`` bytes the pieces go to a named file (mode 0600, removed on close), so a
worker process can open the message by path instead of receiving it through a pipe.
"""

from __future__ import annotations

import tempfile
from typing import IO, Any


class MessageSpool:
    """Bytes of one message (headers as received, blank line, body)."""

    def __init__(self, max_size: int, spool_dir: str) -> None:
        self.max_size = max_size
        self.spool_dir = spool_dir
        self.size = 0
        self._pieces: list[bytes] = []
        self._file: IO[bytes] | None = None
        self._closed = False

    def write(self, data: bytes) -> int:
        """Append ``data`` (kept by reference while in memory: pass immutable bytes).

        :raises OSError: the spool file cannot be created or written (e.g. ENOSPC)."""
        if self._closed:
            raise ValueError("write to a closed spool")
        if self._file is not None:
            self._file.write(data)
        else:
            self._pieces.append(data)
            if self.size + len(data) > self.max_size:
                self.rollover()
        self.size += len(data)
        return len(data)

    def rollover(self) -> None:
        """Move what is in memory to the spool file (done once the message outgrows memory)."""
        if self._file is not None:
            return
        named: Any = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed with the spool
            mode="w+b", dir=self.spool_dir, prefix="msg-", suffix=".eml", delete=True
        )
        try:
            named.writelines(self._pieces)
        except BaseException:
            named.close()
            raise
        self._file = named
        self._pieces = []

    @property
    def rolled(self) -> bool:
        """True once the message went to disk."""
        return self._file is not None

    @property
    def path(self) -> str | None:
        """The spool file's path once rolled over, else None."""
        return getattr(self._file, "name", None) if self._file is not None else None

    def contents_for_worker(self) -> tuple[str, bytes | str]:
        """``("bytes", data)`` for a message still in memory, ``("path", path)`` for one on
        disk (flushed, so another process reads all of it)."""
        if self._file is not None:
            self._file.flush()  # the worker reads the file on this host: flush is enough
            return ("path", self.path or "")
        data = b"".join(self._pieces)
        self._pieces = [data]  # one copy of the message, not the pieces and their join
        return ("bytes", data)

    def close(self) -> None:
        """Drop the pieces, or close (and so remove) the spool file."""
        self._closed = True
        self._pieces = []
        f, self._file = self._file, None
        if f is not None:
            f.close()


__all__ = ["MessageSpool"]
