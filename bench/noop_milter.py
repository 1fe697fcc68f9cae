"""A milter that accepts everything, for the Postfix benchmark's middle baseline.

It asks for the content stages the gateway asks for (header lines and body chunks without
replies, no end of headers, end of message), so the message crosses the milter protocol as
it does to the gateway, and does nothing with it: the difference to bare Postfix is the
cost of the protocol and of pymilter itself.

    python -m bench.noop_milter unix:/path/to/socket
"""

from __future__ import annotations

import sys

import Milter


class Noop(Milter.Base):
    @Milter.noreply  # as the gateway: header lines and body chunks without replies
    def header(self, name: str, value: str) -> int:
        return Milter.CONTINUE

    @Milter.noreply
    def body(self, chunk: bytes) -> int:
        return Milter.CONTINUE

    def eom(self) -> int:
        return Milter.ACCEPT


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m bench.noop_milter unix:/path/to/socket", file=sys.stderr)
        return 2
    Milter.factory = Noop
    Milter.set_flags(0)
    Milter.runmilter("hople-bench-noop", argv[0], timeout=600)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
