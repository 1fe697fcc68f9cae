"""Article 9.5 in messages: declared charsets, legacy text behind Unicode/Latin-1 labels,
decomposed Vietnamese, subjects (RFC 2047 in legacy charsets) and file names; no false alarm
on correct Vietnamese, English or other languages; the findings reach the pipeline report."""

from __future__ import annotations

import base64
import io
import unicodedata

import pytest

from gateway.inspect.text import legacy
from gateway.model.findings import Action, Severity
from tests.textgen.helpers import have, iconv, message_findings, raw_message
from tests.textgen.samples import OTHER_LANGUAGES, VIETNAMESE, plain_punctuation, regulation_text

LETTER = VIETNAMESE["letter"]


def bodies():
    out = [("letter", LETTER)]
    reg = regulation_text()
    if reg:
        out.append(("regulation", reg))
    return out


@pytest.mark.parametrize("charset,enc", [
    ("windows-1258", "cp1258"), ("VISCII", "viscii"), ("TCVN", "tcvn3"), ("x-viet-vps", "vps"),
    ("viqr", "viqr")])
def test_legacy_charset_declared(charset, enc):
    body = legacy.encode_bytes(plain_punctuation(LETTER), enc)
    fs = message_findings(raw_message(body, charset=charset))
    (f,) = fs
    assert f.code == "ENCODING_LEGACY_CHARSET" and f.article == "9.5"
    assert f.params["charset"].lower() == charset.lower()
    assert f.params["snippet"].startswith("Kính gửi: Sở Thông tin")
    assert f.severity is Severity.WARNING  # [text] body-legacy-severity


@pytest.mark.parametrize("enc", ["tcvn3", "vni", "cp1258", "viscii"])
@pytest.mark.parametrize("charset", ["iso-8859-1", "windows-1252", "us-ascii", "utf-8", None])
@pytest.mark.parametrize("name,text", bodies())
def test_legacy_bytes_behind_another_label(enc, charset, name, text):
    body = legacy.encode_bytes(plain_punctuation(text), enc)
    fs = message_findings(raw_message(body, charset=charset))
    f = next(f for f in fs if f.code == "ENCODING_MOJIBAKE")
    assert f.params["encoding"] == legacy.LABELS[enc]
    assert unicodedata.is_normalized("NFC", f.params["snippet"])


@pytest.mark.parametrize("enc", ["tcvn3", "vni", "cp1258", "viqr"])
def test_legacy_surface_in_utf8_body(enc):
    # Text copied from a .VnTime / VNI-Times document into a UTF-8 mail program.
    body = legacy.encode_text(LETTER, enc).encode("utf-8")
    fs = message_findings(raw_message(body, charset="utf-8"))
    (f,) = fs
    assert f.code == "ENCODING_MOJIBAKE" and f.params["encoding"] == legacy.LABELS[enc]


@pytest.mark.skipif(not have("iconv"), reason="iconv not installed")
def test_iconv_made_bodies():
    for cs, enc in (("VISCII", "viscii"), ("CP1258", "cp1258")):
        data = iconv(plain_punctuation(LETTER).encode(), "UTF-8", cs)
        fs = message_findings(raw_message(data, charset="iso-8859-1"))
        mojibake = next(f for f in fs if f.code == "ENCODING_MOJIBAKE")
        assert mojibake.params["encoding"] == legacy.LABELS[enc]


def test_html_body_with_legacy_font():
    surf = legacy.encode_text("Quyết định về việc ban hành quy chế", "tcvn3")
    html = ("<html><body><p>Kính gửi các đơn vị,</p>"
            f'<p><span style="font-family:\'.VnTime\'">{surf}</span></p></body></html>').encode()
    fs = message_findings(raw_message(html, subtype="html"))
    (f,) = fs
    assert f.code == "ENCODING_MOJIBAKE" and ".VnTime" in f.params["encoding"]
    assert f.params["snippet"] == "Quyết định về việc ban hành quy chế"


