"""Article 9.5 in documents: legacy-font runs found with their place and converted text in
DOCX (body, tables, headers, footers, footnotes, text boxes, styles), XLSX (shared and inline
strings, rich runs, sheet names), PPTX, ODT, RTF and PDF; clean documents give nothing;
hostile or damaged packages give a clear finding."""

from __future__ import annotations

import io
import zipfile

import pytest

from gateway.model.findings import Severity
from tests.textgen.docs import (
    R,
    make_docx,
    make_odt,
    make_pdf,
    make_pptx,
    make_rtf,
    make_xlsx,
    replace_parts,
)
from tests.textgen.helpers import codes, inspect_doc
from tests.textgen.samples import VIETNAMESE, regulation_text

LETTER = VIETNAMESE["letter"].splitlines()[1]


def legacy_findings(fs):
    return [f for f in fs if f.code in ("TEXT_LEGACY_FONT", "TEXT_LEGACY_CONTENT")]


@pytest.mark.parametrize("font,label", [(".VnTime", "TCVN3 (ABC)"), ("VNI-Times", "VNI"),
                                        (".VnArialH", "TCVN3 (ABC)"), ("VPS Times", "VPS")])
def test_docx_body_run(font, label):
    text = LETTER.upper() if font.endswith("H") else LETTER
    fs, facts = inspect_doc("cv.docx", make_docx([[R("Kính gửi:")], [R(text, font)]]))
    (f,) = legacy_findings(fs)
    assert f.code == "TEXT_LEGACY_FONT" and f.article == "9.5" and f.severity is Severity.ERROR
    assert f.params["font"] == font and f.params["encoding"] == label
    assert f.place == "word/document.xml, paragraph 2"
    # TCVN3 has no capital toned letters: "Ủy" shows (and converts) as "ủy"
    assert f.params["snippet"].casefold().startswith(text[:30].casefold())
    assert facts["text_legacy_encodings"] == [label]


def test_docx_soft_hyphen_is_u_and_places_are_counted():
    body = [[R("Người được giao nhiệm vụ thường xuyên", ".VnTime")], [R("Unicode ở đây")],
            [R("Nước và người", ".VnTime")]]
    fs, _ = inspect_doc("a.docx", make_docx(body, footer=[R("Trang 1 của hồ sơ lưu", ".VnTime")]))
    (f,) = legacy_findings(fs)
    assert f.params["count"] == 3
    assert "Người được giao" in f.params["snippet"]  # U+00AD kept as "ư", not dropped


@pytest.mark.parametrize("where", ["table", "header", "footer", "footnote", "textbox", "style"])
def test_docx_everywhere(where):
    runs = [R("Quyết định về việc phân công nhiệm vụ", ".VnTime")]
    kw = {"table": dict(table=[[runs]]), "header": dict(header=runs), "footer": dict(footer=runs),
          "footnote": dict(footnote=runs), "textbox": dict(textbox=runs),
          "style": dict(style_font=("VanBan", ".VnTime"))}[where]
    body = (["Quyết định về việc phân công nhiệm vụ"] if where == "style"
            else [[R("Văn bản Unicode.")]])
    fs, _ = inspect_doc("b.docx", make_docx(body, **kw))
    (f,) = legacy_findings(fs)
    expected = {"table": "table 1 row 1 cell 1", "header": "word/header",
                "footer": "word/footer", "footnote": "word/footnotes.xml",
                "textbox": "text box 1", "style": "paragraph 1"}[where]
    assert expected in f.place
    assert "Quyết định về việc phân công" in f.params["snippet"]


def test_docx_document_default_font():
    fs, _ = inspect_doc("c.docx", make_docx([LETTER], default_font=".VnTime"))
    assert legacy_findings(fs)[0].params["font"] == ".VnTime"


def test_clean_unicode_docx_has_no_finding():
    reg = regulation_text() or "\n".join(VIETNAMESE.values())
    paras = [[R(line, "Times New Roman")] for line in reg.splitlines() if line.strip()][:400]
    fs, facts = inspect_doc("d.docx", make_docx(paras, header=[R("ỦY BAN NHÂN DÂN")]))
    assert fs == []
    assert "text_legacy_encodings" not in facts


