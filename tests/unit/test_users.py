"""Auditor accounts: the Article 12.1 password rule, argon2id hashes, the account lifecycle,
lockout, sessions, the access log, the ``hople users`` commands and the web security
helpers (signed values, CSRF tokens, throttle, client address)."""

from __future__ import annotations

import io
import sqlite3
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.credentials import (
    AccountError,
    PasswordRuleError,
    check_password,
    hash_password,
    password_problems,
    verify_password,
)
from gateway.audit.store import DecisionStore, open_store
from gateway.audit.users import Accounts, LockoutPolicy, SessionPolicy, token_hash
from gateway.audit.web import security

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
GOOD = "Mật-khẩu#1"
OTHER = "Khác@Hẳn2"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'decisions.db'}"


@pytest.fixture
def store(db_url: str) -> Iterator[DecisionStore]:
    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def accounts(store: DecisionStore, clock: Clock) -> Accounts:
    return Accounts(store, clock=clock, lockout=LockoutPolicy(max_failures=3, lock_seconds=600),
                    sessions=SessionPolicy(idle_seconds=600, max_seconds=3600))


# -- the password rule ------------------------------------------------------------------------


@pytest.mark.parametrize("password", [
    "Abcdefg!", "Mật-khẩu#1", "ĐẶNGvăn#", "xY$%^&*(", "Pass word!", "A" * 100 + "b@",
])
def test_passwords_that_follow_article_12_1(password: str) -> None:
    assert password_problems(password) == []
    assert check_password(password) == unicodedata.normalize("NFC", password)


@pytest.mark.parametrize("password, missing", [
    ("Abc!def", ["8"]),
    ("abcdefg!", ["in hoa"]),
    ("ABCDEFG!", ["chữ thường"]),
    ("Abcdefgh", ["đặc biệt"]),
    ("Abcdefg ", ["đặc biệt"]),  # a space is not a special character
    ("Abcdefg1", ["đặc biệt"]),
    ("12345678", ["in hoa", "chữ thường", "đặc biệt"]),
    ("", ["8", "in hoa", "chữ thường", "đặc biệt"]),
    ("Abc\x00defg!", ["điều khiển"]),
    ("Ab!" + "c" * 300, ["256"]),
])
def test_passwords_refused_name_every_missing_rule(password: str, missing: list[str]) -> None:
    problems = password_problems(password)
    assert len(problems) == len(missing)
    for word, text in zip(missing, problems, strict=True):
        assert word in text and " / " in text  # Vietnamese / English
    with pytest.raises(PasswordRuleError) as err:
        check_password(password)
    assert err.value.problems == tuple(problems)


def test_hashes_are_salted_argon2id_and_verify_only_the_password() -> None:
    h1, h2 = hash_password(GOOD), hash_password(GOOD)
    assert h1.startswith("$argon2id$") and h1 != h2 and GOOD not in h1
    assert verify_password(h1, GOOD) and verify_password(h2, GOOD)
    assert not verify_password(h1, OTHER)
    assert not verify_password(h1, GOOD.lower())
    assert not verify_password("not-a-hash", GOOD)
    assert not verify_password(h1[:-5], GOOD)
    assert not verify_password(h1, "x" * 5000)


def test_composed_and_decomposed_vietnamese_are_the_same_password() -> None:
    composed = unicodedata.normalize("NFC", GOOD)
    decomposed = unicodedata.normalize("NFD", GOOD)
    assert composed != decomposed
    assert verify_password(hash_password(decomposed), composed)
    assert verify_password(hash_password(composed), decomposed)


# -- accounts -----------------------------------------------------------------------------------


