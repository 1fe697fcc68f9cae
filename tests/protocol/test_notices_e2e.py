"""Notices end to end: a real Postfix with the gateway as its milter, notices submitted to
Postfix's listener without the milter, everything delivered to smtp-sink.

An invalid message (an unsigned DOCX from an agency address) is delivered tagged invalid and
its sender gets exactly one notice with the right findings; the null sender, automatic mail
and lists get none; a held message's sender is told it is held, and a held classified message
is also reported to the security contact; a notice survives a restart
of the gateway and is retried with backoff while Postfix cannot be reached, then delivered.

The module runs its own lab (a :class:`gateway.lab.Lab` whose settings make retries fast and
can point the notices at a closed port), so the shared ``mta`` lab keeps its settings.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from typing import Any

import pytest

from gateway.demo import DOCX, sample_docx
from gateway.lab import Lab, free_ports, unavailable_reason
from gateway.model.catalog import make_finding
from gateway.notices.marker import verify_marker
from gateway.notices.outbox import Outbox, OutboxEntry
from tests.protocol.delivery import notices_about

pytestmark = pytest.mark.postfix

AGENCY = "van-thu@stc.daknong.gov.vn"
RCPT = "ubnd@daknong.gov.vn"
DOC_NAME = "Kế hoạch hội nghị tháng 3.docx"
FAST = {
    "retry-first-seconds": "1.0",
    "retry-max-seconds": "2.0",
    "poll-seconds": "1.0",
    "smtp-timeout-seconds": "10.0",
    "max-attempts": "100",
    "from-address": '"kiemtra@daknong.gov.vn"',
}


class NoticeLab(Lab):
    """The lab with extra ``[notices]`` settings written into the gateway's settings file."""

    def __init__(self, overrides: dict[str, str], **kw: Any) -> None:
        super().__init__(**kw)
        self.overrides = dict(overrides)

    def _write_gateway_config(self) -> None:
        super()._write_gateway_config()
        text = self.gateway_config.read_text(encoding="utf-8")
        if "smtp-port" in self.overrides:
            text = re.sub(r"(?m)^smtp-port = \d+\n", "", text)
        extra = "".join(f"{k} = {v}\n" for k, v in self.overrides.items())
        self.gateway_config.write_text(text.replace("[notices]\n", "[notices]\n" + extra, 1),
                                       encoding="utf-8")

    def reconfigure(self, **changes: str) -> None:
        self.stop_gateway()
        self.overrides.update({k.replace("_", "-"): v for k, v in changes.items()})
        self._write_gateway_config()
        self.start_gateway()


class Forwarder:
    """A TCP relay from ``port`` to Postfix's notice listener: "Postfix is back"."""

    def __init__(self, port: int, target: int) -> None:
        self.target = target
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target), timeout=30)
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def close(self) -> None:
        try:  # wakes the thread blocked in accept(); close() alone keeps the port listening
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


@pytest.fixture(scope="module")
def lab() -> Iterator[NoticeLab]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    lab = NoticeLab(FAST, workers=1)
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def fresh(lab: NoticeLab) -> NoticeLab:
    """The module's lab with the shipped rules, notices to the real listener, gateway up."""
    if lab.rules_text is not None:
        lab.set_rules(None)
    if lab.overrides.get("smtp-port") not in (None, str(lab.notice_port)):
        lab.reconfigure(smtp_port=str(lab.notice_port))
    if not lab.gateway_running:
        lab.start_gateway()
    return lab


def _invalid(new_message: Callable[..., Any], **kw: Any) -> Any:
    return new_message(sender=AGENCY, to=RCPT, subject="Kế hoạch hội nghị tháng 3",
                       attachments=[(DOC_NAME, sample_docx(), DOCX)], **kw)


def _queued_as(text: str) -> str:
    m = re.search(r"queued as ([0-9A-Za-z]+)", text)
    assert m, text
    return m.group(1)


def _decision_id(lab: Lab, qid: str) -> int:
    (row,) = lab.store().query(queue_id=qid)
    return row.id


def _rows(lab: Lab, decision_id: int) -> list[OutboxEntry]:
    return Outbox(lab.store()).list(decision_id=decision_id)


def _wait_row(lab: Lab, decision_id: int, ok: Callable[[OutboxEntry], bool],
              timeout: float = 30) -> OutboxEntry:
    end = time.monotonic() + timeout
    rows: list[OutboxEntry] = []
    while time.monotonic() < end:
        rows = _rows(lab, decision_id)
        if rows and ok(rows[0]):
            return rows[0]
        time.sleep(0.1)
    raise AssertionError(f"outbox rows for decision {decision_id}: {rows}; "
                         f"gateway log: {lab.gateway_log()[-2000:]}")




