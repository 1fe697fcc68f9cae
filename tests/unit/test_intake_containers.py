"""Nothing passes unseen: every container senders use is opened or reported, damaged office
packages are recognised, and ``valid``/``no-documents`` are never said about what was not
inspected. Every case is built as bytes here (tests/containers.py)."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from email.message import EmailMessage

import pytest

from gateway.intake.mime import Walker
from gateway.intake.sniff import sniff, sniff_detail
from gateway.intake.unwrap import UnwrapError, read_tnef, uu_blocks
from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.model.report import DocClass, Verdict
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from gateway.policy.schema import Documents, Limits
from tests.containers import jpeg, odt, rar5_stored, rezip, tnef, uuencode
from tests.unit.test_intake import PDF, docx_bytes

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
OCTET = "application/octet-stream"
ODT_TYPE = "application/vnd.oasis.opendocument.text"
NOT_SEEN = {Verdict.NO_DOCUMENTS, Verdict.VALID}


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(load_policy())


def message(*attachments: tuple[str, bytes, str], body: str = "Kính gửi quý cơ quan.\n"
            ) -> bytes:
    m = EmailMessage()
    m["From"] = "stttt@daknong.gov.vn"
    m["To"] = "vanthu@lamdong.gov.vn"
    m["Subject"] = "Văn bản"
    m.set_content(body)
    for name, data, ctype in attachments:
        maintype, subtype = ctype.split("/", 1)
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


def check(checker: Checker, raw: bytes):
    return checker.check_message(io.BytesIO(raw), Envelope(sender="stttt@daknong.gov.vn"))


def codes(report) -> set[str]:
    return {f.code for f in report.all_findings}


def doc(report, path: str):
    return next(d for d in report.documents if d.path == path)


# -- TNEF (winmail.dat) ---------------------------------------------------------------------------


def test_the_tnef_sample_follows_ms_oxtnef_as_tnefparse_reads_it() -> None:
    from tnefparse.tnef import TNEF

    data = tnef([("Kế hoạch.docx", b"PK\x03\x04 inner")], body=b"Kinh gui")
    assert data[:4] == b"\x78\x9f\x3e\x22"  # 0x223E9F78 little-endian
    parsed = TNEF(data)
    assert all(o.good_checksum for o in parsed.objects)
    (att,) = parsed.attachments
    assert att.long_filename().strip("\x00") == "Kế hoạch.docx" and att.data == b"PK\x03\x04 inner"
    assert parsed.body == b"Kinh gui"
    got = read_tnef(data)
    assert got.attachments == [("Kế hoạch.docx", b"PK\x03\x04 inner")]


def test_unsigned_docx_inside_winmail_dat_is_an_invalid_document(checker: Checker) -> None:
    raw = message(("winmail.dat", tnef([("Kế hoạch.docx", docx_bytes())]), "application/ms-tnef"))
    r = check(checker, raw)
    inner = doc(r, "winmail.dat/Kế hoạch.docx")
    assert inner.doc_class is DocClass.EDITABLE and inner.verdict.value == "invalid"
    assert "EDITABLE_NOT_SIGNED" in {f.code for f in inner.findings}
    assert r.verdict is Verdict.INVALID


def test_tnef_is_recognised_by_content_under_any_name(checker: Checker) -> None:
    raw = message(("attachment.bin", tnef([("a.docx", docx_bytes())]), OCTET))
    assert doc(check(checker, raw), "attachment.bin/a.docx").verdict.value == "invalid"


def test_unreadable_tnef_is_a_finding_never_nothing(checker: Checker) -> None:
    for data in (tnef([("a.docx", docx_bytes())], body=b"x", bad_checksum=True),
                 tnef([("a.docx", docx_bytes())])[:50]):
        r = check(checker, message(("winmail.dat", data, "application/ms-tnef")))
        assert "TNEF_UNREADABLE" in codes(r)
        assert r.verdict is Verdict.INVALID
    with pytest.raises(UnwrapError):
        read_tnef(b"\x78\x9f\x3e\x22\x01\x00\x01\x06\x90\x08\x00\xff\xff\xff\x7f")


def test_tnef_bodies_are_text_for_the_unicode_checks(checker: Checker) -> None:
    # TCVN3 (.VnTime) text in the RTF body, as Outlook writes rich text from old templates
    from gateway.inspect.text import legacy

    tcvn = legacy.encode_bytes("Kính gửi các đơn vị trực thuộc Sở Tài chính", "tcvn3")
    rtf = (b"{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\fnil .VnTime;}}\\f0 "
           + b"".join(bytes([c]) if c < 128 else b"\\'%02x" % c for c in tcvn) + b"\\par}")
    winmail = tnef([], body=None, rtf=rtf)
    r = check(checker, message(("winmail.dat", winmail, "application/ms-tnef")))
    (f,) = [f for f in r.findings if f.code == "TEXT_LEGACY_FONT"]
    assert "winmail.dat/body:text/rtf" in f.en and ".VnTime" in f.en
    assert f.severity.label == "warning"  # [text] body-legacy-severity, not a document's error


def test_tnef_plain_body_is_a_text_part() -> None:
    raw = message(("winmail.dat", tnef([], body=b"Kinh gui"), "application/ms-tnef"))
    parsed = Walker(Limits(), Documents()).walk_message(io.BytesIO(raw))
    assert [(t.path, t.raw) for t in parsed.text_parts if t.path.startswith("winmail")] == [
        ("winmail.dat/body:text/plain", b"Kinh gui")]


# -- uuencode -------------------------------------------------------------------------------


def test_uuencoded_docx_in_the_body_is_an_attachment(checker: Checker) -> None:
    body = "Kính gửi,\n\n" + uuencode("Ke hoach.docx", docx_bytes()).decode() + "\nTrân trọng.\n"
    r = check(checker, message(body=body))
    d = doc(r, "Ke hoach.docx")
    assert d.doc_class is DocClass.EDITABLE and d.verdict.value == "invalid"
    assert r.verdict is Verdict.INVALID


def test_uu_blocks_decode_and_leave_the_text() -> None:
    text = b"before\n" + uuencode("a.pdf", PDF) + b"after\n"
    (block,) = uu_blocks(text, 1 << 20)
    assert block.name == "a.pdf" and block.data == PDF and block.error is None
    assert text[:block.start] == b"before\n" and text[block.end:].strip() == b"after"
    (cut,) = uu_blocks(b"begin 644 x.pdf\nM" + b"A" * 60 + b"\n", 1 << 20)
    assert cut.error == "no end line"


def test_uuencoded_attachment_is_opened_and_binhex_is_not_no_documents(checker: Checker
                                                                        ) -> None:
    uue = uuencode("Ke hoach.docx", docx_bytes())
    r = check(checker, message(("Ke hoach.uue", uue, "application/octet-stream")))
    assert doc(r, "Ke hoach.uue/Ke hoach.docx").verdict.value == "invalid"
    binhex = (b"(This file must be converted with BinHex 4.0)\n\n:$f*TEQKPH#jdCA0d,R0TG!\"6594%8"
              b"dP8)3#3\"!&m!*!%EMa6593K!!%!!!&mFNaKG3,r!*!$&!#3!i!!N!-!N!3\n")
    assert sniff(binhex, "a.hqx")[1] == "binhex"
    r = check(checker, message(("a.hqx", binhex, "application/mac-binhex40")))
    assert r.verdict not in NOT_SEEN


def test_damaged_uuencode_is_a_finding(checker: Checker) -> None:
    r = check(checker, message(body="begin 644 x.docx\nM!!!\n"))
    assert "UUENCODE_DAMAGED" in codes(r) and r.verdict is Verdict.INVALID


# -- office packages by structure -----------------------------------------------------------------


def test_docx_without_content_types_is_a_damaged_docx_not_an_archive(checker: Checker) -> None:
    """The issue's case: reported as a ZIP whose thumbnail counted as a scan → 'valid'."""
    data = rezip(docx_bytes(), drop=("[Content_Types].xml",),
                 add={"docProps/thumbnail.jpeg": jpeg()})
    found = sniff_detail(data, "Kế hoạch.docx")
    assert found.fmt == "docx" and found.damage == "[Content_Types].xml is missing"
    r = check(checker, message(("Kế hoạch.docx", data, DOCX_TYPE)))
    (d,) = r.documents  # never the thumbnail as a document of its own
    assert d.doc_class is DocClass.EDITABLE and d.verdict.value == "invalid"
    assert "PACKAGE_DAMAGED" in {f.code for f in d.findings}
    assert r.verdict is Verdict.INVALID


