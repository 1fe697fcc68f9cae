"""The benchmark's corpus is deterministic: the same seed gives the same messages (but for
signature bytes, which come from fresh keys, and the pixel grain of scanned pages), and the
mix has the documented shares."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

from bench import mailcorpus


def _fingerprint(mails: list[mailcorpus.Mail]) -> list[tuple[str, str]]:
    """Kinds, and the exact bytes of the messages without signatures or scanned pages."""
    return [(m.kind, "" if m.kind in ("office", "signed_pdf", "scan", "big", "freemail")
             else hashlib.sha256(m.data).hexdigest()) for m in mails]


def _close_sizes(a: list[mailcorpus.Mail], b: list[mailcorpus.Mail]) -> bool:
    return all(abs(len(x.data) - len(y.data)) <= 0.05 * len(x.data) + 2000
               for x, y in zip(a, b, strict=True))


def test_same_seed_same_corpus(tmp_path: Path) -> None:
    signer = mailcorpus.make_signer(tmp_path / "pki")
    a = mailcorpus.build("mix", 20, seed=5, scale=0.02, signer=signer)
    b = mailcorpus.build("mix", 20, seed=5, scale=0.02, signer=signer)
    assert _fingerprint(a) == _fingerprint(b) and _close_sizes(a, b)
    c = mailcorpus.build("mix", 20, seed=6, scale=0.02, signer=signer)
    assert _fingerprint(a) != _fingerprint(c)


def test_mix_shares_and_message_ids(tmp_path: Path) -> None:
    signer = mailcorpus.make_signer(tmp_path / "pki")
    mails = mailcorpus.build("mix", 40, seed=1, scale=0.01, signer=signer, first=500)
    kinds = Counter("text" if m.kind.startswith("text") else m.kind for m in mails)
    assert kinds == {"office": 16, "scan": 8, "signed_pdf": 4, "text": 6, "freemail": 4, "big": 2}
    ids = [re.search(rb"Message-ID: <bench-(\d+)@", m.data) for m in mails]
    assert [int(i.group(1)) if i else None for i in ids] == list(range(500, 540))
    assert all(m.sender in mailcorpus.FREEMAIL for m in mails if m.kind == "freemail")
