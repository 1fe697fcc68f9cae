"""The pipeline on literal messages: Article 9.4 free mail, 5.2 size, 9.2a editable files,
worst-wins verdicts, failure containment and the JSON contract."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from gateway import pipeline as pipeline_mod
from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.model.report import Verdict
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from tests.unit.test_intake import docx_bytes, png_bytes

AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def checker(tmp_path: Path | None = None, override: str | None = None) -> Checker:
    path = None
    if override is not None and tmp_path is not None:
        path = tmp_path / "local.toml"
        path.write_text(override, encoding="utf-8")
    return Checker(load_policy(path), clock=lambda: AT)


def message(sender: str = "stttt@daknong.gov.vn", attachments=(), subject="Công văn") -> bytes:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = "ubnd@lamdong.gov.vn"
    m["Subject"] = subject
    m["Message-ID"] = "<t1@daknong.gov.vn>"
    m.set_content("Kính gửi các đơn vị.\n")
    for name, data, mt in attachments:
        main, sub = mt.split("/")
        m.add_attachment(data, maintype=main, subtype=sub, filename=name)
    return m.as_bytes()


DOCX = ("Kế hoạch.docx", None,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def docx_att():
    return (DOCX[0], docx_bytes(), DOCX[2])


def png_att():
    return ("scan.png", png_bytes(), "image/png")


def run(c: Checker, raw: bytes, sender: str | None = "stttt@daknong.gov.vn"):
    return c.check_message(io.BytesIO(raw), Envelope(sender=sender), label="m.eml")


def codes(report) -> list[str]:
    return [f.code for f in report.all_findings]


def test_free_mail_with_documents_is_rejected_citing_94() -> None:
    r = run(checker(), message("Ai đó <someone@gmail.com>", [docx_att()]),
            sender="someone@gmail.com")
    assert r.verdict is Verdict.REJECTED and r.action is Action.REJECT
    assert r.smtp_reply is not None
    assert (r.smtp_reply.code, r.smtp_reply.status) == ("550", "5.7.1")
    text = str(r.smtp_reply)
    assert "Dieu 9.4" in text and "Article 9.4" in text
    assert text.isascii()


def test_free_mail_in_from_header_only() -> None:
    raw = message("x@yahoo.com.vn", [png_att()])
    assert run(checker(), raw).verdict is Verdict.REJECTED


def test_from_header_check_can_be_turned_off(tmp_path: Path) -> None:
    c = checker(tmp_path, "[freemail]\ncheck-from-header = false\n")
    assert run(c, message("x@yahoo.com.vn", [png_att()])).verdict is Verdict.VALID


def test_free_mail_without_documents_is_delivered_and_tagged() -> None:
    r = run(checker(), message("dan@gmail.com"), sender="dan@gmail.com")
    assert r.verdict is Verdict.NO_DOCUMENTS and r.action is Action.ACCEPT
    assert codes(r) == ["SENDER_FREEMAIL_NO_DOCUMENTS"]


def test_free_mail_behaviour_is_configurable(tmp_path: Path) -> None:
    c = checker(tmp_path,
                '[freemail]\nwithout-documents = "reject"\nwith-documents = "accept"\n')
    assert run(c, message("dan@gmail.com"), sender="dan@gmail.com").verdict is Verdict.REJECTED
    r = run(c, message("dan@gmail.com", [png_att()]), sender="dan@gmail.com")
    assert r.action is Action.ACCEPT and "SENDER_FREEMAIL" in codes(r)


def test_attachment_over_limit_gets_552(tmp_path: Path) -> None:
    c = checker(tmp_path, "[limits]\nattachment-max-bytes = 2000\n")
    r = run(c, message(attachments=[("big.png", png_bytes() + b"\0" * 3000, "image/png")]))
    assert r.verdict is Verdict.REJECTED
    assert str(r.smtp_reply).startswith("552 5.3.4 ")
    assert "Article 5.2" in str(r.smtp_reply)


def test_unsigned_editable_document_is_invalid_under_92a() -> None:
    r = run(checker(), message(attachments=[docx_att()]))
    assert r.verdict is Verdict.INVALID and r.action is Action.ACCEPT
    (doc,) = r.documents
    assert doc.verdict.value == "invalid" and doc.doc_class.value == "editable"
    assert "EDITABLE_NOT_SIGNED" in [f.code for f in doc.findings]
    f = next(f for f in doc.findings if f.code == "EDITABLE_NOT_SIGNED")
    assert f.article == "9.2a" and "9.3" in f.vi and "9.3" in f.en


def test_image_scan_is_valid_and_text_only_has_no_documents() -> None:
    assert run(checker(), message(attachments=[png_att()])).verdict is Verdict.VALID
    assert run(checker(), message()).verdict is Verdict.NO_DOCUMENTS


def test_worst_document_decides() -> None:
    r = run(checker(), message(attachments=[png_att(), docx_att()]))
    assert r.verdict is Verdict.INVALID
    assert [d.verdict.value for d in r.documents] == ["valid", "invalid"]


def test_reject_beats_hold(tmp_path: Path) -> None:
    c = checker(tmp_path, "[findings.EDITABLE_NOT_SIGNED]\naction = \"hold\"\n")
    r = run(c, message("a@gmail.com", [docx_att()]), sender="a@gmail.com")
    assert r.verdict is Verdict.REJECTED
    r = run(c, message(attachments=[docx_att()]))
    assert r.verdict is Verdict.HELD and r.action is Action.HOLD and r.smtp_reply is None


def test_inspector_crash_becomes_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(doc, ctx):
        raise RuntimeError("parser exploded")

    monkeypatch.setattr(pipeline_mod, "inspectors_for", lambda fmt: [boom])
    r = run(checker(), message(attachments=[png_att()]))
    assert r.verdict is Verdict.INVALID
    assert codes(r) == ["INSPECTION_FAILED"]
    assert "RuntimeError" in r.documents[0].findings[0].en


def test_message_check_crash_becomes_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(parsed, ctx):
        raise ValueError("bad")

    monkeypatch.setattr(pipeline_mod, "message_checks", lambda: [boom])
    r = run(checker(), message())
    assert r.verdict is Verdict.INVALID and "INSPECTION_FAILED" in codes(r)


def test_forged_verdict_header_is_noted() -> None:
    raw = b"X-Legal-Validity: valid\r\n" + message()
    r = run(checker(), raw)
    assert "VERDICT_HEADER_REMOVED" in codes(r)
    assert r.verdict is Verdict.NO_DOCUMENTS


def test_rules_hash_is_in_the_report() -> None:
    c = checker()
    assert run(c, message()).rules_hash == c.policy.hash


FINDING_KEYS = {"code", "article", "severity", "vi", "en"}
SIG_KEYS = {"format", "integrity", "coverage", "trust", "revocation", "signer", "signing_time"}


def test_json_contract_shape() -> None:
    r = run(checker(), message("a@gmail.com", [docx_att(), png_att()]), sender="a@gmail.com")
    out = json.loads(json.dumps(r.to_json()))
    assert set(out) == {"schema", "input", "kind", "verdict", "action", "smtp_reply", "findings",
                        "documents"}
    assert out["schema"] == "hople.report/1" and out["kind"] == "message"
    assert out["action"] in {"accept", "reject", "tempfail", "hold"}
    assert out["verdict"] in {"valid", "invalid", "rejected", "held", "no-documents"}
    for f in out["findings"]:
        assert FINDING_KEYS <= set(f) and f["severity"] in {"info", "warning", "error"}
    for d in out["documents"]:
        assert {"path", "sha256", "size", "media_type", "class", "verdict", "signatures",
                "findings"} <= set(d)
        assert d["class"] in {"editable", "non-editable", "archive", "other"}
        assert d["verdict"] in {"valid", "invalid", "not-applicable"}
        assert len(d["sha256"]) == 64
        for s in d["signatures"]:
            assert set(s) == SIG_KEYS
        for f in d["findings"]:
            assert FINDING_KEYS <= set(f)
