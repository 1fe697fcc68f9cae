"""Secrecy stamps (Articles 8.2, 12.4): marks are found, words in prose are not — in lines,
subjects, bodies, DOCX text boxes and legacy encodings."""

from __future__ import annotations

import pytest

from gateway.inspect.text import legacy, stamps
from gateway.model.findings import Action
from tests.textgen.docs import R, make_docx, make_odt, make_xlsx
from tests.textgen.helpers import codes, inspect_doc, message_findings, raw_message
from tests.textgen.samples import VIETNAMESE, regulation_text

STAMP_LINES = {
    "MẬT": "MẬT", "TỐI MẬT": "TỐI MẬT", "TUYỆT MẬT": "TUYỆT MẬT", "  TUYỆT   MẬT  ": "TUYỆT MẬT",
    "[MẬT]": "MẬT", "(TỐI MẬT)": "TỐI MẬT", "** TUYỆT MẬT **": "TUYỆT MẬT",
    "Độ mật: Mật": "MẬT", "ĐỘ MẬT: TUYỆT MẬT": "TUYỆT MẬT", "MẬT (đến ngày 31/12/2026)": "MẬT",
    "Số: 12/UBND-VP\t\tMẬT": "MẬT",
}
NOT_STAMPS = [
    "mật khẩu", "MẬT KHẨU", "bảo mật", "BẢO MẬT", "bí mật", "BÍ MẬT NHÀ NƯỚC", "mật độ", "MẬT ĐỘ",
    "mật ong", "MẬT ONG", "mật thiết", "thân mật", "KHẨN", "THƯỢNG KHẨN", "HỎA TỐC", "HOẢ TỐC",
    "Độ mật: Thường", "tài liệu Mật", "Mật", "các văn bản mật",
    "Cục Chứng thực số và Bảo mật thông tin", "LƯU HÀNH NỘI BỘ", "TÀI LIỆU MẬT KHẨU",
    "Độ khẩn: Hỏa tốc",
]


@pytest.mark.parametrize("line,level", sorted(STAMP_LINES.items()))
def test_stamp_lines(line, level):
    assert stamps.segment_stamp(line) == level


@pytest.mark.parametrize("line", NOT_STAMPS)
def test_not_stamps(line):
    assert stamps.segment_stamp(line) is None


def test_text_box_accepts_lower_case_stamp_only_alone():
    assert stamps.segment_stamp("Mật", any_case=True) == "MẬT"
    assert stamps.segment_stamp("Tối mật", any_case=True) == "TỐI MẬT"
    assert stamps.segment_stamp("mật khẩu", any_case=True) is None
    assert stamps.segment_stamp("Bảo mật", any_case=True) is None


def test_unaccented_is_only_a_hint():
    assert stamps.unaccented_stamp("TUYET MAT") == "TUYỆT MẬT"
    assert stamps.unaccented_stamp("TOI MAT") == "TỐI MẬT"
    assert stamps.unaccented_stamp("MAT") is None
    assert stamps.segment_stamp("TUYET MAT") is None


SUBJECTS = {
    "[MẬT] Báo cáo tình hình an ninh": "MẬT",
    "TUYỆT MẬT - Kế hoạch tác chiến": "TUYỆT MẬT",
    "Báo cáo kết quả (Tối mật)": "TỐI MẬT",
    "Gửi tài liệu MẬT về dự án": "MẬT",
    "Re: Fwd: [TỐI MẬT] Kế hoạch": "TỐI MẬT",
    "BÁO CÁO - TỐI MẬT": "TỐI MẬT",
    "Độ mật: Mật - Báo cáo quý": "MẬT",
}
NOT_SUBJECTS = [
    "Đổi mật khẩu hộp thư", "V/v bảo mật thông tin", "V/V BẢO MẬT THÔNG TIN", "ĐỔI MẬT KHẨU",
    "KẾ HOẠCH BẢO VỆ BÍ MẬT NHÀ NƯỚC", "HỎA TỐC: họp khẩn", "THƯỢNG KHẨN - Kế hoạch",
    "Mật độ dân số 2024",
    "Mật ong rừng Đắk Nông", "Độ mật: Thường", "Quy định về tài liệu mật", "[Mật khẩu] đổi ngay",
]


