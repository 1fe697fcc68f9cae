"""Time and peak memory of ``Checker.check_message`` on large messages, each in a fresh child
process that first checks a small message with a PDF (so every inspector is imported, as in
a worker that has run), then the large message read from its file like a worker reads its
spool file.

Messages (built here, deterministic):

* 36 MB on the wire with a 26 MB scanned PDF (26 pages of 1 MB grey images);
* a 26 MiB attachment, over the 25 MiB limit (rejected with 552 before any inspector);
* a 20 MB scanned PDF.

Baselines in the same run: reading the file and its SHA-256 (time), and the child's RSS once
ready (memory). Each message is also checked with streaming intake off (every body kept in
the parsed message, as the whole-message parse did). Targets: decided within 1.5 s, the
worker's peak RSS within 120 MB, and its growth within 2.5 times the largest part. The 36 MB
message also goes through a private Postfix (when one can be started) to measure the whole
gateway: milter, forkserver and workers, whose peak the issue wants within 120 MB; it is given
per process as RSS, PSS and USS, and summed as RSS (shared pages once per process), as PSS
(shared pages divided) and as distinct resident pages (split at rest into anonymous memory
and file pages). Last, what a worker's
full garbage collection copies of the forkserver's preloaded pages, frozen or not.

``python -m bench.bench_memory --postfix`` runs only the Postfix part, ``--gc`` only the last.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

TIME_TARGET = 1.5
PEAK_TARGET_MB = 120
GROWTH_TARGET = 2.5
MB = 1024 * 1024
PAGE = os.sysconf("SC_PAGE_SIZE")
PFN_MASK = (1 << 55) - 1


def scanned_pdf(size: int, seed: int = 1) -> bytes:
    """Pages of incompressible 1000×1000 grey images stored unfiltered, about ``size`` bytes."""
    from tests.pdfgen.build import PdfBuilder

    rng = random.Random(seed)
    w = h = 1000
    b = PdfBuilder()
    catalog, pages = b.reserve(), b.reserve()
    kids = []
    for _ in range(max(1, size // (w * h))):
        content = b.stream(b"", b"q 595 0 0 842 0 0 cm /Im1 Do Q", compress=False)
        image = b.stream(b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace "
                         b"/DeviceGray /BitsPerComponent 8" % (w, h), rng.randbytes(w * h),
                         compress=False)
        kids.append(b.add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Resources "
                          b"<< /XObject << /Im1 %d 0 R >> >> /Contents %d 0 R >>"
                          % (pages, image, content)))
    b.set(pages, b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
          + b"] /Count %d >>" % len(kids))
    b.set(catalog, b"<< /Type /Catalog /Pages %d 0 R >>" % pages)
    return b.serialize(catalog)


def message(name: str, data: bytes, subtype: str = "pdf") -> bytes:
    m = EmailMessage()
    m["From"] = "vanthu@stc.daknong.gov.vn"
    m["To"] = "tiepnhan@lamdong.gov.vn"
    m["Subject"] = "Công văn gửi kèm bản scan"
    m.set_content("Kính gửi Sở Tài chính.\n")
    m.add_attachment(data, maintype="application", subtype=subtype, filename=name)
    return m.as_bytes()


def corpus(where: Path) -> list[tuple[str, Path, int]]:
    big = scanned_pdf(26_000_000)
    over = big + b"\n%" + random.Random(2).randbytes(26 * MB - len(big) + 1024) + b"\n"
    kinds = [("36 MB message, 26 MB scan", "Công văn.pdf", big),
             ("26 MiB over the limit", "Công văn lớn.pdf", over),
             ("20 MB scan", "Bản scan.pdf", scanned_pdf(20_000_000, seed=3))]
    out = []
    for i, (label, name, data) in enumerate(kinds):
        path = where / f"msg-{i}.eml"
        path.write_bytes(message(name, data))
        out.append((label, path, len(data)))
    return out


# -- child ---------------------------------------------------------------------------------


def _status(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


def child(path: str, mode: str) -> None:
    from gateway.demo import message as demo_message
    from gateway.demo import sample_pdf
    from gateway.intake import stream
    from gateway.model.envelope import Envelope
    from gateway.pipeline import Checker
    from gateway.policy.load import load_policy

    checker = Checker(load_policy(None))
    small = demo_message("a@daknong.gov.vn", "x", "y", [("a.pdf", sample_pdf(), "application/pdf")])
    checker.check_message(io.BytesIO(small.as_bytes()), Envelope())
    if mode == "whole":
        stream.SPILL_BYTES = stream.TOKEN_BYTES = 1 << 62
    ready = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM from here
    started = time.perf_counter()
    with open(path, "rb") as fp:
        report = checker.check_message(fp, Envelope(), label=path)
    took = time.perf_counter() - started
    reply = report.smtp_reply.code if report.smtp_reply else "250"
    print(json.dumps({"ready": ready, "peak": _status("VmHWM"), "time": took,
                      "verdict": report.verdict.value, "reply": reply}))


def bare() -> None:
    import gateway.pipeline  # noqa: F401

    print(json.dumps({"ready": _status("VmRSS")}))


# -- parent --------------------------------------------------------------------------------


def _run(*args: str) -> dict[str, Any]:
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, PYTHONPATH=str(root) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    got = subprocess.run([sys.executable, "-W", "ignore", "-m", "bench.bench_memory", *args],
                         cwd=root, env=env, capture_output=True, text=True, check=True)
    out: dict[str, Any] = json.loads(got.stdout.strip().splitlines()[-1])
    return out


def _read_and_hash(path: Path) -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        h = hashlib.sha256()
        with path.open("rb") as fp:
            while chunk := fp.read(MB):
                h.update(chunk)
        best = min(best, time.perf_counter() - t)
    return best


def _tree(root: int) -> list[int]:
    """``root`` and every process below it (the milter, its forkserver, the workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _proc_kib(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _smaps_kib(pid: int) -> tuple[int, int, int]:
    """RSS, PSS and USS (private clean + private dirty) of ``pid`` in KiB, from
    ``/proc/PID/smaps_rollup`` (zeros once the process is gone)."""
    got: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            key, _, value = line.partition(":")
            got[key] = int(value.split()[0])
    except (OSError, ValueError, IndexError):
        return (0, 0, 0)
    return (got.get("Rss", 0), got.get("Pss", 0),
            got.get("Private_Clean", 0) + got.get("Private_Dirty", 0))


def _frames(pid: int, file_pages: set[int] | None = None) -> set[int]:
    """The physical page frames ``pid`` has resident (``/proc/PID/pagemap``; needs root, else
    the kernel hides the frame numbers and this is empty). Frames of file pages (clean or
    dirty page cache, which the kernel can write back or drop) are also added to
    ``file_pages``; the others are anonymous memory, which it cannot without swap."""
    out: set[int] = set()
    try:
        maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
        with open(f"/proc/{pid}/pagemap", "rb") as pm:
            for line in maps:
                if line.endswith("[vsyscall]"):
                    continue
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                pm.seek(lo // PAGE * 8)
                for (entry,) in struct.iter_unpack("<Q", pm.read((hi - lo) // PAGE * 8)):
                    if entry >> 63 and entry & PFN_MASK:  # present, frame number visible
                        out.add(entry & PFN_MASK)
                        if file_pages is not None and entry >> 61 & 1:  # file or shared
                            file_pages.add(entry & PFN_MASK)
    except (OSError, ValueError):
        pass
    return out


def _distinct_kib(pids: list[int]) -> int:
    """Resident memory of ``pids`` counting every physical page once: what they hold,
    whatever other processes on the machine share (unlike PSS, which moves with them)."""
    return _distinct_split_kib(pids)[0]


def _distinct_split_kib(pids: list[int]) -> tuple[int, int]:
    """:func:`_distinct_kib`, and how much of it is file pages."""
    frames: set[int] = set()
    files: set[int] = set()
    for pid in pids:
        frames |= _frames(pid, files)
    return len(frames) * PAGE // 1024, len(files) * PAGE // 1024


def _roles(root: int) -> dict[int, str]:
    """The gateway's processes by role: the milter, the forkserver and the resource tracker
    (its children, told apart by their command line) and the workers (the forkserver's)."""
    roles = {}
    for pid in _tree(root):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            parent = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):
            continue
        if pid == root:
            roles[pid] = "milter"
        elif b"resource_tracker" in cmd:
            roles[pid] = "resource tracker"
        elif parent == root:
            roles[pid] = "forkserver" if b"forkserver" in cmd else "other"
        else:
            roles[pid] = "worker"
    return roles


class _Sampler(threading.Thread):
    """Sums the gateway's RSS and PSS every ``every`` seconds; keeps the largest sums seen
    (the same instant for all processes) and each process's largest PSS. PSS has no
    high-water mark in /proc, so its peak is the sampled one."""

    def __init__(self, root: int, every: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.root, self.every = root, every
        self.max_rss = self.max_pss = self.max_distinct = 0
        self.pss: dict[int, int] = {}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            rss = pss = 0
            pids = _tree(self.root)
            self.max_distinct = max(self.max_distinct, _distinct_kib(pids))
            for pid in pids:
                r, p, _ = _smaps_kib(pid)
                rss, pss = rss + r, pss + p
                self.pss[pid] = max(self.pss.get(pid, 0), p)
            self.max_rss, self.max_pss = max(self.max_rss, rss), max(self.max_pss, pss)
            self.halt.wait(self.every)


def through_postfix(path: Path) -> None:
    """The whole gateway (milter, forkserver, 2 workers) in a private
    Postfix, at rest (after two small PDFs, so every worker has run) and at the peak of one
    message. Per process: RSS, PSS (shared pages divided among the processes that map them)
    and USS (pages only this process maps). The sum of RSS counts a page shared by five
    processes five times; the sum of PSS counts it once, and is what the gateway costs the
    machine (pages shared with processes outside the gateway, such as libc, count only in
    part)."""
    from gateway.demo import AGENCY, RECIPIENT
    from gateway.lab import Lab, unavailable_reason

    reason = unavailable_reason()
    if reason:
        print(f"   through Postfix: skipped: {reason}")
        return
    raw = path.read_bytes()
    with Lab(workers=2, log_level="warning") as lab:
        assert lab.gateway_pid
        root = lab.gateway_pid
        code, _ = lab.send(message("nhỏ.pdf", scanned_pdf(1_000_000, seed=5)), AGENCY,
                           [RECIPIENT])  # every worker has imported what a PDF needs
        code, _ = lab.send(message("nhỏ.pdf", scanned_pdf(1_000_000, seed=6)), AGENCY,
                           [RECIPIENT])
        time.sleep(0.5)
        roles = _roles(root)
        rest = {pid: _smaps_kib(pid) for pid in roles}
        rest_distinct, rest_files = _distinct_split_kib(list(roles))
        for pid in roles:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        sampler = _Sampler(root)
        sampler.start()
        t = time.perf_counter()
        code, _ = lab.send(raw, AGENCY, [RECIPIENT])
        took = time.perf_counter() - t
        sampler.halt.set()
        sampler.join()
        hwm = {pid: _proc_kib(pid, "VmHWM") for pid in roles}
        last = max(lab.store().query(), key=lambda d: d.decided_at)
        for _ in range(3):  # the same message three times more: each worker gets it again
            lab.send(raw, AGENCY, [RECIPIENT])
        time.sleep(0.5)
        again = {pid: (_proc_kib(pid, "VmHWM"), _proc_kib(pid, "VmRSS")) for pid in roles
                 if roles[pid] == "worker"}
    print(f"   through Postfix, {len(raw) / MB:.1f} MiB message: reply {code} in {took:.2f} s "
          f"(SMTP included), decided in {last.duration_ms / 1000:.2f} s (decision log); "
          f"{len(roles)} gateway processes")
    print(f"      {'MiB':17s} {'at rest: RSS':>12s} {'PSS':>5s} {'USS':>5s}   "
          f"{'peak: RSS (VmHWM)':>17s} {'PSS (sampled)':>13s}")
    order = sorted(roles, key=lambda p: ("milter", "forkserver", "resource tracker", "worker",
                                         "other").index(roles[p]))
    for pid in order:
        r, p, u = rest[pid]
        print(f"      {roles[pid]:17s} {r / 1024:12.1f} {p / 1024:5.1f} {u / 1024:5.1f}   "
              f"{hwm[pid] / 1024:17.1f} {sampler.pss.get(pid, 0) / 1024:13.1f}")
    rest_rss = sum(v[0] for v in rest.values()) / 1024
    rest_pss = sum(v[1] for v in rest.values()) / 1024
    hwm_sum = sum(hwm.values()) / 1024
    print(f"      {'sum':17s} {rest_rss:12.1f} {rest_pss:5.1f} "
          f"{sum(v[2] for v in rest.values()) / 1024:5.1f}   {hwm_sum:17.1f} "
          f"{sampler.max_pss / 1024:13.1f}  (sampled sums at one instant: RSS "
          f"{sampler.max_rss / 1024:.1f}, PSS {sampler.max_pss / 1024:.1f})")
    grown = rest_pss + sum(max(0, hwm[pid] - rest[pid][0]) for pid in roles) / 1024
    print(f"      PSS at rest + each process's growth to its peak (VmHWM − RSS at rest; new "
          f"pages are its own): {grown:.1f}")
    if rest_distinct:
        print(f"      every resident page counted once (pagemap): at rest "
              f"{rest_distinct / 1024:.1f}, at the peak (sampled) "
              f"{sampler.max_distinct / 1024:.1f}; at rest, anonymous "
              f"{(rest_distinct - rest_files) / 1024:.1f} and file pages {rest_files / 1024:.1f} "
              f"(the page cache's, which the kernel can drop)")
    print("      after the message three times more, each worker's peak (VmHWM) / RSS at rest: "
          + ", ".join(f"{h / 1024:.1f} / {r / 1024:.1f}" for h, r in again.values()))
    pss_ok = sampler.max_pss / 1024 <= PEAK_TARGET_MB
    rss_ok = hwm_sum <= PEAK_TARGET_MB
    print(f"   whole gateway ≤ {PEAK_TARGET_MB} MB at the peak: by PSS (what it costs the "
          f"machine) {'OK' if pss_ok else 'MISSED'} ({sampler.max_pss / 1024:.0f} MB); by "
          f"summed RSS peaks (shared pages counted in every process) "
          f"{'OK' if rss_ok else 'MISSED'} ({hwm_sum:.0f} MB)")


def gc_after_fork() -> None:
    """What a worker's full garbage collection copies of the forkserver's pages: a process
    imports what the forkserver preloads, forks, and the child collects; the child's USS
    before and after, with the preload's ``gc.freeze()`` and without it (``gc.unfreeze()``)."""
    import gc

    import gateway.milter.preload  # noqa: F401  (imports and freezes, as the forkserver does)

    def child_uss() -> tuple[int, int]:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            before = _smaps_kib(os.getpid())[2]
            gc.collect()
            os.write(w, json.dumps([before, _smaps_kib(os.getpid())[2]]).encode())
            os._exit(0)
        os.close(w)
        os.waitpid(pid, 0)
        with os.fdopen(r) as fp:
            before, after = json.loads(fp.read())
        return before, after

    for label in ("frozen (as the forkserver)", "not frozen"):
        if label == "not frozen":
            gc.unfreeze()
        before, after = child_uss()
        print(f"   a worker's full collection, preloaded objects {label}: its USS "
              f"{before / 1024:.1f} → {after / 1024:.1f} MiB")


def main() -> None:
    base = _run("--bare")
    print(f"   a bare process importing the gateway: {int(base['ready']) / MB:.0f} MB RSS")
    missed = []
    with tempfile.TemporaryDirectory(prefix="hople-bench-") as tmp:
        for label, path, part in corpus(Path(tmp)):
            size = path.stat().st_size
            hashing = _read_and_hash(path)
            print(f"   {label}: {size / MB:.1f} MiB on the wire, part {part / MB:.1f} MiB, "
                  f"read+SHA-256 {hashing * 1000:.0f} ms")
            if label.startswith("36 MB"):
                through_postfix(path)
            for mode in ("stream", "whole"):
                r = _run("--child", str(path), mode)
                ready, peak, took = int(r["ready"]), int(r["peak"]), float(r["time"])
                growth = (peak - ready) / part
                print(f"      {mode:6s} {took:5.2f} s ({took / hashing:5.1f}× read+hash)  "
                      f"ready {ready / MB:4.0f} MB  peak {peak / MB:4.0f} MB  "
                      f"growth {(peak - ready) / MB:4.0f} MB = {growth:4.1f}× the part  "
                      f"→ {r['verdict']} {r['reply']}")
                if mode == "stream":
                    if took > TIME_TARGET:
                        missed.append(f"{label}: {took:.2f} s > {TIME_TARGET} s")
                    if peak > PEAK_TARGET_MB * MB:
                        missed.append(f"{label}: peak {peak / MB:.0f} MB > {PEAK_TARGET_MB} MB")
                    if growth > GROWTH_TARGET:
                        missed.append(f"{label}: growth {growth:.1f}× > {GROWTH_TARGET}×")
    gc_after_fork()
    print(f"   targets (streaming): decided ≤ {TIME_TARGET} s, worker peak ≤ {PEAK_TARGET_MB} MB, "
          f"growth ≤ {GROWTH_TARGET}× the part: " + ("OK" if not missed else
                                                    "MISSED: " + "; ".join(missed)))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--gc"]:
        gc_after_fork()
    elif sys.argv[1:2] == ["--postfix"]:  # only the whole gateway through Postfix
        with tempfile.TemporaryDirectory(prefix="hople-bench-") as tmp:
            through_postfix(corpus(Path(tmp))[0][1])
    elif sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["--bare"]:
        bare()
    else:
        main()
