"""Containers and hostile structure through a real Postfix: an unsigned DOCX inside
winmail.dat arrives tagged invalid and its sender gets a notice; a message nested 1,000
levels deep gets one final answer (a 5xx naming the limit), never a 4xx to retry for days."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from typing import Any

import pytest

from gateway.demo import sample_docx
from gateway.lab import Lab
from gateway.notices.outbox import Outbox
from tests.containers import HEAD, nested_messages, nested_multipart, tnef

pytestmark = pytest.mark.postfix

AGENCY = "van-thu@stc.daknong.gov.vn"
RCPT = "ubnd@daknong.gov.vn"


def _queue_id(reply: str) -> str:
    """Postfix's queue id from its 250 reply to DATA."""
    m = re.search(r"queued as ([0-9A-Za-z]+)", reply)
    assert m is not None, reply
    return m.group(1)


def _decision(lab: Lab, qid: str) -> Any:
    end = time.monotonic() + 30
    while time.monotonic() < end:
        rows = lab.store().query(queue_id=qid)
        if rows:
            return rows[0]
        time.sleep(0.1)
    raise AssertionError(f"no decision for {qid}: {lab.gateway_log()[-2000:]}")


def test_unsigned_docx_in_winmail_dat_arrives_invalid_with_a_notice(mta: Lab, new_message) -> None:
    m = new_message(sender=AGENCY, to=RCPT, subject="Kế hoạch (Outlook RTF)",
                    attachments=[("winmail.dat", tnef([("Kế hoạch.docx", sample_docx())]),
                                  "application/ms-tnef")])
    mid = m["Message-ID"]
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    got = message_from_bytes(mta.wait_delivered(mid), policy=policy.default)
    assert got.get_all("X-Legal-Validity") == ["invalid"]
    report = re.sub(r"\s+", " ", str(got["X-Legal-Validity-Report"]))
    assert "class=editable verdict=invalid findings=EDITABLE_NOT_SIGNED" in report
    row = _decision(mta, _queue_id(text))
    assert row.verdict == "invalid"
    end = time.monotonic() + 30
    notices: list[Any] = []
    while time.monotonic() < end and not notices:
        notices = [n for n in Outbox(mta.store()).list(decision_id=row.id) if n.kind == "invalid"]
        time.sleep(0.1)
    assert notices and notices[0].recipient == AGENCY


@pytest.mark.parametrize("build", [nested_multipart, nested_messages])
def test_a_thousand_levels_get_one_final_answer(mta: Lab, build: Any) -> None:
    mid = f"<deep-{build.__name__}-{time.time_ns()}@lab.test>"
    raw = build(1000, HEAD.replace(b"<deep@hople.test>", mid.encode()))
    answers = [mta.send(raw, AGENCY, [RCPT]) for _ in range(2)]  # a retry gets the same
    for code, text in answers:
        assert 500 <= code < 600, (code, text)
        assert "5.6.0" in text and "limit 10" in text, text
    assert answers[0] == answers[1]


def test_a_part_nobody_can_identify_arrives_tagged_uninspected(mta: Lab, new_message) -> None:
    import random

    m = new_message(sender=AGENCY, to=RCPT, subject="Dữ liệu",
                    attachments=[("du-lieu.dat", random.Random(7).randbytes(3000),
                                  "application/octet-stream")])
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    got = message_from_bytes(mta.wait_delivered(m["Message-ID"]), policy=policy.default)
    assert got.get_all("X-Legal-Validity") == ["uninspected"]
    row = _decision(mta, _queue_id(text))
    assert row.verdict == "uninspected"
    assert [d.verdict for d in row.documents] == ["uninspected"]
    end = time.monotonic() + 30
    notices: list[Any] = []
    while time.monotonic() < end and not notices:
        notices = Outbox(mta.store()).list(decision_id=row.id)
        time.sleep(0.1)
    assert [n.kind for n in notices] == ["uninspected"]  # its own notice, not "invalid"
    assert "Files that could not be inspected" in notices[0].subject
