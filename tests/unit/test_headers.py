"""Verdict headers on literal reports: values, RFC 2047 names, folding, email round trip."""

from __future__ import annotations

import email
import email.policy
import unicodedata

from gateway.headers import MAX_ENTRIES, encode_words, is_verdict_header, verdict_headers
from gateway.model.catalog import make_finding
from gateway.model.findings import Action
from gateway.model.report import DocClass, DocumentReport, DocVerdict, MessageReport, Verdict

VI_NAME = unicodedata.normalize(
    "NFC", "Công văn số 125/UBND-VX về việc triển khai kế hoạch năm 2024.docx")


def _doc(path: str, cls: DocClass, verdict: DocVerdict, *codes: str) -> DocumentReport:
    return DocumentReport(
        path=path, sha256="0" * 64, size=10, media_type="application/octet-stream",
        doc_class=cls, verdict=verdict,
        findings=tuple(make_finding(c, name=path) for c in codes),
    )


def _report(*docs: DocumentReport, verdict: Verdict = Verdict.INVALID,
            findings=()) -> MessageReport:
    return MessageReport(input="Q1", kind="message", verdict=verdict, action=Action.ACCEPT,
                         documents=tuple(docs), findings=tuple(findings))


def _round_trip(headers: list[tuple[str, str]]) -> tuple[bytes, email.message.EmailMessage]:
    raw = b"From: a@b.invalid\r\n"
    for k, v in headers:
        raw += f"{k}: {v}\r\n".encode("ascii")
    raw += b"\r\nbody\r\n"
    return raw, email.message_from_bytes(raw, policy=email.policy.default)


def test_ascii_names_plain() -> None:
    r = _report(
        _doc("bao-cao.pdf", DocClass.NON_EDITABLE, DocVerdict.VALID, "NON_EDITABLE_ACCEPTED"),
        _doc("ke-hoach.docx", DocClass.EDITABLE, DocVerdict.INVALID, "EDITABLE_NOT_SIGNED"),
    )
    hs = verdict_headers(r)
    assert hs[0] == ("X-Legal-Validity", "invalid")
    name, value = hs[1]
    assert name == "X-Legal-Validity-Report"
    flat = value.replace("\r\n ", " ")
    assert flat == (
        "bao-cao.pdf class=non-editable verdict=valid findings=NON_EDITABLE_ACCEPTED; "
        "ke-hoach.docx class=editable verdict=invalid findings=EDITABLE_NOT_SIGNED"
    )


def test_no_documents_still_gives_both_headers() -> None:
    hs = verdict_headers(_report(verdict=Verdict.NO_DOCUMENTS))
    assert hs == [("X-Legal-Validity", "no-documents"), ("X-Legal-Validity-Report", "none")]


def test_message_findings_entry_first() -> None:
    f = make_finding("SENDER_FREEMAIL_NO_DOCUMENTS", domain="gmail.com")
    hs = verdict_headers(_report(verdict=Verdict.NO_DOCUMENTS, findings=[f]))
    assert hs[1] == ("X-Legal-Validity-Report", "message findings=SENDER_FREEMAIL_NO_DOCUMENTS")


def test_unchecked_verdict() -> None:
    f = make_finding("GATEWAY_UNCHECKED", reason="deadline")
    hs = verdict_headers(_report(verdict=Verdict.UNCHECKED, findings=[f]))
    assert hs[0] == ("X-Legal-Validity", "unchecked")
    assert "GATEWAY_UNCHECKED" in hs[1][1]


def test_vietnamese_name_encoded_folded_and_round_trips() -> None:
    r = _report(
        _doc(VI_NAME, DocClass.EDITABLE, DocVerdict.INVALID, "EDITABLE_NOT_SIGNED",
             "TYPE_MISMATCH"),
        _doc("hồ sơ.zip/bảng; lương.xlsx", DocClass.EDITABLE, DocVerdict.INVALID,
             "EDITABLE_NOT_SIGNED"),
    )
    hs = verdict_headers(r)
    value = hs[1][1]
    assert value.isascii()
    assert "=?utf-8?b?" in value
    raw, msg = _round_trip(hs)
    for line in raw.split(b"\r\n"):
        assert len(line) <= 78, line
    for word in value.split():
        if word.startswith("=?"):
            assert len(word) <= 75
    decoded = str(msg["X-Legal-Validity-Report"])
    assert decoded == (
        f"{VI_NAME} class=editable verdict=invalid findings=EDITABLE_NOT_SIGNED,TYPE_MISMATCH; "
        "hồ sơ.zip/bảng; lương.xlsx class=editable verdict=invalid findings=EDITABLE_NOT_SIGNED"
    )
    assert str(msg["X-Legal-Validity"]) == "invalid"


def test_encode_words_never_splits_a_character() -> None:
    text = "ệ" * 200 + "đ"
    words = encode_words(text)
    assert len(words) > 1
    from email.header import decode_header, make_header

    assert str(make_header(decode_header(" ".join(words)))) == text
    assert all(len(w) <= 75 for w in words)


def test_duplicate_codes_once_and_signature_findings_included() -> None:
    from gateway.model.report import Coverage, Integrity, Revocation, SignatureReport, Trust

    sig = SignatureReport("ooxml-xmldsig", Integrity.INTACT, Coverage.WHOLE, Trust.UNKNOWN,
                          Revocation.UNKNOWN,
                          findings=(make_finding("INSPECTION_FAILED", name="x", reason="r"),))
    d = DocumentReport(path="a.docx", sha256="0" * 64, size=1, media_type="x",
                       doc_class=DocClass.EDITABLE, verdict=DocVerdict.INVALID,
                       signatures=(sig,),
                       findings=(make_finding("EDITABLE_NOT_SIGNED", name="a"),
                                 make_finding("EDITABLE_NOT_SIGNED", name="a")))
    value = verdict_headers(_report(d))[1][1]
    assert "findings=EDITABLE_NOT_SIGNED,INSPECTION_FAILED" in value
    # the signature is not confirmed: its reasons follow the codes
    assert value.endswith("reasons=check-failed,trust-unknown")


def test_many_documents_are_capped() -> None:
    docs = [_doc(f"f{i}.pdf", DocClass.NON_EDITABLE, DocVerdict.VALID)
            for i in range(MAX_ENTRIES + 7)]
    value = verdict_headers(_report(*docs, verdict=Verdict.VALID))[1][1]
    flat = value.replace("\r\n ", " ")
    assert flat.count("class=") == MAX_ENTRIES
    assert flat.endswith("; +7 more")
    assert "findings=none" in flat
    raw, msg = _round_trip(verdict_headers(_report(*docs)))
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78


def test_is_verdict_header() -> None:
    assert is_verdict_header("X-Legal-Validity")
    assert is_verdict_header("x-legal-validity-report")
    assert is_verdict_header("X-Legal-Validity-Anything")
    assert not is_verdict_header("X-Legal")
    assert not is_verdict_header("Subject")


def test_long_code_lists_fold_at_commas() -> None:
    codes = ["EDITABLE_NOT_SIGNED", "TYPE_MISMATCH", "INSPECTION_FAILED", "DOCUMENT_UNREADABLE",
             "ARCHIVE_LIMIT", "EDITABLE_SIGNATURE_UNVERIFIED"]
    r = _report(_doc("a.docx", DocClass.EDITABLE, DocVerdict.INVALID, *codes))
    raw, msg = _round_trip(verdict_headers(r))
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    decoded = str(msg["X-Legal-Validity-Report"])
    listed = decoded.split("findings=", 1)[1].replace(" ", "").split(",")
    assert listed == codes
