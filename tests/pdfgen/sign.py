"""Signing test PDFs with pyHanko, and the changes an attacker or a user makes after signing.

``sign(data, issued, chain)`` takes a certificate and key from the test PKI (an object with
``cert`` and ``key`` from ``cryptography``) and returns the signed bytes. The modifications
return new bytes built as incremental updates (or raw appends), as real tools write them.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Iterable
from typing import Any

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.signers.pdf_signer import PdfSigner, PdfTBSDocument
from pyhanko_certvalidator.registry import SimpleCertificateStore


def _asn1_cert(cert: Any) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def signer_for(issued: Any, chain: Iterable[bytes] = ()) -> signers.SimpleSigner:
    key_der = issued.key.private_bytes(serialization.Encoding.DER,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    return signers.SimpleSigner(
        signing_cert=_asn1_cert(issued.cert),
        signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(c) for c in chain]),
    )


def sign(data: bytes, issued: Any, chain: Iterable[bytes] = (), *, field: str = "Signature1",
         subfilter: str = "pades", certify: bool = False,
         docmdp: fields.MDPPerm = fields.MDPPerm.FILL_FORMS) -> bytes:
    meta = signers.PdfSignatureMetadata(
        field_name=field,
        subfilter=fields.SigSeedSubFilter.PADES if subfilter == "pades"
        else fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
        certify=certify,
        docmdp_permissions=docmdp,
        md_algorithm="sha256",
    )
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    out = signers.sign_pdf(w, meta, signer=signer_for(issued, chain))
    return out.getvalue()


def sign_sha1_subfilter(data: bytes, issued: Any, chain: Iterable[bytes] = (), *,
                        field: str = "Signature1", tamper_digest: bool = False) -> bytes:
    """A genuine ``adbe.pkcs7.sha1`` signature (which pyHanko neither writes nor validates):
    the CMS signs, as encapsulated content, the SHA-1 digest of the ByteRange."""
    signer = signer_for(issued, chain)
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.ADOBE_PKCS7_DETACHED)
    pdf_signer = PdfSigner(meta, signer)
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)

    async def go() -> bytes:
        prep, tbs, output = await pdf_signer.async_digest_doc_for_signing(w)
        assert isinstance(output, io.BytesIO)  # no output stream given: pyHanko makes one
        buf = output.getbuffer()
        old, new = b"/adbe.pkcs7.detached", b"/adbe.pkcs7.sha1    "
        raw = bytes(buf)
        pos = raw.rfind(old)
        assert pos > 0
        buf[pos:pos + len(old)] = new
        del buf
        raw = output.getvalue()
        start, end = prep.reserved_region_start, prep.reserved_region_end
        digest = hashlib.sha1(raw[:start] + raw[end:]).digest()
        if tamper_digest:
            digest = bytes(20)
        cms_obj = await signer.async_sign_general_data(digest, "sha256", detached=False)
        await PdfTBSDocument.async_finish_signing(output, prep, cms_obj)
        return output.getvalue()

    return asyncio.run(go())


# -- changes after signing ----------------------------------------------------------------------


APPENDED = b"\n% appended after signing\n1 0 obj\n<<>>\nendobj\n"


def append_bytes(data: bytes, extra: bytes = APPENDED) -> bytes:
    return data + extra


def add_page(data: bytes, text: str = "Trang them sau khi ky") -> bytes:
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    content = generic.StreamObject(stream_data=f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
    font = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Font"), pdf_name("/Subtype"): pdf_name("/Type1"),
        pdf_name("/BaseFont"): pdf_name("/Helvetica")})
    page = generic.DictionaryObject({
        pdf_name("/Type"): pdf_name("/Page"),
        pdf_name("/MediaBox"): generic.ArrayObject(
            [generic.NumberObject(v) for v in (0, 0, 595, 842)]),
        pdf_name("/Contents"): w.add_object(content),
        pdf_name("/Resources"): generic.DictionaryObject({
            pdf_name("/Font"): generic.DictionaryObject({pdf_name("/F1"): w.add_object(font)})}),
    })
    w.insert_page(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def replace_content(data: bytes, page_index: int = 0, text: str = "Noi dung da bi thay") -> bytes:
    """Replace a page's content with new text in an incremental update."""
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    page_ref = w.root["/Pages"]["/Kids"][page_index]
    page = page_ref.get_object()
    new = generic.StreamObject(stream_data=f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())
    page["/Contents"] = w.add_object(new)
    w.update_container(page)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def fill_field(data: bytes, field_name: str = "ghi_chu", value: str = "Da tiep nhan") -> bytes:
    """Fill a text form field in an incremental update (value and appearance), as a viewer does."""
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    for ref in w.root["/AcroForm"]["/Fields"]:
        fld = ref.get_object()
        if fld.get("/T") == field_name:
            fld["/V"] = generic.pdf_string(value)
            w.update_container(fld)
            stream = generic.StreamObject(
                {pdf_name("/Type"): pdf_name("/XObject"), pdf_name("/Subtype"): pdf_name("/Form"),
                 pdf_name("/BBox"): generic.ArrayObject(
                     [generic.NumberObject(v) for v in (0, 0, 200, 20)])},
                stream_data=f"/Tx BMC BT /Helv 10 Tf 2 6 Td ({value}) Tj ET EMC".encode())
            fld["/AP"] = generic.DictionaryObject({pdf_name("/N"): w.add_object(stream)})
            break
    else:  # pragma: no cover
        raise KeyError(field_name)
    out = io.BytesIO()
    w.write(out)
    return out.getvalue()


def set_subfilter(data: bytes, new: bytes) -> bytes:
    """Rewrite the last signature's SubFilter in place (same length, padded): the digest then
    no longer matches, as when a tool rewrites the dictionary after signing."""
    old = b"/ETSI.CAdES.detached"
    pos = data.rfind(old)
    if pos < 0:
        old = b"/adbe.pkcs7.detached"
        pos = data.rfind(old)
    assert pos >= 0 and len(new) <= len(old)
    return data[:pos] + new.ljust(len(old)) + data[pos + len(old):]
