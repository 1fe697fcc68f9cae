"""Package signatures of OOXML documents (DOCX, XLSX, PPTX and their macro/template kinds).

How a signature is found (ECMA-376 Part 2, Digital Signatures): the package relationships
``_rels/.rels`` point (type ``…/digital-signature/origin``) to the origin part, whose own
relationships point (type ``…/digital-signature/signature``) to one XML signature part per
signer. Signatures are found only this way; any other part under ``_xmlsignatures/`` is an
orphan, reported and ignored. Every signature is verified on its own (co-signing).

Each signature must:

* verify: every SignedInfo reference, every package Manifest reference (part digests,
  with the RelationshipTransform for ``.rels`` parts), the SignatureValue and the XAdES
  signing certificate (see :mod:`gateway.inspect.xmldsig.verify`); a part a reference names
  that is missing from the package makes the signature *broken*, and so does a part whose
  content type differs from the one in the signed reference URI (the content-types part is
  not signed: the URI is the only protected copy of a part's type);
* cover the package. **Coverage rule** — every part must be covered by a verified Manifest
  reference except:

  - the signature parts themselves (origin, its relationships, the signature parts);
  - ``[Content_Types].xml``, which no signer can sign (it changes when a signature is
    added); it is checked structurally instead: it must parse, and every part must have a
    content type;
  - the parts Office leaves unsigned by design, configurable as ``ooxml-unsigned-parts``
    in the ``[signatures]`` rules: by default the core, extended and custom document
    properties (``docProps/core.xml``, ``app.xml``, ``custom.xml``), the thumbnail
    (``docProps/thumbnail.*``) and custom XML data (``customXml/*``). Office, Apache POI
    and LibreOffice all leave these out, so requiring them would reject every genuine
    signature. They are listed in an info finding so nobody relies on them (metadata such
    as the author can be edited without breaking the signature). Caveat: Word content
    controls can be bound to custom XML; sites that use bound controls should remove
    ``customXml/*`` from the list.

  A relationship inside a covered ``.rels`` part that the RelationshipTransform does not
  select is acceptable only when it is internal, of a metadata type (properties, thumbnail,
  custom XML, signature origin) and points at one of the excepted parts (Office leaves
  exactly those links unselected); otherwise the link could be redirected — or retyped to
  make an unsigned part the main document — without breaking the signature.

  Any other part present but not covered (a part added after signing, an uncovered macro
  project or embedding) makes the coverage ``partial``, which fails Article 9.2a. A change
  to an excepted part leaves an intact signature intact.
"""

from __future__ import annotations

import fnmatch
import hashlib
import posixpath
import urllib.parse
from dataclasses import dataclass, field

from lxml import etree

from gateway.inspect import safe_xml
from gateway.inspect.base import InspectContext, InspectionResult
from gateway.inspect.safe_zip import SafeZip, ZipProblem
from gateway.inspect.xmldsig import report as sigreport
from gateway.inspect.xmldsig import verify as dsig
from gateway.inspect.xmldsig.algorithms import OPC_RELATIONSHIPS_NS
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.report import Coverage, Integrity, SignatureReport

FORMAT = "ooxml-xmldsig"
CONTENT_TYPES = "[Content_Types].xml"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_ORIGIN = "http://schemas.openxmlformats.org/package/2006/relationships/digital-signature/origin"
REL_SIGNATURE = "http://schemas.openxmlformats.org/package/2006/relationships/digital-signature/signature"
SIGNATURE_DIR = "_xmlsignatures/"
UNSIGNED_LINK_TYPES = frozenset({
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/metadata/core-properties",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties",
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXml",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/customXmlProps",
    REL_ORIGIN,
})
"""Relationship types that may stay outside a RelationshipTransform (Office leaves them out)
— and only when they point at a signature part or an unsigned-by-design part. A link of any
other type left unselected could, for instance, make an unsigned part the main document."""


@dataclass
class Relationship:
    id: str
    type: str
    target: str
    external: bool
    part: str | None
    """The resolved part name (internal relationships), without a leading slash."""


