"""Document signatures of OpenDocument files (ODT, ODS, ODP, ODG and templates).

ODF 1.2 Part 3: document signatures live in ``META-INF/documentsignatures.xml`` (one
``ds:Signature`` per signer), each stream of the package being a SignedInfo reference
with a relative URI. Macro signatures (``META-INF/macrosignatures.xml``) sign only the
Basic/script storages and never count as a document signature; a file that has only
those is unsigned, with a warning that says why.

**Coverage rule** (as LibreOffice applies it to ODF 1.2 documents): a document signature
must cover every stream of the package except ``META-INF/documentsignatures.xml`` itself —
including ``mimetype``, ``META-INF/manifest.xml`` and any macro signature. A stream added
after signing (in the root, in ``Pictures/``, in ``META-INF/``) leaves every signed digest
intact but makes the coverage ``partial``; so do the partial signatures of OpenOffice.org
2.x. A referenced stream that is missing makes the signature broken. Encrypted
(password-protected) streams cannot be checked: the signature is unverifiable.
"""

from __future__ import annotations

import urllib.parse

from gateway.inspect import safe_xml
from gateway.inspect.base import InspectContext, InspectionResult
from gateway.inspect.safe_zip import SafeZip, ZipProblem
from gateway.inspect.xmldsig import report as sigreport
from gateway.inspect.xmldsig import verify as dsig
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.report import Coverage, Integrity, SignatureReport

FORMAT = "odf-xmldsig"
DOC_SIGNATURES = "META-INF/documentsignatures.xml"
MACRO_SIGNATURES = "META-INF/macrosignatures.xml"
MANIFEST = "META-INF/manifest.xml"
DSIG_NS = "urn:oasis:names:tc:opendocument:xmlns:digitalsignature:1.0"
OOO2_DSIG_NS = "http://openoffice.org/2004/documentsignatures"
"""OpenOffice.org 2.x wrote the same structure in its own namespace."""
MANIFEST_NS = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"


def _encrypted_streams(zf: SafeZip, xml_max: int) -> set[str]:
    real = zf.lookup(MANIFEST)
    if real is None:
        return set()
    try:
        root = safe_xml.parse(zf.read(real), max_bytes=xml_max, what=MANIFEST,
                              allow_external_doctype=True)
    except (safe_xml.XmlError, ZipProblem):
        return set()
    out = set()
    for entry in root.iter(f"{{{MANIFEST_NS}}}file-entry"):
        if entry.find(f"{{{MANIFEST_NS}}}encryption-data") is not None:
            path = entry.get(f"{{{MANIFEST_NS}}}full-path")
            if path:
                out.add(path)
    return out


def _resolver(zf: SafeZip, encrypted: set[str]) -> dsig.ExternalResolver:
    cache: dict[str, bytes] = {}

    def resolve(uri: str) -> bytes:
        parsed = urllib.parse.urlsplit(uri)
        if parsed.scheme or parsed.netloc or uri.startswith("/"):
            raise dsig.Unresolved("not a stream of this package")
        name = urllib.parse.unquote(parsed.path)
        if name not in zf.names:
            raise dsig.Unresolved("the stream is missing")
        if name in encrypted:
            raise dsig.Unresolved("encrypted stream", code="SIG_ENCRYPTED_PACKAGE")
        data = cache.get(name)
        if data is None:
            try:
                data = zf.read(name)
            except ZipProblem as exc:
                raise dsig.Unresolved(str(exc), code="SIG_REFERENCE_UNREADABLE") from None
            cache[name] = data
        return data

    return resolve


def inspect_odf(doc: Document, ctx: InspectContext) -> InspectionResult:
    opts = sigreport.SignatureOptions.from_context(ctx)
    opened = sigreport.open_package(doc, ctx)
    if isinstance(opened, InspectionResult):
        return opened
    zf, xml_max = opened
    findings: list[Finding] = []
    sig_part = DOC_SIGNATURES if DOC_SIGNATURES in zf.names else None
    if sig_part is None:
        if MACRO_SIGNATURES in zf.names:
            findings.append(make_finding("SIG_MACRO_SIGNATURE_ONLY", place=doc.path,
                                         name=doc.path, kind=MACRO_SIGNATURES))
        return InspectionResult(findings=tuple(findings))

    place_base = f"{doc.path}/{DOC_SIGNATURES}"
    try:
        root = safe_xml.parse(zf.read(sig_part), max_bytes=xml_max, what=DOC_SIGNATURES)
    except (safe_xml.XmlError, ZipProblem) as exc:
        return InspectionResult(signatures=(
            sigreport.broken(FORMAT, "SIG_MALFORMED", place_base, reason=str(exc)),))
    roots = (f"{{{DSIG_NS}}}document-signatures", f"{{{OOO2_DSIG_NS}}}document-signatures")
    if root.tag not in roots:
        return InspectionResult(signatures=(sigreport.broken(
            FORMAT, "SIG_MALFORMED", place_base,
            reason="the root element is not document-signatures"),))
    sig_elems = list(dsig.iter_signatures(root))
    if not sig_elems:
        findings.append(make_finding("SIG_EMPTY_SIGNATURE_PART", place=doc.path,
                                     part=DOC_SIGNATURES))
        if MACRO_SIGNATURES in zf.names:
            findings.append(make_finding("SIG_MACRO_SIGNATURE_ONLY", place=doc.path,
                                         name=doc.path, kind=MACRO_SIGNATURES))
        return InspectionResult(findings=tuple(findings))

    encrypted = _encrypted_streams(zf, xml_max)
    resolver = _resolver(zf, encrypted)
    limits_ = dsig.Limits(xml_max_bytes=xml_max, allow_external_doctype=True)
    signatures: list[SignatureReport] = []
    for index, sig in enumerate(sig_elems, 1):
        place = place_base if len(sig_elems) == 1 else f"{place_base}#{index}"
        result = dsig.verify(sig, resolve=resolver, limits=limits_)
        for problem in zf.problems:
            result.add("SIG_CONTAINER_INVALID", dsig.BROKEN, reason=problem)
        extra: list[Finding] = []
        coverage = Coverage.UNKNOWN
        if result.integrity is Integrity.INTACT:
            covered = {urllib.parse.unquote(urllib.parse.urlsplit(r.uri).path)
                       for r in result.references if r.ok and r.external}
            uncovered = [n for n in zf.names if n != DOC_SIGNATURES and n not in covered]
            if uncovered:
                coverage = Coverage.PARTIAL
                extra.append(make_finding("SIG_COVERAGE_PARTIAL", place=place,
                                          parts=sigreport.short_list(uncovered)))
            else:
                coverage = Coverage.WHOLE
        signatures.append(sigreport.build(FORMAT, result, coverage, extra, ctx, place, opts))
    return InspectionResult(findings=tuple(findings), signatures=tuple(signatures))


__all__ = ["FORMAT", "inspect_odf"]
