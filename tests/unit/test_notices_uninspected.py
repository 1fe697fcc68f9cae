"""The notice for a message delivered ``uninspected`` says what could not be inspected and
what to do (a common format, no encryption or password), not the "not legally valid" wording
of an invalid message; a template set written before it existed falls back to invalid.txt."""

from __future__ import annotations

import shutil
from pathlib import Path

from gateway.model.catalog import make_finding
from gateway.model.findings import Action
from gateway.model.report import (
    DocClass,
    DocumentReport,
    MessageReport,
    Verdict,
    document_verdict,
    message_verdict,
)
from gateway.notices.render import render_notice
from gateway.notices.service import notice_kinds
from gateway.notices.templates import load_templates, shipped_directory
from tests.unit.test_notices_render import _facts, _invalid_report, _split

T = load_templates(shipped_directory())


def _doc(path: str, cls: DocClass, *findings) -> DocumentReport:
    return DocumentReport(path=path, sha256="0" * 64, size=10, media_type="x/y", doc_class=cls,
                          verdict=document_verdict(cls, tuple(findings)),
                          findings=tuple(findings))


def uninspected_report() -> MessageReport:
    docs = (_doc("hồ sơ.bin", DocClass.OTHER, make_finding(
                "PART_UNIDENTIFIED", place="hồ sơ.bin", name="hồ sơ.bin",
                media_type="application/octet-stream")),
            _doc("Giấy mời.pdf", DocClass.NON_EDITABLE,
                 make_finding("NON_EDITABLE_ACCEPTED", name="Giấy mời.pdf")))
    verdict, action = message_verdict((), docs)
    return MessageReport(input="4XyZ12", kind="message", verdict=verdict, action=action,
                         findings=(), documents=docs)


def test_an_uninspected_message_gets_its_own_notice() -> None:
    report = uninspected_report()
    assert (report.verdict, report.action) == (Verdict.UNINSPECTED, Action.ACCEPT)
    assert notice_kinds(report, Action.ACCEPT) == ["uninspected"]
    assert notice_kinds(_invalid_report(), Action.ACCEPT) == ["invalid"]
    n = render_notice(T, "uninspected", report, _facts())
    vi, en = _split(n.body)
    assert "chưa kiểm tra được" in n.subject.lower() and "could not be inspected" in n.subject
    assert "KHÔNG KIỂM TRA ĐƯỢC 1 tệp" in vi and "could NOT INSPECT 1 attached file" in en
    assert "không mã hoá, không đặt mật khẩu" in vi
    assert "without encryption or password" in en and "common format" in en
    assert "1. hồ sơ.bin: NOT INSPECTED" in en and "Giấy mời.pdf" not in en
    assert "NOT LEGALLY VALID" not in en and "CHƯA CÓ GIÁ TRỊ PHÁP LÝ" not in vi


def test_a_template_set_without_the_uninspected_notice_uses_the_invalid_one(tmp_path: Path
                                                                            ) -> None:
    old = tmp_path / "notices"
    shutil.copytree(shipped_directory(), old)
    (old / "uninspected.txt").unlink()
    t = load_templates(old)
    n = render_notice(t, "uninspected", uninspected_report(), _facts())
    assert "NOT LEGALLY VALID" in n.body  # the older wording, never a failure to notify
