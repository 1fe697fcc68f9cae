"""The gateway core end to end: a real Postfix with the gateway as its milter and a sink.

What a sender sees (the SMTP reply), what a recipient gets (the delivered message and its
headers) and what the decision log holds, for each behaviour the core promises.
"""

from __future__ import annotations

import re
import subprocess
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from gateway.demo import DOCX, filler, sample_docx, sample_pdf
from gateway.lab import POSTQUEUE, Lab
from gateway.notices.marker import make_marker

pytestmark = pytest.mark.postfix

AGENCY = "van-thu@stc.daknong.gov.vn"
RCPT = "ubnd@daknong.gov.vn"
VI_PDF = "Công văn số 125 về việc triển khai kế hoạch năm 2025.pdf"


def _queued_as(text: str) -> str:
    m = re.search(r"queued as ([0-9A-Za-z]+)", text)
    assert m, text
    return m.group(1)


def _rows(mta: Lab, mid: str) -> list[Any]:
    return [d for d in mta.store().query(limit=200) if d.message_id == mid]


def _parse(raw: bytes) -> Any:
    return message_from_bytes(raw, policy=policy.default)


def _wait_log(mta: Lab, start: int, pattern: str, timeout: float = 30) -> None:
    """Wait for a mail log line matching ``pattern`` written after offset ``start``."""
    rx = re.compile(pattern)
    end = time.monotonic() + timeout
    while not rx.search(mta.maillog()[start:]):
        assert time.monotonic() < end, f"no log line /{pattern}/: {mta.maillog()[start:][-1500:]}"
        time.sleep(0.05)


def _vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def test_clean_message_is_delivered_with_both_headers_and_logged(mta: Lab, new_message) -> None:
    m = new_message(sender=AGENCY, to=RCPT)
    mid = m["Message-ID"]
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    qid = _queued_as(text)
    got = _parse(mta.wait_delivered(mid))
    assert got.get_all("X-Legal-Validity") == ["no-documents"]
    assert got.get_all("X-Legal-Validity-Report") == ["none"]
    assert mta.delivered_queue_id(mid) == qid
    (row,) = mta.store().query(queue_id=qid)
    assert row.message_id == mid
    assert row.sender == AGENCY and row.recipients == (RCPT,)
    assert row.verdict == "no-documents" and row.action == "accept"
    assert row.action_taken == "accept"
    assert row.rules_hash and row.duration_ms >= 0


def test_document_report_names_a_vietnamese_file(mta: Lab, new_message) -> None:
    m = new_message(sender=AGENCY, to=RCPT, attachments=[(VI_PDF, sample_pdf(), "application/pdf")])
    mid = m["Message-ID"]
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    raw = mta.wait_delivered(mid)
    head = raw.replace(b"\r\n", b"\n").split(b"\n\n", 1)[0]
    assert head.isascii(), "the report header is RFC 2047-encoded"
    report_lines = head.split(b"X-Legal-Validity-Report:", 1)[1].split(b"\n")
    folded = [report_lines[0]] + [ln for ln in report_lines[1:] if ln[:1] in (b" ", b"\t")]
    assert len(folded) > 1 and max(len(ln) for ln in folded) <= 78
    got = _parse(raw)
    (verdict,) = got.get_all("X-Legal-Validity")
    (report,) = got.get_all("X-Legal-Validity-Report")
    assert str(report).startswith(f"{VI_PDF} class=non-editable verdict=")
    (row,) = mta.store().query(queue_id=_queued_as(text))
    assert row.verdict == str(verdict)
    assert [d.path for d in row.documents] == [VI_PDF]