def test_legacy_font_with_only_ascii_or_unicode_is_not_a_finding():
    fs, _ = inspect_doc("e.docx", make_docx([[R("Nam 2012 - ban", ".VnTime")]]))
    assert legacy_findings(fs) == []
    # Unicode typed in a legacy font: nothing decodes, nothing to report under 9.5
    data = make_docx([[R("x")]]).replace(b"x</w:t>", "Việt Nam</w:t>".encode())
    assert legacy_findings(inspect_doc("f.docx", data)[0]) == []


def test_docx_pasted_mojibake_in_unicode_font():
    from gateway.inspect.text import legacy

    surf = legacy.encode_text(VIETNAMESE["letter"], "tcvn3")
    fs, _ = inspect_doc("g.docx",
                        make_docx([[R(line, "Times New Roman")] for line in surf.splitlines()]))
    (f,) = legacy_findings(fs)
    assert f.code == "TEXT_LEGACY_CONTENT" and f.params["encoding"] == "TCVN3 (ABC)"


def test_xlsx_cells_rich_runs_and_sheet_names():
    from tests.textgen.docs import surface

    data = make_xlsx([[R("STT"), R("Đơn vị thực hiện", ".VnTime")],
                      [1, R("Sở Tài chính", ".VnTime")]],
                     sheet_title=surface("Báo cáo tháng", ".VnTime"),
                     rich=[R("Ghi chú: ", "Arial"), R("đã hoàn thành", "VNI-Times")])
    fs, facts = inspect_doc("h.xlsx", data)
    by_code = {f.code: f for f in legacy_findings(fs)}
    f = next(f for f in legacy_findings(fs) if f.params.get("font") == ".VnTime")
    assert f.place.endswith("cell B1") and f.params["snippet"] == "Đơn vị thực hiện"
    assert any(f.params.get("font") == "VNI-Times" and f.place.endswith("cell A3")
               for f in legacy_findings(fs))
    assert by_code["TEXT_LEGACY_CONTENT"].params["snippet"] == "Báo cáo tháng"
    assert set(facts["text_legacy_encodings"]) == {"TCVN3 (ABC)", "VNI"}


