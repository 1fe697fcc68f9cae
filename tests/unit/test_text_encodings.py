"""Legacy Vietnamese encodings: tables against glibc iconv / GNU recode / Python's codec,
exact round trips of the regulation text and our own texts, and content detection of every
encoding with no false alarm on correct Unicode or on other languages."""

from __future__ import annotations

import unicodedata

import pytest

from gateway.inspect.text import detect, legacy, tables
from gateway.inspect.text.vietnamese import WORD_RE, is_syllable
from tests.textgen.helpers import have, iconv, recode
from tests.textgen.samples import (
    OTHER_LANGUAGES,
    VIETNAMESE,
    plain_punctuation,
    regulation_text,
    vietnamese_corpus,
)

needs_iconv = pytest.mark.skipif(not have("iconv"), reason="iconv not installed")
needs_recode = pytest.mark.skipif(not have("recode"), reason="recode not installed")

CORPUS = vietnamese_corpus()
PLAIN = plain_punctuation(CORPUS)  # VISCII/VPS/VN1 have no room for “ ” — …


def corpora():
    out = [("own", "\n".join(VIETNAMESE.values()))]
    reg = regulation_text()
    if reg:
        out.append(("regulation", reg))
    return out


# ------------------------------------------------------------------------------------------
# Tables


def test_letter_set_is_the_134_vietnamese_letters():
    assert len(tables.VIETNAMESE_LETTERS) == 134
    assert len(set(tables.VIETNAMESE_LETTERS)) == 134
    assert all(unicodedata.is_normalized("NFC", c) for c in tables.VIETNAMESE_LETTERS)


@pytest.mark.parametrize("enc", ["viscii", "vps", "cp1258"])
def test_full_tables_cover_every_letter(enc):
    for ch in tables.VIETNAMESE_LETTERS + ("đ", "Đ"):
        data = legacy.encode_bytes(ch, enc)
        assert legacy.decode_bytes(data, enc) == ch, (enc, ch, data)


def test_tcvn3_covers_lower_case_and_untoned_capitals():
    vn3 = set(tables.TCVN3.values())
    for ch in tables.VIETNAMESE_LETTERS:
        if ch.islower():
            assert ch in vn3, ch
    assert {"Ă", "Â", "Ê", "Ô", "Ơ", "Ư", "Đ"} <= vn3
    assert len(tables.TCVN3) == 74  # 67 lower case + 7 upper case letters


@needs_iconv
def test_viscii_table_equals_glibc_on_all_256_bytes():
    for b in range(256):
        ref = iconv(bytes([b]), "VISCII", "UTF-8")
        assert ref is not None
        assert legacy.decode_bytes(bytes([b]), "viscii") == ref.decode("utf-8"), hex(b)


@needs_iconv
def test_cp1258_table_equals_glibc_and_python_codec():
    for b in range(256):
        ours = legacy.byte_table("cp1258")[b]
        try:
            py = bytes([b]).decode("cp1258")
        except UnicodeDecodeError:
            py = None
        ref = iconv(bytes([b]), "CP1258", "UTF-8")
        if py is not None:
            assert ours == py, hex(b)
        if ref is not None and py is not None:
            assert (unicodedata.normalize("NFC", ref.decode("utf-8"))
                    == unicodedata.normalize("NFC", py))


@needs_iconv
def test_tcvn3_letter_bytes_equal_glibc_tcvn5712_and_the_vn1_trap_is_avoided():
    for b, ch in tables.TCVN3.items():
        ref = iconv(bytes([b]), "TCVN5712-1", "UTF-8")
        assert ref is not None and ref.decode("utf-8") == ch, hex(b)
    # glibc implements VN1: smart quotes and dashes of real .VnTime documents become
    # capital letters there. Ours keeps them as Windows-1252 punctuation.
    quoted = b"\x93Quy\xd5t \xae\xdenh\x94 \x96 s\xe8 12"
    assert legacy.decode_bytes(quoted, "tcvn3") == "“Quyết định” – số 12"
    glibc = iconv(quoted, "TCVN5712-1", "UTF-8")
    assert glibc is not None and "“" not in glibc.decode("utf-8")