def test_ooxml_main_part_found_through_rels_or_by_name() -> None:
    wrong_ct = rezip(docx_bytes(), replace={"[Content_Types].xml": b"<Types/>"})
    found = sniff_detail(wrong_ct, "x.zip")
    assert found.fmt == "docx"
    assert found.damage == "[Content_Types].xml does not declare the main part"
    moved = rezip(docx_bytes(), drop=("[Content_Types].xml", "word/document.xml"),
                  add={"word/main.xml": b"<w:document/>"},
                  replace={"_rels/.rels": b'<Relationships><Relationship Id="rId1" Type="http://'
                           b'schemas.openxmlformats.org/officeDocument/2006/relationships/'
                           b'officeDocument" Target="word/main.xml"/></Relationships>'})
    assert sniff(moved, "x.bin")[1] == "docx"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("docProps/thumbnail.jpeg", jpeg())
    assert sniff_detail(buf.getvalue(), "a.zip").fmt == "xlsx"


def test_odt_without_or_with_a_wrong_mimetype_is_a_damaged_odt(checker: Checker) -> None:
    assert sniff_detail(odt(), "a.odt") .damage is None
    for data, why in ((odt(None), "the mimetype member is missing"),
                      (odt("application/zip"), "the mimetype member says 'application/zip'")):
        found = sniff_detail(data, "a.zip")
        assert (found.fmt, found.damage) == ("odt", why)
        r = check(checker, message(("Kế hoạch.odt", data, "application/zip")))
        (d,) = r.documents
        assert d.doc_class is DocClass.EDITABLE
        assert "PACKAGE_DAMAGED" in {f.code for f in d.findings}
        assert r.verdict is Verdict.INVALID


