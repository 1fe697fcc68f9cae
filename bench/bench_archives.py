"""Archives through libarchive against libarchive itself: list and extract vs decide.

Builds in memory a 20 MB 7z (LZMA2) and a 20 MB RAR 5 (stored, the only method a free writer
has), each with 200 members, then measures in the same run:

* baseline: libarchive (libarchive-c) lists the archive and reads every member's bytes, in
  blocks of 1 MiB;
* decide: ``Checker.check_document`` on the archive with the shipped rules (sniff, limits,
  member names, every member identified and reported, the verdict).

The members are binary data files, identified and reported but with no inspector of their
own, so the ratio measures what the gateway adds to libarchive for an archive rather than
the inspection of the documents inside (measured by the other benchmarks). A third figure
is the archive reading alone (``intake/archives.py``), without the per-document work that
every attachment gets (libmagic, SHA-256, the report).
Target: decide ≤ 1.5 × baseline. A stored RAR extracts at memory speed, so there the
per-document work dominates: SHA-256 alone, which the report gives for every member, is
more than the whole baseline.
"""

from __future__ import annotations

import io
import random
import sys
import time
from pathlib import Path

TARGET = 1.5
MEMBERS = 200


def _path() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


def _member(rng: random.Random, size: int, alphabet: int) -> bytes:
    """Bytes from a small alphabet: about 8/log2(alphabet) times compressible; half of it
    control bytes, so that no member passes for text."""
    half = alphabet // 2
    table = bytes(rng.sample(range(1, 9), half) + rng.sample(range(128, 256), alphabet - half))
    return bytes(table[b % alphabet] for b in rng.randbytes(size))


def build_7z(target: int) -> bytes:
    import py7zr

    rng = random.Random(7)
    per = target * 2 // MEMBERS  # 16-symbol alphabet: LZMA2 packs it about 2:1
    buf = io.BytesIO()
    filters = [{"id": py7zr.FILTER_LZMA2, "preset": 1}]
    with py7zr.SevenZipFile(buf, "w", filters=filters) as z:
        for i in range(MEMBERS):
            z.writestr(_member(rng, per, 16), f"Hồ sơ/dữ liệu {i:03d}.dat")
    return buf.getvalue()


def build_rar(target: int) -> bytes:
    from tests.archgen.rar import Member, rar5

    rng = random.Random(5)
    per = target // MEMBERS
    return rar5([Member(f"Hồ sơ/dữ liệu {i:03d}.dat", rng.randbytes(per)) for i in range(MEMBERS)])


def libarchive_list_extract(data: bytes) -> int:
    import libarchive

    total = 0
    with libarchive.memory_reader(data) as archive:
        for entry in archive:
            for block in entry.get_blocks(1 << 20):
                total += len(block)
    return total


def measure(label: str, name: str, data: bytes, rounds: int = 7) -> float:
    """Best of ``rounds``, the baseline and the decision alternating so that both see the
    same load on the machine."""
    import hashlib

    from gateway.intake import archives
    from gateway.pipeline import Checker
    from gateway.policy.load import load_policy

    checker = Checker(load_policy(None))
    report = checker.check_document(name, data)
    members = [d for d in report.documents if d.path.startswith(name + "/")]
    assert len(members) == MEMBERS, (len(members), [f.code for f in report.all_findings])
    assert not [f for f in report.all_findings if f.code.startswith("ARCHIVE_")]
    unpacked = libarchive_list_extract(data)
    fmt = name.rsplit(".", 1)[-1]
    base = decide = reading = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        libarchive_list_extract(data)
        base = min(base, time.perf_counter() - started)
        started = time.perf_counter()
        checker.check_document(name, data)
        decide = min(decide, time.perf_counter() - started)
        started = time.perf_counter()
        archives.expand(data, fmt, name, checker.policy.rules.limits)
        reading = min(reading, time.perf_counter() - started)
    started = time.perf_counter()
    hashlib.sha256(data).digest()
    hashlib.sha256(b"\0" * unpacked).digest()
    floor = time.perf_counter() - started
    ratio = decide / base
    print(f"   {label}: {len(data) / 1e6:.1f} MB, {MEMBERS} members, {unpacked / 1e6:.1f} MB "
          f"unpacked; libarchive list+extract {base * 1000:.0f} ms, decide {decide * 1000:.0f} "
          f"ms (of which SHA-256 of archive and members, as the report gives them: "
          f"{floor * 1000:.0f} ms), ratio {ratio:.2f}x (target <= {TARGET}x) "
          f"{'OK' if ratio <= TARGET else 'OVER TARGET'}", flush=True)
    print(f"   {label}: reading alone (intake/archives.py: limits, names, every member's bytes) "
          f"{reading * 1000:.0f} ms, {reading / base:.2f}x libarchive", flush=True)
    return ratio


def main() -> None:
    _path()
    target = 20 * 1000 * 1000
    measure("7z (LZMA2)", "ho-so.7z", build_7z(target))
    measure("RAR 5 (stored)", "ho-so.rar", build_rar(target))


if __name__ == "__main__":
    main()
