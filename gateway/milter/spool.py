"""Per-message spool: memory up to a threshold, then a private file in the spool directory.

A ``tempfile.SpooledTemporaryFile`` whose rollover file has a name (mode 0600, removed on
close), so a worker process can open the message by path instead of receiving it through a
pipe.
"""

from __future__ import annotations

import io
import tempfile
from typing import Any


class MessageSpool(tempfile.SpooledTemporaryFile[bytes]):
    """Bytes of one message (headers as received, blank line, body)."""

    _rolled: bool

    def __init__(self, max_size: int, spool_dir: str) -> None:
        super().__init__(max_size=max_size, mode="w+b", dir=spool_dir, prefix="msg-")
        self.spool_dir = spool_dir
        self.size = 0

    def rollover(self) -> None:
        if self._rolled:
            return
        memory = self._memory()
        named: Any = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed with the spool
            mode="w+b", dir=self.spool_dir, prefix="msg-", suffix=".eml", delete=True
        )
        named.write(memory.getvalue())
        named.seek(memory.tell(), 0)
        self._file = named
        self._rolled = True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        n = super().write(data)
        self.size += len(data)
        return n

    @property
    def rolled(self) -> bool:
        """True once the message went to disk."""
        return bool(self._rolled)

    @property
    def path(self) -> str | None:
        """The spool file's path once rolled over, else None."""
        return getattr(self._file, "name", None) if self._rolled else None

    def contents_for_worker(self) -> tuple[str, bytes | str]:
        """``("bytes", data)`` for a message still in memory, ``("path", path)`` for one on
        disk (flushed, so another process reads all of it)."""
        if self._rolled:
            self._file.flush()  # the worker reads the file on this host: flush is enough
            return ("path", self.path or "")
        return ("bytes", self._memory().getvalue())

    def _memory(self) -> io.BytesIO:
        """The in-memory buffer of a spool not yet rolled over (binary mode: a BytesIO)."""
        if not isinstance(self._file, io.BytesIO):
            raise TypeError(f"the spool buffer is a {type(self._file).__name__}, not bytes")
        return self._file


__all__ = ["MessageSpool"]