@needs_recode
def test_vps_table_equals_recode_except_its_undefined_bytes():
    undefined_in_recode = {0x91, 0x92, 0x99, 0xA0, 0xDF, 0xE7, 0xEE, 0xF6, 0xFC}
    for b in range(256):
        if b in undefined_in_recode:
            continue
        ref = recode(bytes([b]), "VPS..utf8").decode("utf-8")
        assert legacy.decode_bytes(bytes([b]), "vps") == ref, hex(b)
    # recode lacks Ỗ; the published VPS chart has it at 0x99 and the quotes at 0x91/0x92.
    assert legacy.decode_bytes(b"\x99\x91\x92", "vps") == "Ỗ‘’"


@needs_recode
def test_vni_letters_equal_recode():
    # recode 3.6 swaps the capitals of ắ/ằ (AÈ/AÉ); the VNI font layout and UniKey write
    # Ắ = AÉ, Ằ = AÈ like their lower case, which is what we do.
    swapped = {"Ắ", "Ằ"}
    for ch in tables.VIETNAMESE_LETTERS + ("đ", "Đ"):
        ref = recode(ch.encode("utf-8"), "utf8..VNI")
        ours = legacy.encode_bytes(ch, "vni")
        if ch in swapped:
            assert ours == {"Ắ": b"A\xc9", "Ằ": b"A\xc8"}[ch]
            continue
        assert ours == ref, (ch, ours, ref)


def test_notes_mojibake_samples():
    samples = {
        "tcvn3": {"Việt Nam": "ViÖt Nam", "Quyết định": "QuyÕt ®Þnh", "Đắk Nông": "§¾k N«ng",
                  "Thượng": "Th\xadîng",
                  "Độc lập - Tự do - Hạnh phúc": "§éc lËp - Tù do - H¹nh phóc"},
        "vni": {"Việt Nam": "Vieät Nam", "Quyết định": "Quyeát ñònh",
                "Ủy ban nhân dân": "UÛy ban nhaân daân", "Thượng": "Thöôïng"},
        "viscii": {"Việt Nam": "Vi®t Nam", "Quyết định": "Quyªt ð¸nh", "Thượng": "Thßþng"},
        "vps": {"Việt Nam": "ViŒt Nam", "Quyết định": "Quy‰t ÇÎnh", "Thượng": "ThÜ®ng"},
        "viqr": {"Việt Nam": "Vie^.t Nam", "Quyết định": "Quye^'t ddi.nh",
                 "Đắk Nông": "DDa('k No^ng"},
    }
    for enc, pairs in samples.items():
        for uni, surf in pairs.items():
            assert legacy.encode_text(uni, enc) == surf, (enc, uni)
            assert legacy.decode_text(surf, enc) == uni, (enc, surf)
    # Windows-1258: UniKey decomposes every tone, glibc uses precomposed Latin-1 letters;
    # both decode to the same NFC text.
    assert legacy.decode_text("Haònh phuìc", "cp1258") == "Hạnh phúc"
    assert legacy.decode_bytes(b"H\xe0nh ph\xfac", "cp1258") == "Hành phúc"


# ------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize("enc", ["vni", "viscii", "vps", "cp1258", "viqr"])
@pytest.mark.parametrize("name,text", corpora())
def test_round_trip_is_exact(enc, name, text):
    src = plain_punctuation(text) if enc in ("viscii", "vps", "viqr") else text
    assert legacy.decode_bytes(legacy.encode_bytes(src, enc), enc) == src
    src = plain_punctuation(text) if enc in ("viscii", "vps") else text
    assert legacy.decode_text(legacy.encode_text(src, enc), enc) == src


@pytest.mark.parametrize("name,text", corpora())
def test_tcvn3_round_trip(name, text):
    back = legacy.decode_text(legacy.encode_text(text, "tcvn3"), "tcvn3")
    # VN3 has no capital toned letters: a lone capital (Ủy) comes back lower case, as the
    # .VnTime document showed it; all-capital lines come back in capitals.
    assert back.casefold() == text.casefold()
    for orig, got in zip(text.splitlines(), back.splitlines(), strict=True):
        letters = [c for c in orig if c.isalpha()]
        if letters and all(c.isupper() for c in letters) and len(letters) >= 3:
            assert got == orig
    # The all-capitals font keeps them all.
    upper = text.upper()
    surf = legacy.encode_text(upper, "tcvn3", upper_font=True)
    assert legacy.decode_text(surf, "tcvn3", upper=True) == upper