def test_decomposed_vietnamese_is_a_warning_with_nfc():
    body = unicodedata.normalize("NFD", LETTER).encode("utf-8")
    (f,) = message_findings(raw_message(body))
    assert f.code == "ENCODING_DECOMPOSED" and f.severity is Severity.WARNING
    assert f.params["snippet"] == unicodedata.normalize("NFC", LETTER.splitlines()[0])
    # UniKey "Unicode tổ hợp": base letters with hat/breve/horn precomposed + one tone mark
    tohop = "Vi\u00ea\u0323t Nam"
    (f,) = message_findings(raw_message(tohop.encode()))
    assert f.code == "ENCODING_DECOMPOSED" and f.params["snippet"] == "Việt Nam"


@pytest.mark.parametrize("name,text", bodies())
def test_clean_vietnamese_gives_nothing(name, text):
    assert message_findings(
        raw_message(text.encode("utf-8"), subject="Quyết định 12/2012/QĐ-UBND")) == []
    assert message_findings(raw_message(text.encode("utf-8"), subtype="html")) == []


@pytest.mark.parametrize("lang", sorted(OTHER_LANGUAGES))
def test_other_languages_give_nothing(lang):
    text = OTHER_LANGUAGES[lang]
    assert message_findings(raw_message(text.encode("utf-8"), subject=text[:40])) == []
    for cs in ("iso-8859-1", "windows-1250", "windows-1251", "koi8-r", "gb2312", "iso-8859-9"):
        try:
            data = text.encode(cs)
        except UnicodeEncodeError:
            continue
        assert message_findings(raw_message(data, charset=cs)) == [], cs


def test_invalid_utf8_that_is_not_vietnamese():
    (f,) = message_findings(raw_message("Grüße aus München".encode("latin-1"), charset="utf-8"))
    assert f.code == "ENCODING_INVALID"


@pytest.mark.parametrize("charset,enc",
                         [("windows-1258", "cp1258"), ("viscii", "viscii"), ("tcvn", "tcvn3")])
def test_subject_in_legacy_charset(charset, enc):
    data = legacy.encode_bytes("Báo cáo tháng tám", enc)
    raw = f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    fs = message_findings(raw_message(b"x", subject_raw=raw))
    (f,) = fs
    assert f.code == "ENCODING_LEGACY_CHARSET" and f.place == "Subject"
    assert f.params["snippet"] == "Báo cáo tháng tám"


@pytest.mark.parametrize("enc", ["tcvn3", "vni"])
def test_mojibake_subject_and_file_name(enc):
    subj = legacy.encode_text("Báo cáo tháng tám", enc)
    name = legacy.encode_text("Kế hoạch năm", enc) + ".docx"
    fs = message_findings(raw_message(b"x", subject=subj, attachments=[(name, b"PK\x03\x04")]))
    got = {f.place: f for f in fs}
    assert got["Subject"].code == "ENCODING_MOJIBAKE"
    assert got["Subject"].params["snippet"] == "Báo cáo tháng tám"
    f = next(f for f in fs if f.place != "Subject")
    assert f.code == "ENCODING_MOJIBAKE" and f.params["snippet"] == "Kế hoạch năm"


def test_decomposed_subject():
    subj = unicodedata.normalize("NFD", "Báo cáo tháng tám")
    raw = f"=?utf-8?B?{base64.b64encode(subj.encode()).decode()}?="
    (f,) = message_findings(raw_message(b"x", subject_raw=raw))
    assert f.code == "ENCODING_DECOMPOSED"


def test_rules_set_the_severity():
    body = legacy.encode_bytes(LETTER, "cp1258")
    (f,) = message_findings(raw_message(body, charset="windows-1258"),
                            body_legacy_severity=Severity.ERROR)
    assert f.severity is Severity.ERROR


