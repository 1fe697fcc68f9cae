"""One way to write a certificate's subject (gateway/model/names.py), used by the PDF and
CMS inspectors, the XML-signature inspectors and the trust layer alike, and read back by the
"unit's signature" rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from gateway.inspect.pdf.signer import subject_of
from gateway.inspect.xmldsig.keys import subject_text
from gateway.model.names import readable_name, readable_subject
from gateway.policy.agencies import parse_agencies
from gateway.policy.signer_unit import signer_belongs, subject_attributes
from gateway.trust.paths import asn1_subject
from gateway.trust.store import CertFile

SUBJECT = x509.Name([
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]),
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME,
                                                       "Sở Tài chính, tỉnh Đắk Nông")]),
    x509.RelativeDistinguishedName([  # a multi-valued RDN (in DER's order)
        x509.NameAttribute(NameOID.SERIAL_NUMBER, "CMND:245000111"),
        x509.NameAttribute(NameOID.USER_ID, "MST:6400123456"),
    ]),
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.EMAIL_ADDRESS,
                                                       "vanthu.stc@daknong.gov.vn")]),
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "Nguyễn Văn A")]),
])
EXPECTED = ("CN=Nguyễn Văn A, E=vanthu.stc@daknong.gov.vn, "
            "serialNumber=CMND:245000111+UID=MST:6400123456, "
            "O=Sở Tài chính\\, tỉnh Đắk Nông, C=VN")


def _cert(subject: x509.Name = SUBJECT) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    return (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(1)
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .sign(key, hashes.SHA256()))


def test_most_specific_first_with_short_attribute_names() -> None:
    assert readable_name(SUBJECT) == EXPECTED
    assert readable_name(_cert().subject) == EXPECTED  # the same after a DER round trip


def test_every_former_formatter_writes_the_same_string() -> None:
    cert = _cert()
    der = cert.public_bytes(Encoding.DER)
    asn1 = asn1_x509.Certificate.load(der)
    assert subject_of(asn1) == EXPECTED  # PDF and CMS signatures (asn1crypto certificates)
    assert subject_text(cert) == EXPECTED  # XML signatures (cryptography certificates)
    assert readable_subject(cert) == EXPECTED  # the XML-signature report's signer
    assert asn1_subject(asn1) == EXPECTED  # the trust engine's path subjects
    assert CertFile(der, cert).subject == EXPECTED  # trust anchors, `hople trust list`


def test_no_certificate_and_unreadable_ones() -> None:
    assert readable_subject(None) is None and subject_of(None) is None

    class Garbage:
        def dump(self) -> bytes:
            return b"\x30\x03\x02\x01\x01"

    assert readable_subject(Garbage()) == "?"
    assert readable_name(x509.Name([])) == "?"


MAP = parse_agencies({
    "domains": ["daknong.gov.vn"],
    "agency": [{"code": "stc", "name": "Sở Tài chính", "local": ["stc"],
                "signer-names": ["Sở Tài chính, tỉnh Đắk Nông"]},
               {"code": "stn", "name": "Sở Thử nghiệm", "local": ["stn"],
                "signer-names": ["Sở Thử nghiệm"]}],
}, "test")


def test_the_unit_rule_reads_the_format_back() -> None:
    attrs = dict(subject_attributes(EXPECTED))
    assert attrs["o"] == "Sở Tài chính, tỉnh Đắk Nông"  # the escaped comma undone
    assert attrs["e"] == "vanthu.stc@daknong.gov.vn"
    assert signer_belongs(EXPECTED, "stc", MAP) is True
    assert signer_belongs(EXPECTED, "stn", MAP) is False
    # by the e-mail address alone, now written E= rather than as a dotted number
    assert signer_belongs("CN=A, E=x.stn@daknong.gov.vn", "stn", MAP) is True
