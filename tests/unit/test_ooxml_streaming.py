"""Package parts digested without transforms are hashed as they are inflated (never held
whole), with the same checks as a whole read: a damaged, tampered or oversized part still
breaks the signature."""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from datetime import timedelta

import pytest

from gateway.inspect.base import InspectContext
from gateway.inspect.ooxml import inspect_ooxml
from gateway.inspect.safe_zip import SafeZip, ZipLimits, ZipProblem
from gateway.model.document import Document
from gateway.model.report import Coverage, DocClass, Integrity
from gateway.zip_member import MemberUnreadable, iter_member
from tests import signer as S

IMAGE = "word/media/image1.png"
METHODS = {"stored": zipfile.ZIP_STORED, "deflate": zipfile.ZIP_DEFLATED,
           "bzip2": zipfile.ZIP_BZIP2, "lzma": zipfile.ZIP_LZMA}


def _zip(data: bytes, method: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr("a.bin", data)
    return buf.getvalue()


@pytest.mark.parametrize("method", list(METHODS))
def test_streamed_digest_equals_the_digest_of_the_whole_read(method):
    data = os.urandom(3 << 20) + b"x" * (1 << 20)  # several chunks
    z = SafeZip(_zip(data, METHODS[method]))
    for alg in ("sha1", "sha256", "sha512"):
        assert z.digest("a.bin", alg) == hashlib.new(alg, data).digest()


def test_streamed_digest_keeps_the_cap_and_reports_damage():
    data = b"van ban " * 50000
    packed = _zip(data, zipfile.ZIP_DEFLATED)
    with pytest.raises(ZipProblem, match="over the size limit"):
        SafeZip(packed, ZipLimits(max_member_bytes=1000)).digest("a.bin", "sha256")
    zf = zipfile.ZipFile(io.BytesIO(packed))
    with pytest.raises(MemberUnreadable) as err:
        list(iter_member(zf, zf.infolist()[0], cap=len(data) - 1))
    assert err.value.over_cap
    damaged = bytearray(packed)
    damaged[60:90] = b"\xff" * 30
    with pytest.raises(ZipProblem, match="damaged entry"):
        SafeZip(bytes(damaged)).digest("a.bin", "sha256")


def _signed_docx(pki) -> dict[str, bytes]:
    parts = S.make_ooxml("docx")
    parts[IMAGE] = os.urandom(300_000)
    return S.sign_ooxml(parts, pki.leaf.key, pki.leaf.cert, chain=pki.chain(pki.leaf),
                        signing_time=pki.now - timedelta(days=1))


def _inspect(pki, data: bytes):
    doc = Document("a.docx", "a.docx", data, "x", "docx", DocClass.EDITABLE)
    (sig,) = inspect_ooxml(doc, InspectContext(at=pki.now)).signatures
    return sig, [f.code for f in sig.findings]


def test_binary_parts_are_digested_not_read(pki, monkeypatch):
    read: list[str] = []
    digested: list[str] = []
    real_read, real_digest = SafeZip.read, SafeZip.digest

    def spy_read(self, name):
        read.append(name)
        return real_read(self, name)

    def spy_digest(self, name, alg):
        digested.append(name)
        return real_digest(self, name, alg)

    monkeypatch.setattr(SafeZip, "read", spy_read)
    monkeypatch.setattr(SafeZip, "digest", spy_digest)
    sig, codes = _inspect(pki, S.zip_package(_signed_docx(pki)))
    assert (sig.integrity, sig.coverage) == (Integrity.INTACT, Coverage.WHOLE), codes
    assert IMAGE in digested and IMAGE not in read
    assert len(read) == len(set(read))  # no part inflated twice


def test_a_tampered_streamed_part_breaks_the_signature(pki):
    parts = _signed_docx(pki)
    parts[IMAGE] = parts[IMAGE][:-1] + bytes([parts[IMAGE][-1] ^ 1])
    sig, codes = _inspect(pki, S.zip_package(parts))
    assert sig.integrity is Integrity.BROKEN
    assert "SIG_DIGEST_MISMATCH" in codes


def test_a_damaged_streamed_part_is_unreadable_not_passed(pki):
    data = bytearray(S.zip_package(_signed_docx(pki)))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(IMAGE)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 1000: start + 1010] = bytes(10)  # the CRC no longer matches
    sig, codes = _inspect(pki, bytes(data))
    assert sig.integrity is Integrity.BROKEN
    assert "SIG_REFERENCE_UNREADABLE" in codes


@pytest.mark.parametrize("tamper", [False, True])
def test_parallel_reference_checks_give_the_same_result(pki, monkeypatch, tamper):
    import functools

    from gateway.inspect.xmldsig import verify as dsig

    parts = _signed_docx(pki)
    if tamper:
        parts["word/document.xml"] = parts["word/document.xml"].replace(b"</w:body>",
                                                                        b"<w:p/></w:body>")
    data = S.zip_package(parts)
    real = dsig.Limits
    monkeypatch.setattr(dsig, "Limits", functools.partial(real, workers=1))
    sequential = _inspect(pki, data)
    monkeypatch.setattr(dsig, "Limits", functools.partial(real, workers=2))
    parallel = _inspect(pki, data)
    assert parallel == sequential
    assert (sequential[0].integrity is Integrity.BROKEN) is tamper
    assert ("SIG_DIGEST_MISMATCH" in sequential[1]) is tamper
