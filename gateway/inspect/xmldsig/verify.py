"""Verify one XML-DSig ``Signature`` element: every reference, every Manifest reference,
the SignatureValue, the signer certificate and the XAdES signed properties.

Format layers (OOXML, ODF) give an :data:`ExternalResolver` that turns a reference URI
into the bytes of a package part, and decide coverage from :attr:`DsigResult.references`.
Nothing here trusts a certificate: that is the trust engine's job.

Rules applied (each failure is an :class:`Issue` with a stable finding code):

* every same-document reference resolves to exactly one element by its Id; an Id that
  occurs twice inside the signature (or is ambiguous in the document) fails the signature
  — this stops signature wrapping, where a verifier and an application read different
  copies of the signed data;
* Manifest references are verified too (XML-DSig leaves that to the application; package
  signatures put every part there), but only Manifests inside an object whose SignedInfo
  reference verified — an unsigned Manifest protects nothing;
* the signer is the KeyInfo certificate whose key verifies the SignatureValue; other
  KeyInfo certificates must be its issuers, and a signed XAdES SigningCertificate must
  name it (digest and serial number);
* the signing time is read only from signed places (XAdES SigningTime, the OPC
  ``SignatureTime`` or ODF ``dc:date`` inside a verified reference).
"""

from __future__ import annotations

from lxml import etree

from gateway.inspect.xmldsig.references import check_all, manifests_in, part_name_from_uri
from gateway.inspect.xmldsig.result import (
    BROKEN,
    NOTE,
    UNVERIFIABLE,
    DsigResult,
    ExternalResolver,
    Issue,
    Limits,
    Part,
    RefOutcome,
    Unresolved,
)
from gateway.inspect.xmldsig.signer import key_info, signature_value
from gateway.inspect.xmldsig.tree import IdIndex, children, iter_signatures
from gateway.inspect.xmldsig.xades import legacy_signing_time, parse_time, xades


def verify(sig: etree._Element, *, resolve: ExternalResolver | None = None,
           limits: Limits | None = None) -> DsigResult:
    """Verify ``sig`` (a ``ds:Signature`` element in its parsed document)."""
    limits = limits or Limits()
    result = DsigResult(signature_id=sig.get("Id"))
    signed_info = children(sig, "SignedInfo")
    values = children(sig, "SignatureValue")
    if len(signed_info) != 1 or len(values) != 1:
        result.add("SIG_MALFORMED", BROKEN,
                   reason="a signature needs exactly one SignedInfo and one SignatureValue")
        return result
    si = signed_info[0]
    ids = IdIndex(sig.getroottree().getroot())
    for dup in ids.duplicates_within(sig):
        result.add("SIG_DUPLICATE_ID", BROKEN, id=dup)

    refs = children(si, "Reference")
    if not refs:
        result.add("SIG_MALFORMED", BROKEN, reason="SignedInfo has no Reference")
    if len(refs) > limits.max_references:
        result.add("SIG_MALFORMED", BROKEN, reason=f"more than {limits.max_references} references")
        return result
    manifests_done: set[int] = set()
    for outcome in check_all(refs, sig, ids, resolve, limits, result, in_manifest=False):
        result.references.append(outcome)
        if not outcome.ok or outcome.target is None:
            continue
        for manifest in manifests_in(outcome.target):
            if id(manifest) in manifests_done:
                continue
            manifests_done.add(id(manifest))
            mrefs = children(manifest, "Reference")
            if len(mrefs) + len(result.references) > limits.max_references:
                result.add("SIG_MALFORMED", BROKEN,
                           reason=f"more than {limits.max_references} references")
                break
            result.references.extend(
                check_all(mrefs, sig, ids, resolve, limits, result, in_manifest=True))

    signed_targets = [o.target for o in result.references if o.ok and o.target is not None]
    key_info(sig, result)
    signature_value(sig, si, values[0], result, limits)
    xades(sig, signed_targets, result)
    if result.signing_time is None:
        legacy_signing_time(signed_targets, result)
    return result


__all__ = ["BROKEN", "DsigResult", "ExternalResolver", "Issue", "Limits", "NOTE", "Part",
           "RefOutcome",
           "UNVERIFIABLE", "Unresolved", "iter_signatures", "parse_time", "part_name_from_uri",
           "verify"]
