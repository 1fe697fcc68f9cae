"""The durable outbox (table notice_outbox, migration 3) on SQLite and PostgreSQL: the
per-sender rate limit, the exponential backoff schedule, retries until sent, permanent
refusals, leases (two senders never take one notice), survival across a reopen, and the
SMTP submission's classification of failures against a scripted SMTP server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gateway.audit.store import DecisionStore, open_store
from gateway.notices.outbox import Outbox, backoff_delay, backoff_schedule, depth
from gateway.notices.sender import OutboxSender, SenderConfig, SubmitError, submit

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def url(backend_url: str) -> str:
    return backend_url


@pytest.fixture
def store(url: str) -> Iterator[DecisionStore]:
    s = open_store(url)
    try:
        yield s
    finally:
        s.close()


def state(box: Outbox, entry_id: int) -> str:
    """The state of an entry the test has queued."""
    entry = box.get(entry_id)
    assert entry is not None, entry_id
    return entry.state


def _add(box: Outbox, rcpt: str = "van-thu@stc.daknong.gov.vn", now: datetime = T0,
         limit: int | None = 10, n: int = 0):
    return box.enqueue(kind="invalid", recipient=rcpt, subject="Văn bản chưa hợp lệ",
                       body="Kính gửi…\n", message_id=f"<n{n}.{time.monotonic_ns()}@gw>",
                       now=now, in_reply_to="<orig@x>", decision_id=7, queue_id="4ABC",
                       rate_limit=limit)


class Clock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class FakeSubmit:
    """Fails with the queued errors, then accepts; records every call."""

    def __init__(self, *errors: SubmitError) -> None:
        self.errors = list(errors)
        self.calls: list[tuple[str, bytes]] = []

    def __call__(self, host: str, port: int, timeout: float, mail_from: str, rcpt: str,
                 data: bytes) -> str:
        self.calls.append((rcpt, data))
        if self.errors:
            raise self.errors.pop(0)
        return "2.0.0 Ok: queued as ABC"


def _config(**kw: Any) -> SenderConfig:
    base: dict[str, Any] = dict(host="127.0.0.1", port=1, timeout=5.0, envelope_sender="",
                from_address="kiemtra@daknong.gov.vn", from_name="Cổng kiểm tra",
                secret=b"s" * 32, max_attempts=5, retry_first=60.0, retry_max=600.0, poll=1.0)
    base.update(kw)
    return SenderConfig(**base)


def test_schema_has_the_outbox(store: DecisionStore) -> None:
    assert store.schema_version() >= 3
    assert Outbox(store).counts() == {"pending": 0, "sent": 0, "failed": 0, "suppressed": 0}


def test_enqueue_claim_lease_and_sent(store: DecisionStore) -> None:
    box = Outbox(store)
    e = _add(box)
    assert e.state == "pending" and e.attempts == 0 and e.next_attempt_at == T0
    assert e.decision_id == 7 and e.queue_id == "4ABC" and e.body == "Kính gửi…\n"
    assert depth(store) == 1
    (claimed,) = box.claim_due(T0, lease_seconds=600)
    assert claimed.id == e.id and claimed.next_attempt_at == T0 + timedelta(seconds=600)
    assert box.claim_due(T0 + timedelta(seconds=599)) == []  # leased to the first sender
    box.mark_sent(e.id, T0 + timedelta(seconds=1))
    got = box.get(e.id)
    assert got is not None and got.state == "sent" and got.attempts == 1
    assert got.sent_at == T0 + timedelta(seconds=1) and got.next_attempt_at is None
    assert got.body == ""  # the text of a sent notice is not kept
    assert box.counts()["sent"] == 1 and depth(store) == 0
    assert box.claim_due(T0 + timedelta(hours=2)) == []


def test_rate_limit_per_sender(store: DecisionStore) -> None:
    box = Outbox(store)
    first = [_add(box, "Van-Thu@stc.daknong.gov.vn", T0 + timedelta(minutes=i), limit=3, n=i)
             for i in range(3)]
    assert [e.state for e in first] == ["pending"] * 3
    box.mark_sent(first[0].id, T0)  # a sent notice still counts
    over = _add(box, "van-thu@STC.daknong.gov.vn", T0 + timedelta(minutes=10), limit=3)
    assert over.state == "suppressed" and over.body == "" and over.next_attempt_at is None
    assert over.reason is not None and "rate limit: 3 notices" in over.reason
    assert "rate-limit-per-hour = 3" in over.reason
    # suppressed rows are not counted, other senders are not affected
    assert _add(box, "van-thu@stc.daknong.gov.vn", T0 + timedelta(minutes=11), limit=3).state \
        == "suppressed"
    assert _add(box, "other@daknong.gov.vn", T0 + timedelta(minutes=11), limit=3).state \
        == "pending"
    # an hour after the first notice, one more is allowed
    later = _add(box, "van-thu@stc.daknong.gov.vn", T0 + timedelta(minutes=60, seconds=1),
                 limit=3)
    assert later.state == "pending"
    assert box.counts() == {"pending": 4, "sent": 1, "failed": 0, "suppressed": 2}


def test_backoff_schedule() -> None:
    assert backoff_delay(0, 60, 3600) == 0
    assert [backoff_delay(n, 60, 3600) for n in range(1, 9)] == \
        [60, 120, 240, 480, 960, 1920, 3600, 3600]
    sched = backoff_schedule(12, 60, 3600)
    assert len(sched) == 11 and sum(sched) == 60 + 120 + 240 + 480 + 960 + 1920 + 5 * 3600
    assert backoff_delay(10_000, 1, 2) == 2  # no overflow


def test_retries_with_backoff_until_sent(store: DecisionStore) -> None:
    box = Outbox(store)
    e = _add(box)
    clock = Clock()
    fake = FakeSubmit(SubmitError("127.0.0.1:1: ConnectionRefusedError", permanent=False),
                      SubmitError("451 4.3.0 try later", permanent=False))
    sender = OutboxSender(box, _config(), clock=clock, submit_fn=fake)
    assert sender.run_once() == 1
    row = box.get(e.id)
    assert row is not None and row.state == "pending" and row.attempts == 1
    assert row.last_error is not None and "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at == T0 + timedelta(seconds=60)
    clock.advance(59)
    assert sender.run_once() == 0  # not due yet
    clock.advance(1)
    assert sender.run_once() == 1
    row = box.get(e.id)
    assert row is not None and row.attempts == 2 and "451" in (row.last_error or "")
    assert row.next_attempt_at == clock.at + timedelta(seconds=120)  # doubled
    clock.advance(120)
    assert sender.run_once() == 1
    row = box.get(e.id)
    assert row is not None and row.state == "sent" and row.attempts == 3
    assert row.last_error is None and row.sent_at == clock.at
    assert len(fake.calls) == 3 and fake.calls[-1][0] == "van-thu@stc.daknong.gov.vn"
    assert b"Auto-Submitted: auto-replied" in fake.calls[-1][1]


def test_permanent_refusal_fails_at_once_and_retry_requeues(store: DecisionStore) -> None:
    box = Outbox(store)
    e = _add(box)
    clock = Clock()
    fake = FakeSubmit(SubmitError("recipient refused: 550 5.1.1 unknown", permanent=True))
    sender = OutboxSender(box, _config(), clock=clock, submit_fn=fake)
    sender.run_once()
    row = box.get(e.id)
    assert row is not None and row.state == "failed" and row.attempts == 1
    assert row.next_attempt_at is None and "550 5.1.1" in (row.last_error or "")
    assert box.retry([e.id], clock.at) == 1
    row = box.get(e.id)
    assert row is not None and row.state == "pending" and row.attempts == 0
    sender.run_once()
    assert state(box, e.id) == "sent"
    assert box.retry([e.id], clock.at) == 0  # a sent notice is not re-sent


def test_out_of_attempts_fails(store: DecisionStore) -> None:
    box = Outbox(store)
    e = _add(box)
    clock = Clock()
    fake = FakeSubmit(*[SubmitError("refused", permanent=False)] * 3)
    sender = OutboxSender(box, _config(max_attempts=3, retry_first=1, retry_max=1),
                          clock=clock, submit_fn=fake)
    for _ in range(3):
        sender.run_once()
        clock.advance(1)
    row = box.get(e.id)
    assert row is not None and row.state == "failed" and row.attempts == 3
    assert box.retry(None, clock.at) == 1  # --failed


def test_pending_notice_survives_a_reopen(url: str) -> None:
    first = open_store(url)
    e = _add(Outbox(first))
    first.close()
    second = open_store(url)
    try:
        box = Outbox(second)
        fake = FakeSubmit()
        OutboxSender(box, _config(), clock=Clock(), submit_fn=fake).run_once()
        assert state(box, e.id) == "sent"
        assert len(fake.calls) == 1
    finally:
        second.close()


def test_two_senders_never_take_the_same_notice(url: str) -> None:
    setup = open_store(url)
    try:
        ids = {_add(Outbox(setup), f"r{i}@x.gov.vn", n=i).id for i in range(30)}
    finally:
        setup.close()
    stores = [open_store(url) for _ in range(2)]
    taken: list[list[int]] = [[], []]

    def worker(k: int) -> None:
        box = Outbox(stores[k])
        while True:
            got = box.claim_due(T0, limit=3)
            if not got:
                return
            taken[k].extend(e.id for e in got)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in stores:
        s.close()
    assert sorted(taken[0] + taken[1]) == sorted(ids)  # every notice exactly once


def test_sender_thread_wakes_on_enqueue(store: DecisionStore) -> None:
    box = Outbox(store)
    fake = FakeSubmit()
    sender = OutboxSender(box, _config(poll=30.0), submit_fn=fake)
    sender.start()
    try:
        time.sleep(0.2)
        e = _add(box, now=datetime.now(UTC))
        sender.wake()
        end = time.monotonic() + 5
        while time.monotonic() < end and state(box, e.id) != "sent":
            time.sleep(0.02)
        assert state(box, e.id) == "sent"
    finally:
        sender.stop()
    assert not sender.running


# -- SMTP submission against a scripted server -------------------------------------------------


class ScriptedSmtp:
    """A one-connection-at-a-time SMTP server answering RCPT with ``rcpt_reply``."""

    def __init__(self, rcpt_reply: bytes = b"250 2.1.5 Ok") -> None:
        self.rcpt_reply = rcpt_reply
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        self.commands: list[bytes] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                f = conn.makefile("rb")
                conn.sendall(b"220 sink ESMTP\r\n")
                for line in f:
                    cmd = line.strip().upper()
                    self.commands.append(line.strip())
                    if cmd.startswith((b"EHLO", b"HELO")):
                        conn.sendall(b"250-sink\r\n250 8BITMIME\r\n")
                    elif cmd.startswith(b"MAIL"):
                        conn.sendall(b"250 2.1.0 Ok\r\n")
                    elif cmd.startswith(b"RCPT"):
                        conn.sendall(self.rcpt_reply + b"\r\n")
                    elif cmd == b"DATA":
                        conn.sendall(b"354 go\r\n")
                        data = b""
                        for dl in f:
                            if dl == b".\r\n":
                                break
                            data += dl
                        self.received.append(data)
                        conn.sendall(b"250 2.0.0 Ok: queued as 4XYZ\r\n")
                    elif cmd == b"RSET":
                        conn.sendall(b"250 Ok\r\n")
                    elif cmd == b"QUIT":
                        conn.sendall(b"221 Bye\r\n")
                        break
                    else:
                        conn.sendall(b"502 no\r\n")

    def close(self) -> None:
        self.sock.close()


def test_submit_sends_with_the_null_sender() -> None:
    srv = ScriptedSmtp()
    try:
        reply = submit("127.0.0.1", srv.port, 5, "", "a@b.gov.vn", b"Subject: x\r\n\r\nbody\r\n")
    finally:
        srv.close()
    assert "queued as 4XYZ" in reply
    commands = [c.upper() for c in srv.commands]
    assert b"MAIL FROM:<>" in commands and b"RCPT TO:<A@B.GOV.VN>" in commands
    assert srv.received == [b"Subject: x\r\n\r\nbody\r\n"]


@pytest.mark.parametrize(("reply", "permanent"), [(b"550 5.1.1 no such user", True),
                                                  (b"451 4.3.0 try later", False)])
def test_submit_classifies_refusals(reply: bytes, permanent: bool) -> None:
    srv = ScriptedSmtp(reply)
    try:
        with pytest.raises(SubmitError) as info:
            submit("127.0.0.1", srv.port, 5, "", "a@b.gov.vn", b"Subject: x\r\n\r\nx\r\n")
    finally:
        srv.close()
    assert info.value.permanent is permanent
    assert reply.decode()[:3] in str(info.value)


def test_submit_to_a_closed_port_is_temporary() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends
    with pytest.raises(SubmitError) as info:
        submit("127.0.0.1", port, 5, "", "a@b.gov.vn", b"x")
    assert not info.value.permanent and "Connection" in str(info.value)