def test_free_mail_sender_with_docx_is_refused_550_at_smtp_time(mta: Lab, new_message) -> None:
    sender = "nguyen.van.a@gmail.com"
    m = new_message(sender=sender, to=RCPT,
                    attachments=[("Báo cáo tháng.docx", sample_docx(), DOCX)])
    mid = m["Message-ID"]
    code, text = mta.send(m, sender, [RCPT])
    assert code == 550, text
    assert text.startswith("5.7.1 ")
    assert "9.4" in text and "gmail.com" in text
    assert text.isascii()
    assert mta.delivered_queue_id(mid) is None
    (row,) = _rows(mta, mid)
    assert row.verdict == "rejected" and row.action_taken == "reject"
    assert "SENDER_FREEMAIL" in row.codes
    assert row.smtp_reply.startswith("550 5.7.1")


def test_oversized_attachment_is_refused_552_with_bounded_milter_memory(
        mta: Lab, new_message) -> None:
    """A 26 MiB attachment (about 35.6 MiB on the wire) passes Postfix's size limit, reaches
    the gateway, is spooled to disk (the milter process grows by far less than the message)
    and is refused with the Article 5.2 reply."""
    pid = mta.gateway_pid
    assert pid
    data = sample_pdf() + filler(26 * 1024 * 1024)
    m = new_message(sender=AGENCY, to=RCPT,
                    attachments=[("Hồ sơ quét.pdf", data, "application/pdf")])
    mid = m["Message-ID"]
    wire = len(m.as_bytes())
    assert wire > 35 * 1024 * 1024
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current RSS
    before = _vm_hwm_kib(pid)
    code, text = mta.send(m, AGENCY, [RCPT])
    after = _vm_hwm_kib(pid)
    assert code == 552, text
    assert text.startswith("5.3.4 ") and "5.2" in text, "the gateway's reply, not Postfix's limit"
    grown = (after - before) * 1024
    assert grown < 16 * 1024 * 1024, (
        f"milter peak memory grew {grown} bytes for a {wire}-byte message")
    (row,) = _rows(mta, mid)
    assert row.verdict == "rejected" and "ATTACHMENT_TOO_LARGE" in row.codes
    assert row.documents[0].size == len(data)
    assert list(mta.spool_dir.iterdir()) == [], "the spool file is removed"


def test_forged_verdict_headers_are_stripped(mta: Lab, new_message) -> None:
    m = new_message(sender=AGENCY, to=RCPT, headers=[
        ("X-Legal-Validity", "valid"),
        ("X-Legal-Validity", "valid"),
        ("X-Legal-Validity-Report", "forged.docx class=editable verdict=valid"),
        ("x-legal-validity-extra", "forged too"),
    ])
    mid = m["Message-ID"]
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    raw = mta.wait_delivered(mid)
    got = _parse(raw)
    assert got.get_all("X-Legal-Validity") == ["no-documents"]
    (report,) = got.get_all("X-Legal-Validity-Report")
    assert "forged" not in raw.decode("utf-8", "replace")
    assert got.get_all("X-Legal-Validity-Extra") is None
    assert "VERDICT_HEADER_REMOVED" in str(report)
    (row,) = mta.store().query(queue_id=_queued_as(text))
    assert row.codes.count("VERDICT_HEADER_REMOVED") == 4


def test_own_notice_is_skipped_and_a_forged_marker_is_not(mta: Lab, new_message) -> None:
    m = new_message(sender="hople@daknong.gov.vn", to=AGENCY,
                    attachments=[("Kế hoạch.docx", sample_docx(), DOCX)])
    mid = m["Message-ID"]
    m["X-Hople-Notice"] = make_marker(mta.notice_secret, mid)
    code, text = mta.send(m, "hople@daknong.gov.vn", [AGENCY])
    assert code == 250, text
    got = _parse(mta.wait_delivered(mid))
    assert got.get_all("X-Legal-Validity") is None, "a notice is delivered untouched"
    assert _rows(mta, mid) == []
    assert f"{_queued_as(text)}: gateway notice" in mta.gateway_log()

    forged = new_message(sender="hople@daknong.gov.vn", to=AGENCY,
                         attachments=[("Kế hoạch.docx", sample_docx(), DOCX)])
    fmid = forged["Message-ID"]
    forged["X-Hople-Notice"] = make_marker(b"not-the-gateway-secret-0123456789", fmid)
    code, text = mta.send(forged, "hople@daknong.gov.vn", [AGENCY])
    assert code == 250, text
    got = _parse(mta.wait_delivered(fmid))
    assert got.get_all("X-Legal-Validity") == ["invalid"]
    (row,) = _rows(mta, fmid)
    assert "EDITABLE_NOT_SIGNED" in row.codes


