"""XAdES: certificate and revocation values, and from signed properties only the signing
time and the SigningCertificate that must name the signer; otherwise the signing time of
an OPC ``SignatureTime`` or ODF ``dc:date`` inside a verified reference."""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime

from lxml import etree

from gateway.inspect.xmldsig import keys
from gateway.inspect.xmldsig.algorithms import DIGESTS, OPC_DSIG_NS, XADES_NAMESPACES
from gateway.inspect.xmldsig.result import BROKEN, NOTE, DsigResult
from gateway.inspect.xmldsig.tree import children, q, within

_DC_NS = "http://purl.org/dc/elements/1.1/"


def _xades_find(root: etree._Element, name: str) -> list[etree._Element]:
    out: list[etree._Element] = []
    for ns in XADES_NAMESPACES:
        out.extend(root.iter(f"{{{ns}}}{name}"))
    return out


def xades(sig: etree._Element, signed_targets: list[etree._Element], result: DsigResult) -> None:
    signed_props = []
    for obj in children(sig, "Object"):
        for sp in _xades_find(obj, "SignedProperties"):
            if any(within(sp, t) for t in signed_targets):
                signed_props.append(sp)
    for obj in children(sig, "Object"):
        _unsigned_values(obj, result)
    if not signed_props:
        return
    if len(signed_props) > 1:
        result.add("SIG_MALFORMED", BROKEN, reason="more than one signed XAdES SignedProperties")
        return
    sp = signed_props[0]
    st = _xades_find(sp, "SigningTime")
    if st:
        when = parse_time(st[0].text)
        if when is None:
            result.add("SIG_MALFORMED", BROKEN, reason="the XAdES SigningTime is not a date")
        else:
            result.signing_time, result.signing_time_source = when, "xades"
    _signing_certificate(sp, result)


def _unsigned_values(obj: etree._Element, result: DsigResult) -> None:
    """The object's XAdES CertificateValues and RevocationValues, kept for the trust
    engine; one that cannot be decoded is a note, never dropped silently."""
    for values in _xades_find(obj, "CertificateValues"):
        for enc in values:
            if isinstance(enc.tag, str) and enc.tag.endswith("}EncapsulatedX509Certificate"):
                try:
                    result.other_certs.append(keys.b64decode(enc.text))
                except ValueError:
                    result.add("SIG_REVOCATION_DATA_UNREADABLE", NOTE,
                               reason="an XAdES certificate value is not base64")
    for rv in _xades_find(obj, "RevocationValues"):
        for enc in rv.iter():
            if not isinstance(enc.tag, str):
                continue
            try:
                if enc.tag.endswith("}EncapsulatedCRLValue"):
                    result.crls.append(keys.b64decode(enc.text))
                elif enc.tag.endswith("}EncapsulatedOCSPValue"):
                    result.ocsps.append(keys.b64decode(enc.text))
            except ValueError:  # dropped, it could hide a revocation: said instead
                result.add("SIG_REVOCATION_DATA_UNREADABLE", NOTE,
                           reason="an XAdES CRL or OCSP value is not base64")


def _signing_certificate(sp: etree._Element, result: DsigResult) -> None:
    """A signed SigningCertificate(V2) must name the signer (digest, and serial number
    when given)."""
    certs: list[etree._Element] = []
    for tag in ("SigningCertificate", "SigningCertificateV2"):
        for sc in _xades_find(sp, tag):
            certs.extend(c for c in sc if isinstance(c.tag, str) and c.tag.endswith("}Cert"))
    if not certs or result.signer_der is None:
        return
    if not any(_names_signer(cert_el, result) for cert_el in certs):
        result.add("SIG_SIGNING_CERT_MISMATCH", BROKEN,
                   subject=keys.subject_text(result.signer) if result.signer else "?")


def _names_signer(cert_el: etree._Element, result: DsigResult) -> bool:
    """Whether the XAdES ``Cert`` element ``cert_el`` names the signer."""
    assert result.signer_der is not None
    digest_el = next((c for c in cert_el
                      if isinstance(c.tag, str) and c.tag.endswith("}CertDigest")), None)
    if digest_el is None:
        return False
    dm = digest_el.find(q("DigestMethod"))
    dv = digest_el.find(q("DigestValue"))
    name = DIGESTS.get(dm.get("Algorithm") or "") if dm is not None else None
    if name is None or dv is None:
        return False
    try:
        expected = keys.b64decode(dv.text)
    except ValueError:
        return False
    if not hmac.compare_digest(keys.cert_digest(result.signer_der, name), expected):
        return False
    serial_el = next((e for e in cert_el.iter(q("X509SerialNumber"))), None)
    if serial_el is not None and result.signer is not None:
        try:
            if int((serial_el.text or "").strip()) != result.signer.serial_number:
                return False
        except ValueError:
            return False
    return True


def legacy_signing_time(signed_targets: list[etree._Element], result: DsigResult) -> None:
    for target in signed_targets:
        for value in target.iter(f"{{{OPC_DSIG_NS}}}Value"):
            parent = value.getparent()
            if parent is not None and parent.tag == f"{{{OPC_DSIG_NS}}}SignatureTime":
                when = parse_time(value.text)
                if when is not None:
                    result.signing_time, result.signing_time_source = when, "opc"
                    return
        for date in target.iter(f"{{{_DC_NS}}}date"):
            when = parse_time(date.text)
            if when is not None:
                result.signing_time, result.signing_time_source = when, "dc:date"
                return


_TIME_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$")


def parse_time(text: str | None) -> datetime | None:
    """An xs:dateTime (any fraction length, zone optional: UTC assumed)."""
    if not text:
        return None
    m = _TIME_RE.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        micro = int((frac or "0")[:6].ljust(6, "0"))
        when = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), micro,
                        tzinfo=UTC)
    except ValueError:
        return None
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        from datetime import timedelta

        when -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return when
