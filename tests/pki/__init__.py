"""A small test PKI, generated at test time into a temporary directory.

Layout (all validity windows fixed, so results do not depend on the day the tests run;
``NOW`` lies inside every "good" window):

* ``root``          RSA-2048 self-signed CA, 2020-01-01 .. 2040-01-01 (the trust anchor)
* ``intermediate``  RSA-2048 CA, pathLen 0, issued by root, 2020-01-01 .. 2035-01-01
* ``leaf``          RSA-2048, digitalSignature + nonRepudiation, 2024-01-01 .. 2027-01-01
* ``expired``       like ``leaf`` but 2021-01-01 .. 2022-01-01
* ``revoked``       like ``leaf``; on the intermediate's CRL, revoked at ``REVOKED_AT``
* ``no_usage``      like ``leaf`` but keyEncipherment only (not fit for signing)
* ``ecdsa``         ECDSA P-256 leaf, digitalSignature + nonRepudiation
* ``other_root`` / ``other_leaf``  a second, untrusted hierarchy (root issues the leaf)
* ``tsa``           RSA-2048 time-stamping authority (extended key usage timeStamping,
                    critical), issued by the intermediate, 2024-01-01 .. 2027-01-01

CRLs (in ``crl_dir``): the intermediate's CRL (lists ``revoked``) and the root's CRL
(empty), both valid ``CRL_THIS_UPDATE`` .. ``CRL_NEXT_UPDATE``.

Keys are freshly generated (RSA generation is the only random part); names, serial
numbers and dates are fixed. ``make_ca`` / ``issue`` / ``make_crl`` are public so tests
can build extra hierarchies (for example a CA whose CRL distribution point is a loopback
URL known only at test time).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

UTC = dt.UTC


def t(year: int, month: int = 1, day: int = 1, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=UTC)


NOW = t(2025, 6, 1, 12)
"""The test clock: inside the validity of root, intermediate and every good leaf."""
REVOKED_AT = t(2025, 3, 1)
"""When ``revoked`` was revoked (the CRL entry's revocationDate)."""
CRL_THIS_UPDATE = t(2025, 1, 15)
CRL_NEXT_UPDATE = t(2025, 12, 31)
CRL_URL = "http://crl.hople.test.invalid/{name}.crl"
"""Distribution point written into certificates (``.invalid``: never resolvable)."""

SIGNING_USAGE = dict(
    digital_signature=True, content_commitment=True, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
    encipher_only=False, decipher_only=False,
)
ENCIPHER_ONLY_USAGE = dict(SIGNING_USAGE, digital_signature=False, content_commitment=False,
                           key_encipherment=True)
CA_USAGE = dict(SIGNING_USAGE, digital_signature=False, content_commitment=False,
                key_cert_sign=True, crl_sign=True)


def name(cn: str, o: str = "Hople Test PKI", c: str = "VN") -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, c),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, o),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


@dataclass
class Issued:
    """One certificate with its key, in every form the tests need."""

    label: str
    key: CertificateIssuerPrivateKeyTypes
    """``cryptography`` private key (RSA or EC)."""
    cert: x509.Certificate
    path: Path | None = None
    """PEM file of the certificate (key not included)."""
    key_path: Path | None = None
    """PEM file of the unencrypted private key."""

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def subject(self) -> str:
        return self.cert.subject.rfc4514_string()

    @property
    def sha256(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex().upper()

    def write(self, directory: Path, *, with_key: bool = False) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{self.label}.pem"
        self.path.write_bytes(self.pem)
        if with_key:
            self.key_path = directory / f"{self.label}.key.pem"
            self.key_path.write_bytes(self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
        return self.path


def rsa_key(bits: int = 2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def _builder(subject: x509.Name, issuer: x509.Name, key, serial: int,
             not_before: dt.datetime, not_after: dt.datetime) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )


def make_ca(label: str, cn: str, serial: int, not_before: dt.datetime, not_after: dt.datetime,
            *, issuer: Issued | None = None, path_length: int | None = None,
            crl_url: str | None = None, key=None,
            hash_alg: hashes.HashAlgorithm | None = None) -> Issued:
    """A CA certificate: self-signed when ``issuer`` is None."""
    key = key or rsa_key()
    subject = name(cn)
    b = _builder(subject, issuer.cert.subject if issuer else subject, key, serial,
                 not_before, not_after)
    b = b.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), True)
    b = b.add_extension(x509.KeyUsage(**CA_USAGE), True)
    signer_key = issuer.key if issuer else key
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
        signer_key.public_key()), False)
    if crl_url and issuer:
        b = b.add_extension(_cdp(crl_url), False)
    cert = b.sign(signer_key, hash_alg or hashes.SHA256())  # type: ignore[arg-type]
    return Issued(label, key, cert)