def _send_invalid(lab: Lab, new_message: Callable[..., Any], sender: str = AGENCY,
                  **kw: Any) -> tuple[str, str, int]:
    m = _invalid(new_message, **kw)
    mid = m["Message-ID"]
    code, text = lab.send(m, sender, [RCPT])
    assert code == 250, text
    qid = _queued_as(text)
    delivered = message_from_bytes(lab.wait_delivered(mid), policy=policy.default)
    assert delivered["X-Legal-Validity"] == "invalid"
    return mid, qid, _decision_id(lab, qid)


def _barrier(lab: Lab, new_message: Callable[..., Any]) -> None:
    """Wait for an event instead of a fixed sleep: a later invalid message's notice has been
    sent and delivered, so the sender thread has been through the outbox past every earlier
    decision (anything it would wrongly send for them was sent before)."""
    _mid, _qid, did = _send_invalid(lab, new_message)
    row = _wait_row(lab, did, lambda r: r.state == "sent")
    lab.wait_delivered(row.message_id)


def test_invalid_message_gets_exactly_one_notice(fresh: NoticeLab, new_message) -> None:
    lab = fresh
    mid, qid, did = _send_invalid(lab, new_message)
    row = _wait_row(lab, did, lambda r: r.state == "sent")
    assert row.kind == "invalid" and row.recipient == AGENCY and row.attempts == 1
    assert row.queue_id == qid and row.in_reply_to == mid and row.body == ""
    raw = lab.wait_delivered(row.message_id)
    notice = message_from_bytes(raw, policy=policy.default)
    # headers: to the sender, threaded, RFC 3834, the marker, an RFC 2047 subject
    assert notice["To"] == AGENCY
    assert notice["From"].addresses[0].addr_spec == "kiemtra@daknong.gov.vn"
    assert notice["In-Reply-To"] == mid and mid in notice["References"]
    assert notice["Auto-Submitted"] == "auto-replied"
    assert verify_marker(lab.notice_secret, notice["X-Hople-Notice"], notice["Message-ID"])
    head = raw.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
    assert re.search(rb"^Subject: =\?utf-8\?", head, re.M | re.I)
    assert notice["Subject"] == ("Văn bản chưa có giá trị pháp lý / Documents not legally "
                                 "valid: Kế hoạch hội nghị tháng 3")
    # it went through the listener without the milter: not checked, not tagged
    assert notice["X-Legal-Validity"] is None
    # the null envelope sender (RFC 3834): a notice never bounces
    (nqid,) = lab.queue_ids_for(row.message_id)
    assert re.search(re.escape(nqid) + r": from=<>,", lab.maillog())
    # the body: the finding of the document, in Vietnamese then English, with the remedy
    body = notice.get_content()
    finding = make_finding("EDITABLE_NOT_SIGNED", name=DOC_NAME)
    vi, en = body.split("\nEnglish\n", 1)
    assert f"1. {DOC_NAME}: CHƯA CÓ GIÁ TRỊ PHÁP LÝ" in vi
    assert f"[lỗi] {finding.vi}" in vi and "Mã: EDITABLE_NOT_SIGNED." in vi
    assert "Căn cứ: điểm a khoản 2 Điều 9" in vi
    assert "Cách khắc phục (điểm a khoản 2 Điều 9): Ký số tệp bằng chứng thư số" in vi
    assert f"Mã hàng đợi:   {qid}" in vi and f"Message-ID:    {mid}" in vi
    assert f"[error] {finding.en}" in en and "Code: EDITABLE_NOT_SIGNED." in en
    # exactly one, also once the sender thread has sent a later notice
    _barrier(lab, new_message)
    assert len(notices_about(lab, mid)) == 1
    assert len(_rows(lab, did)) == 1


@pytest.mark.parametrize(
    ("sender", "headers", "reason"),
    [
        ("", None, "null sender"),
        (AGENCY, {"Auto-Submitted": "auto-generated"}, "Auto-Submitted: auto-generated"),
        (AGENCY, {"List-Id": "Can bo tinh <cbcc.daknong.gov.vn>"}, "mailing list (List-Id)"),
    ],
)
def test_no_notice_for_null_sender_automatic_mail_or_lists(
        fresh: NoticeLab, new_message, sender: str, headers: dict[str, str] | None,
        reason: str) -> None:
    lab = fresh
    mid, _qid, did = _send_invalid(lab, new_message, sender=sender, headers=headers)
    (row,) = _rows(lab, did)  # recorded at decision time, before delivery
    assert row.state == "suppressed" and row.reason == reason and row.attempts == 0
    _barrier(lab, new_message)  # the sender thread went past this decision
    assert notices_about(lab, mid) == []
    assert _rows(lab, did)[0].state == "suppressed"