def test_account_lifecycle(accounts: Accounts, clock: Clock) -> None:
    user = accounts.add("KiemTra.SoTTTT", GOOD, full_name="  Nguyễn Văn Kiểm  ")
    assert user.username == "kiemtra.sotttt" and user.full_name == "Nguyễn Văn Kiểm"
    assert user.must_change and not user.disabled and user.created_at == T0
    assert user.last_login_at is None and user.failed_logins == 0
    with pytest.raises(AccountError, match="already exists"):
        accounts.add("kiemtra.sotttt", OTHER)
    for bad in ("", "-x", "a b", "x" * 65, "tên"):
        with pytest.raises(AccountError, match="invalid user name"):
            accounts.add(bad, GOOD)
    with pytest.raises(PasswordRuleError):
        accounts.add("yeu", "weakpass")
    assert accounts.get("yeu") is None
    accounts.add("another", OTHER)
    assert [u.username for u in accounts.list()] == ["another", "kiemtra.sotttt"]

    login = accounts.authenticate("KIEMTRA.SOTTTT", GOOD)
    assert login.ok and login.user is not None and login.user.must_change
    clock.advance(60)
    accounts.change_password("kiemtra.sotttt", GOOD, OTHER)
    user2 = accounts.get("kiemtra.sotttt")
    assert user2 is not None and not user2.must_change
    assert user2.password_changed_at == T0 + timedelta(seconds=60)
    assert not accounts.authenticate("kiemtra.sotttt", GOOD).ok
    assert accounts.authenticate("kiemtra.sotttt", OTHER).ok
    with pytest.raises(AccountError, match="current password is wrong"):
        accounts.change_password("kiemtra.sotttt", GOOD, "Mới-Hơn#3")
    with pytest.raises(PasswordRuleError, match="differ"):
        accounts.change_password("kiemtra.sotttt", OTHER, OTHER)
    with pytest.raises(PasswordRuleError):
        accounts.change_password("kiemtra.sotttt", OTHER, "abc")

    # an administrator's reset: a temporary password, changed again at the next login
    accounts.set_password("kiemtra.sotttt", GOOD)
    user3 = accounts.get("kiemtra.sotttt")
    assert user3 is not None and user3.must_change
    accounts.set_disabled("kiemtra.sotttt", True)
    assert accounts.authenticate("kiemtra.sotttt", GOOD).reason == "disabled"
    accounts.set_disabled("kiemtra.sotttt", False)
    assert accounts.authenticate("kiemtra.sotttt", GOOD).ok
    with pytest.raises(AccountError, match="no account"):
        accounts.set_disabled("nobody", True)
    with pytest.raises(AccountError, match="no account"):
        accounts.set_password("nobody", GOOD)


def test_the_store_keeps_no_password(accounts: Accounts, db_url: str) -> None:
    accounts.add("kiemtra", GOOD)
    token, _ = accounts.create_session("kiemtra", "10.0.0.1")
    raw = sqlite3.connect(db_url[len("sqlite:///"):])
    dump = "\n".join(str(row) for table in ("web_users", "web_sessions", "access_log")
                     for row in raw.execute(f"SELECT * FROM {table}"))
    raw.close()
    assert GOOD not in dump and token not in dump and token_hash(token) in dump


def test_lockout_after_repeated_failures_and_its_expiry(accounts: Accounts, clock: Clock) -> None:
    accounts.add("kiemtra", GOOD)
    assert accounts.authenticate("kiemtra", "Sai#mat-khau1").reason == "bad"
    assert accounts.authenticate("kiemtra", GOOD).ok  # a success resets the count
    for _ in range(2):
        assert accounts.authenticate("kiemtra", "Sai#mat-khau1").reason == "bad"
    assert accounts.authenticate("kiemtra", "Sai#mat-khau1").reason == "locked"
    user = accounts.get("kiemtra")
    assert user is not None and user.failed_logins == 3 and user.locked(clock.now)
    assert accounts.authenticate("kiemtra", GOOD).reason == "locked"
    clock.advance(599)
    assert accounts.authenticate("kiemtra", GOOD).reason == "locked"
    clock.advance(2)
    result = accounts.authenticate("kiemtra", GOOD)
    assert result.ok and result.user is not None and result.user.failed_logins == 0
    assert result.user.last_login_at == clock.now
    assert accounts.authenticate("nobody", GOOD).reason == "bad"
    assert accounts.authenticate("bad name!", GOOD).reason == "bad"


# -- sessions -----------------------------------------------------------------------------------


def test_sessions_expire_when_idle_and_after_the_absolute_limit(accounts: Accounts,
                                                                clock: Clock) -> None:
    accounts.add("kiemtra", GOOD)
    token, session = accounts.create_session("kiemtra", "10.0.0.1")
    assert session.expires_at == T0 + timedelta(seconds=600) and len(session.csrf_token) >= 40
    found = accounts.session(token)
    assert found is not None and found[1].username == "kiemtra"
    assert found[0].csrf_token == session.csrf_token
    for _ in range(5):
        clock.advance(550)
        if clock.now - T0 < timedelta(seconds=3600):
            assert accounts.session(token) is not None
    assert clock.now - T0 > timedelta(seconds=2700)
    clock.advance(1000)  # past one hour from login
    assert accounts.session(token) is None
    assert accounts.session_count("kiemtra") == 0  # an expired session is removed

    token2, _ = accounts.create_session("kiemtra")
    clock.advance(601)
    assert accounts.session(token2) is None
    assert accounts.session("") is None and accounts.session("made-up") is None