def test_notice_listener_bypasses_the_milter(mta: Lab, new_message) -> None:
    """Notices are submitted to the listener without the milter (docs/postfix.md)."""
    m = new_message(sender="hople@daknong.gov.vn", to=AGENCY)
    code, text = mta.send(m, "hople@daknong.gov.vn", [AGENCY], port=mta.notice_port)
    assert code == 250, text
    got = _parse(mta.wait_delivered(m["Message-ID"]))
    assert got.get_all("X-Legal-Validity") is None
    assert _rows(mta, m["Message-ID"]) == []


def test_gateway_down_tempfails_then_delivers_after_restart(mta: Lab, new_message) -> None:
    m = new_message(sender=AGENCY, to=RCPT)
    mid = m["Message-ID"]
    mta.stop_gateway()
    assert not mta.gateway_running
    assert mta.gateway_exit_code == 0, "SIGTERM is a clean shutdown"
    assert mta.gateway_log().rstrip().endswith("INFO hople.milter: stopped")
    log_from = len(mta.maillog())
    code, text = mta.send(m, AGENCY, [RCPT])
    assert 400 <= code < 500, (code, text)
    # the event: Postfix refused the transaction before any queue file existed
    _wait_log(mta, log_from, r"NOQUEUE: milter-reject: MAIL from .*from=<" + re.escape(AGENCY))
    assert mta.delivered_queue_id(mid) is None
    assert not [e for e in mta.queue() if e.get("queue_name") != "hold"], "nothing queued"
    mta.start_gateway()
    code, text = mta.send(m, AGENCY, [RCPT])  # the sending MTA retries
    assert code == 250, text
    got = _parse(mta.wait_delivered(mid))
    assert got.get_all("X-Legal-Validity") == ["no-documents"]
    assert len(_rows(mta, mid)) == 1


def test_local_submission_waits_in_the_queue_while_the_gateway_is_down(
        mta: Lab, new_message) -> None:
    """sendmail(1) mail (non_smtpd_milters) cannot be refused to a client: while the gateway
    is down Postfix keeps it, and it is checked and delivered once the gateway is back."""
    m = new_message(sender=AGENCY, to=RCPT)
    mid = m["Message-ID"]
    mta.stop_gateway()
    log_from = len(mta.maillog())
    cp = subprocess.run(["/usr/sbin/sendmail", "-C", str(mta.config_dir), "-f", AGENCY, RCPT],
                        input=m.as_bytes(), capture_output=True, timeout=60)
    assert cp.returncode == 0, cp.stderr
    # the event: cleanup met the absent milter and kept the message (4.7.1, retried later)
    _wait_log(mta, log_from, r"milter-reject: CONNECT from localhost.*4\.7\.1 .*from=<"
              + re.escape(AGENCY))
    assert mta.delivered_queue_id(mid) is None
    mta.start_gateway()
    subprocess.run([POSTQUEUE, "-c", str(mta.config_dir), "-f"], capture_output=True, timeout=60)
    got = _parse(mta.wait_delivered(mid, timeout=90))
    assert got.get_all("X-Legal-Validity") == ["no-documents"]
    assert len(_rows(mta, mid)) == 1