def _cdp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints([x509.DistributionPoint(
        full_name=[x509.UniformResourceIdentifier(url)], relative_name=None, reasons=None,
        crl_issuer=None)])


def issue(label: str, cn: str, serial: int, issuer: Issued, not_before: dt.datetime,
          not_after: dt.datetime, *, usage: dict | None = None, key=None,
          crl_url: str | None = None, email: str | None = None, ocsp_url: str | None = None,
          org: str = "Hople Test PKI", hash_alg: hashes.HashAlgorithm | None = None,
          eku: list[x509.ObjectIdentifier] | None = None) -> Issued:
    """An end-entity certificate issued by ``issuer`` (``eku``: a critical extended key
    usage, e.g. time stamping)."""
    key = key or rsa_key()
    b = _builder(name(cn, o=org), issuer.cert.subject, key, serial, not_before, not_after)
    b = b.add_extension(x509.BasicConstraints(ca=False, path_length=None), True)
    b = b.add_extension(x509.KeyUsage(**(usage or SIGNING_USAGE)), True)
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
        issuer.key.public_key()), False)
    if crl_url:
        b = b.add_extension(_cdp(crl_url), False)
    if email:
        b = b.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), False)
    if eku:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), True)
    if ocsp_url:
        b = b.add_extension(x509.AuthorityInformationAccess([x509.AccessDescription(
            x509.oid.AuthorityInformationAccessOID.OCSP,
            x509.UniformResourceIdentifier(ocsp_url))]), False)
    cert = b.sign(issuer.key, hash_alg or hashes.SHA256())  # type: ignore[arg-type]
    return Issued(label, key, cert)


def make_crl(issuer: Issued, revoked: Iterable[tuple[Issued, dt.datetime]] = (), *,
             this_update: dt.datetime = CRL_THIS_UPDATE,
             next_update: dt.datetime = CRL_NEXT_UPDATE,
             number: int = 1) -> x509.CertificateRevocationList:
    b = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.key.public_key()), False)
    )
    for cert, when in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.cert.serial_number)
            .revocation_date(when)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), False)
            .build()
        )
    return b.sign(issuer.key, hashes.SHA256())


def crl_der(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.DER)


@dataclass
class TestPKI:
    """Everything the tests need; see the module docstring for the layout."""

    __test__ = False  # not a pytest test class

    base: Path
    root: Issued
    intermediate: Issued
    leaf: Issued
    expired: Issued
    revoked: Issued
    no_usage: Issued
    ecdsa: Issued
    other_root: Issued
    other_leaf: Issued
    intermediate_crl: x509.CertificateRevocationList
    root_crl: x509.CertificateRevocationList
    now: dt.datetime = NOW
    revoked_at: dt.datetime = REVOKED_AT
    tsa: Issued | None = None
    """The time-stamping authority (set by :func:`generate`)."""
    anchors_dir: Path = field(init=False)
    """Holds ``root.pem`` only: the configured trust anchors."""
    intermediates_dir: Path = field(init=False)
    """Holds ``intermediate.pem``: the configured intermediates."""
    crl_dir: Path = field(init=False)
    """Holds ``intermediate.crl`` and ``root.crl`` (DER)."""
    empty_crl_dir: Path = field(init=False)
    """An empty CRL cache: no revocation data at all."""
    leaves_dir: Path = field(init=False)
    """Every leaf (and the untrusted root) as PEM, with ``*.key.pem`` private keys."""

    @property
    def intermediate_crl_der(self) -> bytes:
        return crl_der(self.intermediate_crl)

    @property
    def root_crl_der(self) -> bytes:
        return crl_der(self.root_crl)

    @property
    def crls_der(self) -> list[bytes]:
        return [self.intermediate_crl_der, self.root_crl_der]

    def chain(self, leaf: Issued) -> list[bytes]:
        """The intermediates a signature by ``leaf`` would embed (DER)."""
        if leaf is self.other_leaf:
            return []
        return [self.intermediate.der]

    def all(self) -> list[Issued]:
        return [self.root, self.intermediate, self.leaf, self.expired, self.revoked,
                self.no_usage, self.ecdsa, self.other_root, self.other_leaf]