def test_xlsx_inline_strings():
    from tests.textgen.docs import surface

    data = make_xlsx([[R("x")]])
    zf = zipfile.ZipFile(io.BytesIO(data))
    sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    styles = zf.read("xl/styles.xml").decode()
    styles = styles.replace("<fonts count=\"1\">", "<fonts count=\"2\">").replace(
        "</fonts>", '<font><name val=".VnTime"/></font></fonts>')
    styles = styles.replace('<cellXfs count="1">', '<cellXfs count="2">').replace(
        "</cellXfs>",
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" applyFont="1"/></cellXfs>')
    text = surface("Kế hoạch công tác năm", ".VnTime")
    cell = f'<c r="A1" s="1" t="inlineStr"><is><t>{text}</t></is></c>'
    assert '<c r="A1" t="s"><v>0</v></c>' in sheet
    sheet = sheet.replace('<c r="A1" t="s"><v>0</v></c>', cell)
    data = replace_parts(data, {"xl/worksheets/sheet1.xml": sheet.encode(),
                                "xl/styles.xml": styles.encode()})
    (f,) = legacy_findings(inspect_doc("i.xlsx", data)[0])
    assert f.params["snippet"] == "Kế hoạch công tác năm"


def test_pptx_odt_rtf_pdf():
    fs, _ = inspect_doc("j.pptx", make_pptx([[R("Kế hoạch năm học mới", "VNI-Times")]]))
    assert legacy_findings(fs)[0].place == "slide 1, shape 1 paragraph 1"
    fs, _ = inspect_doc("k.odt", make_odt([[R("Unicode")], [R("Kế hoạch năm học mới", ".VnTime")]]))
    assert legacy_findings(fs)[0].params["snippet"] == "Kế hoạch năm học mới"
    fs, _ = inspect_doc("l.rtf", make_rtf([[R("Quyết định ban hành quy chế", ".VnTime"),
                                            R(" và Unicode")]]))
    assert legacy_findings(fs)[0].params["snippet"] == "Quyết định ban hành quy chế và Unicode"
    fs, _ = inspect_doc("m.pdf",
                        make_pdf([("Hello", "Helvetica"), ("Nhà nước và người dân", ".VnTime")]))
    f = legacy_findings(fs)[0]
    assert f.params["font"] == ".VnTime" and f.params["snippet"] == "Nhà nước và người dân"


def test_rtf_windows_1258_charset():
    from gateway.inspect.text import legacy

    data = legacy.encode_bytes("Quyết định về việc", "cp1258")
    esc = "".join(f"\\'{b:02x}" if b > 0x7E else chr(b) for b in data)
    rtf = ("{\\rtf1\\ansi{\\fonttbl{\\f0\\fnil\\fcharset163 Times New Roman;}}{\\f0 "
           + esc + "}\\par}").encode()
    (f,) = legacy_findings(inspect_doc("n.rtf", rtf)[0])
    assert f.params["encoding"] == "Windows-1258" and f.params["snippet"] == "Quyết định về việc"


def test_txt_attachment_in_legacy_bytes():
    from gateway.inspect.text import legacy

    fs, _ = inspect_doc("o.txt", legacy.encode_bytes(VIETNAMESE["letter"], "tcvn3"))
    (f,) = legacy_findings(fs)
    assert f.code == "TEXT_LEGACY_CONTENT" and f.params["snippet"].startswith("Kính gửi")
    assert inspect_doc("p.txt", VIETNAMESE["letter"].encode())[0] == []


# ------------------------------------------------------------------------------ hostile


def test_doctype_is_refused():
    data = make_docx([[R("x")]])
    zf = zipfile.ZipFile(io.BytesIO(data))
    doc = zf.read("word/document.xml").replace(
        b"<w:document", b'<!DOCTYPE w:document [<!ENTITY x "yyyy">]><w:document', 1)
    data = replace_parts(data, {"word/document.xml": doc})
    (f,) = inspect_doc("q.docx", data)[0]
    assert f.code == "TEXT_UNCHECKED" and "DOCTYPE" in f.params["reason"]


def test_damaged_packages_give_a_finding():
    data = make_docx([[R("Quyết định", ".VnTime")]])
    for bad in (data[: len(data) // 2], b"PK\x03\x04" + b"\x00" * 100,
                replace_parts(data, {"word/document.xml": b"<w:document"})):
        fs, _ = inspect_doc("r.docx", bad)
        assert codes(fs) == ["TEXT_UNCHECKED"] or codes(fs) == []  # sniffed as zip: not inspected
    fs, _ = inspect_doc("s.docx", replace_parts(data, {"word/document.xml": b"<w:document"}))
    assert codes(fs) == ["TEXT_UNCHECKED"]


def test_member_cap_and_text_budget():
    big = [[R("Quyết định số " + str(i), ".VnTime")] for i in range(300)]
    data = make_docx(big)
    fs, facts = inspect_doc("t.docx", data, max_member=2000)
    assert codes(fs) == ["TEXT_UNCHECKED"] and "inflates" in fs[0].params["reason"]
    fs, facts = inspect_doc("u.docx", data, max_chars=500)
    assert "TEXT_UNCHECKED" in codes(fs) and facts.get("text_truncated") is True
    assert "TEXT_LEGACY_FONT" in codes(fs)  # what was read is still judged


def test_registered_for_documents_and_in_pipeline():
    from gateway.inspect.registry import inspectors_for
    from gateway.inspect.text.inspector import inspect_text
    from gateway.pipeline import Checker
    from tests.textgen.helpers import policy

    for fmt in ("docx", "xlsx", "pptx", "odt", "rtf", "pdf", "txt"):
        assert inspect_text in inspectors_for(fmt)
    report = Checker(policy()).check_document("cv.docx", make_docx([[R(LETTER, ".VnTime")]]))
    doc = report.documents[0]
    assert doc.verdict.value == "invalid"
    assert "TEXT_LEGACY_FONT" in [f.code for f in doc.findings]