def test_package_remnants_are_never_an_archive_of_a_thumbnail(checker: Checker) -> None:
    """Without manifest or main part, ODF's and OOXML's other members still say what it is:
    the thumbnail must not count as a scanned page."""
    from tests.corpus.make_corpus import png

    for members, fmt in (({"content.xml": b"<x/>", "styles.xml": b"<x/>",
                           "Thumbnails/thumbnail.png": png()}, "odt"),
                         ({"docProps/app.xml": b"<x/>", "docProps/thumbnail.jpeg": jpeg()},
                          "docx")):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for name, body in members.items():
                zf.writestr(name, body)
        found = sniff_detail(buf.getvalue(), "ho-so.zip")
        assert found.fmt == fmt and found.damage is not None
        r = check(checker, message(("ho-so.zip", buf.getvalue(), "application/zip")))
        assert len(r.documents) == 1 and r.verdict is Verdict.INVALID


def test_a_zip_of_an_unpacked_package_folder_is_that_document_damaged() -> None:
    """As a LibreOffice test document does: the ODT's parts in a folder, zipped again."""
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(odt())) as src, zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            dst.writestr("Kế hoạch/" + info.filename, src.read(info))
    found = sniff_detail(buf.getvalue(), "ke-hoach.odt")
    assert found.fmt == "odt" and "unpacked in the folder 'Kế hoạch/'" in str(found.damage)


def test_a_plain_zip_of_files_is_still_an_archive() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("content.xml", "<x/>")  # no manifest: not ODF
        zf.writestr("word.xml", "<x/>")
    assert sniff(buf.getvalue(), "a.zip")[1] == "zip"


# -- sniffing: offset 0 decides; polyglots are read both ways -------------------------------------


def test_a_rar_whose_first_member_is_a_pdf_is_a_rar(checker: Checker) -> None:
    data = rar5_stored("cong-van.pdf", PDF)
    assert b"%PDF-" in data[:1024]
    assert sniff(data, "ho-so.rar") == ("application/vnd.rar", "rar")
    r = check(checker, message(("ho-so.rar", data, "application/x-rar")))
    (rar,) = [d for d in r.documents if d.path == "ho-so.rar"]
    assert rar.media_type == "application/vnd.rar"
    assert not any(f.code.startswith("PDF_") for f in rar.findings)
    # the PDF is a member, opened and judged like any attachment
    assert [d.media_type for d in r.documents if d.path == "ho-so.rar/cong-van.pdf"] == [
        "application/pdf"]


