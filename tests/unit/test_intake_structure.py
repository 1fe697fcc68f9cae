"""Hostile structure gets a definitive answer: nesting, part counts and header sizes beyond
the limits end in MIME_LIMIT with the rules' final action, never a RecursionError and never a
temporary failure."""

from __future__ import annotations

import io
import json
import zipfile
from email.message import EmailMessage
from typing import Any

import pytest

from gateway.cli import main
from gateway.intake.mime import Walker
from gateway.intake.structure import PARSE_MAX_DEPTH, parse, scan
from gateway.milter.engine import Engine, MessageData
from gateway.milter.worker import check_one
from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.model.report import Verdict
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from gateway.policy.schema import Documents, Limits
from tests.containers import HEAD, nested_messages, nested_multipart
from tests.unit.test_intake import docx_bytes

ENV = Envelope(sender="stttt@daknong.gov.vn", recipients=("vanthu@lamdong.gov.vn",))


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(load_policy())


def check(checker: Checker, raw: bytes):
    return checker.check_message(io.BytesIO(raw), ENV)


def test_scan_measures_depth_parts_and_headers() -> None:
    assert scan(nested_multipart(3)) == scan(nested_multipart(3))
    st = scan(nested_multipart(3))
    assert (st.depth, st.parts) == (3, 4)
    assert scan(nested_messages(5)).depth == 5
    flat = EmailMessage()
    flat["Subject"] = "x"
    flat.set_content("hi")
    for i in range(4):
        flat.add_attachment(b"%d" % i, maintype="application", subtype="pdf", filename=f"{i}.pdf")
    st = scan(flat.as_bytes())
    assert (st.depth, st.parts) == (1, 6)
    big = HEAD + b"X-Big: " + b"a" * 5000 + b"\r\n\r\nbody\r\n"
    assert scan(big).header_bytes > 5000


def test_a_delimiter_of_an_outer_multipart_ends_the_inner_parts() -> None:
    raw = (HEAD + b'Content-Type: multipart/mixed; boundary="out"\r\n\r\n--out\r\n'
           b'Content-Type: multipart/mixed; boundary="in"\r\n\r\n--in\r\n'
           b"Content-Type: text/plain\r\n\r\nx\r\n--out\r\nContent-Type: text/plain\r\n\r\ny\r\n"
           b"--out--\r\n")
    st = scan(raw)
    assert (st.depth, st.parts) == (2, 4)  # message, inner multipart, x, y


@pytest.mark.parametrize("build", [nested_multipart, nested_messages])
def test_a_thousand_levels_get_one_final_answer(build: Any, checker: Checker) -> None:
    raw = build(1000)
    with pytest.raises(RecursionError):  # what the standard library alone does
        import email
        import email.policy

        email.message_from_bytes(raw, policy=email.policy.default)
    assert parse(raw) == (None, "nesting 1000 levels deep")
    r = check(checker, raw)
    assert r.verdict is Verdict.REJECTED and r.action is Action.REJECT
    assert str(r.smtp_reply).startswith("554 5.6.0")
    assert "limit 10" in str(r.smtp_reply)
    assert {f.code for f in r.findings} >= {"MIME_LIMIT"}


def test_structure_action_accept_delivers_it_tagged_invalid(tmp_path: Any) -> None:
    rules = tmp_path / "local.toml"
    rules.write_text('[limits]\nstructure-action = "accept"\n')
    r = check(Checker(load_policy(rules)), nested_multipart(1000))
    assert r.verdict is Verdict.INVALID and r.action is Action.ACCEPT and r.smtp_reply is None
    rules.write_text('[limits]\nstructure-action = "tempfail"\n')
    from gateway.policy.strict import RulesError

    with pytest.raises(RulesError):
        load_policy(rules)


def test_moderately_deep_message_is_inspected_up_to_the_limit(checker: Checker) -> None:
    depth = 30
    assert depth < PARSE_MAX_DEPTH
    outer = EmailMessage()
    outer["From"] = "stttt@daknong.gov.vn"
    outer.set_content("x")
    outer.add_attachment(docx_bytes(), maintype="application", subtype="octet-stream",
                         filename="a.docx")
    inner = outer.as_bytes()
    raw = nested_multipart(depth).replace(b"Content-Type: text/plain\r\n\r\nhello\r\n",
                                          inner.split(b"\n\n", 1)[0].split(b"MIME-Version: 1.0\n")
                                          [-1] + b"\n\n" + inner.split(b"\n\n", 1)[1])
    r = check(checker, raw)
    assert "MIME_LIMIT" in {f.code for f in r.findings}
    assert r.verdict is Verdict.REJECTED