def test_sessions_end_on_logout_disable_and_password_change(accounts: Accounts) -> None:
    accounts.add("kiemtra", GOOD)
    tokens = [accounts.create_session("kiemtra")[0] for _ in range(3)]
    accounts.end_session(tokens[0])
    assert accounts.session(tokens[0]) is None and accounts.session(tokens[1]) is not None
    accounts.set_disabled("kiemtra", True)
    assert accounts.session(tokens[1]) is None and accounts.session_count() == 0
    accounts.set_disabled("kiemtra", False)
    t = accounts.create_session("kiemtra")[0]
    accounts.change_password("kiemtra", GOOD, OTHER)
    assert accounts.session(t) is None


# -- access log ---------------------------------------------------------------------------------


def test_access_log_records_and_filters(accounts: Accounts, clock: Clock) -> None:
    accounts.log_access(username=None, client_addr="10.0.0.9", method="GET", path="/decisions",
                        status=303, event="denied")
    clock.advance(10)
    accounts.log_access(username="kiemtra", client_addr="10.0.0.1", method="GET",
                        path="/decisions", query="verdict=invalid&agency=snv", status=200,
                        event="search")
    clock.advance(10)
    accounts.log_access(username="khac", client_addr="::1", method="GET", path="/export.csv",
                        query="x" * 5000, status=200, event="export")
    log = accounts.access_log()
    assert [e.event for e in log] == ["export", "search", "denied"]
    assert log[1].username == "kiemtra" and log[1].query == "verdict=invalid&agency=snv"
    assert log[1].at == T0 + timedelta(seconds=10) and log[1].client_addr == "10.0.0.1"
    assert log[2].username is None and log[2].status == 303
    assert len(log[0].query) <= 1000  # bounded
    assert [e.event for e in accounts.access_log(username="KIEMTRA")] == ["search"]
    assert [e.event for e in accounts.access_log(since=T0 + timedelta(seconds=5))] == \
        ["export", "search"]
    assert len(accounts.access_log(limit=1)) == 1


# -- hople users ----------------------------------------------------------------------------------


def run(argv: list[str], capsys: Any, monkeypatch: Any, stdin: str = "") -> tuple[int, str, str]:
    from gateway.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_hople_users_commands(db_url: str, capsys: Any, monkeypatch: Any) -> None:
    db = ["--db", db_url]
    code, out, _ = run(["users", "add", "kiemtra", "--full-name", "Nguyễn Thị Kiểm",
                        "--password-stdin", *db], capsys, monkeypatch, GOOD + "\n")
    assert code == 0 and "must be changed at first login" in out
    code, _, err = run(["users", "add", "yeu", "--password-stdin", *db], capsys, monkeypatch,
                       "abc\n")
    assert code == 2 and "ít nhất 8 ký tự" in err and "Traceback" not in err
    code, _, err = run(["users", "add", "kiemtra", "--password-stdin", *db], capsys,
                       monkeypatch, OTHER + "\n")
    assert code == 2 and "already exists" in err
    code, _, err = run(["users", "add", "nhap", *db], capsys, monkeypatch, "")
    assert code == 2 and "--password-stdin" in err  # no terminal to ask on
    code, out, _ = run(["users", "add", "tam", "--generate", *db], capsys, monkeypatch)
    temp = out.split("temporary password: ")[1].strip()
    assert code == 0 and password_problems(temp) == []

    code, out, _ = run(["users", "list", *db], capsys, monkeypatch)
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:3] == ["USER", "NAME", "STATUS"]
    assert any(line.startswith("kiemtra") and "Nguyễn Thị Kiểm" in line
               and "must-change-password" in line for line in lines)

    store = open_store(db_url)
    try:
        acc = Accounts(store)
        assert acc.authenticate("kiemtra", GOOD).ok
        assert acc.authenticate("tam", temp).ok
        acc.change_password("kiemtra", GOOD, OTHER)
        acc.log_access(username="kiemtra", client_addr="10.0.0.1", method="GET",
                       path="/decisions", query="verdict=held", status=200, event="search")
    finally:
        store.close()

    code, out, _ = run(["users", "passwd", "kiemtra", "--password-stdin", *db], capsys,
                       monkeypatch, "Tạm#Thời99\n")
    assert code == 0 and "next login" in out
    code, out, _ = run(["users", "disable", "kiemtra", *db], capsys, monkeypatch)
    assert code == 0
    code, out, _ = run(["users", "list", *db], capsys, monkeypatch)
    assert "disabled,must-change-password" in out
    code, out, _ = run(["users", "enable", "kiemtra", *db], capsys, monkeypatch)
    code, out, _ = run(["users", "list", *db], capsys, monkeypatch)
    assert "disabled" not in out
    code, _, err = run(["users", "disable", "nobody", *db], capsys, monkeypatch)
    assert code == 2 and "no account" in err

    code, out, _ = run(["users", "log", "--user", "kiemtra", *db], capsys, monkeypatch)
    assert code == 0 and "/decisions?verdict=held" in out and "search" in out and "10.0.0.1" in out
    store = open_store(db_url)
    try:
        acc = Accounts(store)
        assert acc.authenticate("kiemtra", "Tạm#Thời99").ok
        user = acc.get("kiemtra")
        assert user is not None and user.must_change
    finally:
        store.close()


