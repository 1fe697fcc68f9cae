"""The SignatureValue and the signer: canonicalize SignedInfo, find the KeyInfo certificate
whose key verifies the value, and require every other KeyInfo certificate to be one of its
issuers."""

from __future__ import annotations

from typing import NamedTuple

from cryptography import x509
from lxml import etree

from gateway.inspect.xmldsig import c14n as c14nmod
from gateway.inspect.xmldsig import keys
from gateway.inspect.xmldsig.algorithms import C14N, DIGESTS, DSIG_MORE_2007, SIGNATURE_METHODS
from gateway.inspect.xmldsig.result import BROKEN, UNVERIFIABLE, DsigResult, Limits
from gateway.inspect.xmldsig.transforms import prefix_list
from gateway.inspect.xmldsig.tree import one, q


class _Method(NamedTuple):
    """SignedInfo's canonical octets and how its SignatureValue was computed."""

    signed: bytes
    family: str
    digest: str
    pss_salt: int | None
    pss_mgf: str | None


def signature_value(sig: etree._Element, si: etree._Element, value_el: etree._Element,
                    result: DsigResult, limits: Limits) -> None:
    method = _signed_info(si, result)
    if method is None:
        return
    try:
        value = keys.b64decode(value_el.text)
    except ValueError:
        result.add("SIG_MALFORMED", BROKEN, reason="SignatureValue is not base64")
        return
    if result.openpgp:
        result.add("SIG_OPENPGP", UNVERIFIABLE)
        return
    candidates = _keyinfo_certs(sig, result)
    if not candidates:
        result.add("SIG_NO_CERTIFICATE", UNVERIFIABLE)
        return
    if _find_signer(candidates, method, value, result):
        _check_other_certs(candidates, result)


