"""The fast paths of intake give what the slow ones gave: a body labelled text is not shown to
libmagic when it is plainly text, yet every file format labelled text is still found; the
structure scan that skips body lines measures as the line-by-line scan; the policy that
remembers header objects decodes Vietnamese names exactly as the default policy."""

from __future__ import annotations

import base64
import email
import email.policy
import io
import random
import zipfile
from typing import Any

import pytest

from gateway.intake import sniff, structure
from gateway.intake.mime import Walker, _is_text
from gateway.intake.sniff import plainly_text, sniff_detail
from gateway.policy.schema import Documents, Limits

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
VIETNAMESE = "Kính gửi các cơ quan, đơn vị trên địa bàn tỉnh Đắk Nông.\r\n".encode() * 40


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.pdf", PDF)
    return buf.getvalue()


BINHEX = b"(This file must be converted with BinHex 4.0)\r\n:$f*TEQKPH#jdCA0d,R0TG!\r\n"
PEM_PKCS7 = (b"-----BEGIN PKCS7-----\nMIIBBgYJKoZIhvcNAQcCoIH4MIH1AgEBMQAwCwYJKoZIhvcNAQcB\n"
             b"-----END PKCS7-----\n")
GIF_PRINTABLE = b"GIF89a\x20\x20\x20\x20\x77\x20\x20" + b"A" * 200
WEBP_PRINTABLE = b"RIFF\x20\x20\x20\x20WEBPVP8 \x20\x20\x20\x20" + b"A" * 200

# Files a sender may label text/plain, each with what intake must find.
DISGUISED = {
    "pdf": (PDF, "pdf"),
    "pdf-after-a-line": (b"Xin chao\r\n" + PDF, "pdf"),
    "pdf-after-text": (VIETNAMESE[:600] + PDF, "pdf"),
    "zip": (_zip(), "zip"),
    "binhex": (BINHEX, "binhex"),
    "binhex-after-text": (b"Hello\r\n" + BINHEX, "binhex"),
    "pem-pkcs7": (PEM_PKCS7, "p7m"),
    "pem-pkcs7-after-text": (b"Xin chao\r\n\r\n" + PEM_PKCS7, "p7m"),
    "gif-printable-header": (GIF_PRINTABLE, "gif"),
    "webp-printable-header": (WEBP_PRINTABLE, "webp"),
    "ole": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "ole"),
    "png": (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + b"\0" * 64, "png"),
}


def _text_message(body: bytes, cte: bytes = b"8bit") -> bytes:
    if cte == b"base64":
        body = base64.encodebytes(body).replace(b"\n", b"\r\n")
    return (b"From: a@daknong.gov.vn\r\nTo: b@daknong.gov.vn\r\nSubject: t\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Transfer-Encoding: " + cte + b"\r\n\r\n" + body)


def _walk(raw: bytes) -> Any:
    return Walker(Limits(), Documents()).walk_message(io.BytesIO(raw))


def _summary(p: Any) -> Any:
    return ([(i.document.path, i.document.fmt, i.inspect, [f.code for f in i.findings])
             for i in p.items], [(t.path, t.raw) for t in p.text_parts],
            [f.code for f in p.findings])


@pytest.mark.parametrize("kind,cte", [
    (kind, cte) for kind, (data, _) in sorted(DISGUISED.items()) for cte in (b"8bit", b"base64")
    if cte == b"base64" or not (b"\0" in data or b"\x1a" in data)])  # binary travels base64
def test_a_file_labelled_text_is_still_found(kind: str, cte: bytes) -> None:
    data, fmt = DISGUISED[kind]
    parsed = _walk(_text_message(data, cte))
    assert not parsed.text_parts
    assert parsed.items and parsed.items[0].document.fmt == fmt
    assert parsed.items[0].document.declared_type == "text/plain"


@pytest.mark.parametrize("kind", sorted(DISGUISED))
def test_no_disguised_file_is_plainly_text(kind: str) -> None:
    assert not plainly_text(DISGUISED[kind][0])


