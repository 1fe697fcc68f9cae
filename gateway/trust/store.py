"""Reading certificates and CRLs from files and directories (PEM or DER, several per PEM).

Nothing here trusts anything: it parses, fingerprints and names. Unreadable files are
reported as problems, never raised, so one bad file in a directory does not disable the
rest.
"""

from __future__ import annotations

import base64
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from gateway.model.names import readable_name

log = logging.getLogger(__name__)

CERT_SUFFIXES = (".pem", ".crt", ".cer", ".der")
CRL_SUFFIXES = (".crl", ".pem", ".der")
MAX_FILE_BYTES = 32 * 1024 * 1024
"""Larger files are skipped (a national CRL is a few MB at most)."""

_PEM_RE = re.compile(
    rb"-----BEGIN ([A-Z0-9 ]+)-----\s*(.*?)\s*-----END \1-----", re.DOTALL
)
_CERT_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
_CRL_LABELS = {b"X509 CRL"}


@dataclass(frozen=True)
class CertFile:
    """One certificate read from a file."""

    der: bytes
    cert: x509.Certificate
    source: Path | None = None

    @property
    def sha256(self) -> str:
        """Upper-case hex, no separators."""
        return self.cert.fingerprint(hashes.SHA256()).hex().upper()

    @property
    def subject(self) -> str:
        return readable_name(self.cert.subject)

    @property
    def issuer(self) -> str:
        return readable_name(self.cert.issuer)

    @property
    def not_before(self) -> datetime:
        return self.cert.not_valid_before_utc

    @property
    def not_after(self) -> datetime:
        return self.cert.not_valid_after_utc

    @property
    def self_issued(self) -> bool:
        return self.cert.subject == self.cert.issuer


@dataclass(frozen=True)
class CrlFile:
    der: bytes
    crl: x509.CertificateRevocationList
    source: Path | None = None

    @property
    def issuer(self) -> str:
        return readable_name(self.crl.issuer)

    @property
    def next_update(self) -> datetime | None:
        return self.crl.next_update_utc

    @property
    def this_update(self) -> datetime:
        return self.crl.last_update_utc


def fingerprint_colons(hex_upper: str) -> str:
    return ":".join(hex_upper[i:i + 2] for i in range(0, len(hex_upper), 2))


def normalise_fingerprint(text: str) -> str:
    """Accept ``AA:BB:..``, ``aabb..`` or with spaces; return upper-case hex, no separators."""
    return re.sub(r"[^0-9A-Fa-f]", "", text).upper()


def _pem_blocks(data: bytes, labels: set[bytes]) -> list[bytes]:
    out = []
    for m in _PEM_RE.finditer(data):
        if m.group(1) in labels:
            try:
                out.append(base64.b64decode(b"".join(m.group(2).split()), validate=True))
            except ValueError:
                raise ValueError("PEM block with bad base64") from None
    return out


def parse_certs(data: bytes, source: Path | None = None) -> list[CertFile]:
    """All certificates in ``data`` (PEM bundle or one DER). Raises ``ValueError``."""
    if b"-----BEGIN" in data:
        ders = _pem_blocks(data, _CERT_LABELS)
        if not ders:
            raise ValueError("no CERTIFICATE block in PEM data")
    else:
        ders = [data]
    out = []
    for der in ders:
        cert = x509.load_der_x509_certificate(der)
        cert.subject  # noqa: B018  (force parsing of the names now, not later)
        cert.issuer  # noqa: B018
        out.append(CertFile(der, cert, source))
    return out


def parse_cert(der: bytes) -> CertFile:
    """Exactly one certificate, DER (or PEM). Raises ``ValueError``."""
    certs = parse_certs(der)
    if len(certs) != 1:
        raise ValueError(f"expected one certificate, found {len(certs)}")
    return certs[0]


def parse_crls(data: bytes, source: Path | None = None) -> list[CrlFile]:
    if b"-----BEGIN" in data:
        ders = _pem_blocks(data, _CRL_LABELS)
        if not ders:
            raise ValueError("no X509 CRL block in PEM data")
    else:
        ders = [data]
    out = []
    for der in ders:
        crl = x509.load_der_x509_crl(der)
        crl.issuer  # noqa: B018
        out.append(CrlFile(der, crl, source))
    return out


def _files(directory: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(
        p for p in directory.iterdir()
        if p.is_file() and p.suffix.lower() in suffixes and not p.name.startswith(".")
    )


def read_cert_dirs(dirs: list[Path], problems: list[str]) -> list[CertFile]:
    """Certificates from every file in ``dirs`` (not recursive), deduplicated by SHA-256."""
    seen: dict[str, CertFile] = {}
    for d in dirs:
        if not d.is_dir():
            problems.append(f"{d}: not a directory")
            continue
        for path in _files(d, CERT_SUFFIXES):
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    raise ValueError("file too large")
                certs = parse_certs(path.read_bytes(), path)
            except (OSError, ValueError) as exc:
                problems.append(f"{path}: not a certificate ({exc})")
                continue
            for c in certs:
                seen.setdefault(c.sha256, c)
    return list(seen.values())


def read_crl_dirs(dirs: list[Path], problems: list[str]) -> list[CrlFile]:
    out: list[CrlFile] = []
    for d in dirs:
        if not d.is_dir():
            problems.append(f"{d}: not a directory")
            continue
        for path in _files(d, CRL_SUFFIXES):
            try:
                if path.stat().st_size > MAX_FILE_BYTES:
                    raise ValueError("file too large")
                data = path.read_bytes()
                if b"-----BEGIN" in data and b"X509 CRL" not in data:
                    continue  # a certificate kept next to the CRLs
                out.extend(parse_crls(data, path))
            except (OSError, ValueError) as exc:
                problems.append(f"{path}: not a CRL ({exc})")
    return out


def utc(value: datetime) -> datetime:
    """Naive times are taken as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


__all__ = ["CertFile", "CrlFile", "fingerprint_colons", "normalise_fingerprint",
           "parse_cert", "parse_certs", "parse_crls", "read_cert_dirs", "read_crl_dirs",
           "readable_name", "utc"]
