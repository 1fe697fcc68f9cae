"""The milter's cost in a real Postfix, as ratios against baselines measured in the same run.

- latency: one message per SMTP session through the listener with the gateway against the
  same Postfix instance's listener without a milter (the notice listener), interleaved
  round-robin because these machines are noisy; a text-only message and one with a PDF scan;
- memory: the milter process's peak RSS growth (VmHWM reset before the message) for a 26 MiB
  attachment (about 35.6 MiB on the wire), as a ratio of the message size: the spool keeps it
  on disk, so the ratio stays far below 1.

Needs root and Postfix (as the end-to-end tests); prints a note and returns otherwise.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

ROUNDS = 30
WARMUP = 5


def _hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    from gateway.demo import AGENCY, RECIPIENT, filler, message, sample_pdf
    from gateway.lab import Lab, unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"   skipped: {reason}")
        return
    with Lab(workers=2, log_level="warning") as lab:
        kinds = {
            "text": lambda: message(AGENCY, "Lịch họp", "Nội dung.\n"),
            "pdf": lambda: message(AGENCY, "Công văn", "Gửi kèm.\n",
                                   [("Công văn.pdf", sample_pdf(), "application/pdf")]),
        }
        for name, make in kinds.items():
            times: dict[str, list[float]] = {"gateway": [], "plain": []}
            for i in range(WARMUP + ROUNDS):
                for label, port in (("gateway", lab.smtp_port), ("plain", lab.notice_port)):
                    m = make()
                    t = time.perf_counter()
                    code, text = lab.send(m, AGENCY, [RECIPIENT], port=port)
                    dt = time.perf_counter() - t
                    if code != 250:
                        raise SystemExit(f"bench_milter: {label} refused: {code} {text}")
                    if i >= WARMUP:
                        times[label].append(dt)
            g = statistics.median(times["gateway"]) * 1000
            p = statistics.median(times["plain"]) * 1000
            print(f"   {name:5} message: {g:7.1f} ms with the gateway, {p:6.1f} ms without "
                  f"(median of {ROUNDS}; ratio {g / p:5.1f})")
        pid = lab.gateway_pid
        assert pid
        m = message(AGENCY, "Hồ sơ", "Gửi hồ sơ.\n",
                    [("Hồ sơ.pdf", sample_pdf() + filler(26 * 1024 * 1024), "application/pdf")])
        wire = len(m.as_bytes())
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        before = _hwm_kib(pid)
        t = time.perf_counter()
        code, _ = lab.send(m, AGENCY, [RECIPIENT])
        dt = time.perf_counter() - t
        grown = (_hwm_kib(pid) - before) * 1024
        print(f"   26 MiB attachment ({wire / 2**20:.1f} MiB on the wire): reply {code} in "
              f"{dt:.1f} s; milter peak RSS +{grown / 2**20:.1f} MiB "
              f"(ratio to message size {grown / wire:.3f})")


if __name__ == "__main__":
    main()