@pytest.mark.parametrize("subject,level", sorted(SUBJECTS.items()))
def test_subjects(subject, level):
    assert stamps.subject_stamp(subject) == level


@pytest.mark.parametrize("subject", NOT_SUBJECTS)
def test_not_subjects(subject):
    assert stamps.subject_stamp(subject) is None


def test_file_names():
    assert stamps.filename_stamp("Bao_cao_TOI_MAT.docx") == "TỐI MẬT"
    assert stamps.filename_stamp("MẬT_ke_hoach.docx") == "MẬT"
    assert stamps.filename_stamp("doi mat khau.txt") is None
    assert stamps.filename_stamp("bao_mat.docx") is None


def test_regulation_text_has_no_stamp():
    reg = regulation_text()
    if reg is None:
        pytest.skip("shared/regulation not present")
    # It speaks of "thông tin mật", "tài liệu Mật", "bí mật nhà nước", "mật khẩu", "bảo mật".
    assert all(stamps.segment_stamp(line) is None for line in reg.splitlines())
    fs = message_findings(raw_message(reg.encode("utf-8"), subject="Quy chế thư điện tử"))
    assert not [f for f in fs if f.code.startswith("SECRET")]


# ----------------------------------------------------------------------------- messages


def test_body_stamp_holds_the_message_and_names_the_contact():
    body = ("TUYỆT MẬT\n\n" + VIETNAMESE["letter"]).encode("utf-8")
    fs = message_findings(raw_message(body))
    f = next(f for f in fs if f.code == "SECRET_BODY")
    assert f.action is Action.HOLD and f.article == "8.2"
    assert f.params["level"] == "TUYỆT MẬT"
    assert "12.4" in f.vi and "12.4" in f.en
    assert "stttt@daknong.gov.vn" in f.vi


def test_body_prose_and_urgency_do_not_hold():
    body = (VIETNAMESE["urgency"] + VIETNAMESE["prose_secret_words"]
            + VIETNAMESE["letter"]).encode()
    fs = message_findings(raw_message(body, subject="HỎA TỐC - đổi mật khẩu"))
    assert not [f for f in fs if f.code.startswith("SECRET")]


def test_stamp_far_down_a_body_is_only_a_hint():
    body = ("\n".join(f"Dòng thứ {i} của thư." for i in range(40)) + "\nMẬT\n").encode()
    fs = message_findings(raw_message(body))
    assert "SECRET_BODY" not in codes(fs)
    hint = next(f for f in fs if f.code == "SECRET_HINT")
    assert hint.action is Action.ACCEPT


def test_only_lines_that_could_be_stamps_are_read_again():
    """The body check reads again only the lines ``_could_be_stamp`` lets through: every line
    the stamp readers accept, in any normal form, must pass it (else a mark is missed), and
    prose about secrecy must not (else long bodies are read line by line)."""
    import random
    import unicodedata

    from gateway.inspect.text.message import _could_be_stamp, _stamp_line_starts

    rng = random.Random(12)
    pieces = [*STAMP_LINES, *NOT_STAMPS, "TUYET MAT", "TOI MAT", "Độ mật:", "độ  mật : mật",
              "ĐỘ MẬT", "(", ")", "  ", "\t", "|", "Mật", "mật", "MAT", "Đô mât"]
    lines = list(STAMP_LINES) + ["TUYET MAT", "** TOI MAT **"]
    lines += [" ".join(rng.choice(pieces) for _ in range(rng.randint(1, 3)))
              for _ in range(3000)]
    found = 0
    for line in lines:
        for form in ("NFC", "NFD"):
            text = unicodedata.normalize(form, line)
            if stamps.segment_stamp(text) or stamps.unaccented_stamp(text):
                found += 1
                assert _could_be_stamp(text), text
                assert _stamp_line_starts(f"x\n{text}\ny", 0) == [2], text
    assert found > 500
    for prose in [*NOT_STAMPS[:12], VIETNAMESE["prose_secret_words"], "Đổi mật khẩu"]:
        if prose.upper() != prose:
            assert not _could_be_stamp(prose), prose