@dataclass
class Package:
    zip: SafeZip
    xml_max_bytes: int
    content_types: tuple[dict[str, str], dict[str, str]] | None = None
    problems: list[str] = field(default_factory=list)
    untyped: list[str] = field(default_factory=list)
    """Parts without a content type (judged by what they are: see ``_untyped_problems``)."""
    _cache: dict[str, bytes] = field(default_factory=dict)

    def read(self, name: str) -> bytes:
        data = self._cache.get(name)
        if data is None:
            data = self.zip.read(name)
            self._cache[name] = data
        return data

    def held(self, name: str) -> bytes | None:
        """The part's bytes if already read (and so kept), else None."""
        return self._cache.get(name)

    def xml(self, name: str) -> etree._Element:
        return safe_xml.parse(self.read(name), max_bytes=self.xml_max_bytes, what=name)

    def content_type(self, part: str) -> str | None:
        if self.content_types is None:
            return None
        defaults, overrides = self.content_types
        over = overrides.get("/" + part.casefold())
        if over is not None:
            return over
        base = part.rsplit("/", 1)[-1]
        if "." not in base:
            return None
        return defaults.get(base.rsplit(".", 1)[1].casefold())

    def relationships(self, source: str | None) -> list[Relationship]:
        """Relationships of part ``source`` (``None``: the package). Missing part → []."""
        if source is None:
            rels_name = "_rels/.rels"
            base = ""
        else:
            folder, name = posixpath.split(source)
            rels_name = posixpath.join(folder, "_rels", name + ".rels")
            base = folder
        real = self.zip.lookup(rels_name)
        if real is None:
            return []
        root = self.xml(real)
        out = []
        for rel in root:
            if rel.tag != f"{{{OPC_RELATIONSHIPS_NS}}}Relationship":
                continue
            target = rel.get("Target") or ""
            external = (rel.get("TargetMode") or "Internal") == "External"
            part = None if external else resolve_target(base, target)
            out.append(Relationship(rel.get("Id") or "", rel.get("Type") or "", target,
                                    external, part))
        return out


def resolve_target(base: str, target: str) -> str:
    """A relationship target resolved against its source folder (no leading slash)."""
    target = urllib.parse.unquote(target.split("#", 1)[0])
    if target.startswith("/"):
        path = posixpath.normpath(target)
    else:
        path = posixpath.normpath(posixpath.join("/" + base, target))
    return path.lstrip("/")