@pytest.mark.parametrize("name, data, fmt", [
    ("a.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 40, "7z"),
    ("a.docx.gz", gzip.compress(b"PK\x03\x04 docx"), "gz"),
    ("a.tar.xz", b"\xfd7zXZ\x00" + b"\0" * 40, "xz"),
    ("a.bz2", b"BZh91AY&SY" + b"\0" * 40, "bz2"),
    ("a.cab", b"MSCF\0\0\0\0" + b"\0" * 40, "cab"),
])
def test_containers_are_known_by_their_magic(name: str, data: bytes, fmt: str) -> None:
    assert sniff(data, name)[1] == fmt


def test_pdf_with_a_zip_appended_is_judged_both_ways(checker: Checker) -> None:
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("Kế hoạch.docx", docx_bytes())
    data = PDF + zbuf.getvalue()
    found = sniff_detail(data, "scan.pdf")
    assert (found.fmt, found.also) == ("pdf", "zip")
    r = check(checker, message(("scan.pdf", data, "application/pdf")))
    assert "FORMAT_POLYGLOT" in codes(r)
    assert doc(r, "scan.pdf#zip/Kế hoạch.docx").verdict.value == "invalid"
    assert r.verdict is Verdict.INVALID


def test_zip_that_is_also_a_pdf_is_a_polyglot() -> None:
    def build(xref_at: int) -> bytes:
        pdf = (b"%PDF-1.4\n1 0 obj<<>>endobj\nxref\n0 1\n0000000000 65535 f \ntrailer<<>>\n"
               b"startxref\n" + b"%010d" % xref_at + b"\n%%EOF\n")
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("a.pdf", pdf, zipfile.ZIP_STORED)
        return buf.getvalue()

    first = build(0)
    start = first.index(b"%PDF-")
    data = build(start + b"%PDF-1.4\n1 0 obj<<>>endobj\n".__len__())
    assert sniff_detail(data, "a.zip").also == "pdf"
    assert sniff_detail(first, "a.zip").also is None  # startxref pointing nowhere: not a PDF


# -- parts that cannot be identified or opened: "uninspected" -------------------------------------


def test_unidentified_part_makes_the_message_uninspected(checker: Checker) -> None:
    r = check(checker, message(("du-lieu.dat", b"\x00\x01\x02\x9f garbage \xfe" * 30,
                                OCTET)))
    (d,) = r.documents
    assert d.verdict.value == "uninspected" and "PART_UNIDENTIFIED" in {f.code for f in d.findings}
    assert r.verdict is Verdict.UNINSPECTED and r.action is Action.ACCEPT
    assert r.to_json()["verdict"] == "uninspected"
    assert r.to_json()["documents"][0]["verdict"] == "uninspected"


def test_weak_libmagic_guesses_do_not_identify_random_bytes() -> None:
    junk = bytes([7, 0, 3, 250, 1, 9]) * 200  # libmagic: image/x-tga
    found = sniff_detail(junk, "du-lieu.bin")
    assert found.fmt == "other" and not found.identified
    assert sniff_detail(b"MZ\x90\x00" + b"\0" * 200, "setup.exe").identified
    assert sniff_detail(b"<?xml version='1.0'?><a/>", "a.xml").identified
    assert sniff_detail(b"", "empty.dat").identified
    # a Mac's metadata in a ZIP is identified (not a document), so it never makes it uninspected
    for data in (b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\0" * 80,
                 b"\x00\x00\x00\x01Bud1" + b"\0" * 200):
        assert sniff_detail(data, "._x").identified


def test_container_the_gateway_cannot_open_is_uninspected_not_no_documents(checker: Checker
                                                                           ) -> None:
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w") as tf:
        info = tarfile.TarInfo("Kế hoạch.docx")
        body = docx_bytes()
        info.size = len(body)
        tf.addfile(info, io.BytesIO(body))
    for name, data in (("ho-so.tar.gz", gzip.compress(tbuf.getvalue())),
                       ("Kế hoạch.docx.gz", gzip.compress(docx_bytes())),
                       ("ho-so.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 200)):
        r = check(checker, message((name, data, OCTET)))
        assert r.verdict not in NOT_SEEN, name


def test_uninspected_action_is_a_rules_value(tmp_path) -> None:
    rules = tmp_path / "local.toml"
    rules.write_text('[documents]\nuninspected-action = "reject"\n')
    strict = Checker(load_policy(rules))
    r = check(strict, message(("x.dat", b"\x00\x01\x02\x9f garbage" * 30, OCTET)))
    assert r.verdict is Verdict.REJECTED and r.smtp_reply is not None
    rules.write_text('[documents]\nuninspected-action = "tempfail"\n')
    from gateway.policy.strict import RulesError

    with pytest.raises(RulesError):
        load_policy(rules)


def test_uninspected_beside_an_invalid_document_stays_invalid(checker: Checker) -> None:
    r = check(checker, message(("x.dat", b"\x00\x01\x02\x9f garbage" * 30, OCTET),
                               ("a.docx", docx_bytes(), DOCX_TYPE)))
    assert r.verdict is Verdict.INVALID
    assert doc(r, "x.dat").verdict.value == "uninspected"


# -- the five "passes unseen" cases and the ones "also seen" ---------------------------------------


def issue_cases() -> dict[str, bytes]:
    d = docx_bytes()
    return {
        "rar": message(("ho-so.rar", rar5_stored("Kế hoạch.docx", d), "application/x-rar")),
        "7z": message(("ho-so.7z", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 200,
                       "application/x-7z-compressed")),
        "docx.gz": message(("Kế hoạch.docx.gz", gzip.compress(d), "application/gzip")),
        "winmail.dat": message(("winmail.dat", tnef([("Kế hoạch.docx", d)]),
                                "application/ms-tnef")),
        "uuencode": message(body="Xem tệp:\n" + uuencode("Ke hoach.docx", d).decode()),
        "odt-no-mimetype": message(("Kế hoạch.odt", odt(None), ODT_TYPE)),
        "docx-no-content-types": message(("Kế hoạch.docx", rezip(
            d, drop=("[Content_Types].xml",), add={"docProps/thumbnail.jpeg": jpeg()}), DOCX_TYPE)),
        "rar-with-pdf": message(("ho-so.rar", rar5_stored("cong-van.pdf", PDF),
                                 "application/x-rar")),
    }


@pytest.mark.parametrize("case", sorted(issue_cases()))
def test_issue_cases_are_never_no_documents_or_valid(case: str, checker: Checker) -> None:
    r = check(checker, issue_cases()[case])
    assert r.verdict not in NOT_SEEN, (case, codes(r))


def test_uninspected_is_tagged_and_the_sender_is_told(checker: Checker) -> None:
    from datetime import UTC, datetime

    from gateway.headers import verdict_headers
    from gateway.notices.render import NoticeFacts, render_notice
    from gateway.notices.service import notice_kinds
    from gateway.notices.templates import load_templates, shipped_directory

    r = check(checker, message(("du-lieu.dat", b"\x00\x01\x02\x9f garbage" * 30, OCTET)))
    headers = dict(verdict_headers(r))
    assert headers["X-Legal-Validity"] == "uninspected"
    report = " ".join(headers["X-Legal-Validity-Report"].split())
    assert "verdict=uninspected findings=PART_UNIDENTIFIED" in report
    assert notice_kinds(r, Action.ACCEPT) == ["uninspected"]  # its own notice
    facts = NoticeFacts.from_message(Envelope(sender="stttt@daknong.gov.vn"), [],
                                     decision_id=1, decided_at=datetime.now(UTC))
    notice = render_notice(load_templates(shipped_directory()), "uninspected", r, facts)
    assert "1. du-lieu.dat: CHƯA KIỂM TRA ĐƯỢC" in notice.body
    assert "PART_UNIDENTIFIED" in notice.body and "NOT INSPECTED" in notice.body


def test_a_signed_docx_with_a_damaged_package_is_not_accepted(pki) -> None:
    """The signature verifies over the parts it covers, but the package lost its marker:
    the document is invalid (its signature is not accepted), never valid."""
    from datetime import timedelta

    from gateway.trust import build_engine
    from tests import signer as S

    engine = build_engine([pki.anchors_dir], [pki.intermediates_dir], [pki.crl_dir])
    signed_checker = Checker(load_policy(), trust=engine, clock=lambda: pki.now)
    parts = S.sign_ooxml(S.make_ooxml("docx"), pki.leaf.key, pki.leaf.cert,
                         chain=pki.chain(pki.leaf), signing_time=pki.now - timedelta(days=1))
    intact = S.zip_package(parts)
    assert check(signed_checker, message(("ky-so.docx", intact, DOCX_TYPE))).verdict \
        is Verdict.VALID
    damaged = rezip(intact, drop=("[Content_Types].xml",))
    r = check(signed_checker, message(("ky-so.docx", damaged, DOCX_TYPE)))
    (d,) = r.documents
    assert d.doc_class is DocClass.EDITABLE and d.verdict.value == "invalid"
    assert "PACKAGE_DAMAGED" in {f.code for f in d.findings}
    assert r.verdict is Verdict.INVALID


def test_a_named_attached_message_is_walked(checker: Checker) -> None:
    """Outlook attaches a forwarded mail as message/rfc822 with a file name: its documents
    are documents (they were read as an empty file before)."""
    inner = EmailMessage()
    inner["Subject"] = "Văn bản gốc"
    inner.set_content("x")
    inner.add_attachment(docx_bytes(), maintype="application", subtype="octet-stream",
                         filename="goc.docx")
    m = EmailMessage()
    m["From"] = "stttt@daknong.gov.vn"
    m.set_content("Chuyển tiếp")
    m.add_attachment(inner, filename="Chuyển tiếp.eml")
    r = check(checker, m.as_bytes())
    assert doc(r, "Chuyển tiếp.eml/goc.docx").verdict.value == "invalid"
    assert r.verdict is Verdict.INVALID


def test_message_fragments_and_external_bodies_are_uninspected(checker: Checker) -> None:
    for ctype in ('message/partial; id="abc@x"; number=1; total=2',
                  'message/external-body; access-type=URL; URL="http://x.invalid/a.docx"'):
        raw = (b"From: stttt@daknong.gov.vn\r\nMIME-Version: 1.0\r\nContent-Type: "
               + ctype.encode() + b"\r\n\r\nContent-Type: application/octet-stream\r\n\r\n"
               b"UEsDBBQAAAAIAA==\r\n")
        r = check(checker, raw)
        assert "CONTAINER_UNSUPPORTED" in codes(r), ctype
        assert r.verdict is Verdict.UNINSPECTED, ctype


def test_a_document_labelled_as_body_text_or_an_inline_picture_is_a_document(
        checker: Checker) -> None:
    import base64

    data = base64.encodebytes(docx_bytes())
    for head in (b"Content-Type: text/plain; charset=utf-8\r\n",
                 b"Content-Type: image/png\r\nContent-Disposition: inline\r\n"
                 b"Content-ID: <logo@x>\r\n"):
        raw = (b"From: stttt@daknong.gov.vn\r\nMIME-Version: 1.0\r\n"
               b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
               b"Content-Type: text/plain\r\n\r\nKinh gui\r\n--b\r\n" + head
               + b"Content-Transfer-Encoding: base64\r\n\r\n" + data + b"--b--\r\n")
        r = check(checker, raw)
        assert r.verdict is Verdict.INVALID, head
        assert any(d.doc_class is DocClass.EDITABLE for d in r.documents), head
    # a real inline logo is still not a document
    from tests.corpus.make_corpus import png

    raw = (b"From: stttt@daknong.gov.vn\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/related; boundary="b"\r\n\r\n--b\r\n'
           b"Content-Type: text/html\r\n\r\n<p>Kinh gui</p><img src=cid:logo@x>\r\n--b\r\n"
           b"Content-Type: image/png\r\nContent-Disposition: inline\r\nContent-ID: <logo@x>\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(png())
           + b"--b--\r\n")
    r = check(checker, raw)
    assert r.verdict is Verdict.NO_DOCUMENTS and not r.documents
