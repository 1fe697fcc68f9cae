"""``hople convert``: legacy text to Unicode; DOCX/XLSX keep styles and non-legacy runs."""

from __future__ import annotations

import io
import zipfile

import pytest
from lxml import etree

from gateway.cli import main
from gateway.inspect.text import legacy
from gateway.inspect.text.convert import ConvertError, convert_docx, convert_text, convert_xlsx
from tests.textgen.docs import R, make_docx, make_xlsx, surface
from tests.textgen.helpers import codes, inspect_doc
from tests.textgen.samples import VIETNAMESE, plain_punctuation, regulation_text

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
LETTER = VIETNAMESE["letter"]


def parts(data: bytes) -> dict[str, bytes]:
    zf = zipfile.ZipFile(io.BytesIO(data))
    return {n: zf.read(n) for n in zf.namelist()}


def runs_of(data: bytes, part: str = "word/document.xml"):
    root = etree.fromstring(parts(data)[part])
    out = []
    for r in root.iter(W + "r"):
        rf = r.find(f"{W}rPr/{W}rFonts")
        out.append(("".join(t.text or "" for t in r.iter(W + "t")),
                    rf.get(W + "ascii") if rf is not None else None,
                    r.find(f"{W}rPr/{W}b") is not None,
                    r.find(W + "softHyphen") is not None))
    return out


def test_docx_runs_converted_styles_and_other_runs_kept():
    src = make_docx(
        [[R("Người được giao nhiệm vụ", ".VnTime", bold=True), R(" English (Arial)", "Arial")],
         [R("CỘNG HÒA XÃ HỘI", ".VnTimeH"), R(" và ", None), R("Kính gửi", "VNI-Times")]],
        header=[R("Đắk Nông", ".VnTime")], textbox=[R("tối mật", ".VnTimeH")],
        table=[[[R("Số thứ tự", ".VnTime")], [R("Unicode ở đây", "Times New Roman")]]])
    out, st = convert_docx(src)
    assert st.runs >= 6 and st.encodings == {"TCVN3 (ABC)", "VNI"}
    runs = [r for r in runs_of(out) if r[0]]
    assert ("Người được giao nhiệm vụ", "Times New Roman", True, False) in runs  # bold kept, ư back
    assert (" English (Arial)", "Arial", False, False) in runs  # untouched
    assert ("CỘNG HÒA XÃ HỘI", "Times New Roman", False, False) in runs  # H font → capitals
    assert ("Kính gửi", "Times New Roman", False, False) in runs
    assert ("Unicode ở đây", "Times New Roman", False, False) in runs
    assert ("TỐI MẬT", "Times New Roman", False, False) in runs  # text box, both DrawingML and VML
    assert [r for r in runs if r[0] == "TỐI MẬT"].__len__() == 2
    header = next(n for n in parts(out) if n.startswith("word/header"))
    assert runs_of(out, header)[0][:2] == ("Đắk Nông", "Times New Roman")
    # every other part is byte-identical
    a, b = parts(src), parts(out)
    assert a.keys() == b.keys()
    changed = {n for n in a if a[n] != b[n]}
    assert changed == {"word/document.xml", header}
    # the converted document passes the 9.5 check
    assert not [c for c in codes(inspect_doc("out.docx", out)[0]) if c.startswith("TEXT_")]


def test_docx_style_font_and_regulation_text():
    reg = regulation_text() or LETTER
    lines = [ln for ln in reg.splitlines() if ln.strip()][:200]
    src = make_docx(lines, style_font=("VanBan", ".VnTime"))
    out, st = convert_docx(src)
    got = [r[0] for r in runs_of(out) if r[0]]
    assert [g.casefold() for g in got] == [ln.casefold() for ln in lines]
    # the style still names .VnTime; the runs override it
    assert b".VnTime" in parts(out)["word/styles.xml"]
    assert all(r[1] == "Times New Roman" for r in runs_of(out) if r[0])


def test_docx_font_option_and_nothing_to_do():
    out, st = convert_docx(make_docx([[R("Quyết định", "VNI-Times")]]), target="Arial")
    assert runs_of(out)[-1][:2] == ("Quyết định", "Arial")
    clean = make_docx([[R("Quyết định", "Times New Roman")]])
    out, st = convert_docx(clean)
    assert st.runs == 0 and parts(out) == parts(clean)


