"""Same verdicts before and after a speed change: one line per message of a corpus.

A performance change must not change what the gateway decides. This builds a corpus of the
benchmark generator once (the mix by default, signed by a test PKI the rules trust), checks
every message with this checkout's code and, with ``--against DIR``, with the code of another
checkout (a ``git worktree`` of the commit before), then prints the messages whose verdict or
finding codes differ. Exit status 1 when any differ.

    git worktree add --detach /tmp/before HEAD~5
    python -m bench.verdicts --corpus mix --count 200 --against /tmp/before

Not a benchmark (nothing is timed), so ``python -m bench`` does not run it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build(corpus: str, count: int, where: Path) -> None:
    """The corpus as ``NNN.eml`` files, ``meta.txt`` (number, kind, sender) and ``rules.toml``."""
    from bench import mailcorpus

    signer = mailcorpus.make_signer(where / "pki")
    (where / "rules.toml").write_text(signer.rules, encoding="utf-8")
    mails = mailcorpus.build(corpus, count, signer=signer)
    for i, m in enumerate(mails):
        (where / f"{i:03d}.eml").write_bytes(m.data)
    (where / "meta.txt").write_text(
        "\n".join(f"{i:03d} {m.kind} {m.sender}" for i, m in enumerate(mails)), encoding="utf-8")


def decide(where: Path) -> list[str]:
    """One line per message: number, kind, verdict and the sorted finding codes."""
    import logging

    from gateway.milter.worker import build_checker
    from gateway.model.envelope import Envelope
    from gateway.model.report import MessageReport

    for name in ("pyhanko", "pyhanko_certvalidator", "pdfminer", "PIL"):  # older checkouts too
        logging.getLogger(name).setLevel(logging.ERROR)
    checker = build_checker(str(where / "rules.toml"), ())
    out = []
    for line in (where / "meta.txt").read_text(encoding="utf-8").splitlines():
        number, kind, sender = line.split()
        env = Envelope(sender=sender, recipients=("ubnd@daknong.gov.vn",), queue_id=number)
        with open(where / f"{number}.eml", "rb") as fp:
            report: MessageReport = checker.check_message(fp, env, label=number)
        codes = {f.code for d in report.documents for f in d.findings}
        codes |= {f.code for f in report.findings}
        out.append(f"{number} {kind} {report.verdict.value} {' '.join(sorted(codes))}".rstrip())
    return out


def _decide_with(checkout: Path, where: Path) -> list[str]:
    """``decide`` in a fresh interpreter that imports the gateway from ``checkout`` (this
    file is run by its path, so an older checkout needs no copy of it)."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    res = subprocess.run([sys.executable, __file__, "--decide", str(where)], cwd=checkout,
                         env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        raise SystemExit(f"the checkout at {checkout} failed:\n{res.stderr[-2000:]}")
    return res.stdout.splitlines()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", default="mix")
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--against", type=Path, help="another checkout to compare with")
    p.add_argument("--decide", type=Path, help=argparse.SUPPRESS)  # one checkout's side
    args = p.parse_args(argv)
    if args.decide is not None:
        print("\n".join(decide(args.decide)))
        return 0
    with tempfile.TemporaryDirectory(prefix="hople-verdicts-") as tmp:
        where = Path(tmp)
        build(args.corpus, args.count, where)
        ours = _decide_with(ROOT, where)
        tally: dict[str, int] = {}
        for line in ours:
            verdict = line.split()[2]
            tally[verdict] = tally.get(verdict, 0) + 1
        print(f"   {len(ours)} messages of {args.corpus}: "
              + ", ".join(f"{v} {n}" for v, n in sorted(tally.items())))
        if args.against is None:
            print("\n".join(ours))
            return 0
        theirs = _decide_with(args.against.resolve(), where)
        differ = [(a, b) for a, b in zip(theirs, ours, strict=True) if a != b]
        for a, b in differ:
            print(f"   {args.against}: {a}\n   this checkout: {b}")
        print(f"   differing messages: {len(differ)} of {len(ours)}")
        return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