def test_held_message_sender_is_told(fresh: NoticeLab, new_message) -> None:
    lab = fresh
    lab.set_rules('[findings.EDITABLE_NOT_SIGNED]\naction = "hold"\n')
    m = _invalid(new_message)
    mid = m["Message-ID"]
    code, text = lab.send(m, AGENCY, [RCPT])
    assert code == 250, text
    qid = _queued_as(text)
    end = time.monotonic() + 20
    while qid not in lab.held() and time.monotonic() < end:
        time.sleep(0.1)
    assert qid in lab.held()
    did = _decision_id(lab, qid)
    row = _wait_row(lab, did, lambda r: r.state == "sent")
    assert row.kind == "held"
    notice = message_from_bytes(lab.wait_delivered(row.message_id), policy=policy.default)
    assert notice["Subject"].startswith("Thư bị giữ lại, chưa chuyển đến người nhận")
    body = notice.get_content()
    assert "đã GIỮ LẠI thư dưới đây" in body and "Mã: EDITABLE_NOT_SIGNED." in body
    assert notice["In-Reply-To"] == mid


def test_held_classified_message_is_reported_to_the_security_contact(
        fresh: NoticeLab, new_message) -> None:
    from gateway.policy.load import load_policy

    contact = load_policy().rules.text.security_contact
    assert contact, "the shipped rules name a security contact"
    lab = fresh
    m = new_message(sender=AGENCY, to=RCPT, subject="MẬT: Phương án bảo vệ")
    mid = m["Message-ID"]
    code, text = lab.send(m, AGENCY, [RCPT])
    assert code == 250, text
    qid = _queued_as(text)
    did = _decision_id(lab, qid)
    end = time.monotonic() + 30
    rows: list[OutboxEntry] = []
    while time.monotonic() < end:
        rows = _rows(lab, did)
        if len(rows) == 2 and all(r.state == "sent" for r in rows):
            break
        time.sleep(0.1)
    by_kind = {r.kind: r for r in rows}
    assert set(by_kind) == {"held", "security"}, rows
    assert by_kind["held"].recipient == AGENCY and by_kind["security"].recipient == contact
    assert qid in lab.held()
    report = message_from_bytes(lab.wait_delivered(by_kind["security"].message_id),
                                policy=policy.default)
    assert report["To"] == contact and report["Auto-Submitted"] == "auto-generated"
    assert report["Subject"].startswith("Thư nghi có tài liệu mật đã bị giữ lại")
    body = report.get_content()
    assert f"Người gửi:     {AGENCY}" in body and f"Mã hàng đợi:   {qid}" in body
    assert "Mã: SECRET_SUBJECT." in body and "khoản 4 Điều 12" in body
    held = message_from_bytes(lab.wait_delivered(by_kind["held"].message_id),
                              policy=policy.default)
    assert held["To"] == AGENCY and held["In-Reply-To"] == mid
    assert "Cách khắc phục (khoản 2 Điều 8)" in held.get_content()


def test_outbox_retries_while_postfix_is_unreachable_and_survives_a_restart(
        fresh: NoticeLab, new_message) -> None:
    lab = fresh
    (closed,) = free_ports(1)
    lab.reconfigure(smtp_port=str(closed))
    forwarder: Forwarder | None = None
    try:
        # 1. Postfix unreachable: attempts recorded with backoff, nothing delivered
        mid1, _qid1, did1 = _send_invalid(lab, new_message)
        row = _wait_row(lab, did1, lambda r: r.attempts >= 3)
        assert row.state == "pending" and row.sent_at is None
        assert row.last_error and "ConnectionRefused" in row.last_error
        now = datetime.now(UTC)
        assert row.next_attempt_at is not None
        assert (row.next_attempt_at - now).total_seconds() <= 2.5  # capped backoff (2 s)
        assert notices_about(lab, mid1) == []
        # 2. Postfix reachable again: the next retry delivers it, once
        forwarder = Forwarder(closed, lab.notice_port)
        row = _wait_row(lab, did1, lambda r: r.state == "sent")
        assert row.attempts >= 4 and row.last_error is None
        lab.wait_delivered(row.message_id)
        assert len(notices_about(lab, mid1)) == 1

        # 3. A notice pending when the gateway stops is sent by the next gateway process
        forwarder.close()
        forwarder = None
        mid2, _qid2, did2 = _send_invalid(lab, new_message)
        first = _wait_row(lab, did2, lambda r: r.attempts >= 1)
        lab.stop_gateway()
        stopped = _rows(lab, did2)[0]
        assert stopped.state == "pending" and stopped.attempts >= first.attempts
        assert notices_about(lab, mid2) == []
        forwarder = Forwarder(closed, lab.notice_port)
        lab.start_gateway()
        row = _wait_row(lab, did2, lambda r: r.state == "sent")
        assert row.attempts == stopped.attempts + 1
        lab.wait_delivered(row.message_id)
        assert len(notices_about(lab, mid2)) == 1
        starts = [line for line in lab.gateway_log().splitlines() if "notices: submitting" in line]
        assert "outbox pending 1," in starts[-1]  # what the restarted gateway found
    finally:
        if forwarder is not None:
            forwarder.close()
        lab.reconfigure(smtp_port=str(lab.notice_port))