def rels_part_of(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def source_of_rels(rels_part: str) -> str | None:
    """``word/_rels/document.xml.rels`` → ``word/document.xml``; ``_rels/.rels`` → None."""
    folder, name = posixpath.split(rels_part)
    parent, rels_dir = posixpath.split(folder)
    if rels_dir != "_rels" or not name.endswith(".rels"):
        return ""
    src = name[: -len(".rels")]
    return posixpath.join(parent, src) if src else None


def _load_content_types(pkg: Package) -> None:
    real = pkg.zip.lookup(CONTENT_TYPES)
    if real is None:
        pkg.problems.append("the package has no [Content_Types].xml")
        return
    try:
        root = pkg.xml(real)
    except (safe_xml.XmlError, ZipProblem) as exc:
        pkg.problems.append(f"[Content_Types].xml is unreadable ({exc})")
        return
    if root.tag != f"{{{CT_NS}}}Types":
        pkg.problems.append("[Content_Types].xml is not a content-types part")
        return
    defaults: dict[str, str] = {}
    overrides: dict[str, str] = {}
    for el in root:
        if el.tag == f"{{{CT_NS}}}Default":
            ext, ct = el.get("Extension"), el.get("ContentType")
            if ext and ct:
                defaults[ext.casefold()] = ct
        elif el.tag == f"{{{CT_NS}}}Override":
            name, ct = el.get("PartName"), el.get("ContentType")
            if name and ct:
                overrides[urllib.parse.unquote(name).casefold()] = ct
    pkg.content_types = (defaults, overrides)
    for name in pkg.zip.names:
        if name != real and pkg.content_type(name) is None:
            pkg.untyped.append(name)


def _untyped_problems(pkg: Package, disc: _Discovery) -> tuple[list[str], list[str]]:
    """(refusing problems, plumbing irregularities). A part without a content type changes
    what a reader sees when it is content (a reader may skip or misread it), but not when it
    is unsigned signature plumbing (origin, its relationships, signature parts, orphans):
    eID DSS writes ``_xmlsignatures/_rels/origin.sigs.rels`` without one, and Office and
    eID DSS accept the file. Those are reported as a warning."""
    plumbing = [n for n in pkg.untyped if n in disc.structural or n in disc.orphans]
    content = [n for n in pkg.untyped if n not in plumbing]
    return [f"the part {n} has no content type" for n in content], plumbing


def _matches(part: str, patterns: tuple[str, ...]) -> bool:
    folded = part.casefold()
    return any(fnmatch.fnmatchcase(folded, p.casefold().lstrip("/")) for p in patterns)


@dataclass
class _Discovery:
    signature_parts: list[str] = field(default_factory=list)
    structural: set[str] = field(default_factory=set)
    """Origin, its relationships and the signature parts (excluded from coverage)."""
    orphans: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Signature origin or signature parts the relationships name but the package lacks."""


def _discover(pkg: Package) -> _Discovery:
    out = _Discovery()
    try:
        root_rels = pkg.relationships(None)
    except (safe_xml.XmlError, ZipProblem) as exc:
        pkg.problems.append(f"_rels/.rels is unreadable ({exc})")
        root_rels = []
    for rel in root_rels:
        if rel.type != REL_ORIGIN or rel.part is None:
            continue
        origin = pkg.zip.lookup(rel.part)
        if origin is None:
            out.missing.append(rel.part)
            continue
        out.structural.add(origin)
        origin_rels = pkg.zip.lookup(rels_part_of(origin))
        if origin_rels is not None:
            out.structural.add(origin_rels)
        try:
            sig_rels = pkg.relationships(origin)
        except (safe_xml.XmlError, ZipProblem) as exc:
            pkg.problems.append(f"the signature origin relationships are unreadable ({exc})")
            continue
        for srel in sig_rels:
            if srel.type != REL_SIGNATURE or srel.part is None:
                continue
            real = pkg.zip.lookup(srel.part)
            if real is None:
                out.missing.append(srel.part)
                continue
            if real not in out.signature_parts:
                out.signature_parts.append(real)
                out.structural.add(real)
                sig_part_rels = pkg.zip.lookup(rels_part_of(real))
                if sig_part_rels is not None:
                    out.structural.add(sig_part_rels)
    for name in pkg.zip.names:
        if name.casefold().startswith(SIGNATURE_DIR) and name not in out.structural:
            out.orphans.append(name)
    return out


def _resolver(pkg: Package) -> dsig.ExternalResolver:
    def resolve(uri: str) -> bytes | dsig.Part:
        if not uri.startswith("/"):
            raise dsig.Unresolved("not a part of this package")
        path, _, query = uri.partition("?")
        name = urllib.parse.unquote(path).lstrip("/")
        real = pkg.zip.lookup(name)
        if real is None:
            raise dsig.Unresolved("the part is missing")
        signed_type = None
        for item in query.split("&"):
            key, _, value = item.partition("=")
            if key == "ContentType":
                signed_type = urllib.parse.unquote(value)
        if signed_type is not None and pkg.content_types is not None:
            declared = pkg.content_type(real)
            if declared is None or declared.casefold() != signed_type.casefold():
                raise dsig.Unresolved("content type changed", code="SIG_CONTENT_TYPE_MISMATCH",
                                      part=name, signed=signed_type, declared=declared or "none")
        return _PartOf(pkg, real)

    return resolve


@dataclass
class _PartOf:
    """A package part for :mod:`~gateway.inspect.xmldsig.verify`: read (and kept, for the
    XML parts that are parsed again for coverage) or digested as it is inflated (binary
    parts: never held whole, nor kept)."""

    pkg: Package
    name: str

    def read(self) -> bytes:
        try:
            return self.pkg.read(self.name)
        except ZipProblem as exc:
            raise dsig.Unresolved(str(exc), code="SIG_REFERENCE_UNREADABLE") from None

    def digest(self, algorithm: str) -> bytes:
        held = self.pkg.held(self.name)
        try:
            if held is not None:
                return hashlib.new(algorithm, held).digest()
            return self.pkg.zip.digest(self.name, algorithm)
        except ZipProblem as exc:
            raise dsig.Unresolved(str(exc), code="SIG_REFERENCE_UNREADABLE") from None


def _coverage(pkg: Package, result: dsig.DsigResult, disc: _Discovery,
              opts: sigreport.SignatureOptions) -> tuple[list[str], list[str], list[str]]:
    """(uncovered parts, unsigned-by-design parts present, unprotected relationships)."""
    covered: dict[str, dsig.RefOutcome] = {}
    for ref in result.references:
        if ref.ok and ref.external:  # Manifest references, or parts named in SignedInfo
            real = pkg.zip.lookup(dsig.part_name_from_uri(ref.uri))
            if real is not None:
                previous = covered.get(real)
                if previous is None or (previous.relationship_ids is not None
                                        and ref.relationship_ids is None):
                    covered[real] = ref
                elif previous.relationship_ids is not None and ref.relationship_ids is not None:
                    previous.relationship_ids = previous.relationship_ids | ref.relationship_ids
                    previous.relationship_types = (previous.relationship_types or frozenset()) | (
                        ref.relationship_types or frozenset())
    ct_part = pkg.zip.lookup(CONTENT_TYPES)
    uncovered, by_design = [], []
    for name in pkg.zip.names:
        if name in covered or name in disc.structural or name == ct_part or name in disc.orphans:
            continue
        if _matches(name, opts.ooxml_unsigned_parts):
            by_design.append(name)
        else:
            uncovered.append(name)
    loose: list[str] = []
    for name, ref in covered.items():
        if ref.relationship_ids is None or not name.endswith(".rels"):
            continue
        src = source_of_rels(name)
        base = posixpath.dirname(src) if src else ""
        try:
            root = pkg.xml(name)
        except (safe_xml.XmlError, ZipProblem):
            loose.append(name)
            continue
        for rel in root:
            if rel.tag != f"{{{OPC_RELATIONSHIPS_NS}}}Relationship":
                continue
            rid, rtype = rel.get("Id") or "", rel.get("Type") or ""
            if rid in ref.relationship_ids or rtype in (ref.relationship_types or ()):
                continue
            external = (rel.get("TargetMode") or "Internal") == "External"
            target = (None if external
                      else pkg.zip.lookup(resolve_target(base, rel.get("Target") or "")))
            if (target is not None and rtype in UNSIGNED_LINK_TYPES
                    and (target in disc.structural or _matches(target, opts.ooxml_unsigned_parts))):
                continue
            loose.append(f"{name}#{rid}")
    return uncovered, by_design, loose


def inspect_ooxml(doc: Document, ctx: InspectContext) -> InspectionResult:
    opts = sigreport.SignatureOptions.from_context(ctx)
    opened = sigreport.open_package(doc, ctx)
    if isinstance(opened, InspectionResult):
        return opened
    zf, xml_max = opened
    pkg = Package(zf, xml_max)
    _load_content_types(pkg)
    disc = _discover(pkg)
    findings: list[Finding] = []
    facts: dict[str, object] = {}
    if disc.orphans:
        findings.append(make_finding("SIG_ORPHAN_PART", place=doc.path,
                                     parts=sigreport.short_list(disc.orphans)))
    if not disc.signature_parts and not disc.missing:
        vba = [n for n in zf.names
               if n.rsplit("/", 1)[-1].casefold().startswith("vbaprojectsignature")]
        if vba:
            # A signed macro project (docm/xlsm/pptm) does not sign the document.
            findings.append(make_finding("SIG_MACRO_SIGNATURE_ONLY", place=doc.path,
                                         name=doc.path, kind="VBA project"))
        return InspectionResult(findings=tuple(findings), facts=facts)

    untyped, plumbing = _untyped_problems(pkg, disc)
    container_problems = list(zf.problems) + list(pkg.problems) + untyped
    if plumbing:
        reason = "no content type for " + sigreport.short_list(plumbing)
        findings.append(make_finding("SIG_PACKAGE_IRREGULAR", place=doc.path, reason=reason))
    signatures: list[SignatureReport] = []
    by_design_all: set[str] = set()
    resolver = _resolver(pkg)
    for part in disc.missing:
        # The package still links to a signature that is gone: never silently "unsigned".
        signatures.append(sigreport.broken(FORMAT, "SIG_REFERENCE_UNRESOLVED", f"{doc.path}/{part}",
                                           uri=part, reason="the signature part was removed"))
    for part in disc.signature_parts:
        place = f"{doc.path}/{part}"
        try:
            root = pkg.xml(part)
        except (safe_xml.XmlError, ZipProblem) as exc:
            signatures.append(sigreport.broken(FORMAT, "SIG_MALFORMED", place, reason=str(exc)))
            continue
        sig_elems = list(dsig.iter_signatures(root))
        if root.tag != "{http://www.w3.org/2000/09/xmldsig#}Signature" or len(sig_elems) != 1:
            signatures.append(sigreport.broken(FORMAT, "SIG_MALFORMED", place,
                                               reason="the part is not one XML signature"))
            continue
        result = dsig.verify(sig_elems[0], resolve=resolver,
                             limits=dsig.Limits(xml_max_bytes=xml_max))
        extra: list[Finding] = []
        for problem in container_problems:
            result.add("SIG_CONTAINER_INVALID", dsig.BROKEN, reason=problem)
        coverage = Coverage.UNKNOWN
        if result.integrity is Integrity.INTACT:
            uncovered, by_design, loose = _coverage(pkg, result, disc, opts)
            by_design_all.update(by_design)
            if uncovered or loose:
                coverage = Coverage.PARTIAL
                extra.append(make_finding("SIG_COVERAGE_PARTIAL", place=place,
                                          parts=sigreport.short_list(uncovered + loose)))
            else:
                coverage = Coverage.WHOLE
        signatures.append(sigreport.build(FORMAT, result, coverage, extra, ctx, place, opts))
    if by_design_all:
        findings.append(make_finding("SIG_UNSIGNED_BY_DESIGN", place=doc.path,
                                     parts=sigreport.short_list(sorted(by_design_all))))
    return InspectionResult(findings=tuple(findings), signatures=tuple(signatures), facts=facts)


__all__ = ["FORMAT", "inspect_ooxml"]
