"""cProfile of the gateway's ``Checker`` over a benchmark corpus, in one process.

    python -m bench.profile_mix [--corpus mix] [--count 200] [--scale 1] [--top 30]

Builds the same corpus as ``bench/bench_postfix.py`` (same seed), checks every message once
to warm up, then once under cProfile, and prints the functions by own time and by
cumulative time. Used to find what dominates a realistic mix (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import pstats
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import mailcorpus  # noqa: E402


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.profile_mix")
    p.add_argument("--corpus", choices=mailcorpus.KINDS, default="mix")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=12)
    p.add_argument("--top", type=int, default=30)
    a = p.parse_args(argv)
    from gateway.milter.worker import build_checker
    from gateway.model.envelope import Envelope

    logging.getLogger().setLevel(logging.CRITICAL)
    work = Path(tempfile.mkdtemp(prefix="hople-profile-"))
    signer = mailcorpus.make_signer(work / "pki")
    mails = mailcorpus.build(a.corpus, a.count, seed=a.seed, scale=a.scale, signer=signer)
    rules = work / "rules.toml"
    rules.write_text(signer.rules, encoding="utf-8")
    checker = build_checker(str(rules), ())
    env = [Envelope(sender=m.sender, recipients=(mailcorpus.RECIPIENT,)) for m in mails]
    for m, e in zip(mails[:10], env[:10], strict=True):
        checker.check_message(io.BytesIO(m.data), e)
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    for m, e in zip(mails, env, strict=True):
        checker.check_message(io.BytesIO(m.data), e)
    prof.disable()
    print(f"{len(mails)} messages checked in {time.perf_counter() - t:.2f} s (under cProfile)")
    st = pstats.Stats(prof)
    st.sort_stats("tottime").print_stats(a.top)
    st.sort_stats("cumulative").print_stats(a.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