def test_plain_vietnamese_text_is_not_shown_to_libmagic(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    def no_libmagic(head: bytes) -> str:
        raise AssertionError("libmagic asked about plain text")

    monkeypatch.setattr(sniff, "_magic_type", no_libmagic)
    parsed = _walk(_text_message(VIETNAMESE))
    assert not parsed.items
    assert [t.raw for t in parsed.text_parts] == [VIETNAMESE]


def test_what_is_not_plainly_text_still_goes_to_libmagic(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    asked: list[bytes] = []

    def spy(head: bytes) -> str:
        asked.append(head)
        return "text/plain"

    monkeypatch.setattr(sniff, "_magic_type", spy)
    legacy = "Kính các cơ quan".encode("cp1258")  # 8-bit bytes, not UTF-8
    for body in (legacy, b"a\0b", "hello".encode("utf-16"), b"Hello\r\n" + BINHEX):
        asked.clear()
        sniff_detail(body, text_label=True)
        assert asked == [body]


def _samples() -> list[bytes]:
    """Plain texts and texts carrying the marks of other formats at the start, after a line
    or in the middle (the fast path must never call text what libmagic would not)."""
    rng = random.Random(20261205)
    marks = [d for d, _ in DISGUISED.values()] + [
        b"%!PS-Adobe-3.0\n", b"{\\rtf1 x}", b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n",
        b"begin 644 a.pdf\nM)5!$1BTQ+C0*\n`\nend\n", b"<html><body>x</body></html>",
        b'<?xml version="1.0"?><?mso-application progid="Excel.Sheet"?><Workbook/>',
        b"ID;PWXL;N;E\n", b"BEGIN:VCARD\nEND:VCARD\n", b"#!/bin/sh\n", b"BM\x20\x20 text",
        b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", b"%FDF-1.2\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>", b'{"a": 1}', b"P1\n2 2\n0 1\n1 0\n",
    ]
    text = VIETNAMESE.decode()
    out = [VIETNAMESE, b"", b"a", "Đ".encode() * 3000]
    for mark in marks:
        for _ in range(4):
            cut = rng.randrange(0, len(text))
            out += [mark, mark + text[:cut].encode(), text[:cut].encode() + mark,
                    text[:cut].encode() + b"\n" + mark]
    return [s[:4096] for s in out]


def test_plainly_text_implies_libmagic_says_text() -> None:
    checked = 0
    for head in _samples():
        if plainly_text(head):
            checked += 1
            assert _is_text(sniff_detail(head)), head[:80]
    assert checked > 20  # the property is tested on texts the fast path takes


def test_a_body_cut_inside_a_utf8_sequence_is_still_plain() -> None:
    head = ("ơ" * 3000).encode()[:4095]  # a two-byte letter cut in half at the end
    assert plainly_text(head)


# -- the structure scan -------------------------------------------------------------------------


def _line_by_line(data: bytes) -> structure.Structure:
    scanner = structure.Scanner()
    for line in data.splitlines(keepends=True):
        scanner.feed(line)
    return scanner.result()


def _random_message(rng: random.Random) -> bytes:
    pieces = [b"Content-Type: multipart/mixed; boundary=a\r\n", b"Content-Type: multipart/digest;"
              b" boundary=\"b b\"\n", b"Content-Type: message/rfc822\r\n", b"X: y\r\n",
              b"\r\n", b"\n", b"\r", b"--a\r\n", b"--a--\r\n", b"--b b\n", b"--b b--\n",
              b"--a \t\r\n", b"---a\r\n", b"text -- with dashes\r\n", b"-\r\n", b"--\r\n",
              b"body line\r", b" folded\r\n", VIETNAMESE[:90]]
    return b"".join(rng.choice(pieces) for _ in range(rng.randrange(1, 60)))


def test_the_scan_that_skips_body_lines_measures_as_the_line_by_line_scan() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        data = _random_message(rng)
        assert structure.scan(data) == _line_by_line(data), data


def test_dash_lines_are_found_after_any_line_ending() -> None:
    from gateway.intake import stream

    block = b"x-y--z\r\n-a\r--b\n--c\r\n--d"
    dashes = stream.DashLines(block)
    assert dashes.next(0) == block.index(b"--b")
    assert dashes.next(block.index(b"--b")) == block.index(b"--c")
    assert dashes.next(block.index(b"--c")) == block.index(b"--d")
    assert dashes.next(block.index(b"--d")) == len(block)
    assert stream.DashLines(b"no dash at all\r\nhere").next(0) == 20


# -- headers ------------------------------------------------------------------------------------

HEADERS = (
    b"From: =?utf-8?b?VsSDbiB0aMawIA==?= <vanthu@stc.daknong.gov.vn>\r\n"
    b"Subject: =?utf-8?q?C=C3=B4ng_v=C4=83n_s=E1=BB=91_12?=\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: application/pdf; name=\"=?UTF-8?B?QsOhbyBjw6FvLnBkZg==?=\"\r\n"
    b"Content-Disposition: attachment;\r\n"
    b" filename*=utf-8''C%C3%B4ng%20v%C4%83n%20s%E1%BB%91%2012.pdf\r\n"
    b"X-Long: " + b"=?utf-8?q?=C4=90=E1=BA=AFk_N=C3=B4ng?= " * 60 + b"\r\n\r\n" + PDF
)


def test_remembered_header_objects_decode_as_the_default_policy() -> None:
    for _ in range(2):  # the second time from the remembered objects
        ours = email.message_from_bytes(HEADERS, policy=structure.POLICY)
        stdlib = email.message_from_bytes(HEADERS, policy=email.policy.default)
        for name in ("From", "Subject", "Content-Type", "Content-Disposition", "X-Long"):
            assert str(ours[name]) == str(stdlib[name])
            assert type(ours[name]).__name__ == type(stdlib[name]).__name__
        assert ours.get_filename() == stdlib.get_filename() == "Công văn số 12.pdf"
        assert ours.get_param("name") == stdlib.get_param("name")
        assert str(ours["Subject"]) == "Công văn số 12"
        assert ours.get_content_type() == "application/pdf"


def test_the_walk_decodes_vietnamese_names_with_the_remembered_headers() -> None:
    raw = (b"From: a@x.vn\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BB"
           b"\r\n\r\n" + b"".join(
               b"--BB\r\n" + HEADERS.split(b"MIME-Version: 1.0\r\n", 1)[1].replace(
                   b"\r\n\r\n" + PDF, b"\r\n\r\n" + PDF + b"\r\n") for _ in range(3))
           + b"--BB--\r\n")
    names = [i.document.name for i in _walk(raw).items]
    assert names == ["Công văn số 12.pdf"] * 3


def test_header_classes_are_made_once_and_parse_as_the_default_policy() -> None:
    """The registry makes a new class for every header it parses; the gateway's factory
    makes one per registry class. Values never seen before (a Message-ID, a long one) must
    still come out as the default policy makes them: the same text, class, defects."""
    factory: Any = structure.POLICY.header_factory
    stdlib: Any = email.policy.default.header_factory
    values = {
        "Message-ID": ["<a.1@x.vn>", "  <b@[10.0.0.1]> ", "not an id", "<x@y>(c) <z@w>"],
        "From": ["=?utf-8?b?VsSDbiB0aMawIA==?= <vt@x.vn>", "a@x.vn, \"B, C\" <b@x.vn>", "@@"],
        "Date": ["Sun, 06 Dec 2026 03:00:00 +0700", "yesterday"],
        "X-Other": ["=?utf-8?q?=C4=90=E1=BA=AFk?= tail " + "y" * factory.LONGEST],
        "Content-Type": ["text/plain; charset=\"utf-8\"", "text/", "multipart/mixed; b=\""],
    }
    for name, vals in values.items():
        for value in vals:
            ours, theirs = factory(name, value), stdlib(name, value)
            assert str(ours) == str(theirs)
            assert type(ours).__name__ == type(theirs).__name__
            assert type(ours).__mro__[1:] == type(theirs).__mro__[1:]
            assert [type(d) for d in ours.defects] == [type(d) for d in theirs.defects]
        assert factory[name] is factory[name.upper()]  # one class per registry class
        assert stdlib[name] is not stdlib[name]  # (the registry's own: a new one each time)


def test_plain_message_ids_are_taken_as_the_email_package_reads_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A Message-ID of letters, digits and dots is taken as written, without the parse: it
    must be what the parse gives, and anything else must still be parsed."""
    import re

    from gateway.intake import names

    rng = random.Random(3)
    atom = "abcXYZ019_+-"
    special = ["", ".", "..", " ", "(c)", "\"q\"", "[1.2.3.4]", "=?utf-8?q?x?=", "é", "<", ">"]
    parsed = 0
    for i in range(3000):
        def dots(letters: str) -> str:
            return ".".join("".join(rng.choice(letters) for _ in range(rng.randint(1, 6)))
                            for _ in range(rng.randint(1, 3)))
        value = f"<{dots(atom)}@{dots(atom if i % 7 == 0 else atom[:-3] + '-')}>"
        if i % 3 == 0:  # damaged or unusual ones: parsed as before
            at = rng.randint(0, len(value))
            value = value[:at] + rng.choice(special) + value[at:]
        msg = email.message_from_string(f"Message-ID: {value}\n\n", policy=structure.POLICY)
        raw = next(iter(msg.raw_items()))[1]
        fast = names.header_value(msg, "Message-ID", raw)
        plain = names._PLAIN_MESSAGE_ID
        with monkeypatch.context() as m:  # the parse, for every value
            m.setattr(names, "_PLAIN_MESSAGE_ID", re.compile("(?!)"))
            assert fast == names.header_value(msg, "Message-ID", raw), raw
        parsed += plain.fullmatch(raw) is None
    assert 500 < parsed < 2000  # both paths were taken


def test_a_part_without_name_parameters_is_unnamed_as_the_email_package_says(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``part_filename`` answers None without reading the parameters when no header could
    give a name; it must say what reading them says, for every header it is given."""
    from gateway.intake import names

    rng = random.Random(4)
    types = ["text/plain", "text/plain; charset=utf-8", "application/pdf; name=a.pdf",
             "application/pdf; NAME=\"b.pdf\"", "application/pdf; Name*=utf-8''c%C3%B4.pdf",
             "application/pdf; name*0=d; name*1=.pdf", "text/plain; x-name=y",
             "application/octet-stream; filename=e.bin", "text/plain; charset=\"name\"",
             "application/pdf; name=\"=?utf-8?b?QsOhby5wZGY=?=\"", "text/", "", "a/b; c"]
    dispositions = [None, "attachment", "inline", "attachment; filename=f.doc",
                    "attachment; FILENAME*=utf-8''g%C3%B4.doc", "inline; name=h.txt"]
    seen, skipped = set(), 0
    for _ in range(400):
        head = ""
        ctype = rng.choice(types)
        if ctype:
            head += f"Content-Type: {ctype}\r\n"
        cd = rng.choice(dispositions) if rng.random() < 0.5 else None
        if cd:
            head += f"Content-Disposition: {cd}\r\n"
        part = email.message_from_string(head + "\r\nx", policy=structure.POLICY)
        got = names.part_filename(part)
        skipped += not names._may_be_named(part)
        with monkeypatch.context() as m:  # the parameters read, always
            m.setattr(names, "_may_be_named", lambda _part: True)
            assert got == names.part_filename(part), head
        seen.add(got)
    assert None in seen and len(seen) > 5 and 50 < skipped < 350


def test_long_header_values_are_not_remembered() -> None:
    factory: Any = structure.POLICY.header_factory
    long_value = "x" * (factory.LONGEST + 1)
    assert factory("X-A", long_value) is not factory("X-A", long_value)
    assert factory("X-A", "short") is factory("X-A", "short")
    assert structure.POLICY.header_max_count("Subject") == 1


def test_what_is_remembered_is_bounded_by_the_characters_of_the_values() -> None:
    """A header object keeps its parse tree (up to about 1.3 KB per character of a hostile
    value): a stream of distinct values must not make the worker grow."""
    factory: Any = structure.POLICY.header_factory
    value = "attachment; " + ";".join("x" for _ in range(200))
    for i in range(5000):
        factory("Content-Disposition", value[:factory.LONGEST - 6] + str(i))
        assert factory._chars <= factory.BUDGET
    assert len(factory._made) <= factory.BUDGET // factory.LONGEST + 1
    assert factory._chars == sum(len(n) + len(v) for n, v in factory._made)


# -- delimiters in the split ---------------------------------------------------------------------


def _parser_delimiter(line: bytes, boundaries: list[tuple[str, bool]]) -> list[tuple[int, bool]]:
    """Every open multipart the standard library's pattern (``email.feedparser``) takes
    ``line`` for, innermost first: ``(index, closes)``."""
    import re

    text = line.decode("ascii", "surrogateescape")
    hits = []
    for i in range(len(boundaries) - 1, -1, -1):
        b, in_parts = boundaries[i]
        mo = re.match("(?P<sep>" + re.escape("--" + b)
                      + r")(?P<end>--)?(?P<ws>[ \t]*)(?P<linesep>\r\n|\r|\n)?$", text)
        if in_parts and mo:
            hits.append((i, bool(mo.group("end"))))
    return hits


def test_the_split_finds_delimiters_as_the_parsers_pattern() -> None:
    from gateway.intake import stream

    rng = random.Random(11)
    alphabet = ["a", "b", "-", "--", " ", "\t", "=_"]
    for _ in range(4000):
        s = stream._Splitter(1 << 20, 1 << 20, 0)
        opened = []
        for _ in range(rng.randrange(1, 5)):
            b = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 4)))
            s._push(stream._Multi((), b, False, True))
            if rng.random() < 0.2:
                s.multis[-1].in_parts = False
            opened.append((b, s.multis[-1].in_parts))
        if rng.random() < 0.3 and len(s.multis) > 1:  # inner multiparts ended
            keep = rng.randrange(0, len(s.multis))
            s._pop_to(keep)
            opened = opened[:keep + 1]
        b = rng.choice(opened)[0]
        line = ("--" + b + rng.choice(["", "--", "-"]) + rng.choice(["", " ", "\t ", "x"])
                + rng.choice(["\r\n", "\n", "\r", ""])).encode()
        expected = _parser_delimiter(line, opened)
        s.unsafe = False
        got = s._delimiter(line)
        assert got == (expected[0] if expected else None), (line, opened)
        assert s.unsafe == (len(expected) > 1)