def _signed_info(si: etree._Element, result: DsigResult) -> _Method | None:
    """SignedInfo canonicalized as its CanonicalizationMethod says, with the
    SignatureMethod's parameters; None (and an issue) when either is missing or unknown."""
    cm = one(si, "CanonicalizationMethod")
    sm = one(si, "SignatureMethod")
    if cm is None or sm is None:
        result.add("SIG_MALFORMED", BROKEN,
                   reason="SignedInfo lacks CanonicalizationMethod or SignatureMethod")
        return None
    method = C14N.get(cm.get("Algorithm") or "")
    if method is None:
        result.add("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=cm.get("Algorithm") or "?")
        return None
    alg = sm.get("Algorithm") or ""
    smethod = SIGNATURE_METHODS.get(alg)
    if smethod is None:
        result.add("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=alg or "?")
        return None
    digest, salt, mgf = smethod.digest, None, None
    if smethod.family == "rsa-pss" and digest is None:
        try:
            digest, salt, mgf = _pss_params(sm)
        except ValueError as exc:
            result.add("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=f"rsa-pss ({exc})")
            return None
    assert digest is not None
    result.scheme = smethod.family
    for name in (digest, mgf):
        if name is not None and name not in result.digests:
            result.digests.append(name)
    try:
        signed = c14nmod.subtree(si, method, prefix_list(cm))
    except c14nmod.C14nError as exc:
        result.add("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=str(exc))
        return None
    return _Method(signed, smethod.family, digest, salt, mgf)


def _find_signer(candidates: list[tuple[bytes, x509.Certificate]], method: _Method,
                 value: bytes, result: DsigResult) -> bool:
    """Set the signer: the first candidate whose key verifies ``value``; False (and
    ``SIG_VALUE_INVALID``) when none does."""
    reasons = []
    for der, cert in candidates:
        try:
            ok = keys.verify(cert, method.family, method.digest, method.signed, value,
                             pss_salt=method.pss_salt, pss_mgf_digest=method.pss_mgf)
        except keys.KeyError_ as exc:
            reasons.append(str(exc))
            continue
        if ok:
            result.signer, result.signer_der = cert, der
            break
    if result.signer is None:
        reason = "; ".join(sorted(set(reasons))) or "the value does not match SignedInfo"
        result.add("SIG_VALUE_INVALID", BROKEN, reason=reason)
        return False
    return True


def _check_other_certs(candidates: list[tuple[bytes, x509.Certificate]],
                       result: DsigResult) -> None:
    # Other KeyInfo certificates must be issuers of the signer: anything else makes the
    # signer ambiguous (a known attack shows one certificate and verifies with another).
    assert result.signer is not None
    others = [(d, c) for d, c in candidates if d != result.signer_der]
    chain: list[x509.Certificate] = [result.signer]
    remaining = list(others)
    progress = True
    while remaining and progress:
        progress = False
        for item in list(remaining):
            if keys.is_issuer_of(item[1], chain[-1]):
                chain.append(item[1])
                remaining.remove(item)
                progress = True
                break
    for _der, cert in remaining:
        result.add("SIG_AMBIGUOUS_CERTIFICATE", BROKEN, subject=keys.subject_text(cert))
    result.other_certs = [d for d, _ in others] + result.other_certs


def _digest_named(method: etree._Element, what: str) -> str:
    """The hash a ``DigestMethod`` element names; ValueError for one we do not know."""
    name = DIGESTS.get(method.get("Algorithm") or "")
    if name is None:
        raise ValueError(f"{what} {method.get('Algorithm')}")
    return name


def _pss_params(sm: etree._Element) -> tuple[str, int | None, str | None]:
    params = sm.find(f"{{{DSIG_MORE_2007}}}RSAPSSParams")
    digest, salt, mgf = "sha256", None, None
    if params is None:
        return digest, salt, mgf
    dm = params.find(q("DigestMethod"))
    if dm is not None:
        digest = _digest_named(dm, "digest")
    mgf_el = params.find(f"{{{DSIG_MORE_2007}}}MaskGenerationFunction")
    if mgf_el is not None:
        if (mgf_el.get("Algorithm") or DSIG_MORE_2007 + "MGF1") != DSIG_MORE_2007 + "MGF1":
            raise ValueError(f"mask generation {mgf_el.get('Algorithm')}")
        mdm = mgf_el.find(q("DigestMethod"))
        if mdm is not None:
            mgf = _digest_named(mdm, "MGF digest")
    salt_el = params.find(f"{{{DSIG_MORE_2007}}}SaltLength")
    if salt_el is not None:
        salt = int((salt_el.text or "").strip())
        if not 0 <= salt <= 1024:
            raise ValueError("salt length")
    trailer = params.find(f"{{{DSIG_MORE_2007}}}TrailerField")
    if trailer is not None and (trailer.text or "").strip() not in ("1", ""):
        raise ValueError("trailer field")
    return digest, salt, mgf


def key_info(sig: etree._Element, result: DsigResult) -> None:
    ki = one(sig, "KeyInfo")
    if ki is None:
        return
    pgp = ki.find(q("PGPData")) is not None
    if pgp and ki.find(f"{q('X509Data')}/{q('X509Certificate')}") is None:
        result.openpgp = True


def _keyinfo_certs(sig: etree._Element, result: DsigResult) -> list[tuple[bytes, x509.Certificate]]:
    ki = one(sig, "KeyInfo")
    out: list[tuple[bytes, x509.Certificate]] = []
    if ki is None:
        return out
    seen: set[bytes] = set()
    for data in ki.iter(q("X509Data")):
        for cert_el in data.iter(q("X509Certificate")):
            try:
                der = keys.b64decode(cert_el.text)
                cert = keys.load_certificate(der)
            except ValueError as exc:
                result.add("SIG_CERTIFICATE_UNREADABLE", BROKEN, reason=str(exc)[:120])
                continue
            der = _der(cert)
            if der in seen:
                continue
            seen.add(der)
            out.append((der, cert))
    return out


def _der(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.DER)
