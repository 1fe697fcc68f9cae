"""Article 9.2a asks for *the unit's* digital signature: optionally, a signature counts only
when its certificate belongs to the agency that sends the message.

The sending agency comes from the sender address through the agency map
(``rules/agencies.toml``); the certificate belongs to it when its O or OU is one of the
agency's ``signer-names`` (compared without case, accents or extra spaces), or when an e-mail
address in its subject resolves to the same agency.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from gateway.model.catalog import make_finding
from gateway.model.report import SignatureReport
from gateway.policy.agencies import EXTERNAL, NONE, UNKNOWN, AgencyMap

_ATTR = re.compile(r"(?:^|,\s*)([A-Za-z0-9.]+)=((?:[^,\\]|\\.)*)")
_EMAIL_ATTRS = {"e", "email", "emailaddress", "1.2.840.113549.1.9.1"}


def _fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().split())


def subject_attributes(subject: str) -> list[tuple[str, str]]:
    """``CN=A, O=Sở X, OU=Y`` → ``[("cn", "A"), ("o", "Sở X"), ("ou", "Y")]`` (RFC 4514
    escapes undone)."""
    out = []
    for key, value in _ATTR.findall(subject):
        out.append((key.lower(), re.sub(r"\\(.)", r"\1", value).strip()))
    return out


def signer_belongs(subject: str, agency_code: str, agencies: AgencyMap) -> bool:
    agency = agencies.by_code(agency_code)
    if agency is None:
        return False
    names = {_fold(n) for n in agency.signer_names}
    for key, value in subject_attributes(subject):
        if key in ("o", "ou") and _fold(value) in names:
            return True
        if key in _EMAIL_ATTRS and agencies.resolve(value).code == agency_code:
            return True
    return False


def check_signers(
    signatures: tuple[SignatureReport, ...], sender: str | None, agencies: AgencyMap, name: str
) -> tuple[SignatureReport, ...]:
    """Add ``SIG_SIGNER_NOT_SENDER_UNIT`` to each signature whose signer is not of the
    sender's agency (a sender outside the map's agencies can match no signer)."""
    agency = agencies.resolve(sender)
    out = []
    for sig in signatures:
        known = agency not in (EXTERNAL, UNKNOWN, NONE)
        if known and sig.signer and signer_belongs(sig.signer, agency.code, agencies):
            out.append(sig)
            continue
        finding = make_finding("SIG_SIGNER_NOT_SENDER_UNIT", place=name, name=name,
                               signer=sig.signer or "?", agency=f"{agency.code}: {agency.name}")
        out.append(dataclasses.replace(sig, findings=sig.findings + (finding,)))
    return tuple(out)
