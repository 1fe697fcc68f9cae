"""MIME intake alone (``Walker.walk_message``: structure, split, parse, decoding, sniffing,
archives), measured in one run against the floor of reading the same bytes:

* the 110 KB Vietnamese UTF-8 text message of ``bench_text`` — baseline: decoding its body
  to ``str`` (the baseline of the issue's whole-message target, ≤ 30 × for intake and the
  text checks together);
* the realistic mix of ``bench_postfix`` (``mailcorpus``, 60 messages, seed 12) — baseline:
  SHA-256 of every message's bytes; also how often intake asks libmagic per part and opens
  a ZIP per ZIP-based document (the costs the issue names).

No target of its own: it shows what intake costs inside the whole-message and mix figures.
``HOPLE_BENCH_INTAKE_COUNT`` changes the number of mix messages.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import sys
import tempfile
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench.timing import best_of


def _root() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


def _counting(obj: Any, name: str, counter: list[int]) -> Callable[[], None]:
    """Count the calls of ``obj.name``; returns the function that puts it back."""
    real = getattr(obj, name)

    def counted(*a: Any, **k: Any) -> Any:
        counter[0] += 1
        return real(*a, **k)

    setattr(obj, name, counted)
    return lambda: setattr(obj, name, real)


def main() -> None:
    _root()
    from bench import mailcorpus
    from bench.bench_text import _message, build_body
    from gateway.intake import sniff
    from gateway.intake.mime import Walker
    from gateway.policy.load import load_policy

    logging.getLogger().setLevel(logging.CRITICAL)
    pol = load_policy()

    def walk(raw: bytes) -> Any:
        return Walker(pol.rules.limits, pol.rules.documents).walk_message(io.BytesIO(raw))

    body = build_body(110 * 1024).encode("utf-8")
    raw = _message(body, "utf-8")
    walk(raw)
    decode = best_of(partial(body.decode, "utf-8"), 30)
    intake = best_of(partial(walk, raw), 30)
    print(f"   110 KB text message: decode {decode * 1000:.2f} ms, intake {intake * 1000:.2f} ms "
          f"({intake / decode:.1f}× decoding)")

    count = int(os.environ.get("HOPLE_BENCH_INTAKE_COUNT", "60"))
    with tempfile.TemporaryDirectory(prefix="hople-bench-intake-") as work:
        signer = mailcorpus.make_signer(Path(work) / "pki")
        mails = [m.data for m in mailcorpus.build("mix", count, seed=12, signer=signer)]
    size = sum(len(m) for m in mails)
    magic, zips = [0], [0]
    undo = [_counting(sniff, "_magic_type", magic), _counting(zipfile.ZipFile, "__init__", zips)]
    try:
        parsed = [walk(m) for m in mails]
    finally:
        for u in undo:
            u()
    parts = sum(len(p.items) + len(p.text_parts) for p in parsed)
    zip_docs = sum(1 for p in parsed for i in p.items
                   if i.document.data[:4] == b"PK\x03\x04")
    floor = best_of(lambda: [hashlib.sha256(m).digest() for m in mails])
    took = best_of(lambda: [walk(m) for m in mails])
    print(f"   mix of {count} messages ({size / 1e6:.1f} MB, {parts} parts): SHA-256 "
          f"{floor * 1000:.0f} ms, intake {took * 1000:.0f} ms ({took / floor:.1f}× hashing, "
          f"{took / count * 1000:.1f} ms per message)")
    print(f"   libmagic calls: {magic[0]} for {parts} parts; ZIP opened {zips[0]} times for "
          f"{zip_docs} ZIP-based documents")


if __name__ == "__main__":
    main()