def test_stamp_line_starts_are_those_of_one_pattern_over_both_letters():
    """The body is searched with one pattern per first letter of a label (Đ, đ): the lines
    found must be exactly those one pattern over both letters finds, in any normal form."""
    import random
    import re
    import unicodedata

    from gateway.inspect.text.message import _STAMP_LEVEL, _stamp_line_starts

    both = re.compile("[\u0110\u0111](?:[\u1ed8\u1ed9]|[oO\u1ecc\u1ecd\u00d4\u00f4]"
                      "[\u0300-\u036f]+)\\s+[mM]")
    rng = random.Random(7)
    words = ["Độ mật", "độ  mật", "ĐỘ MẬT", "đô\u0323 m", "Đọ\u0302\tM", "đổi", "được", "MẬT",
             "MAT", "độđộ m", "Độ\n mật", "chế độ", "mật khẩu", "Đ", "đ", "\n", " ", "x"]
    for _ in range(400):
        text = "".join(rng.choice(words) + rng.choice(("", " ", "\n"))
                       for _ in range(rng.randint(1, 40)))
        for form in ("NFC", "NFD"):
            body = unicodedata.normalize(form, text)
            pos = rng.randint(0, len(body))
            expected = sorted({body.rfind("\n", 0, m.start()) + 1
                               for pattern in (_STAMP_LEVEL, both)
                               for m in pattern.finditer(body, pos)})
            assert _stamp_line_starts(body, pos) == expected, body


def test_compiled_stamp_line_starts_are_the_regex_searches() -> None:
    """The compiled search (one pass over the code points) must give the lines the three
    regex searches give: every pattern piece, each at the end of the text too, all the
    white space ``\\s`` takes (and some it does not), one-, two- and four-byte texts."""
    import random
    import re
    import unicodedata

    from gateway.inspect.text import scorer
    from gateway.inspect.text.message import _stamp_line_starts

    if not scorer.COMPILED:
        pytest.skip("the compiled scorer is not built")
    spaces = [chr(c) for c in range(0x3001) if re.match(r"\s", chr(c))]
    assert "\u00a0" in spaces and "\u2028" in spaces and "\x1c" in spaces
    words = ["Độ mật", "độ  mật", "ĐỘ MẬT", "đô\u0323 m", "Đọ\u0302\tM", "đổi", "được", "MẬT",
             "MAT", "MA\u0301\u0302T", "MÂT", "MẠT", "MAX", "M", "MẬ", "MA", "Đ", "đ", "độ", "Độ",
             "đo", "đo\u0301", "độđộ m", "Độ\n mật", "chế độ", "mật khẩu", "đỘ", "ĐỘ\u3000M",
             "đô\u0301 M", "Đô\u0300\u0301 m", "ĐÔ\u0303 M", "Đọ\u0301 m", "đỌ\u0300 m",
             "ĐO\u0309 m", "Â\u0301", "Ạ\u0300", "x", "\n", " ", "\t", "\r\n", "😀", "\u200b",
             "\u0085", *spaces]
    rng = random.Random(9)
    for i in range(3000):
        text = "".join(rng.choice(words) + rng.choice(("", " ", "\n", rng.choice(spaces)))
                       for _ in range(rng.randint(0, 30)))
        if i % 5 == 0:  # one-byte texts: only the M pattern can match there
            text = text.encode("latin-1", "ignore").decode("latin-1")
        for form in ("NFC", "NFD", None):  # and as written: marks on letters NFC composes
            body = unicodedata.normalize(form, text) if form else text
            assert scorer.stamp_line_starts(body) == _stamp_line_starts(body, 0), repr(body)


