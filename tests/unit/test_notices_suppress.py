"""Who never gets a notice (RFC 3834): the null sender, mailing lists, automatic mail, daemon
and list addresses, gateway notices, the gateway itself, and senders outside the configured
domains."""

from __future__ import annotations

import pytest

from gateway.notices.suppress import in_domains, suppression_reason

AGENCY = "van-thu@stc.daknong.gov.vn"


def reason(sender: str | None = AGENCY, headers: list[tuple[str, bytes]] | None = None,
           **kw) -> str | None:
    return suppression_reason(sender, headers or [("Subject", b"x")], **kw)


def test_an_ordinary_sender_is_notified() -> None:
    assert reason() is None
    assert reason(headers=[("Auto-Submitted", b"no")]) is None
    assert reason(headers=[("Auto-Submitted", b" No (manual)")]) is None
    assert reason(headers=[("Precedence", b"first-class")]) is None
    assert reason(headers=[("X-Auto-Response-Suppress", b"DR, RN")]) is None


@pytest.mark.parametrize("sender", [None, "", "<>", "  "])
def test_null_sender(sender: str | None) -> None:
    assert reason(sender) == "null sender"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("List-Id", b"<cbcc.daknong.gov.vn>", "mailing list (List-Id)"),
        ("list-unsubscribe", b"<mailto:leave@x>", "mailing list (List-Unsubscribe)"),
        ("List-Post", b"<mailto:all@x>", "mailing list (List-Post)"),
        ("Precedence", b"bulk", "Precedence: bulk"),
        ("Precedence", b"List", "Precedence: list"),
        ("Precedence", b"junk", "Precedence: junk"),
        ("Auto-Submitted", b"auto-generated", "Auto-Submitted: auto-generated"),
        ("Auto-Submitted", b"auto-replied; owner-email=\"a@b\"", "Auto-Submitted: auto-replied"),
        ("AUTO-SUBMITTED", b"auto-notified", "Auto-Submitted: auto-notified"),
        ("Auto-Submitted", b"", "Auto-Submitted: (empty)"),
        ("X-Auto-Response-Suppress", b"OOF, AutoReply", "X-Auto-Response-Suppress: OOF, AutoReply"),
        ("X-Hople-Notice", b"v1; t=1; mac=" + b"0" * 64,
         "the message carries X-Hople-Notice (a gateway notice)"),
    ],
)
def test_lists_and_automatic_mail(name: str, value: bytes, expected: str) -> None:
    assert reason(headers=[("Subject", b"x"), (name, value)]) == expected


def test_folded_header_value_is_read_whole() -> None:
    assert reason(headers=[("Auto-Submitted", b"\r\n auto-generated")]) == \
        "Auto-Submitted: auto-generated"


@pytest.mark.parametrize(
    "sender",
    ["MAILER-DAEMON@daknong.gov.vn", "owner-cbcc@daknong.gov.vn", "cbcc-request@daknong.gov.vn",
     "noreply@dichvucong.gov.vn", "no-reply@x.vn", "list-bounces@x.vn"],
)
def test_daemon_and_list_addresses(sender: str) -> None:
    assert "list or daemon address" in (reason(sender) or "")


def test_not_an_address_and_the_gateway_itself() -> None:
    assert "not an address" in (reason("postmaster") or "")
    assert reason("KiemTra@daknong.gov.vn", own_addresses=["kiemtra@daknong.gov.vn"]) == \
        "the sender is the gateway itself"


def test_sender_domains() -> None:
    assert reason(sender_domains=["daknong.gov.vn"]) is None  # a subdomain counts
    assert reason("a@daknong.gov.vn", sender_domains=["@daknong.gov.vn."]) is None
    r = reason("someone@gmail.com", sender_domains=["daknong.gov.vn"])
    assert r == "sender domain gmail.com is not in notices.sender-domains"
    assert reason("a@notdaknong.gov.vn", sender_domains=["daknong.gov.vn"]) is not None
    assert reason("someone@gmail.com", sender_domains=[]) is None
    assert in_domains("x@A.DakNong.gov.vn", ["daknong.gov.vn"])
