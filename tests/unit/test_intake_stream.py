"""Streaming intake (``intake/stream.py``): a message read from its file in pieces walks
exactly as the whole message parsed at once, and memory stays bounded by the chunk size
and the largest decoded part, not by the message."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import quopri
import random
import tracemalloc
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from gateway.intake import stream
from gateway.intake.mime import ParsedMessage, Walker
from gateway.policy.schema import Documents, Limits
from tests.containers import HEAD, nested_multipart, uuencode

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "messages"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def walk(raw: bytes, spill: int | None, monkeypatch: pytest.MonkeyPatch,
         chunk: int | None = None) -> ParsedMessage:
    with monkeypatch.context() as m:
        if spill is not None:
            m.setattr(stream, "SPILL_BYTES", spill)
        if chunk is not None:
            m.setattr(stream, "CHUNK", chunk)
        return Walker(Limits(), Documents()).walk_message(io.BytesIO(raw))


def summary(p: ParsedMessage) -> Any:
    return (
        p.headers, p.raw_headers,
        [(i.document.path, i.document.name, hashlib.sha256(i.document.data).hexdigest(),
          i.document.fmt, i.document.media_type, i.document.declared_type, i.inspect,
          [(f.code, f.place) for f in i.findings]) for i in p.items],
        [(t.path, t.media_type, t.charset, t.raw) for t in p.text_parts],
        [(f.code, f.place) for f in p.findings],
    )


def _msg(parts: list[bytes], boundary: bytes = b"b", sub: bytes = b"mixed") -> bytes:
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts)
    return (HEAD + b"Content-Type: multipart/" + sub + b'; boundary="' + boundary + b'"\r\n\r\n'
            + b"preamble\r\n" + body + b"--" + boundary + b"--\r\nepilogue\r\n")


def _b64part(name: str, data: bytes, ctype: bytes = b"application/pdf") -> bytes:
    return (b"Content-Type: " + ctype + b"\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=\"" + name.encode() + b"\"\r\n\r\n"
            + base64.encodebytes(data).replace(b"\n", b"\r\n"))


def _eml(m: EmailMessage) -> bytes:
    return m.as_bytes()


def _cases() -> dict[str, bytes]:
    rng = random.Random(12)
    blob = rng.randbytes(3000)
    text = "Kính gửi các cơ quan, đơn vị trên địa bàn tỉnh.\n" * 40
    plain = EmailMessage()
    plain["From"] = "=?utf-8?b?VsSDbiB0aMawIA==?= <vanthu@stc.daknong.gov.vn>"
    plain["Subject"] = "=?utf-8?q?C=C3=B4ng_v=C4=83n?="
    plain.set_content(text, cte="quoted-printable")
    plain.add_attachment(PDF + blob, maintype="application", subtype="pdf",
                         filename="Công văn số 12.pdf")
    inner = EmailMessage()
    inner["Subject"] = "chuyển tiếp"
    inner.set_content(text)
    inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="a.pdf")
    fwd = EmailMessage()
    fwd["From"] = "a@b.gov.vn"
    fwd.set_content("xem")
    fwd.add_attachment(inner)
    dashes = (b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
              b"\r\n--not a boundary\r\n-- \r\n--b-- but text\r\n--bx\r\n" + text.encode() * 2)
    return {
        "plain+qp+pdf": _eml(plain),
        "forwarded": _eml(fwd),
        "dashes in a body": _msg([dashes, _b64part("x.pdf", PDF + blob)]),
        "LF only": _msg([dashes, _b64part("x.pdf", PDF + blob)]).replace(b"\r\n", b"\n"),
        "CR only": _msg([dashes, _b64part("x.pdf", PDF + blob)]).replace(b"\r\n", b"\r"),
        "repeated delimiters": _msg([_b64part("a.pdf", PDF + blob)]).replace(
            b"--b\r\n", b"--b\r\n--b\r\n--b--\r\n", 1),
        "no close delimiter": _msg([_b64part("a.pdf", PDF + blob)]).rsplit(b"--b--", 1)[0],
        "ends without newline": _msg([_b64part("a.pdf", PDF + blob)]).rstrip(b"\r\nepilogue")
        .rsplit(b"--b--", 1)[0].rstrip(b"\r\n"),
        "damaged base64": _msg([_b64part("a.pdf", PDF + blob).replace(b"A", b"!", 3)]),
        "base64 padding inside": _msg([_b64part("a.pdf", PDF + blob)
                                       + b"QQ==\r\n" + base64.encodebytes(blob)]),
        "base64 short": _msg([_b64part("a.pdf", PDF + blob)[:-3]]),
        "uuencode CTE": _msg([b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: "
                              b"x-uuencode\r\n\r\n" + uuencode("a.pdf", PDF + blob)]),
        "uuencoded in a body": _msg([b"Content-Type: text/plain\r\n\r\nxem\r\n"
                                     + uuencode("a.pdf", PDF + blob) + b"\r\nhet\r\n"]),
        "digest": _msg([b"\r\nSubject: one\r\nContent-Type: application/pdf\r\n"
                        b"Content-Transfer-Encoding: base64\r\n\r\n"
                        + base64.encodebytes(PDF + blob)], sub=b"digest"),
        "rfc2231 boundary": (HEAD + b"Content-Type: multipart/mixed; boundary*=''b%20c\r\n\r\n"
                             b"--b c\r\n" + _b64part("a.pdf", PDF + blob) + b"\r\n--b c--\r\n"),
        "same boundary nested": _msg([b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
                                      + _b64part("a.pdf", PDF + blob) + b"\r\n--b--"]),
        "prefix boundaries": _msg([b'Content-Type: multipart/mixed; boundary="b--"\r\n\r\n'
                                   b"--b--\r\n" + _b64part("a.pdf", PDF + blob)
                                   + b"\r\n--b----"]),
        "multipart without boundary": HEAD + b"Content-Type: multipart/mixed\r\n\r\n" + blob,
        "message/partial": _msg([b"Content-Type: message/partial; id=x; number=1\r\n\r\n"
                                 b"Subject: p\r\n\r\n" + base64.encodebytes(blob)]),
        "delivery-status": _msg([b"Content-Type: message/delivery-status\r\n\r\n"
                                 b"Reporting-MTA: dns; x\r\n\r\nAction: failed\r\n",
                                 _b64part("a.pdf", PDF + blob)], sub=b"report"),
        "header cut by a delimiter": _msg([b"Content-Type: application/pdf\r\n",
                                           _b64part("a.pdf", PDF + blob)]),
        "no header separator": _msg([b"Content-Type: text/plain\r\nnot a header line\r\n"
                                     + text.encode()]),
        "attached message without separator": _msg([
            b"Content-Type: message/rfc822\r\nnot a header\r\nSubject: x\r\n\r\n"
            + _b64part("a.pdf", PDF + blob)]),
        "header block over the limit": _msg([b"X-Pad: " + b"a" * (1 << 20) + b"\r\n"
                                             + _b64part("a.pdf", PDF + blob)]),
        "an .eml attached as a file": _msg([
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n"
            + base64.encodebytes(_eml(plain))]),
        "deep": nested_multipart(30),
        "single part base64": (HEAD + b"Content-Type: application/pdf\r\n"
                               b"Content-Transfer-Encoding: base64\r\n\r\n"
                               + base64.encodebytes(PDF + blob)),
    }


CASES = _cases()


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("chunk", [None, 7])
def test_every_body_spilled_walks_as_the_whole_parse(name: str, chunk: int | None,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    raw = CASES[name]
    whole = walk(raw, 1 << 62, monkeypatch)  # nothing spilled: the standard parse
    assert summary(walk(raw, 0, monkeypatch, chunk)) == summary(whole)


@pytest.mark.parametrize("spill", [0, 1 << 62])
def test_an_attached_message_file_is_walked_through_its_own_split(
        spill: int, monkeypatch: pytest.MonkeyPatch) -> None:
    p = walk(CASES["an .eml attached as a file"], spill, monkeypatch)
    assert [i.document.path for i in p.items] == ["fwd.eml", "fwd.eml/Công văn số 12.pdf"]
    assert [t.path for t in p.text_parts] == ["fwd.eml/body:text/plain"]
    assert not p.findings


def test_the_split_really_spills_and_verifies() -> None:
    raw = CASES["dashes in a body"]
    got = stream.split(io.BytesIO(raw), spill_bytes=0)
    assert got.skeleton is not None and len(got.spills) == 2
    assert len(got.skeleton) < len(raw) - 3000
    from gateway.intake.structure import parse, scan

    assert got.structure == scan(raw)  # measured on the whole message, not the skeleton
    msg, _ = parse(got.skeleton)
    assert msg is not None and stream.verify(msg, got) is None
    # a token the parser reads elsewhere than where the split took it from
    tokens = list(got.spills)
    swapped = got.skeleton.replace(tokens[0].encode(), b"@@").replace(
        tokens[1].encode(), tokens[0].encode())
    other, _ = parse(swapped)
    assert other is not None and stream.verify(other, got) is not None


def test_nested_identical_boundaries_are_not_split() -> None:
    got = stream.split(io.BytesIO(CASES["same boundary nested"]), spill_bytes=0)
    assert got.skeleton is None  # the caller parses the whole message


def test_when_verification_fails_the_whole_message_is_parsed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    raw = CASES["plain+qp+pdf"]
    whole = walk(raw, 1 << 62, monkeypatch)
    monkeypatch.setattr(stream, "verify", lambda msg, got: "disagrees")
    assert summary(walk(raw, 0, monkeypatch)) == summary(whole)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus not generated")
def test_the_corpus_walks_the_same_split(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(CORPUS.glob("*.eml"))
    assert files
    for path in files:
        raw = path.read_bytes()
        assert summary(walk(raw, 0, monkeypatch)) == summary(walk(raw, 1 << 62, monkeypatch)), \
            path.name


@pytest.mark.parametrize("seed", range(20))
def test_chunked_decoders_equal_the_standard_library(seed: int,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    data = rng.randbytes(rng.randrange(0, 5000))
    text = bytes(rng.choice(b"abc =\t\r\n\xe1\xba\xa1") for _ in range(rng.randrange(0, 3000)))
    parts = [_b64part("a.bin", data, b"application/octet-stream"),
             b"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
             + quopri.encodestring(text) + (b"=\r\n" if seed % 2 else b""),
             b"Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
             + text.replace(b"--", b"- -")]
    raw = _msg(parts)
    whole = walk(raw, 1 << 62, monkeypatch)
    assert summary(walk(raw, 0, monkeypatch, chunk=rng.randrange(1, 64))) == summary(whole)


_B64_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


@pytest.mark.parametrize("foreign", [b"=", b" ", b"\r", b"\n", b"\t", b"\x00", b"-", b"_", b".",
                                     b"\x80", b"\xff", b"\xe1", b"\x2b\x2f"])
def test_the_fast_quanta_decoder_is_the_strict_one(foreign: bytes) -> None:
    """``spills._quanta`` (pybase64) decodes, and refuses, exactly what
    ``a2b_base64(strict_mode=True)`` does on whole quanta without padding, and refuses the
    rest (padding, a cut quantum) so that the standard library decides."""
    import binascii

    from gateway.intake import spills

    rng = random.Random(foreign)
    cases = [b"", b"QQ==", b"QUJD", b"QUJDRA", b"=QUJ", b"QU=J", b"Zm9v\r\nYmFy",
             bytes(range(256)) * 4]
    for _ in range(400):
        n = rng.randrange(0, 48)
        body = bytearray(rng.choice(_B64_LETTERS) for _ in range(n))
        for _ in range(rng.randrange(0, 3)):
            if body:
                body[rng.randrange(len(body))] = rng.choice(foreign)
        cases.append(bytes(body))
    for head in cases:
        try:
            strict: bytes | None = binascii.a2b_base64(head, strict_mode=True)
        except binascii.Error:
            strict = None
        fast = spills._quanta(head)
        if len(head) % 4 or b"=" in head:
            assert fast is None, head
        else:
            assert fast == strict, head


def _check_whole_lines(data: bytes) -> bytes:
    from gateway.intake import spills

    piece, rest = spills._whole_lines(data)
    assert data.endswith(rest)
    head = data[: len(data) - len(rest)]
    if head:  # decoded at once: exactly what the strict decoder gives without the breaks
        assert head.endswith(b"\n") and b"=" not in head
        assert piece == spills._quanta(head.translate(None, b"\r\n")) is not None
    else:
        assert piece == b""
    return head


@pytest.mark.parametrize("eol", [b"\r\n", b"\n", b"\r\r\n"])
def test_whole_base64_lines_decode_as_the_strict_decoder(eol: bytes) -> None:
    """``spills._whole_lines`` (the lenient pybase64 decoder, checked by its output's length)
    takes only whole lines of letters before any padding, and decodes them as the strict
    decoder does; every byte value in a line makes it give up or decode the same."""
    rng = random.Random(eol)
    good = base64.encodebytes(rng.randbytes(3000)).replace(b"\n", eol)
    for body in (good, good + b"QUI=" + eol):
        head = _check_whole_lines(body)
        if eol != b"\r\r\n":  # undamaged, as encoders write it: the fast path is taken,
            # up to the last line of the first one's width
            assert good.startswith(head) and len(good) - len(head) <= 78
    for byte in range(256):
        for _ in range(3):
            at = rng.randrange(len(good))
            for bad in (bytes([byte]), bytes([byte]) * 4, bytes([byte]) + b"QUJ"):
                _check_whole_lines(good[:at] + bad + good[at:])
                _check_whole_lines(good[:at] + bad + good[at + len(bad):])  # in its place
            _check_whole_lines(good[:at] + good[at + 1:])  # a letter or a break missing
    for width in (1, 2, 3, 5, 6, 7, 75, 77):  # lines that are not whole quanta
        letters = base64.b64encode(rng.randbytes(300)).rstrip(b"=")
        body = eol.join(letters[i:i + width] for i in range(0, len(letters), width)) + eol
        _check_whole_lines(body)


def test_a_large_base64_body_decodes_as_the_standard_library(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A 150 KB base64 text body (one chunk, one call of the fast decoder) and the same body
    with one foreign character in the middle (the standard library's lenient decoding)."""
    text = "Kính gửi các cơ quan, đơn vị trên địa bàn tỉnh.\n".encode() * 2200
    good = base64.encodebytes(text).replace(b"\n", b"\r\n")
    mid = len(good) // 2
    for body in (good, good[:mid] + b"*" + good[mid:], good[:mid] + b"=" + good[mid:]):
        raw = (HEAD + b"Content-Type: text/plain; charset=utf-8\r\n"
               b"Content-Transfer-Encoding: base64\r\n\r\n" + body)
        whole = walk(raw, 1 << 62, monkeypatch)
        assert summary(walk(raw, 0, monkeypatch)) == summary(whole)
        if body is good:
            assert whole.text_parts[0].raw == text


def test_spilled_bodies_leave_no_file_and_no_descriptor(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "msg-1.eml"
    path.write_bytes(CASES["plain+qp+pdf"])
    fds = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(stream, "SPILL_BYTES", 0)
    with path.open("rb") as fp:
        Walker(Limits(), Documents()).walk_message(fp)

    def boom(*_: Any, **__: Any) -> None:
        raise RuntimeError("inspection broke")

    monkeypatch.setattr(Walker, "_walk", boom)
    with path.open("rb") as fp, pytest.raises(RuntimeError):
        Walker(Limits(), Documents()).walk_message(fp)
    assert [p.name for p in tmp_path.iterdir()] == ["msg-1.eml"]
    assert len(os.listdir("/proc/self/fd")) == fds


def test_digests_computed_while_decoding_are_the_documents_digests(
        monkeypatch: pytest.MonkeyPatch) -> None:
    p = walk(CASES["single part base64"], 0, monkeypatch)
    assert p.digests
    for data, digest in p.digests.values():
        assert hashlib.sha256(data).hexdigest() == digest


def test_memory_is_bounded_by_the_chunk_and_the_part_not_the_message() -> None:
    """A 12 MB message with a 6 MB and a 3 MB attachment: the split holds a few chunks, the
    walk one copy of the part being decoded plus the decoded parts the documents keep."""
    rng = random.Random(3)
    big, small = PDF + rng.randbytes(6_000_000), PDF + rng.randbytes(3_000_000)
    raw = _msg([_b64part("a.pdf", big), _b64part("b.pdf", small)])
    assert len(raw) > 12_000_000
    tracemalloc.start()
    try:
        got = stream.split(io.BytesIO(raw))
        _, split_peak = tracemalloc.get_traced_memory()
        assert len(got.spills) == 2
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        out = Walker(Limits(), Documents()).walk_message(io.BytesIO(raw))
        _, walk_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [len(i.document.data) for i in out.items] == [len(big), len(small)]
    assert split_peak < 6 * stream.CHUNK
    # the raw message (held by the test) is not counted: it was allocated before
    assert walk_peak - base < len(big) + len(small) + 6 * stream.CHUNK


def test_a_message_from_a_pipe_walks_as_from_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = CASES["plain+qp+pdf"]
    r, w = os.pipe()
    os.write(w, raw)
    os.close(w)
    monkeypatch.setattr(stream, "SPILL_BYTES", 0)
    with os.fdopen(r, "rb") as fp:
        assert not fp.seekable()
        got = Walker(Limits(), Documents()).walk_message(fp)
    assert summary(got) == summary(walk(raw, 1 << 62, monkeypatch))


def test_a_spilled_body_that_cannot_be_read_back_fails_the_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk error is not a malformed part that leaves the rest to pass: the check fails and
    the milter answers with its failure policy (a temporary failure)."""
    from gateway.model.envelope import Envelope
    from gateway.pipeline import Checker
    from gateway.policy.load import load_policy

    split = stream.split

    def split_then_lose_the_file(fp: Any, *args: Any, **kw: Any) -> stream.Split:
        got = split(fp, *args, **kw)
        fp.truncate(200)  # the spool file lost its end (a disk error, a hostile neighbour)
        return got

    monkeypatch.setattr(stream, "SPILL_BYTES", 0)
    monkeypatch.setattr(stream, "split", split_then_lose_the_file)
    with pytest.raises(OSError, match="shorter"):
        Checker(load_policy(None)).check_message(io.BytesIO(CASES["plain+qp+pdf"]), Envelope())



def test_a_message_no_larger_than_a_spilled_body_is_read_whole(monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    """The split costs a Python pass per line; a message smaller than the spill threshold has
    no body to spill, so it is measured and parsed whole (as fast as before streaming)."""
    calls: list[int] = []
    real = stream.split

    def counting(fp: Any, *a: Any, **k: Any) -> stream.Split:
        calls.append(1)
        return real(fp, *a, **k)

    monkeypatch.setattr(stream, "split", counting)
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "a@x.vn", "b@y.vn", "t"
    m.set_content("Kính gửi\n")
    m.add_attachment(PDF * 100, maintype="application", subtype="pdf", filename="a.pdf")
    small = m.as_bytes()
    p = Walker(Limits(), Documents()).walk_message(io.BytesIO(small))
    assert calls == [] and [i.document.fmt for i in p.items] == ["pdf"]
    monkeypatch.setattr(stream, "SPILL_BYTES", len(small) - 1)
    q = Walker(Limits(), Documents()).walk_message(io.BytesIO(small))
    assert calls == [1] and summary(q) == summary(p)


@pytest.mark.parametrize("cte", [b"base64", b"quoted-printable", b"8bit"])
def test_a_text_body_is_not_hashed_but_a_document_labelled_text_gets_its_digest(
        cte: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    """A spilled text body is decoded without its SHA-256 (nobody reports it); a PDF labelled
    text/plain becomes a document whose digest in the report is that of its bytes."""
    from gateway.pipeline import _sha256

    def enc(data: bytes) -> bytes:
        if cte == b"base64":
            return base64.encodebytes(data).replace(b"\n", b"\r\n")
        if cte == b"quoted-printable":
            return quopri.encodestring(data)
        return data

    text = "Kính gửi các cơ quan, đơn vị trên địa bàn tỉnh.\r\n".encode() * 600
    pdf = PDF + b"%" + b"x" * 40_000 + b"\n"
    for body, is_text in ((text, True), (pdf, False)):
        raw = (HEAD + b"Content-Type: text/plain; charset=utf-8\r\n"
               b"Content-Transfer-Encoding: " + cte + b"\r\n\r\n" + enc(body))
        p = walk(raw, 0, monkeypatch)
        assert summary(p) == summary(walk(raw, 1 << 62, monkeypatch))
        if is_text:
            assert [t.raw for t in p.text_parts] == [body] and not p.items
            assert id(p.text_parts[0].raw) not in p.digests
        else:
            [item] = p.items
            assert item.document.data == body and item.document.fmt == "pdf"
            assert _sha256(item.document.data, p.digests) == hashlib.sha256(body).hexdigest()
