"""Faults through a real Postfix: workers and the main process killed with SIGKILL while
concurrent clients send, the spool's file system full. Every message is reconciled: delivered
once with its ``X-Legal-Validity`` header, or refused, or tempfailed and delivered after
recovery (the client retries like a sending MTA) — never lost, never delivered untagged — and
the decision log's hash chain verifies afterwards. The numbers are printed (``-s`` shows them).

``make test`` sends a bounded batch (``HOPLE_FAULT_MESSAGES``, default 100); ``make test-slow``
sends 1,000.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from gateway.demo import DOCX, sample_docx
from gateway.lab import Lab, strip_sink_pseudo_headers, to_bytes
from tests.protocol.recorder import Transcript, send_recorded

pytestmark = pytest.mark.postfix

RCPT = "ubnd@daknong.gov.vn"
EXPECTED = {"text": "no-documents", "docx": "invalid"}
BOUNDED = int(os.environ.get("HOPLE_FAULT_MESSAGES", "100"))
CLIENTS = 8
MAX_ATTEMPTS = 6


# -- helpers -----------------------------------------------------------------------------------


def build_batch(new_message: Callable[..., EmailMessage], n: int, tag: str
                ) -> list[tuple[str, EmailMessage]]:
    docx = sample_docx("Kế hoạch")
    out = []
    for i in range(n):
        kind = ("text", "docx", "freemail")[i % 3]
        sender = "dan@gmail.com" if kind == "freemail" else f"{tag}{i}.stc@daknong.gov.vn"
        att = [] if kind == "text" else [(f"Kế hoạch {i}.docx", docx, DOCX)]
        out.append((kind, new_message(sender=sender, to=RCPT, attachments=att)))
    return out


def send_all(lab: Lab, batch: list[tuple[str, EmailMessage]], clients: int = CLIENTS,
             on_answer: Callable[[int], None] | None = None) -> list[Transcript]:
    done = [0]
    lock = threading.Lock()

    def one(item: tuple[str, EmailMessage]) -> Transcript:
        m = item[1]
        t = send_recorded(lab.smtp_port, to_bytes(m), m["From"], [RCPT])
        with lock:
            done[0] += 1
            n = done[0]
        if on_answer:
            on_answer(n)
        return t

    with ThreadPoolExecutor(clients) as ex:
        return list(ex.map(one, batch))


def retry_until_answered(lab: Lab, batch: list[tuple[str, EmailMessage]],
                         first: list[Transcript]) -> tuple[list[Transcript], Counter[int]]:
    """Resend every message whose last answer was 4xx (or no answer), as a sending MTA would,
    until it gets 2xx or 5xx. Returns the last transcript of each and the attempt counts."""
    last = list(first)
    attempts: Counter[int] = Counter({i: 1 for i in range(len(batch))})
    for _ in range(MAX_ATTEMPTS):
        pending = [i for i, t in enumerate(last) if not 200 <= t.final[0] < 300
                   and not 500 <= t.final[0] < 600]
        if not pending:
            break
        again = send_all(lab, [batch[i] for i in pending], clients=4)
        for i, t in zip(pending, again, strict=True):
            last[i] = t
            attempts[i] += 1
    return last, attempts


def sink_index(lab: Lab, ids: set[str]) -> dict[str, list[list[str]]]:
    """Message-ID → the ``X-Legal-Validity`` values of each delivered copy."""
    out: dict[str, list[list[str]]] = {}
    for f in lab.sink_dir.iterdir():
        try:
            raw = strip_sink_pseudo_headers(f.read_bytes())
        except OSError:
            continue
        head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0] + b"\n\n"
        msg = message_from_bytes(head, policy=policy.default)
        mid = str(msg.get("Message-ID", "")).strip()
        if mid in ids:
            out.setdefault(mid, []).append([str(v) for v in msg.get_all("X-Legal-Validity")
                                            or []])
    return out


def wait_for_deliveries(lab: Lab, ids: set[str], timeout: float = 120
                        ) -> dict[str, list[list[str]]]:
    end = time.monotonic() + timeout
    index = sink_index(lab, ids)
    while set(index) != ids and time.monotonic() < end:
        lab.flush()
        time.sleep(0.5)
        index = sink_index(lab, ids)
    return index


def reconcile(lab: Lab, batch: list[tuple[str, EmailMessage]], last: list[Transcript],
              attempts: Counter[int], label: str) -> dict[str, int]:
    ids = {m["Message-ID"] for _, m in batch}
    accepted = {m["Message-ID"] for (_, m), t in zip(batch, last, strict=True) if t.accepted}
    index = wait_for_deliveries(lab, accepted)
    rows: dict[str, list[Any]] = {}
    for r in lab.store().query():
        if r.message_id in ids:
            rows.setdefault(r.message_id, []).append(r)
    numbers: Counter[str] = Counter()
    for i, ((kind, m), t) in enumerate(zip(batch, last, strict=True)):
        mid = m["Message-ID"]
        code, text = t.final
        mine = rows.get(mid, [])
        taken = Counter(r.action_taken for r in mine)
        if attempts[i] > 1:
            numbers["retried"] += 1
        numbers["tempfail rows"] += taken["tempfail"]
        if kind == "freemail":
            assert code == 550, (mid, code, text)
            assert mid not in index, f"{mid}: refused but delivered"
            assert taken["reject"] >= 1, (mid, taken)
            numbers["rejected"] += 1
            continue
        assert code == 250, (mid, code, text, attempts[i])
        copies = index.get(mid, [])
        assert len(copies) == 1, f"{mid}: delivered {len(copies)} times (attempts {attempts[i]})"
        assert copies[0] == [EXPECTED[kind]], (mid, copies)
        assert taken["accept"] >= 1, f"{mid}: delivered without an accept row: {taken}"
        numbers["extra accept rows"] += taken["accept"] - 1
        numbers["delivered"] += 1
    # nothing of ours in the sink without the verdict header
    for mid, copies in index.items():
        assert all(c for c in copies), f"{mid} delivered without X-Legal-Validity"
    numbers["sent"] = len(batch)
    numbers["attempts"] = sum(attempts.values())
    numbers["answers 4xx/none"] = sum(attempts.values()) - len(batch)
    verify_chain(lab)
    print(f"\n[{label}] " + ", ".join(f"{k}={v}" for k, v in sorted(numbers.items())))
    return dict(numbers)


def verify_chain(lab: Lab) -> None:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    cp = subprocess.run([sys.executable, "-m", "gateway", "audit", "verify", "--config",
                         str(lab.gateway_config)], capture_output=True, text=True,
                        timeout=300, env=env)
    assert cp.returncode == 0, cp.stdout + cp.stderr


def descendants(pid: int) -> dict[int, int]:
    """pid → parent pid of every process below ``pid``."""
    parents: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        parents[int(d.name)] = int(stat.rsplit(") ", 1)[1].split()[1])
    out: dict[int, int] = {}
    frontier = [pid]
    while frontier:
        p = frontier.pop()
        for child, parent in parents.items():
            if parent == p and child not in out:
                out[child] = parent
                frontier.append(child)
    return out


def worker_pids(gateway_pid: int) -> list[int]:
    """The check workers: forked by the forkserver, a child of the gateway."""
    tree = descendants(gateway_pid)
    return [p for p, parent in tree.items() if parent != gateway_pid]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


# -- kill -9 -------------------------------------------------------------------------------------


def _kill_run(mta: Lab, new_message: Callable[..., EmailMessage], n: int, label: str) -> None:
    batch = build_batch(new_message, n, label)
    events: list[str] = []
    killed = threading.Event()

    def on_answer(done: int) -> None:
        pid = mta.gateway_pid
        if done == n // 4 and pid:
            workers = worker_pids(pid)  # every worker: with 8 clients some are mid-check
            for w in workers:
                os.kill(w, signal.SIGKILL)
            events.append(f"workers {workers} killed after {done} answers")
        if done == n // 2 and pid and not killed.is_set():
            killed.set()
            os.kill(pid, signal.SIGKILL)
            events.append(f"main process {pid} killed after {done} answers")
            end = time.monotonic() + 10
            while mta.gateway_running and time.monotonic() < end:
                time.sleep(0.05)
            time.sleep(1.0)  # clients meet the dead milter (Postfix: milter_default_action)
            for leftover in descendants(pid):  # as the service manager would: its group
                try:
                    os.kill(leftover, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            mta.start_gateway()
            events.append(f"restarted after {done} answers")

    first = send_all(mta, batch, on_answer=on_answer)
    assert killed.is_set()
    if not mta.gateway_running:
        mta.start_gateway()
    first_codes = Counter(t.final[0] for t in first)
    last, attempts = retry_until_answered(mta, batch, first)
    numbers = reconcile(mta, batch, last, attempts, label)
    print(f"[{label}] first answers {dict(first_codes)}; " + "; ".join(events))
    assert first_codes[250] + first_codes[550] < n, "the kills must have cost some answers"
    # a row says accept only for an answer handed to the MTA: at most the sessions in flight
    # at the kill -9 of the main process (answer handed over, process gone before the reply)
    assert numbers.get("extra accept rows", 0) <= CLIENTS


def test_kill_worker_and_main_process_bounded(mta: Lab, new_message) -> None:
    _kill_run(mta, new_message, BOUNDED, "kill-bounded")


@pytest.mark.slow
def test_kill_worker_and_main_process_long(mta: Lab, new_message) -> None:
    _kill_run(mta, new_message, 1000, "kill-long")


# -- latency from the first byte ----------------------------------------------------------------


def test_session_latency_is_measured_from_the_first_byte(mta: Lab, new_message) -> None:
    """``session_ms`` (first byte the milter saw → answer handed over) is at least the check
    time and at most what the client measured from its connection (one host, one clock)."""
    batch = [(k, m) for k, m in build_batch(new_message, 24, "lat") if k != "freemail"]
    ts = send_all(mta, batch)
    assert all(t.accepted for t in ts), [t.final for t in ts if not t.accepted]
    rows = {r.message_id: r for r in mta.store().query(limit=500)}
    sess, dur, client = [], [], []
    for (_, m), t in zip(batch, ts, strict=True):
        row = rows[m["Message-ID"]]
        assert row.session_ms is not None
        assert row.session_ms + 1 >= row.duration_ms, (row.session_ms, row.duration_ms)
        assert row.session_ms <= t.elapsed_ms + 5, (row.session_ms, t.elapsed_ms)
        sess.append(row.session_ms)
        dur.append(row.duration_ms)
        client.append(t.elapsed_ms)
    print(f"\n[latency] n={len(batch)} clients={CLIENTS}: session_ms p50 "
          f"{statistics.median(sess):.0f} p95 {percentile(sess, 0.95):.0f}; duration_ms p50 "
          f"{statistics.median(dur):.0f}; SMTP transaction p50 {statistics.median(client):.0f} "
          f"p95 {percentile(client, 0.95):.0f}")


# -- the spool's file system full -------------------------------------------------------------


def _mount_tmpfs(path: Path, size: str) -> None:
    cp = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                         str(path)], capture_output=True, text=True)
    if cp.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {cp.stderr.strip()}")


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True)


def _fill(path: Path, leave: int) -> Path:
    """Fill the file system of ``path`` until about ``leave`` bytes are free."""
    filler = path / "filler"
    st = os.statvfs(path)
    free = st.f_bavail * st.f_frsize
    with open(filler, "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def test_spool_disk_full_answers_at_once_and_delivers_after_recovery(
        mta: Lab, new_message) -> None:
    from gateway.demo import filler

    spool = mta.spool_dir
    _mount_tmpfs(spool, "12m")
    try:
        fill = _fill(spool, 2 * 1024 * 1024)  # 2 MiB free: above the 1 MiB reserve
        big = new_message(sender="vt.stc@daknong.gov.vn", to=RCPT,
                          attachments=[("Hồ sơ.pdf", filler(4 * 1024 * 1024), "application/pdf")])
        small = new_message(sender="vt.stc@daknong.gov.vn", to=RCPT)
        raw = to_bytes(big)
        # 1. no SIZE declared: the body overflows the spool while it streams in
        t = send_recorded(mta.smtp_port, raw, big["From"], [RCPT])
        code, text = t.final
        assert code == 452 and text.startswith("4.3.1"), t.steps
        waited = t.seconds_to("END-OF-DATA")
        assert waited is not None and waited < 30, (
            f"{waited} s: the answer must not wait for milter_content_timeout (300 s)")
        assert list(p.name for p in spool.iterdir()) == ["filler"], "no spool file left"
        # 2. SIZE declared larger than the free space: refused at MAIL FROM, before any data
        t2 = send_recorded(mta.smtp_port, raw, big["From"], [RCPT], size=True)
        assert [s.command for s in t2.steps][-2:] == ["MAIL", "QUIT"], t2.steps
        assert t2.final[0] == 452, t2.steps
        # 3. below the reserve even a small message waits for space
        fill.unlink()
        fill = _fill(spool, 512 * 1024)
        t3 = send_recorded(mta.smtp_port, to_bytes(small), small["From"], [RCPT])
        assert t3.final[0] == 452 and [s.command for s in t3.steps][-2] == "MAIL", t3.steps
        assert "out of spool space" in mta.gateway_log() or "needed: tempfail" in mta.gateway_log()
        # 4. space is back: the sending MTA's retry goes through, tagged
        fill.unlink()
        for m in (big, small):
            t4 = send_recorded(mta.smtp_port, to_bytes(m), m["From"], [RCPT], size=True)
            assert t4.accepted, t4.steps
            got = message_from_bytes(mta.wait_delivered(m["Message-ID"]), policy=policy.default)
            # the 4 MiB filler named .pdf is not a PDF: uninspected (tagged, delivered)
            assert got.get_all("X-Legal-Validity") in (["uninspected"], ["no-documents"])
        assert mta.gateway_running
        print(f"\n[spool full] body overflow answered in {waited:.2f} s "
              f"({t.final[0]} {t.final[1][:40]}), SIZE refused at MAIL, delivered after recovery")
    finally:
        _umount(spool)