def test_too_many_parts_and_too_large_headers(checker: Checker) -> None:
    m = EmailMessage()
    m["From"] = "stttt@daknong.gov.vn"
    m.set_content("x")
    for i in range(12):
        m.add_attachment(b"x", maintype="text", subtype="plain", filename=f"{i}.txt")
    parsed = Walker(Limits(mime_max_parts=5), Documents()).walk_message(io.BytesIO(m.as_bytes()))
    (f,) = [f for f in parsed.findings if f.code == "MIME_LIMIT"]
    assert "14 parts, limit 5" in f.en and f.action is Action.REJECT
    parsed = Walker(Limits(mime_max_parts=1), Documents()).walk_message(io.BytesIO(m.as_bytes()))
    assert not parsed.items and parsed.header("From") == "stttt@daknong.gov.vn"  # not parsed
    big = HEAD + b"X-Big: " + b"a" * 5000 + b"\r\n\r\nbody\r\n"
    parsed = Walker(Limits(mime_max_header_bytes=4096), Documents()).walk_message(io.BytesIO(big))
    assert [f.code for f in parsed.findings] == ["MIME_LIMIT"]
    assert "limit 4096" in parsed.findings[0].en and not parsed.headers


def test_nested_comments_in_headers_do_not_crash(checker: Checker) -> None:
    deep = b"(" * 3000 + b")" * 3000
    raw = (b"From: " + deep + b" a@daknong.gov.vn\r\nTo: b@lamdong.gov.vn\r\nSubject: x\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; " + deep + b' boundary="b"\r\n\r\n'
           b"--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n")
    r = check(checker, raw)
    assert r.verdict in (Verdict.INVALID, Verdict.REJECTED, Verdict.NO_DOCUMENTS)
    assert r.to_json()["schema"] == "hople.report/1"


def test_deep_attached_message_inside_a_zip_is_a_limit_not_a_crash(checker: Checker) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("fwd.eml", nested_messages(1000))
    m = EmailMessage()
    m["From"] = "stttt@daknong.gov.vn"
    m.set_content("x")
    m.add_attachment(buf.getvalue(), maintype="application", subtype="zip", filename="a.zip")
    r = check(checker, m.as_bytes())
    assert r.verdict is Verdict.REJECTED and "MIME_LIMIT" in {f.code for f in r.all_findings}


def test_hople_check_never_ends_in_a_traceback(tmp_path: Any, capsys: Any) -> None:
    for i, raw in enumerate((nested_multipart(1000), nested_messages(5000))):
        path = tmp_path / f"deep{i}.eml"
        path.write_bytes(raw)
        assert main(["check", "--json", str(path)]) == 1
        out, err = capsys.readouterr()
        report = json.loads(out)
        assert report["verdict"] == "rejected" and report["smtp_reply"].startswith("554 5.6.0")
        assert "Traceback" not in err and "RecursionError" not in err


class InProcess:
    """The worker's own entry point, in this process."""

    def __init__(self, checker: Checker) -> None:
        self.checker = checker

    def run(self, kind, source, envelope, label, deadline, progress=None):
        return check_one(self.checker, kind, source, envelope, label)


def test_the_milter_engine_rejects_instead_of_tempfailing(checker: Checker) -> None:
    engine = Engine(InProcess(checker), None)
    raw = nested_multipart(1000)
    decision = engine.decide(MessageData(ENV, kind="bytes", source=raw, size=len(raw)))
    assert decision.action is Action.REJECT and decision.error is None
    assert decision.reply is not None and decision.reply.code == "554"


def test_a_charset_name_with_a_nul_is_not_an_inspection_failure(checker: Checker) -> None:
    # found by the fuzz suite on the new corpus seeds: str.decode raised ValueError
    raw = HEAD + b"Content-Type: text/plain\r\nX-Note: =?ut\x00f-8?q?x?=\r\n\r\nhi\r\n"
    raw = raw.replace(b"Subject: deep", b"Subject: =?ut\x00f-8?q?K=C3=ADnh?=")
    r = check(checker, raw)
    assert "INSPECTION_FAILED" not in {f.code for f in r.all_findings}


def test_hople_check_reports_its_own_failure_without_a_traceback(
        tmp_path: Any, capsys: Any, monkeypatch: Any) -> None:
    def boom(self, *a, **kw):
        raise MemoryError("simulated")

    monkeypatch.setattr(Checker, "check_message", boom)
    path = tmp_path / "m.eml"
    path.write_bytes(nested_multipart(2))
    assert main(["check", "--json", str(path)]) == 1
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["verdict"] == "unchecked" and report["findings"][0]["code"] == "INSPECTION_FAILED"
    assert "Traceback" not in err and "MemoryError: simulated" in err