def test_hople_users_reports_a_bad_log_url_in_one_line(capsys: Any, monkeypatch: Any) -> None:
    code, _, err = run(["users", "list", "--db", "mysql://x"], capsys, monkeypatch)
    assert code == 2 and "unsupported" in err and "Traceback" not in err


# -- web security helpers -----------------------------------------------------------------------


def test_signed_values_and_login_tokens() -> None:
    key, other = b"k" * 32, b"o" * 32
    signed = security.sign(key, "abc")
    assert security.unsign(key, signed) == "abc"
    assert security.unsign(other, signed) is None
    assert security.unsign(key, signed, "pre") is None  # bound to its purpose
    assert security.unsign(key, "abc") is None and security.unsign(key, None) is None
    assert security.unsign(key, "abd" + signed[3:]) is None
    assert security.unsign(key, "x" * 600 + signed) is None
    a, b = security.login_csrf_token(key, "pre1"), security.login_csrf_token(key, "pre2")
    assert a != b and a == security.login_csrf_token(key, "pre1")
    assert security.same(a, a) and not security.same(a, b) and not security.same(a, None)
    assert not security.same("", "")


def test_throttle_counts_failures_in_a_sliding_window() -> None:
    t = security.Throttle(limit=3, window=100)
    for at in (0, 10, 20):
        assert not t.blocked("10.0.0.1", at)
        t.fail("10.0.0.1", at)
    assert t.blocked("10.0.0.1", 50) and not t.blocked("10.0.0.2", 50)
    assert t.blocked("10.0.0.1", 99) and not t.blocked("10.0.0.1", 101)
    small = security.Throttle(limit=1, window=100, max_keys=10)
    for i in range(50):
        small.fail(f"10.0.1.{i}", 0)
    assert len(small._fails) <= 10  # memory stays bounded


def test_client_address_trusts_forwarded_for_only_from_proxies() -> None:
    proxies = security.parse_networks(["127.0.0.1", "10.0.0.0/8"])
    assert security.client_address("192.0.2.7", "203.0.113.1", proxies) == "192.0.2.7"
    assert security.client_address("127.0.0.1", "203.0.113.1, 10.1.1.1", proxies) == \
        "203.0.113.1"
    assert security.client_address("127.0.0.1", "198.51.100.2, 203.0.113.1", proxies) == \
        "203.0.113.1"
    assert security.client_address("127.0.0.1", "garbage", proxies) == "127.0.0.1"
    assert security.client_address("127.0.0.1", None, proxies) == "127.0.0.1"
    assert security.client_address("127.0.0.1", "203.0.113.1", ()) == "127.0.0.1"
    assert security.address_allowed("::ffff:127.0.0.1", proxies)
    assert not security.address_allowed("::1", proxies)
    with pytest.raises(ValueError, match="not an IP"):
        security.parse_networks(["localhost"])