# -- a message too deep to parse ----------------------------------------------------------------


class _Reads(io.BytesIO):
    """A message file that remembers how much each read asked for."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.asked: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        self.asked.append(-1 if size is None else size)
        return super().read(size)


@pytest.mark.parametrize("padding", [0, 3 * 1024 * 1024])
def test_a_message_too_deep_to_parse_is_a_limit_without_reading_it_whole(padding: int) -> None:
    from gateway.intake import stream
    from tests.containers import nested_multipart

    raw = nested_multipart(structure.PARSE_MAX_DEPTH + 40)
    raw = raw.replace(b"hello\r\n", b"hello\r\n" + (b"x" * 76 + b"\r\n") * (padding // 78))
    fp = _Reads(raw)
    parsed = Walker(Limits(), Documents()).walk_message(fp)
    assert [f.code for f in parsed.findings] == ["MIME_LIMIT"]
    assert "levels deep" in (parsed.findings[0].params.get("reason") or "")
    assert dict(parsed.headers)["From"] == "stttt@daknong.gov.vn"
    assert not parsed.items and not parsed.text_parts
    if len(raw) > stream.TOKEN_BYTES:
        assert len(raw) > padding
        # read in blocks, and the top header block alone again: never the whole file
        assert -1 not in fp.asked
        assert max(fp.asked) <= max(stream.CHUNK, Limits().mime_max_header_bytes + 1024)