def test_pipeline_report_and_verdicts():
    from gateway.model.envelope import Envelope
    from gateway.pipeline import Checker
    from tests.textgen.helpers import policy

    ck = Checker(policy())
    r = ck.check_message(io.BytesIO(raw_message(b"TUYET MAT", subject="[TUYỆT MẬT] Kế hoạch")),
                         Envelope())
    assert r.verdict.value == "held" and r.action is Action.HOLD
    js = r.to_json()
    f = next(f for f in js["findings"] if f["code"] == "SECRET_SUBJECT")
    assert f["article"] == "8.2" and f["place"] == "Subject"
    r = ck.check_message(io.BytesIO(raw_message(LETTER.encode())), Envelope())
    assert r.action is Action.ACCEPT
    assert not [f for f in r.findings if f.code.startswith(("ENCODING", "SECRET"))]


def test_every_text_finding_renders_completely():
    """No template field left unfilled ({…}) in any text/encoding/secret finding."""
    from tests.textgen.docs import R, make_docx
    from tests.textgen.helpers import inspect_doc

    fs = list(message_findings(raw_message(
        b"MAT\n" + legacy.encode_bytes(LETTER, "tcvn3"), charset="iso-8859-1",
        subject="[MẬT] " + legacy.encode_text("Báo cáo tháng", "vni"),
        attachments=[("Bao_cao_TOI_MAT.docx", b"x")])))
    fs += message_findings(raw_message(unicodedata.normalize("NFD", LETTER).encode()))
    fs += message_findings(raw_message(legacy.encode_bytes(LETTER, "cp1258"),
                                       charset="windows-1258"))
    fs += message_findings(raw_message("Grüße".encode("latin-1"), charset="utf-8"))
    fs += message_findings(raw_message(("\n" * 30 + "TUYET MAT\n").encode()))
    doc, _ = inspect_doc("a.docx", make_docx([[R(f"Đoạn {i}")] for i in range(30)] + [[R("MẬT")]],
                                             textbox=[R("Quyết định", ".VnTime")]))
    fs += doc
    fs += inspect_doc("b.docx", b"PK\x03\x04broken")[0]
    seen = {f.code for f in fs}
    assert {"ENCODING_MOJIBAKE", "SECRET_SUBJECT", "SECRET_HINT", "ENCODING_DECOMPOSED",
            "ENCODING_LEGACY_CHARSET", "ENCODING_INVALID", "TEXT_LEGACY_FONT"} <= seen
    for f in fs:
        assert "{" not in f.vi and "{" not in f.en, (f.code, f.vi)


LONG_UNICODE = "\n".join(VIETNAMESE.values()) * 12


@pytest.mark.parametrize("enc", ["tcvn3", "vni", "viqr"])
@pytest.mark.parametrize("charset", ["utf-8", "UTF8", '"utf-8"'])
def test_legacy_paragraphs_inside_a_utf8_body(enc, charset, monkeypatch):
    # the detection reads the body's own bytes (no second encoding): it must see the paste
    # (a paste much shorter than the Unicode text around it cannot double its good words
    # and is, by design, not reported)
    from gateway.inspect.text import detect

    seen: list[bytes | None] = []
    real = detect._quick_bound

    def spy(text, utf8=None):
        seen.append(utf8)
        if utf8 is not None:
            assert utf8 == text.encode("utf-8")
        return real(text, utf8)

    monkeypatch.setattr(detect, "_quick_bound", spy)
    text = (VIETNAMESE["header"] + "\n" + legacy.encode_text(LETTER * 4, enc) + "\n"
            + LETTER)
    fs = message_findings(raw_message(text.encode("utf-8"), charset=charset))
    assert [f.params["encoding"] for f in fs if f.code == "ENCODING_MOJIBAKE"] == \
        [legacy.LABELS[enc]]
    assert any(u is not None for u in seen) or enc == "viqr"


def test_one_decomposed_line_inside_a_long_utf8_body():
    line = unicodedata.normalize("NFD", "Tỉnh ủy chỉ đạo các huyện")
    body = "\ufeff" + LONG_UNICODE + "\n" + line + "\n" + LONG_UNICODE
    (f,) = message_findings(raw_message(body.encode("utf-8")))
    assert f.code == "ENCODING_DECOMPOSED" and f.params["snippet"] == "Tỉnh ủy chỉ đạo các huyện"
    assert message_findings(raw_message(("\ufeff" + LONG_UNICODE).encode("utf-8"))) == []
