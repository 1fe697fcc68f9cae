"""Long-term PAdES test files (B-T, B-LT, B-LTA) signed with the test PKI and a local test
time-stamping authority (pyHanko's ``DummyTimeStamper``: tokens signed with the PKI's TSA key,
no network), and the damage done to them in tests.

* ``B-T``: the signature carries a signature timestamp token (unsigned attribute);
* ``B-LT``: B-T plus a document security store (``/DSS``) with the certificates and CRLs of
  the signer's and the TSA's chains, in an incremental update;
* ``B-LTA``: B-LT plus a document timestamp (``/DocTimeStamp``) over all of it.
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko.sign.validation.dss import DocumentSecurityStore
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from tests.pdfgen.sign import signer_for

TS_TIME_OFFSET_DAYS = 2
"""Timestamps are made this many days before the test clock."""


def _asn1(cert: Any) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def timestamper(pki: Any, *, tsa: Any = None, at: datetime | None = None) -> DummyTimeStamper:
    """A local TSA: the PKI's (or ``tsa``'s) certificate and key, tokens dated ``at``."""
    from datetime import timedelta

    tsa = tsa or pki.tsa
    key_der = tsa.key.private_bytes(serialization.Encoding.DER,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    embed = [_asn1(pki.intermediate.cert)] if tsa is pki.tsa else []
    return DummyTimeStamper(
        tsa_cert=_asn1(tsa.cert), tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
        certs_to_embed=SimpleCertificateStore.from_certs(embed),
        fixed_dt=at or pki.now - timedelta(days=TS_TIME_OFFSET_DAYS))


def validation_data(pki: Any) -> ValidationContext:
    """What a signer gathers for the DSS: the test root, the intermediate, both CRLs."""
    return ValidationContext(
        trust_roots=[_asn1(pki.root.cert)], other_certs=[_asn1(pki.intermediate.cert)],
        crls=[asn1_crl.CertificateList.load(d) for d in pki.crls_der], allow_fetching=False,
        moment=pki.now)


def sign_ltv(data: bytes, pki: Any, level: str = "B-LTA", *, issued: Any = None,
             tsa: Any = None, field: str = "Signature1") -> bytes:
    """Sign ``data`` at ``level`` (B-T, B-LT or B-LTA) with ``issued`` (default the leaf)."""
    assert level in ("B-T", "B-LT", "B-LTA"), level
    issued = issued or pki.leaf
    ts = timestamper(pki, tsa=tsa)
    meta = signers.PdfSignatureMetadata(
        field_name=field, subfilter=fields.SigSeedSubFilter.PADES, md_algorithm="sha256")
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    out = signers.sign_pdf(w, meta, signer=signer_for(issued, pki.chain(issued)), timestamper=ts)
    signed = out.getvalue()
    if level == "B-T":
        return signed
    signed = add_dss(signed, pki)
    if level == "B-LT":
        return signed
    return add_doc_timestamp(signed, pki, tsa=tsa)


def add_dss(data: bytes, pki: Any, *, crls_of: tuple[str, ...] = ("intermediate", "root"),
            certs_of: tuple[str, ...] = ("root", "intermediate", "leaf", "tsa")) -> bytes:
    """An incremental update with a DSS: certificates (``certs_of``: attribute names of the
    PKI) and CRLs (``crls_of``: whose) of the test PKI."""
    certs = [_asn1(getattr(pki, n).cert) for n in certs_of]
    by_name = {"intermediate": pki.intermediate_crl_der, "root": pki.root_crl_der}
    crls = [asn1_crl.CertificateList.load(by_name[n]) for n in crls_of]
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    sig = reader.embedded_signatures[-1]
    buf = io.BytesIO(data)
    DocumentSecurityStore.add_dss(buf, sig.pkcs7_content, certs=certs, crls=crls,
                                  embed_roots=True)
    return buf.getvalue()


def add_doc_timestamp(data: bytes, pki: Any, *, tsa: Any = None, at: datetime | None = None,
                      field: str = "DocTimeStamp1") -> bytes:
    """An incremental update with a document timestamp over the whole file."""
    w = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    stamper = signers.PdfTimeStamper(timestamper(pki, tsa=tsa, at=at), field_name=field)
    out = stamper.timestamp_pdf(w, "sha256")
    return out.getvalue()


def alter_last_token(data: bytes, part: str = "signature") -> bytes:
    """Change one byte of a signed part of the last signature's token (a document timestamp
    when it is the last one): ``imprint`` (the digest it certifies), ``time`` (its genTime)
    or ``signature`` (the TSA's signature value). The token no longer verifies."""
    from asn1crypto import cms

    start = data.rfind(b"/Contents <")
    assert start >= 0
    open_ = data.index(b"<", start) + 1
    end = data.index(b">", open_)
    der = bytes.fromhex(data[open_:end].decode())
    sd = cms.ContentInfo.load(der)["content"]
    tst = sd["encap_content_info"]["content"].parsed
    target = {
        "imprint": tst["message_imprint"]["hashed_message"].native,
        "time": tst["gen_time"].contents,
        "signature": sd["signer_infos"][0]["signature"].native,
    }[part]
    pos = der.index(target) + len(target) // 2
    changed = der[:pos] + bytes([der[pos] ^ 0x01]) + der[pos + 1:]
    hexed = changed.hex().upper().encode()
    return data[:open_] + hexed + data[open_ + len(hexed):]
