"""How a certificate's subject (or issuer) is written in reports, findings and commands.

One format for every signature format and for the trust layer: ``CN=..., O=..., C=VN``, most
specific first as people read a subject (the reverse of the order in the certificate, as RFC
4514 writes it), with short names for the attributes Vietnamese certificates carry (``E``,
``serialNumber``, ``UID``, ``GN``, ``SN``) instead of dotted numbers. ``?`` when the name
cannot be read. ``policy/signer_unit.py`` parses this format back.
"""

from __future__ import annotations

from typing import Protocol

from cryptography import x509
from cryptography.x509.oid import NameOID

__all__ = ["readable_name", "readable_subject"]

SHORT_NAMES = {
    NameOID.COMMON_NAME: "CN", NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU", NameOID.COUNTRY_NAME: "C",
    NameOID.EMAIL_ADDRESS: "E", NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.GIVEN_NAME: "GN", NameOID.SURNAME: "SN", NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "ST", NameOID.USER_ID: "UID",
}


class _Der(Protocol):
    """A certificate of another library (asn1crypto) that gives its DER encoding."""

    def dump(self) -> bytes: ...


def readable_name(name: x509.Name) -> str:
    """``CN=..., O=..., C=VN``, or ``?`` when the name is empty or cannot be written."""
    try:
        parts = [rdn.rfc4514_string(attr_name_overrides=SHORT_NAMES)
                 for rdn in reversed(name.rdns)]
    except (ValueError, TypeError):  # a malformed attribute value: say so, never crash
        return "?"
    return ", ".join(parts) or "?"


def readable_subject(cert: x509.Certificate | _Der | None) -> str | None:
    """The subject of ``cert`` (a cryptography certificate, or one with a DER ``dump()``);
    None without a certificate, ``?`` when it cannot be read."""
    if cert is None:
        return None
    if isinstance(cert, x509.Certificate):
        return readable_name(cert.subject)
    try:
        parsed = x509.load_der_x509_certificate(cert.dump())
    except (ValueError, TypeError):
        return "?"
    return readable_name(parsed.subject)
