"""The per-message spool: pieces in memory joined once, a named 0600 file past the threshold,
nothing left behind on close."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gateway.milter.spool import MessageSpool


def test_a_small_message_stays_in_memory_and_comes_back_whole(tmp_path: Path) -> None:
    spool = MessageSpool(1024, str(tmp_path))
    pieces = [b"From: a@x\r\n", b"Subject: s\r\n", b"\r\n", b"body " * 50, b"end\r\n"]
    for p in pieces:
        spool.write(p)
    assert not spool.rolled and spool.path is None and list(tmp_path.iterdir()) == []
    assert spool.size == sum(map(len, pieces))
    assert spool.contents_for_worker() == ("bytes", b"".join(pieces))
    assert spool.contents_for_worker() == ("bytes", b"".join(pieces))  # asked twice: same
    spool.close()


@pytest.mark.parametrize("limit", [0, 1, 10, 11, 12, 25])
def test_past_the_threshold_everything_goes_to_one_private_file(tmp_path: Path,
                                                                 limit: int) -> None:
    """Rolled over once the size exceeds the threshold (0: at the first byte), with every
    byte written before and after, in order."""
    spool = MessageSpool(limit, str(tmp_path))
    pieces = [b"0123456789", b"a", b"bcdefghijklmn", b"", b"op"]
    size = 0
    for p in pieces:
        spool.write(p)
        size += len(p)
        assert spool.rolled == (size > limit)
    kind, source = spool.contents_for_worker()
    if size <= limit:
        assert (kind, source) == ("bytes", b"".join(pieces))
        return
    assert kind == "path" and Path(str(source)).parent == tmp_path
    assert Path(str(source)).read_bytes() == b"".join(pieces)
    assert os.stat(source).st_mode & 0o777 == 0o600
    spool.close()
    assert not Path(str(source)).exists()


def test_close_drops_the_message_and_refuses_more(tmp_path: Path) -> None:
    spool = MessageSpool(4, str(tmp_path))
    spool.write(b"123456")
    assert spool.rolled and len(list(tmp_path.iterdir())) == 1
    spool.close()
    spool.close()  # twice is harmless
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):
        spool.write(b"x")


def test_a_spool_directory_that_cannot_be_written_raises_oserror(tmp_path: Path) -> None:
    """The milter turns this into a tempfail (test_milter_app)."""
    spool = MessageSpool(4, str(tmp_path / "absent"))
    with pytest.raises(OSError):
        spool.write(b"123456")
    spool.close()
