"""CMS / PKCS#7 signatures outside a document: enveloping (``.p7m``, the document inside) and
detached (``.p7s`` beside the document it signs).

* ``inspect_cms(doc, ctx)``: the per-file inspector. An enveloping signature is verified over
  the content it carries (layers as for PDF: integrity, signer, trust, revocation); a detached
  one is described (signer, digest) and verified by the message check below.
* ``detached_signatures(parsed, ctx)``: the message-level check that pairs each detached
  signature with the attachment it signs (``x.pdf.p7s`` → ``x.pdf``; ``x.p7s`` → ``x.*``)
  and verifies it: ``CMS_DETACHED_VERIFIED`` or ``CMS_DETACHED_INVALID``, or
  ``CMS_CONTENT_MISSING`` when the signed file is not in the message.
* ``verify_detached(cms, content, ctx)`` / ``verify_cms(cms, ctx)``: the verification itself.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from asn1crypto import cms, core

from gateway.event_loop import run
from gateway.inspect.algorithms import AlgorithmPolicy, check_cms_signer, pyhanko_accept_all
from gateway.inspect.base import InspectContext, InspectionResult
from gateway.inspect.pdf.signer import (
    revinfo_findings,
    revinfo_from_signed_data,
    short,
    signer_layers,
    subject_of,
    validation_context,
)
from gateway.model import partdata
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.partdata import Data, open_stream, to_bytes
from gateway.model.report import Coverage, Integrity, Revocation, SignatureReport, Trust

log = logging.getLogger(__name__)

MAX_CMS_BYTES = 64 * 1024 * 1024
DETACHED_SUFFIXES = (".p7s", ".sig", ".pkcs7")
_PEM = re.compile(rb"-----BEGIN (?:PKCS7|CMS)-----(.+?)-----END (?:PKCS7|CMS)-----", re.S)


class CmsError(ValueError):
    """Not a readable CMS SignedData (the reason is the message)."""


@dataclass
class ParsedCms:
    signed_data: cms.SignedData
    content: bytes | None
    """The encapsulated content (enveloping signature), or None (detached)."""
    signer_info: Any = None
    notes: list[str] = field(default_factory=list)


def _der(data: bytes) -> bytes:
    if data[:1] == b"\x30":
        return data  # DER: never strip (its last byte may well be a "whitespace" value)
    data = data.strip()
    m = _PEM.search(data)
    if m:
        return base64.b64decode(b"".join(m.group(1).split()))
    if data[:1] != b"\x30":
        try:  # base64 without armour, as some tools write .p7s
            raw = base64.b64decode(b"".join(data.split()), validate=True)
            if raw[:1] == b"\x30":
                return raw
        except (binascii.Error, ValueError):
            pass
    return data


def parse_cms(data: bytes) -> ParsedCms:
    if len(data) > MAX_CMS_BYTES:
        raise CmsError(f"larger than {MAX_CMS_BYTES} bytes")
    try:
        info = cms.ContentInfo.load(_der(data))
        ctype = info["content_type"].native
    except Exception as exc:  # noqa: BLE001 - asn1crypto raises many kinds: a finding
        raise CmsError(f"not DER CMS: {type(exc).__name__}: {short(exc)}") from None
    if ctype == "enveloped_data":
        raise CmsError("enveloped")
    if ctype != "signed_data":
        raise CmsError(f"content type {ctype} is not signed data")
    try:
        sd = info["content"]
        infos = sd["signer_infos"]
        if len(infos) == 0:
            raise CmsError("no signer")
        econtent = sd["encap_content_info"]["content"]
        content = None
        if econtent is not None and not isinstance(econtent, core.Void):
            content = econtent.native if not hasattr(econtent, "parsed") else econtent.contents
            if not isinstance(content, (bytes, bytearray)):
                content = econtent.dump()
    except CmsError:
        raise
    except Exception as exc:  # noqa: BLE001 - asn1crypto raises many kinds: a finding
        raise CmsError(f"damaged SignedData: {type(exc).__name__}: {short(exc)}") from None
    return ParsedCms(sd, bytes(content) if content is not None else None, infos[0])


def _report(sd: cms.SignedData, status: Any, ctx: InspectContext, place: str, name: str,
            status_error: str | None = None) -> SignatureReport:
    findings: list[Finding] = []
    if status_error is not None:
        integrity = Integrity.UNVERIFIABLE
        findings.append(make_finding("CMS_SIGNATURE_UNVERIFIABLE", place=place, name=name,
                                     reason=status_error))
    elif not status.intact:
        integrity = Integrity.BROKEN
        findings.append(make_finding("CMS_SIGNATURE_BROKEN", place=place, name=name,
                                     reason="the content digest does not match"))
    elif not status.valid:
        integrity = Integrity.BROKEN
        findings.append(make_finding("CMS_SIGNATURE_BROKEN", place=place, name=name,
                                     reason="the signature value does not verify"))
    else:
        integrity = Integrity.INTACT
    try:
        from pyhanko.sign.validation.generic_cms import extract_certs_for_validation

        certs = extract_certs_for_validation(sd)
        signer_cert, others = certs.signer_cert, list(certs.other_certs)
    except Exception as exc:  # noqa: BLE001 - logged with its type, and a finding below
        log.info("signer certificate of %s not found: %r", place, exc)
        signer_cert, others = None, []
    if signer_cert is None and integrity is Integrity.INTACT:
        integrity = Integrity.UNVERIFIABLE
        findings.append(make_finding("CMS_SIGNATURE_UNVERIFIABLE", place=place, name=name,
                                     reason="the signer's certificate is not in the signature"))
    signer_info = sd["signer_infos"][0] if len(sd["signer_infos"]) else None
    rev = revinfo_from_signed_data(sd, signer_info)
    findings.extend(revinfo_findings(rev, place))
    layers = signer_layers(ctx, signer_cert, others, rev)
    findings.extend(layers.findings)
    ts = getattr(status, "timestamp_validity", None) if status is not None else None
    proven = ts.timestamp if ts is not None and ts.intact and ts.valid else None
    when = proven or (getattr(status, "signer_reported_dt", None) if status is not None else None)
    if signer_info is not None:
        findings.extend(check_cms_signer(
            AlgorithmPolicy.from_options(ctx.options), signer_info,
            signer_cert.dump() if signer_cert is not None else None,
            proven_at=proven if getattr(ts, "trusted", False) else None, place=place))
    return SignatureReport(
        format="cms", integrity=integrity,
        coverage=Coverage.WHOLE if integrity is Integrity.INTACT else Coverage.UNKNOWN,
        trust=layers.trust, revocation=layers.revocation,
        signer=layers.signer or subject_of(signer_cert), signing_time=when,
        findings=tuple(findings),
    )


def verify_cms(parsed: ParsedCms, ctx: InspectContext, name: str) -> SignatureReport:
    """An enveloping signature over the content it carries."""
    from pyhanko.sign.validation.generic_cms import async_validate_cms_signature
    from pyhanko.sign.validation.status import StandardCMSSignatureStatus

    try:
        vc = validation_context(ctx)
        # (pyHanko's typed overloads omit ``algorithm_policy``, which the function takes)
        accept_all: dict[str, Any] = {"algorithm_policy": pyhanko_accept_all()}
        status = run(async_validate_cms_signature(parsed.signed_data,
                                                  status_cls=StandardCMSSignatureStatus,
                                                  validation_context=vc, **accept_all))
    except Exception as exc:  # noqa: BLE001 - a finding on the signature, with the type
        log.info("CMS %s not verifiable: %r", name, exc)
        return _report(parsed.signed_data, None, ctx, name, name,
                       f"{type(exc).__name__}: {short(exc)}")
    return _report(parsed.signed_data, status, ctx, name, name)


def verify_detached(cms_data: bytes | ParsedCms, content: Data, ctx: InspectContext,
                    name: str = "signature") -> SignatureReport:
    """A detached signature over ``content``."""
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

    try:
        parsed = cms_data if isinstance(cms_data, ParsedCms) else parse_cms(cms_data)
    except CmsError as exc:
        return SignatureReport("cms", Integrity.BROKEN, Coverage.UNKNOWN, Trust.UNKNOWN,
                               Revocation.UNKNOWN, findings=(make_finding(
                                   "CMS_UNREADABLE", place=name, name=name, reason=str(exc)),))
    try:
        vc = validation_context(ctx)
        data = content if isinstance(content, bytes) else open_stream(content)  # read in pieces
        status = run(async_validate_detached_cms(data, parsed.signed_data,
                                                 signer_validation_context=vc,
                                                 algorithm_policy=pyhanko_accept_all()))
    except Exception as exc:  # noqa: BLE001 - a finding on the signature, with the type
        log.info("detached CMS %s not verifiable: %r", name, exc)
        return _report(parsed.signed_data, None, ctx, name, name,
                       f"{type(exc).__name__}: {short(exc)}")
    return _report(parsed.signed_data, status, ctx, name, name)


_SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")


def looks_like_cms(doc: Document) -> bool:
    """A CMS file intake could not name (libmagic often calls DER signatures data)."""
    if doc.fmt in ("p7s", "p7m"):
        return True
    if doc.name.lower().endswith(DETACHED_SUFFIXES + (".p7m", ".p7")):
        return True
    return doc.data[:1] == b"\x30" and _SIGNED_DATA_OID in doc.data[:32]


def inspect_cms(doc: Document, ctx: InspectContext) -> InspectionResult:
    if not looks_like_cms(doc):
        return InspectionResult()
    name = doc.path
    try:
        parsed = parse_cms(to_bytes(doc.data))
    except CmsError as exc:
        code = "CMS_ENCRYPTED" if str(exc) == "enveloped" else "CMS_UNREADABLE"
        finding = make_finding(code, place=name, name=name, reason=str(exc))
        return InspectionResult(findings=(finding,), facts={"cms": "unreadable"})
    if parsed.content is None:
        try:
            from pyhanko.sign.validation.generic_cms import extract_certs_for_validation

            signer = subject_of(extract_certs_for_validation(parsed.signed_data).signer_cert)
        except Exception as exc:  # noqa: BLE001 - a fact only; the pairing check verifies
            log.info("signer of detached %s unreadable: %r", name, exc)
            signer = None
        return InspectionResult(facts={"cms": "detached", "signer": signer})
    report = verify_cms(parsed, ctx, name)
    facts = {"cms": "enveloping", "content_bytes": len(parsed.content),
             "content_format": _content_kind(parsed.content)}
    return InspectionResult(signatures=(report,), facts=facts)


def _content_kind(data: bytes) -> str:
    if data[:5] == b"%PDF-":
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        return "zip-package"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "ole"
    return "other"


# -- message level: detached signatures beside the file they sign ------------------------------


def _is_detached_name(name: str) -> bool:
    return name.lower().endswith(DETACHED_SUFFIXES)


def _detached_base(sig_name: str) -> str | None:
    """``x.pdf`` for ``x.pdf.p7s``; None for a name without a detached-signature suffix."""
    low = sig_name.lower()
    for suffix in DETACHED_SUFFIXES:
        if low.endswith(suffix):
            return sig_name[: -len(suffix)]
    return None


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def _folder(doc: Document) -> str:
    return doc.path[: len(doc.path) - len(doc.name)]


def _signed_digest(parsed: ParsedCms) -> tuple[str, bytes] | None:
    """The digest algorithm and the message-digest attribute a detached signature signed."""
    try:
        si = parsed.signer_info
        algo = si["digest_algorithm"]["algorithm"].native
        for attr in si["signed_attrs"]:
            if attr["type"].native == "message_digest":
                return str(algo), bytes(attr["values"][0].native)
    except (KeyError, ValueError, TypeError, IndexError):
        return None
    return None


class Siblings(list[Document]):
    """The documents of one message, indexed once (by folder, path, name, stem and, per digest
    algorithm, content digest), so pairing every detached signature with the file it signs is
    linear in the number of documents, not quadratic. Each CMS file is parsed once."""

    def __init__(self, docs: Iterable[Document] = ()) -> None:
        super().__init__(docs)
        self._ids = {id(d) for d in self}
        self._by_path: dict[str, list[Document]] = {}
        self._folders: dict[str, list[Document]] = {}
        self._names: dict[str, dict[str, list[Document]]] = {}
        self._stems: dict[str, dict[str, list[Document]]] = {}
        for d in self:
            folder = _folder(d)
            self._by_path.setdefault(d.path, []).append(d)
            self._folders.setdefault(folder, []).append(d)
            self._names.setdefault(folder, {}).setdefault(d.name, []).append(d)
            if not _is_detached_name(d.name):
                self._stems.setdefault(folder, {}).setdefault(_stem(d.name), []).append(d)
        self._parsed: dict[int, ParsedCms | None] = {}
        self._digests: dict[tuple[str, str], dict[bytes, list[Document]]] = {}
        self._signers: dict[int, list[Document]] | None = None

    def parsed(self, doc: Document) -> ParsedCms | None:
        """``doc`` parsed as CMS (once), or None when it is not readable CMS (the per-file
        inspector reports that)."""
        if id(doc) not in self._parsed:
            try:
                self._parsed[id(doc)] = (parse_cms(to_bytes(doc.data)) if looks_like_cms(doc)
                                         else None)
            except CmsError:
                self._parsed[id(doc)] = None
        return self._parsed[id(doc)]

    def detached(self, doc: Document) -> ParsedCms | None:
        parsed = self.parsed(doc)
        return parsed if parsed is not None and parsed.content is None else None

    def enveloping_parent(self, doc: Document) -> tuple[Document, ParsedCms] | None:
        """The ``.p7m`` that carries ``doc`` as its signed content (intake opened it), if any."""
        folder = _folder(doc)
        if not folder.endswith("/"):
            return None
        for sib in self._by_path.get(folder[:-1], ()):
            if looks_like_cms(sib):
                parsed = self.parsed(sib)
                if parsed is None:
                    return None
                return (sib, parsed) if parsed.content is not None \
                    and parsed.content == doc.data else None
        return None

    def targets(self, sig: Document, parsed: ParsedCms) -> list[Document]:
        """The files ``sig`` is meant for: by name (``x.pdf.p7s``, ``x.p7s``), or, when its
        name points at no file in its folder, by the digest it signed."""
        folder = _folder(sig)
        base = _detached_base(sig.name)
        if base is not None:
            exact = self._names[folder].get(base)
            if exact:
                return exact
            by_stem = [d for d in self._stems.get(folder, {}).get(_stem(base), ())
                       if d.name != sig.name]
            if by_stem:
                return by_stem
        signed = _signed_digest(parsed)
        if signed is None:
            return []
        return [d for d in self._by_digest(folder, signed[0]).get(signed[1], ()) if d is not sig]

    def _by_digest(self, folder: str, algo: str) -> dict[bytes, list[Document]]:
        key = (folder, algo)
        if key not in self._digests:
            table: dict[bytes, list[Document]] = {}
            for d in self._folders[folder]:
                if looks_like_cms(d):
                    continue
                try:
                    digest = partdata.digest(d.data, algo)
                except (ValueError, TypeError):  # an algorithm hashlib does not know: no pair
                    break
                table.setdefault(digest, []).append(d)
            self._digests[key] = table
        return self._digests[key]

    def signatures_of(self, doc: Document) -> list[tuple[Document, ParsedCms]]:
        """The detached signatures beside ``doc`` that are meant for it, in message order."""
        if self._signers is None:
            self._signers = {}
            for sig in self:
                parsed = self.detached(sig)
                if parsed is None:
                    continue
                for target in self.targets(sig, parsed):
                    self._signers.setdefault(id(target), []).append(sig)
        return [(sig, p) for sig in self._signers.get(id(doc), ())
                if (p := self.detached(sig)) is not None]

    def knows(self, doc: Document) -> bool:
        return id(doc) in self._ids


def signatures_beside(doc: Document, siblings: list[Document],
                      ctx: InspectContext) -> tuple[SignatureReport, ...]:
    """The signatures of ``doc`` that travel outside it: the ``.p7m`` that carries it, and
    the detached signatures sent beside it (``x.pdf.p7s`` or ``x.p7s`` for ``x.pdf``), each
    verified over ``doc``'s bytes: they count as signatures of ``doc``. Pass the message's
    documents as :class:`Siblings` (built once per message) to keep this linear."""
    if looks_like_cms(doc):
        return ()
    index = siblings if isinstance(siblings, Siblings) and siblings.knows(doc) \
        else Siblings([*siblings, doc] if all(d is not doc for d in siblings) else siblings)
    parent = index.enveloping_parent(doc)
    if parent is not None:
        return (verify_cms(parent[1], ctx, parent[0].path),)
    out: list[SignatureReport] = []
    for sig_doc, parsed in index.signatures_of(doc):
        report = verify_detached(parsed, doc.data, ctx, sig_doc.path)
        if report.integrity is Integrity.INTACT:
            note = make_finding("CMS_DETACHED_VERIFIED", place=doc.path, name=sig_doc.path,
                                target=doc.path, signer=report.signer or "?",
                                trust=report.trust.value)
        else:
            reason = "; ".join(f.en for f in report.findings[:1]) or report.integrity.value
            note = make_finding("CMS_DETACHED_INVALID", place=doc.path, name=sig_doc.path,
                                target=doc.path, reason=reason)
        out.append(replace(report, format="cms-detached", findings=(note,) + report.findings))
    return tuple(out)


def detached_signatures(parsed: Any, ctx: InspectContext) -> list[Finding]:
    """A detached signature whose signed file is not in the message cannot be verified."""
    index = Siblings(i.document for i in getattr(parsed, "items", []))
    out: list[Finding] = []
    for doc in index:
        cms_doc = index.detached(doc)
        if cms_doc is not None and not index.targets(doc, cms_doc):
            expected = doc.name.rsplit(".", 1)[0] if "." in doc.name else doc.name
            out.append(make_finding("CMS_CONTENT_MISSING", place=doc.path, name=doc.path,
                                    expected=expected))
    return out


__all__ = ["CmsError", "ParsedCms", "Siblings", "detached_signatures", "inspect_cms", "parse_cms",
           "signatures_beside",
           "verify_cms", "verify_detached"]
