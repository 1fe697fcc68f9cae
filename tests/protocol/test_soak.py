"""Soak: many messages through Postfix and the gateway at once. Every accepted message is
delivered with its verdict and logged exactly once, refused ones are refused, the decision log
verifies, and the milter's memory does not grow with the number of messages.

``make test`` sends a bounded batch (``HOPLE_SOAK_MESSAGES``, default 40); ``make test-slow``
runs the long version (marker ``slow``, 1,500 messages).
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from email import message_from_bytes, policy

import pytest

from gateway.demo import sample_docx, sample_pdf
from gateway.lab import Lab

pytestmark = pytest.mark.postfix

RCPT = "ubnd@daknong.gov.vn"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _soak(mta: Lab, new_message, n: int) -> None:
    pdf, docx = sample_pdf(), sample_docx("Kế hoạch")
    kinds = ["text", "pdf", "docx", "freemail"]
    msgs = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        sender = "dan@gmail.com" if kind == "freemail" else f"vanthu{i}.stc@daknong.gov.vn"
        att = {"pdf": [(f"Công văn {i}.pdf", pdf, "application/pdf")],
               "docx": [(f"Kế hoạch {i}.docx", docx, DOCX)],
               "freemail": [(f"Báo cáo {i}.docx", docx, DOCX)]}.get(kind, [])
        msgs.append((kind, new_message(sender=sender, to=RCPT, attachments=att)))

    # warm up, then measure the milter process's memory around the batch
    mta.send(new_message(to=RCPT), "vanthu.stc@daknong.gov.vn", [RCPT])
    pid = mta.gateway_pid
    assert pid is not None, "the gateway is running"
    before = _rss_kb(pid)
    with ThreadPoolExecutor(6) as ex:
        results = list(ex.map(lambda km: mta.send(km[1], km[1]["From"], [RCPT]), msgs))
    after = _rss_kb(pid)

    expected = {"text": "no-documents", "pdf": "valid", "docx": "invalid"}
    codes: Counter[int] = Counter()
    for (kind, m), (code, text) in zip(msgs, results, strict=True):
        codes[code] += 1
        if kind == "freemail":
            assert code == 550, text
            continue
        assert code == 250, text
        got = message_from_bytes(mta.wait_delivered(m["Message-ID"]), policy=policy.default)
        assert got.get_all("X-Legal-Validity") == [expected[kind]]

    store = mta.store()
    ids = {m["Message-ID"] for _, m in msgs}
    rows = [r for r in store.query() if r.message_id in ids]
    assert len(rows) == n and len({r.message_id for r in rows}) == n  # each logged once
    assert store.verify().ok
    # the milter spools and delegates: its memory must not scale with the batch
    assert after - before < 40_000, (before, after)


def test_soak_bounded(mta: Lab, new_message) -> None:
    _soak(mta, new_message, int(os.environ.get("HOPLE_SOAK_MESSAGES", "40")))


@pytest.mark.slow
def test_soak_long(mta: Lab, new_message) -> None:
    _soak(mta, new_message, 1500)