def _body_stamp_line_by_line(text, where, opts):
    """The body stamp search as first written: each top line tested on its own, the lines
    below found by a second search from the first line after the top."""
    from gateway.inspect.text.common import placed_finding, secret_finding
    from gateway.inspect.text.message import (
        _NONEMPTY_LINE,
        LEVEL_RANK,
        _could_be_stamp,
        _stamp_line_starts,
    )

    best, hint, n, pos = None, None, 0, 0
    for m in _NONEMPTY_LINE.finditer(text):
        n += 1
        pos = m.end()
        line = m.group(0)
        if n > opts.stamp_top_blocks:
            pos = m.start()
            break
        if len(line) > 160 or not _could_be_stamp(line):
            continue
        level = stamps.segment_stamp(line)
        if level:
            rank = LEVEL_RANK[level]
            if best is None or rank > best[0]:
                best = (rank, level, f"{where} line {n}")
            continue
        un = stamps.unaccented_stamp(line)
        if un and hint is None:
            hint = placed_finding("SECRET_HINT", place=where, level=un,
                                  reason="written without diacritics")
    if best is not None:
        return secret_finding("SECRET_BODY", opts, place=best[2], level=best[1])
    for start in _stamp_line_starts(text, pos):
        end = text.find("\n", start)
        line = text[start: end if end >= 0 else len(text)]
        if len(line) > 160:
            continue
        level = stamps.segment_stamp(line)
        if level:
            return placed_finding("SECRET_HINT", place=where, level=level,
                                  reason="standalone mark below the first lines")
        un = stamps.unaccented_stamp(line)
        if un and hint is None:
            hint = placed_finding("SECRET_HINT", place=where, level=un,
                                  reason="written without diacritics")
    return hint


def test_body_stamp_with_one_search_finds_what_the_line_by_line_reading_found():
    """The body check searches the whole body once for the lines that could hold a stamp and
    reads the top lines only among them: its finding must be the one of the top lines each
    tested on their own, for stamps, hints and prose on any line, in any normal form, with
    marks split across lines and with any number of top lines."""
    import dataclasses
    import random
    import unicodedata

    from gateway.inspect.text.common import Options
    from gateway.inspect.text.message import _body_stamp

    rng = random.Random(5)
    pieces = [*STAMP_LINES, *NOT_STAMPS, "TUYET MAT", "** TOI MAT **", "Độ mật: MẬT",
              "độ", "mật", "Độ\n mật", "MẬT\nMẬT", "MAT", "", "  ", "\t", "x " * 100,
              "ĐỘ MẬT: TỐI MẬT", "chế độ mật khẩu", VIETNAMESE["prose_secret_words"]]
    seen = set()
    for _ in range(1500):
        body = "\n".join(rng.choice(pieces) for _ in range(rng.randint(0, 30)))
        body = unicodedata.normalize(rng.choice(("NFC", "NFD")), body)
        opts = dataclasses.replace(Options(), stamp_top_blocks=rng.choice((0, 1, 3, 20)))
        got = _body_stamp(body, "body", opts)
        assert got == _body_stamp_line_by_line(body, "body", opts), body
        seen.add(None if got is None else (got.code, got.place))
    assert len(seen) > 5  # no stamp, top stamps on several lines, hints below the top


def test_decomposed_stamp_below_the_top_is_still_a_hint():
    import unicodedata

    body = ("\n".join(f"Dòng thứ {i} của thư về bảo mật." for i in range(40))
            + "\n" + unicodedata.normalize("NFD", "TỐI MẬT") + "\n").encode()
    fs = message_findings(raw_message(body))
    hint = next(f for f in fs if f.code == "SECRET_HINT")
    assert hint.params["level"] == "TỐI MẬT"


def test_subject_stamp_holds():
    fs = message_findings(raw_message(b"Noi dung.", subject="[MẬT] Báo cáo tình hình"))
    f = next(f for f in fs if f.code == "SECRET_SUBJECT")
    assert f.action is Action.HOLD and f.params["level"] == "MẬT"