def test_xlsx_cells_rich_runs_and_shared_strings():
    shared_text = "Tổng cộng"
    src = make_xlsx(
        [[R("Đơn vị", ".VnTime"), R("Số liệu", "Arial"), 12],
         [R(shared_text, ".VnTime"), R(surface(shared_text, ".VnTime"), "Arial")],
         [R("tuyệt mật", ".VnTimeH")]],
        rich=[R("Ghi chú: ", "Arial"), R("đã xong", "VNI-Times")])
    out, st = convert_xlsx(src)
    p = parts(out)
    shared = etree.fromstring(p["xl/sharedStrings.xml"])
    sst = ["".join(t.text or "" for t in si.iter(S + "t")) for si in shared.iter(S + "si")]
    fs, _ = inspect_doc("x.xlsx", out)
    assert not [f for f in fs if f.code == "TEXT_LEGACY_FONT"]
    from gateway.inspect.text.extract import Budget, Package, xlsx

    ex = xlsx(Package(out, 10**8, 10**8), Budget(10**7))
    cells = {b.place.rsplit(" ", 1)[-1]: b.text for b in ex.blocks if b.kind == "cell"}
    assert cells["A1"] == "Đơn vị" and cells["B1"] == "Số liệu" and cells["A2"] == shared_text
    # B2 showed the legacy surface in a Unicode font: a shared string it shared with A2 is
    # copied for A2, so B2 is left exactly as it was.
    assert cells["B2"] == surface(shared_text, ".VnTime")
    assert cells["A3"] == "TUYỆT MẬT"
    assert cells["A4"] == "Ghi chú: đã xong"
    assert surface(shared_text, ".VnTime") in sst and shared_text in sst
    styles = p["xl/styles.xml"].decode()
    assert ".VnTime" not in styles and "Times New Roman" in styles and "Arial" in styles
    # numbers and other parts untouched
    assert parts(src)["xl/workbook.xml"] == p["xl/workbook.xml"]


@pytest.mark.parametrize("enc", ["tcvn3", "vni", "cp1258", "viscii"])
def test_text_files(enc):
    text = plain_punctuation(LETTER)
    out, st = convert_text(legacy.encode_bytes(text, enc))
    assert out.casefold() == text.casefold() and st.runs == 1


def test_text_named_encoding_and_surfaces():
    assert convert_text(legacy.encode_bytes(LETTER, "vps"), "vps")[0] == LETTER
    assert convert_text(legacy.encode_text(LETTER, "viqr").encode(), "viqr")[0] == LETTER
    # pasted surface
    assert convert_text(legacy.encode_text(LETTER, "vni").encode("utf-8"))[0] == LETTER
    import unicodedata

    out, st = convert_text(unicodedata.normalize("NFD", LETTER).encode())
    assert out == LETTER and st.runs == 1
    out, st = convert_text(LETTER.encode())
    assert out == LETTER and st.runs == 0
    with pytest.raises(ConvertError):
        convert_text("Grüße".encode("latin-1"))


def test_cli(tmp_path, capsys):
    src = tmp_path / "cv.docx"
    src.write_bytes(make_docx([[R("Quyết định ban hành", ".VnTime")]]))
    dst = tmp_path / "cv-unicode.docx"
    assert main(["convert", str(src), str(dst)]) == 0
    out = capsys.readouterr().out
    assert "TCVN3" in out and "Quyết định ban hành" in out
    assert runs_of(dst.read_bytes())[-1][:2] == ("Quyết định ban hành", "Times New Roman")
    assert main(["convert", str(src), str(dst)]) == 2  # exists
    assert "exists" in capsys.readouterr().err
    txt = tmp_path / "a.txt"
    txt.write_bytes(legacy.encode_bytes(LETTER, "tcvn3"))
    assert main(["convert", str(txt), str(tmp_path / "b.txt")]) == 0
    assert (tmp_path / "b.txt").read_text("utf-8").casefold() == LETTER.casefold()
    pdf = tmp_path / "c.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    assert main(["convert", str(pdf), str(tmp_path / "d.pdf")]) == 2
    assert "not converted" in capsys.readouterr().err
    assert main(["convert", str(tmp_path / "missing.txt"), str(tmp_path / "e.txt")]) == 2