def generate(base: Path) -> TestPKI:
    """Build the test PKI into ``base`` (created if missing) and return it."""
    root = make_ca("root", "Hople Test Root CA", 0x1001, t(2020), t(2040))
    inter = make_ca("intermediate", "Hople Test Issuing CA", 0x1002, t(2020), t(2035),
                    issuer=root, path_length=0, crl_url=CRL_URL.format(name="root"))
    url = CRL_URL.format(name="intermediate")
    leaf = issue("leaf", "Nguyễn Văn A", 0x2001, inter, t(2024), t(2027), crl_url=url,
                 email="vana@hople.test", org="Sở Thử nghiệm")
    expired = issue("expired", "Expired Signer", 0x2002, inter, t(2021), t(2022), crl_url=url)
    revoked = issue("revoked", "Revoked Signer", 0x2003, inter, t(2024), t(2027), crl_url=url)
    no_usage = issue("no_usage", "Encryption Only", 0x2004, inter, t(2024), t(2027),
                     usage=ENCIPHER_ONLY_USAGE, crl_url=url)
    ecdsa = issue("ecdsa", "ECDSA Signer", 0x2005, inter, t(2024), t(2027), key=ec_key(),
                  crl_url=url)
    other_root = make_ca("other_root", "Untrusted Root CA", 0x3001, t(2020), t(2040))
    other_leaf = issue("other_leaf", "Untrusted Signer", 0x3002, other_root, t(2024), t(2027))
    tsa = issue("tsa", "Hople Test TSA", 0x2006, inter, t(2024), t(2027), crl_url=url,
                usage=dict(SIGNING_USAGE, content_commitment=False),
                eku=[x509.oid.ExtendedKeyUsageOID.TIME_STAMPING])

    inter_crl = make_crl(inter, [(revoked, REVOKED_AT)])
    root_crl = make_crl(root)
    pki = TestPKI(base, root, inter, leaf, expired, revoked, no_usage, ecdsa, other_root,
                  other_leaf, inter_crl, root_crl, tsa=tsa)

    pki.anchors_dir = base / "anchors"
    pki.intermediates_dir = base / "intermediates"
    pki.crl_dir = base / "crls"
    pki.empty_crl_dir = base / "crls-empty"
    pki.leaves_dir = base / "leaves"
    root.write(pki.anchors_dir)
    inter.write(pki.intermediates_dir)
    for item in (leaf, expired, revoked, no_usage, ecdsa, other_root, other_leaf, tsa):
        item.write(pki.leaves_dir, with_key=True)
    root.key_path = pki.leaves_dir / "root.key.pem"
    root.key_path.write_bytes(root.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    inter.key_path = pki.leaves_dir / "intermediate.key.pem"
    inter.key_path.write_bytes(inter.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    pki.crl_dir.mkdir(parents=True, exist_ok=True)
    pki.empty_crl_dir.mkdir(parents=True, exist_ok=True)
    (pki.crl_dir / "intermediate.crl").write_bytes(crl_der(inter_crl))
    (pki.crl_dir / "root.crl").write_bytes(crl_der(root_crl))
    return pki


__all__ = ["Issued", "NOW", "REVOKED_AT", "TestPKI", "generate", "issue", "make_ca",
           "make_crl", "crl_der", "t"]
