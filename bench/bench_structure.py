"""The structure scan that runs before the standard library parser (``intake/structure.py``)
against the parse itself, measured in one run:

* a 20 MB message with one base64 attachment (the common large case);
* a message of 1,000 small parts (the most lines and delimiters per byte);
* a message nested 60 levels deep (below the parser's safe depth).

Baseline = ``email.message_from_bytes`` of the same bytes. Target: the scan adds at most
0.5 × the parse (it reads every line once, without building objects).
"""

from __future__ import annotations

import base64
import email
import email.policy
import os
import sys
from functools import partial
from pathlib import Path

from bench.timing import best_of

TARGET = 0.5


def _root() -> None:
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))


def messages() -> dict[str, bytes]:
    _root()
    from tests.containers import HEAD, nested_multipart

    big = base64.encodebytes(os.urandom(15 * 1024 * 1024))
    large = (HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
             b"Content-Type: text/plain\r\n\r\nKinh gui\r\n--b\r\n"
             b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
             b'Content-Disposition: attachment; filename="scan.pdf"\r\n\r\n' + big
             + b"--b--\r\n")
    parts = [HEAD + b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n']
    for i in range(1000):
        parts.append(b"--b\r\nContent-Type: text/plain\r\n\r\npart %d\r\n" % i)
    parts.append(b"--b--\r\n")
    return {"20 MB attachment": large, "1,000 parts": b"".join(parts),
            "60 levels": nested_multipart(60)}


def main() -> None:
    _root()
    from gateway.intake.structure import scan

    worst = 0.0
    for label, raw in messages().items():
        base = best_of(partial(email.message_from_bytes, raw, policy=email.policy.default))
        cost = best_of(partial(scan, raw))
        ratio = cost / base
        worst = max(worst, ratio)
        print(f"   {label:18s} parse {base * 1000:8.1f} ms   scan {cost * 1000:8.1f} ms   "
              f"ratio {ratio:.2f}")
    verdict = "OK" if worst <= TARGET else "MISSED"
    print(f"   worst ratio {worst:.2f} (target ≤ {TARGET}): {verdict}")


if __name__ == "__main__":
    main()