def test_tcvn3_case_of_title_words():
    assert legacy.decode_text("§éc lËp", "tcvn3") == "Độc lập"
    assert legacy.decode_text("§é mËt", "tcvn3") == "Độ mật"
    assert (legacy.decode_text("CéNG HßA X· HéI CHñ NGHÜA VIÖT NAM", "tcvn3")
            == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert legacy.decode_text("tuyÖt mËt", "tcvn3", upper=True) == "TUYỆT MẬT"


@needs_iconv
@pytest.mark.parametrize("name,text", corpora())
def test_iconv_encodings_decode_exactly(name, text):
    plain = plain_punctuation(text)
    for cs, enc, src in (("VISCII", "viscii", plain), ("CP1258", "cp1258", text),
                         ("TCVN5712-1", "tcvn3", plain.lower())):
        data = iconv(src.encode("utf-8"), "UTF-8", cs)
        assert data is not None, cs
        assert legacy.decode_bytes(data, enc) == src, cs
        # and ours encodes like glibc
        assert legacy.encode_bytes(src, enc) == data, cs
        back = iconv(legacy.encode_bytes(src, enc), cs, "UTF-8")
        assert back is not None and unicodedata.normalize("NFC", back.decode("utf-8")) == src


@needs_recode
@pytest.mark.parametrize("name,text", corpora())
def test_recode_vps_vni_viqr(name, text):
    plain = plain_punctuation(text)
    assert legacy.encode_bytes(plain, "vps") == recode(plain.encode(), "utf8..VPS")
    low = plain.lower()  # recode's Ắ/Ằ capitals differ (see above)
    assert legacy.decode_bytes(recode(low.encode(), "utf8..VNI"), "vni") == low
    # VIQR: recode neither escapes nor reads escapes, so compare on the words alone.
    words = " ".join(WORD_RE.findall(text))
    viqr = recode(words.encode(), "utf8..VIQR").decode("latin-1")
    assert legacy.decode_text(viqr, "viqr") == words
    viqr_bytes = legacy.encode_text(words, "viqr").encode("latin-1")
    assert recode(viqr_bytes, "VIQR..utf8").decode() == words


def test_viqr_escapes_literal_marks():
    for t in ["Hà Nội.", "giao.", "a^b", "address", "C:\\path", "Ông ấy?", "e.g. cả."]:
        assert legacy.decode_text(legacy.encode_text(t, "viqr"), "viqr") == t
    assert legacy.encode_text("giao.", "viqr") == "giao\\."
    assert legacy.decode_text("na`y./.", "viqr") == "này./."  # one tone per syllable


def test_encoding_errors():
    with pytest.raises(UnicodeEncodeError):
        legacy.encode_bytes("“x”", "viscii")
    assert legacy.encode_bytes("“x”", "viscii", errors="replace") == b"?x?"


# ------------------------------------------------------------------------------------------
# Detection


def test_syllable_checker():
    for w in ["Việt", "người", "nghiêng", "quyết", "gì", "giữa", "khuya", "Đắk", "ĐƯỢC"]:
        assert is_syllable(w), w
    for w in ["ViÖt", "für", "café", "Straße", "qu", "cát̀", "kăn", "ngaứ", "cát̉"]:
        assert not is_syllable(w), w


@pytest.mark.parametrize("enc", ["tcvn3", "vni", "cp1258", "viqr"])
@pytest.mark.parametrize("name,text", corpora())
def test_surface_detection(enc, name, text):
    det = detect.detect_content(legacy.encode_text(text, enc))
    assert det is not None and det.encoding == enc
    assert det.converted.casefold() == text.casefold()


@pytest.mark.parametrize("enc", ["tcvn3", "vni", "cp1258", "viscii", "vps"])
@pytest.mark.parametrize("name,text", corpora())
def test_byte_detection(enc, name, text):
    src = plain_punctuation(text)
    det = detect.detect_bytes(legacy.encode_bytes(src, enc), vps=(enc == "vps"))
    assert det is not None and det.encoding == enc
    assert det.converted.casefold() == src.casefold()


@needs_iconv
@pytest.mark.parametrize("name,text", corpora())
def test_detection_of_iconv_output(name, text):
    plain = plain_punctuation(text)
    for cs, enc, src in (("VISCII", "viscii", plain), ("CP1258", "cp1258", text),
                         ("TCVN5712-1", "tcvn3", plain.lower())):
        det = detect.detect_bytes(iconv(src.encode(), "UTF-8", cs) or b"")
        assert det is not None and det.encoding == enc, cs
        assert det.converted == src


def test_utf8_read_as_cp1252_is_recognised():
    text = VIETNAMESE["letter"]
    mangled = legacy.surface_char  # bytes undefined in Windows-1252 shown as C1 controls
    mangled = "".join(legacy.surface_char(b) for b in text.encode("utf-8"))
    det = detect.detect_content(mangled)
    assert det is not None and det.encoding == "utf8-as-cp1252"
    assert det.converted == text
    lossy = text.encode("utf-8").decode("cp1252", "replace")  # undefined bytes already lost
    det = detect.detect_content(lossy)
    assert det is not None and det.encoding == "utf8-as-cp1252"


@pytest.mark.parametrize("name,text", corpora())
def test_correct_unicode_vietnamese_is_not_detected(name, text):
    assert detect.detect_content(text) is None
    assert detect.detect_content(unicodedata.normalize("NFD", text)) is None
    assert detect.detect_bytes(text.encode("utf-8")) is None


@pytest.mark.parametrize("lang", sorted(OTHER_LANGUAGES))
def test_other_languages_are_not_detected(lang):
    text = OTHER_LANGUAGES[lang]
    assert detect.detect_content(text) is None
    for cs in ("cp1252", "latin-1", "cp1250", "cp1251", "utf-8"):
        try:
            data = text.encode(cs)
        except UnicodeEncodeError:
            continue
        assert detect.detect_bytes(data) is None, cs


def test_short_texts():
    # subjects and file names: two decoded words are enough, one is not
    subject = legacy.encode_text("Báo cáo tháng 8", "tcvn3")
    assert detect.detect_content(subject, min_gain=2).encoding == "tcvn3"
    assert detect.detect_content(legacy.encode_text("Báo cáo", "vni"), min_gain=2).encoding == "vni"
    assert detect.detect_content("Résumé", min_gain=2) is None
    assert detect.detect_content("Müller Straße", min_gain=2) is None


@pytest.mark.parametrize("font,enc,upper", [
    (".VnTime", "tcvn3", False), (".VnTimeH", "tcvn3", True),
    (".VnArial NarrowH", "tcvn3", True), ("ABCDEF+.VnTime,Bold", "tcvn3", False),
    ("VnTimeH-Bold", "tcvn3", True), ("VnArial", "tcvn3", False),
    ("VK Sans Serif", "tcvn3", False), ("VNI-Times", "vni", False),
    ("VNI-Helve-Condense", "vni", False),
    ("Vni-Times", "vni", False), ("VPS Times", "vps", False),
])
def test_font_names(font, enc, upper):
    fe = detect.font_encoding(font)
    assert fe is not None and (fe.encoding, fe.upper) == (enc, upper)


@pytest.mark.parametrize("font", ["Times New Roman", "Arial", "Calibri", "Cambria", "Verdana",
                                  "Vinhan", None, "", "+mn-lt"])
def test_unicode_font_names(font):
    assert detect.font_encoding(font) is None


def test_pdf_repairs():
    assert legacy.repair_pdf_tcvn3("nhµ n\u2212íc") == "nhµ n\xadíc"
    assert legacy.decode_text(legacy.repair_pdf_tcvn3("nhµ n\u2212íc"), "tcvn3") == "nhà nước"
    assert legacy.join_lost_u(legacy.decode_text("ng êi n íc", "tcvn3")) == "người nước"
    assert legacy.join_lost_u("Hà Nội có") == "Hà Nội có"