@pytest.mark.parametrize("enc", ["tcvn3", "vni", "cp1258", "viqr"])
def test_legacy_encoded_body_stamp(enc):
    body = legacy.encode_bytes("TỐI MẬT\n" + VIETNAMESE["letter"], enc, errors="replace")
    fs = message_findings(raw_message(body, charset="iso-8859-1"))
    assert "ENCODING_MOJIBAKE" in codes(fs)
    f = next(f for f in fs if f.code == "SECRET_BODY")
    assert f.params["level"] == "TỐI MẬT"


@pytest.mark.parametrize("enc,charset",
                         [("viscii", "viscii"), ("cp1258", "windows-1258"), ("tcvn3", "tcvn")])
def test_legacy_charset_subject_and_body_stamp(enc, charset):
    subj = legacy.encode_bytes("TUYỆT MẬT - Kế hoạch", enc)
    import base64

    raw_subject = f"=?{charset}?b?{base64.b64encode(subj).decode()}?="
    body = legacy.encode_bytes("MẬT\nKính gửi các đơn vị.", enc)
    fs = message_findings(raw_message(body, charset=charset, subject_raw=raw_subject))
    assert "SECRET_SUBJECT" in codes(fs) and "SECRET_BODY" in codes(fs)
    assert codes(fs).count("ENCODING_LEGACY_CHARSET") == 2


def test_rules_choose_the_action():
    fs = message_findings(raw_message("MẬT\n".encode()), classified_action=Action.REJECT)
    assert next(f for f in fs if f.code == "SECRET_BODY").action is Action.REJECT


# ----------------------------------------------------------------------------- documents


@pytest.mark.parametrize("font", [".VnTimeH", ".VnTime", "VNI-Times", None])
@pytest.mark.parametrize("vml", [False, True])
def test_docx_text_box_stamp(font, vml):
    data = make_docx([[R(VIETNAMESE["letter"], font)]], textbox=[R("TUYỆT MẬT", font)],
                     textbox_vml_only=vml)
    fs, _ = inspect_doc("kehoach.docx", data)
    f = next(f for f in fs if f.code == "SECRET_STAMP")
    assert f.params["level"] == "TUYỆT MẬT" and "text box" in f.place
    assert f.action is Action.HOLD


def test_docx_stamp_in_header_and_table_cell():
    fs, _ = inspect_doc("a.docx", make_docx([[R("Nội dung")]], header=[R("MẬT")]))
    assert next(f for f in fs if f.code == "SECRET_STAMP").place.startswith("word/header")
    fs, _ = inspect_doc("b.docx", make_docx([[R("Nội dung")]],
                                            table=[[[R("Số: 12/UBND")], [R("TỐI MẬT")]]]))
    assert "table 1 row 1 cell 2" in next(f for f in fs if f.code == "SECRET_STAMP").place


def test_docx_prose_words_are_not_stamps():
    lines = (VIETNAMESE["prose_secret_words"] + VIETNAMESE["urgency"]).splitlines()
    paras = [[R(line)] for line in lines]
    fs, _ = inspect_doc("c.docx", make_docx(paras, textbox=[R("HỎA TỐC")]))
    assert not [f for f in fs if f.code.startswith("SECRET")]


def test_docx_stamp_deep_in_body_is_a_hint():
    paras = [[R(f"Đoạn văn số {i}.")] for i in range(40)] + [[R("MẬT")]]
    fs, _ = inspect_doc("d.docx", make_docx(paras))
    assert "SECRET_STAMP" not in codes(fs) and "SECRET_HINT" in codes(fs)


def test_xlsx_and_odt_stamps():
    fs, _ = inspect_doc("e.xlsx",
                        make_xlsx([[R("TUYỆT MẬT", ".VnTimeH")], [R("Báo cáo", ".VnTime")]]))
    assert next(f for f in fs if f.code == "SECRET_STAMP").params["level"] == "TUYỆT MẬT"
    fs, _ = inspect_doc("f.odt",
                        make_odt([[R("Nội dung văn bản")]], frame=[R("TỐI MẬT", ".VnTimeH")]))
    assert next(f for f in fs if f.code == "SECRET_STAMP").params["level"] == "TỐI MẬT"
