"""OOXML signature verification against the floor: inflating and hashing the same parts.

Builds a large signed DOCX in memory (a few MB of document XML plus images, well over
20 MB of parts), then measures in the same run:

* baseline: open the ZIP, inflate every part, SHA-256 it;
* verify: the gateway's OOXML inspector (container checks, every Manifest digest with
  C14N of the XML parts and the RelationshipTransform, SignatureValue, coverage), without
  the trust engine (chain validation does not depend on the document's size).

Target: verify ≤ 1.5 × baseline. A second, XML-only package shows the worst case, where
canonicalizing XML (parse + C14N) rather than inflating dominates.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

TARGET = 1.5


def _signer():
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tests import signer

    return signer


def _key_and_cert():
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Bench Signer")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return key, cert


def _document_xml(target_bytes: int) -> bytes:
    """Varied paragraphs (real documents deflate about 5-15x; a repeated paragraph would
    look like a zip bomb)."""
    import random

    rng = random.Random(12)
    words = ("văn bản điều khoản quyết định ủy ban nhân dân tỉnh sở ban ngành thư điện tử "
             "công vụ chữ ký số giá trị pháp lý đơn vị phát hành bản scan tệp đính kèm "
             "ngày tháng năm số hiệu trích yếu nơi nhận lưu").split()
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    out = [b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n',
           f'<w:document xmlns:w="{w}"><w:body>'.encode()]
    size = 0
    n = 0
    while size < target_bytes:
        n += 1
        text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 30)))
        para = (f'<w:p w:rsidR="{rng.getrandbits(32):08X}"><w:pPr><w:jc w:val="both"/></w:pPr>'
                f'<w:r><w:rPr><w:sz w:val="{rng.choice((24, 26, 28))}"/></w:rPr>'
                f'<w:t xml:space="preserve">{n}. {text}</w:t></w:r></w:p>').encode()
        out.append(para)
        size += len(para)
    out.append(b"</w:body></w:document>")
    return b"".join(out)


def build(xml_mb: int, media_mb: int, media_parts: int = 9) -> bytes:
    S = _signer()
    key, cert = _key_and_cert()
    parts = S.make_ooxml("docx")
    parts["word/document.xml"] = _document_xml(xml_mb << 20)
    rels = parts["word/_rels/document.xml.rels"].decode()
    extra_rels = ""
    for i in range(media_parts if media_mb else 0):
        name = f"word/media/photo{i}.jpeg"
        parts[name] = os.urandom((media_mb << 20) // media_parts)  # incompressible, like JPEG
        extra_rels += (f'<Relationship Id="rIdM{i}" Type="http://schemas.openxmlformats.org/'
                       f'officeDocument/2006/relationships/image" Target="media/photo{i}.jpeg"/>')
    parts["word/_rels/document.xml.rels"] = rels.replace("</Relationships>", extra_rels
                                                         + "</Relationships>").encode()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"<Override", b'<Default Extension="jpeg" ContentType="image/jpeg"/><Override', 1)
    signed = S.sign_ooxml(parts, key, cert)
    return S.zip_package(signed)


def baseline(data: bytes) -> int:
    total = 0
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            content = zf.read(info)
            hashlib.sha256(content).digest()
            total += len(content)
    return total


def verify(data: bytes) -> None:
    from gateway.inspect.base import InspectContext
    from gateway.inspect.ooxml import inspect_ooxml
    from gateway.model.document import Document
    from gateway.model.report import DocClass, Integrity

    doc = Document("big.docx", "big.docx", data, "x", "docx", DocClass.EDITABLE)
    result = inspect_ooxml(doc, InspectContext(at=datetime.now(UTC)))
    (sig,) = result.signatures
    if sig.integrity is not Integrity.INTACT or sig.coverage.value != "whole":
        raise SystemExit(f"benchmark package did not verify: {[f.code for f in sig.findings]}")


def _best(fn, data: bytes, rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn(data)
        best = min(best, time.perf_counter() - t0)
    return best


def measure(label: str, data: bytes, rounds: int = 3) -> float:
    """Ratio of the best verification to the best baseline. The first verification of the
    package (cold: nothing of it read before in this process, the code already imported)
    is printed too; nothing is cached between verifications, so it differs from the best
    only by the machine's own caches and noise."""
    import gateway.inspect.ooxml  # noqa: F401 - imports are not verification work

    t0 = time.perf_counter()
    verify(data)
    cold = time.perf_counter() - t0
    size = baseline(data)
    base = _best(baseline, data, rounds)
    ver = _best(verify, data, rounds)
    ratio = ver / base
    print(f"   {label}: {size / 1e6:.1f} MB of parts ({len(data) / 1e6:.1f} MB zipped): "
          f"unzip+SHA-256 {base * 1000:.0f} ms, verify {ver * 1000:.0f} ms, ratio {ratio:.2f}x"
          f" (first verification {cold * 1000:.0f} ms, {cold / base:.2f}x)", flush=True)
    return ratio


def main() -> None:
    typical = build(xml_mb=1, media_mb=20)
    ratio = measure("typical large DOCX (1 MB document XML + 20 MB images)", typical, rounds=9)
    verdict = "OK" if ratio <= TARGET else "OVER TARGET"
    print(f"   ooxml verify ratio: {ratio:.2f}x (target <= {TARGET}x) {verdict}", flush=True)
    xml_only = build(xml_mb=21, media_mb=0, media_parts=0)
    measure("worst case, XML only (21 MB document.xml; C14N-bound, no target)", xml_only)


if __name__ == "__main__":
    main()