def test_hold_rule_puts_the_message_in_the_hold_queue(mta: Lab, new_message) -> None:
    mta.set_rules('[findings.SENDER_FREEMAIL]\naction = "hold"\n')
    sender = "tran.thi.b@yahoo.com"
    m = new_message(sender=sender, to=RCPT, attachments=[("Tờ trình.docx", sample_docx(), DOCX)])
    mid = m["Message-ID"]
    code, text = mta.send(m, sender, [RCPT])
    assert code == 250, text
    qid = _queued_as(text)
    end = time.monotonic() + 10
    while qid not in mta.held() and time.monotonic() < end:
        time.sleep(0.1)
    assert qid in mta.held()
    assert mta.delivered_queue_id(mid) is None
    (row,) = mta.store().query(queue_id=qid)
    assert row.verdict == "held" and row.action_taken == "hold"
    subprocess.run(["/usr/sbin/postsuper", "-c", str(mta.config_dir), "-d", qid, "hold"],
                   capture_output=True, timeout=60)


BIG = 4 * 1024 * 1024


def test_deadline_overrun_tempfails_and_the_gateway_recovers(mta: Lab, new_message) -> None:
    mta.set_rules("[failure]\ndeadline-seconds = 0.02\n")
    m = new_message(sender=AGENCY, to=RCPT,
                    attachments=[("Hồ sơ.pdf", sample_pdf() + filler(BIG), "application/pdf")])
    mid = m["Message-ID"]
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 451, text
    assert text.startswith("4.3.0 ")
    assert mta.delivered_queue_id(mid) is None
    (row,) = _rows(mta, mid)
    assert row.verdict == "unchecked" and row.action_taken == "tempfail"
    assert "INSPECTION_FAILED" in row.codes
    assert "killing worker" in mta.gateway_log()
    assert mta.gateway_running


def test_deadline_overrun_with_accept_unchecked_delivers_tagged(mta: Lab, new_message) -> None:
    mta.set_rules('[failure]\ndeadline-seconds = 0.02\non-error = "accept-unchecked"\n')
    m = new_message(sender=AGENCY, to=RCPT,
                    attachments=[("Hồ sơ.pdf", sample_pdf() + filler(BIG), "application/pdf")])
    mid = m["Message-ID"]
    code, text = mta.send(m, AGENCY, [RCPT])
    assert code == 250, text
    got = _parse(mta.wait_delivered(mid))
    assert got.get_all("X-Legal-Validity") == ["unchecked"]
    assert "GATEWAY_UNCHECKED" in str(got["X-Legal-Validity-Report"])
    (row,) = mta.store().query(queue_id=_queued_as(text))
    assert row.verdict == "unchecked" and row.action_taken == "accept-unchecked"


def test_broken_rules_do_not_start_the_gateway(mta: Lab) -> None:
    from gateway.lab import LabError

    with pytest.raises(LabError, match="attachment-max-bytes"):
        mta.set_rules("[limits]\nattachment-max-bytes = 0\n")
    assert not mta.gateway_running


def test_concurrent_sessions_are_each_decided_and_logged(mta: Lab, new_message) -> None:
    """Eight SMTP sessions at once through two workers: every message gets its own decision,
    headers and log row (no state shared between connections)."""
    from concurrent.futures import ThreadPoolExecutor

    msgs = []
    for i in range(8):
        att = [(f"Tờ trình {i}.docx", sample_docx(f"Tờ trình số {i}"), DOCX)] if i % 2 else []
        msgs.append(new_message(sender=f"clerk{i}@stc.daknong.gov.vn", to=RCPT, attachments=att))
    with ThreadPoolExecutor(8) as ex:
        results = list(ex.map(lambda m: mta.send(m, m["From"], [RCPT]), msgs))
    assert [c for c, _ in results] == [250] * 8, results
    for i, (m, (_, text)) in enumerate(zip(msgs, results, strict=True)):
        got = _parse(mta.wait_delivered(m["Message-ID"]))
        expected = "invalid" if i % 2 else "no-documents"
        assert got.get_all("X-Legal-Validity") == [expected]
        (row,) = mta.store().query(queue_id=_queued_as(text))
        assert row.message_id == m["Message-ID"] and row.sender == f"clerk{i}@stc.daknong.gov.vn"
        assert row.verdict == expected
        if i % 2:
            assert [d.path for d in row.documents] == [f"Tờ trình {i}.docx"]
