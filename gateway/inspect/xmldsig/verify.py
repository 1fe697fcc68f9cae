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

import hashlib
import hmac
import re
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from cryptography import x509
from lxml import etree

from gateway.inspect import safe_xml
from gateway.inspect.xmldsig import c14n as c14nmod
from gateway.inspect.xmldsig import keys
from gateway.inspect.xmldsig.algorithms import (
    C14N,
    DIGESTS,
    DS,
    DSIG_MORE_2007,
    ENVELOPED,
    OPC_DSIG_NS,
    OPC_RELATIONSHIPS_NS,
    RELATIONSHIP_TRANSFORM,
    SIGNATURE_METHODS,
    XADES_NAMESPACES,
    C14nMethod,
)
from gateway.model.report import Integrity

BROKEN = "broken"
UNVERIFIABLE = "unverifiable"
NOTE = "note"

class Part(Protocol):
    """A referenced package part a resolver may return instead of its bytes, so that a
    part digested without transforms (images, embeddings) is hashed as it is inflated."""

    def read(self) -> bytes:
        """The part's bytes; raises :class:`Unresolved` when they cannot be read."""
        ...

    def digest(self, algorithm: str) -> bytes:
        """The part's ``algorithm`` (hashlib name) digest; raises :class:`Unresolved`."""
        ...


ExternalResolver = Callable[[str], "bytes | Part"]
"""URI → the referenced part (its bytes, or a :class:`Part`); raises :class:`Unresolved`
when it cannot."""

_ID_ATTRS = ("Id", "ID", "id", "{http://www.w3.org/XML/1998/namespace}id")
_DEFAULT_C14N = C14N["http://www.w3.org/TR/2001/REC-xml-c14n-20010315"]
_EXC_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"
_DC_NS = "http://purl.org/dc/elements/1.1/"


class Unresolved(Exception):
    """An external reference does not resolve (missing part, bad URI…)."""

    def __init__(self, reason: str, code: str = "SIG_REFERENCE_UNRESOLVED", **params: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Issue:
    code: str
    kind: str
    """``broken`` (provably wrong), ``unverifiable`` (cannot be decided) or ``note``."""
    params: dict[str, str] = field(default_factory=dict)


@dataclass
class RefOutcome:
    uri: str
    in_manifest: bool
    ok: bool = False
    external: bool = False
    target: etree._Element | None = None
    relationship_ids: frozenset[str] | None = None
    """For a RelationshipTransform: the SourceId values it selected."""
    relationship_types: frozenset[str] | None = None
    issue: Issue | None = None


@dataclass
class DsigResult:
    signature_id: str | None = None
    issues: list[Issue] = field(default_factory=list)
    references: list[RefOutcome] = field(default_factory=list)
    signer: x509.Certificate | None = None
    signer_der: bytes | None = None
    other_certs: list[bytes] = field(default_factory=list)
    """KeyInfo certificates other than the signer, then XAdES CertificateValues (DER)."""
    crls: list[bytes] = field(default_factory=list)
    ocsps: list[bytes] = field(default_factory=list)
    signing_time: datetime | None = None
    signing_time_source: str | None = None
    digests: list[str] = field(default_factory=list)
    """Every digest the signature uses (references and SignatureMethod), hashlib names: the
    algorithm policy judges them (:mod:`gateway.inspect.algorithms`)."""
    scheme: str | None = None
    """The SignatureMethod's family (``rsa``, ``rsa-pss``, ``ecdsa``), once known."""
    openpgp: bool = False

    @property
    def integrity(self) -> Integrity:
        kinds = {i.kind for i in self.issues}
        if BROKEN in kinds:
            return Integrity.BROKEN
        if UNVERIFIABLE in kinds:
            return Integrity.UNVERIFIABLE
        return Integrity.INTACT

    def add(self, code: str, kind: str, **params: object) -> Issue:
        issue = Issue(code, kind, {k: str(v) for k, v in params.items()})
        if issue not in self.issues:
            self.issues.append(issue)
        return issue


@dataclass(frozen=True)
class Limits:
    max_references: int = 5000
    xml_max_bytes: int = 64 * 1024 * 1024
    allow_external_doctype: bool = False
    """ODF: old streams name an external DTD (ignored, never loaded)."""
    workers: int = 2
    """Threads that check package-part references (1: sequential). With 2, the parts to
    canonicalize go to a second thread as one task (see ``_check_all``): on an idle core
    that overlaps the XML with the images; on a busy one it costs about nothing (one
    thread per part, as before, made the benchmark's 21 MB DOCX take 92 ms against 50)."""


def _q(name: str) -> str:
    return f"{{{DS}}}{name}"


def _children(elem: etree._Element, name: str, ns: str = DS) -> list[etree._Element]:
    return [c for c in elem if c.tag == f"{{{ns}}}{name}"]


def _one(elem: etree._Element, name: str, ns: str = DS) -> etree._Element | None:
    found = _children(elem, name, ns)
    return found[0] if len(found) == 1 else None


class _IdIndex:
    """Id attribute values of a signature document, and which ones are ambiguous."""

    def __init__(self, root: etree._Element) -> None:
        self.by_id: dict[str, list[etree._Element]] = {}
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            for attr in _ID_ATTRS:
                value = el.get(attr)
                if value is not None:
                    self.by_id.setdefault(value, []).append(el)

    def duplicates_within(self, sig: etree._Element) -> list[str]:
        out = []
        for value, elems in self.by_id.items():
            inside = [e for e in elems if _within(e, sig)]
            if len(inside) > 1:
                out.append(value)
        return sorted(out)

    def resolve(self, value: str, sig: etree._Element) -> tuple[etree._Element | None, str | None]:
        """The element with Id ``value``: (element, None) or (None, reason code)."""
        elems = self.by_id.get(value, [])
        if not elems:
            return None, "SIG_REFERENCE_UNRESOLVED"
        if len(elems) == 1:
            return elems[0], None
        inside = [e for e in elems if _within(e, sig)]
        outside_ok = all(_in_other_signature(e, sig) for e in elems if not _within(e, sig))
        if len(inside) == 1 and outside_ok:
            # Co-signatures in one ODF file may reuse the same local Ids; each signature
            # resolves its own.
            return inside[0], None
        return None, "SIG_DUPLICATE_ID"


def _within(el: etree._Element, ancestor: etree._Element) -> bool:
    node: etree._Element | None = el
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False


def _in_other_signature(el: etree._Element, sig: etree._Element) -> bool:
    node: etree._Element | None = el
    while node is not None:
        if node.tag == _q("Signature") and node is not sig:
            return True
        node = node.getparent()
    return False


# -- transforms ---------------------------------------------------------------------------


@dataclass
class _Nodes:
    elem: etree._Element
    whole_document: bool = False
    comments: bool = False
    exclude: etree._Element | None = None


class _TransformFailure(Exception):
    def __init__(self, code: str, kind: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.kind = kind
        self.params = params


def _c14n_method(alg: str | None) -> C14nMethod:
    method = C14N.get(alg or "")
    if method is None:
        raise _TransformFailure("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=alg or "?")
    return method


def _prefix_list(transform: etree._Element) -> list[str] | None:
    inc = transform.find(f"{{{_EXC_NS}}}InclusiveNamespaces")
    if inc is None:
        return None
    return [p for p in (inc.get("PrefixList") or "").split() if p]


def _canonical(data: bytes | _Nodes, method: C14nMethod, prefixes: list[str] | None,
               limits: Limits, what: str) -> bytes:
    if isinstance(data, bytes):
        try:
            tree = safe_xml.parse_tree(data, max_bytes=limits.xml_max_bytes, what=what,
                                       allow_external_doctype=limits.allow_external_doctype)
        except safe_xml.XmlError as exc:
            raise _TransformFailure("SIG_REFERENCE_UNREADABLE", BROKEN, uri=what,
                                    reason=str(exc)) from None
        return c14nmod.document(tree, method, prefixes)
    use = C14nMethod(method.exclusive, method.with_comments and data.comments, method.version)
    try:
        if data.whole_document and data.exclude is None:
            return c14nmod.document(data.elem, use, prefixes)
        return c14nmod.subtree(data.elem, use, prefixes, exclude=data.exclude)
    except c14nmod.C14nError as exc:
        raise _TransformFailure("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE,
                                algorithm=str(exc)) from None


def _selectors(transform: etree._Element, name: str, attribute: str) -> frozenset[str]:
    """The ``attribute`` values of the transform's ``name`` children (in the OPC signature
    namespace); a child without the attribute selects nothing."""
    tag = f"{{{OPC_DSIG_NS}}}{name}"
    values = (r.get(attribute) for r in transform if isinstance(r.tag, str) and r.tag == tag)
    return frozenset(v for v in values if v is not None)


def _relationship_transform(data: bytes | _Nodes, transform: etree._Element, limits: Limits,
                            what: str, outcome: RefOutcome) -> _Nodes:
    """OPC Part 2 relationships transform: keep the selected Relationship elements, sorted
    by Id, attributes only (TargetMode defaulted), nothing else."""
    ids = _selectors(transform, "RelationshipReference", "SourceId")
    types = _selectors(transform, "RelationshipsGroupReference", "SourceType")
    outcome.relationship_ids, outcome.relationship_types = ids, types
    if isinstance(data, bytes):
        try:
            root = safe_xml.parse(data, max_bytes=limits.xml_max_bytes, what=what,
                                  allow_external_doctype=limits.allow_external_doctype)
        except safe_xml.XmlError as exc:
            raise _TransformFailure("SIG_REFERENCE_UNREADABLE", BROKEN, uri=what,
                                    reason=str(exc)) from None
    else:
        root = data.elem
    if root.tag != f"{{{OPC_RELATIONSHIPS_NS}}}Relationships":
        raise _TransformFailure("SIG_REFERENCE_UNREADABLE", BROKEN, uri=what,
                                reason="not a relationships part")
    selected = []
    for rel in root:
        if rel.tag != f"{{{OPC_RELATIONSHIPS_NS}}}Relationship":
            continue
        if rel.get("Id") in ids or rel.get("Type") in types:
            selected.append(rel)
    selected.sort(key=lambda r: r.get("Id") or "")
    out = etree.Element(f"{{{OPC_RELATIONSHIPS_NS}}}Relationships",
                        nsmap={None: OPC_RELATIONSHIPS_NS})
    for rel in selected:
        new = etree.SubElement(out, f"{{{OPC_RELATIONSHIPS_NS}}}Relationship")
        for key, value in rel.attrib.items():
            if not key.startswith("{") or key.startswith("{http://www.w3.org/XML/1998/namespace}"):
                new.set(key, value)
        if new.get("TargetMode") is None:
            new.set("TargetMode", "Internal")
    return _Nodes(out, whole_document=True)


def _apply_transforms(data: bytes | _Nodes, transforms: list[etree._Element], sig: etree._Element,
                      limits: Limits, what: str, outcome: RefOutcome,
                      result: DsigResult) -> bytes:
    for transform in transforms:
        alg = transform.get("Algorithm") or ""
        if alg in C14N:
            data = _canonical(data, C14N[alg], _prefix_list(transform), limits, what)
        elif alg == ENVELOPED:
            if isinstance(data, bytes):
                raise _TransformFailure("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE,
                                        algorithm="enveloped-signature on octets")
            if _within(sig, data.elem):
                data = _Nodes(data.elem, data.whole_document, data.comments, exclude=sig)
        elif alg == RELATIONSHIP_TRANSFORM:
            data = _relationship_transform(data, transform, limits, what, outcome)
        else:
            raise _TransformFailure("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=alg or "?")
    if isinstance(data, _Nodes):
        data = _canonical(data, _DEFAULT_C14N, None, limits, what)
    return data


# -- references ---------------------------------------------------------------------------


def _digest_of(ref: etree._Element, result: DsigResult) -> tuple[str, bytes]:
    dm = _one(ref, "DigestMethod")
    dv = _one(ref, "DigestValue")
    if dm is None or dv is None:
        raise _TransformFailure("SIG_MALFORMED", BROKEN,
                                reason="a Reference lacks DigestMethod or DigestValue")
    alg = dm.get("Algorithm") or ""
    name = DIGESTS.get(alg)
    if name is None:
        raise _TransformFailure("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=alg or "?")
    if name not in result.digests:
        result.digests.append(name)
    try:
        expected = keys.b64decode(dv.text)
    except ValueError:
        raise _TransformFailure("SIG_MALFORMED", BROKEN,
                                reason="a DigestValue is not base64") from None
    return name, expected


def _deref_same_document(uri: str, sig: etree._Element, ids: _IdIndex) -> _Nodes:
    if uri == "":
        return _Nodes(sig.getroottree().getroot(), whole_document=True, comments=False)
    frag = uri[1:]
    comments = False
    m = re.fullmatch(r"xpointer\(id\(['\"]([^'\"]+)['\"]\)\)", frag)
    if frag == "xpointer(/)":
        return _Nodes(sig.getroottree().getroot(), whole_document=True, comments=True)
    if m:
        frag, comments = m.group(1), True
    elif frag.startswith("xpointer("):
        raise _TransformFailure("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=f"URI {uri}")
    target, problem = ids.resolve(frag, sig)
    if target is None:
        if problem == "SIG_DUPLICATE_ID":
            raise _TransformFailure("SIG_DUPLICATE_ID", BROKEN, id=frag)
        raise _TransformFailure("SIG_REFERENCE_UNRESOLVED", BROKEN, uri=uri,
                                reason="no element has this Id")
    return _Nodes(target, whole_document=False, comments=comments)


def _check_reference(ref: etree._Element, sig: etree._Element, ids: _IdIndex,
                     resolve: ExternalResolver | None, limits: Limits, result: DsigResult,
                     in_manifest: bool) -> RefOutcome:
    uri = ref.get("URI")
    outcome = RefOutcome(uri=uri if uri is not None else "", in_manifest=in_manifest)
    try:
        if uri is None:
            raise _TransformFailure("SIG_REFERENCE_UNRESOLVED", UNVERIFIABLE, uri="(none)",
                                    reason="a Reference without URI")
        digest_name, expected = _digest_of(ref, result)
        transforms_el = _one(ref, "Transforms")
        transforms = ([t for t in transforms_el if t.tag == _q("Transform")]
                      if transforms_el is not None else [])
        data: bytes | _Nodes
        actual: bytes | None = None
        if uri == "" or uri.startswith("#"):
            data = _deref_same_document(uri, sig, ids)
            outcome.target = data.elem
        else:
            outcome.external = True
            data, actual = _external(uri, resolve, digest_name, bool(transforms))
        if actual is None:
            octets = _apply_transforms(data, transforms, sig, limits, uri, outcome, result)
            actual = hashlib.new(digest_name, octets).digest()
        if not hmac.compare_digest(actual, expected):
            raise _TransformFailure("SIG_DIGEST_MISMATCH", BROKEN, uri=uri)
        outcome.ok = True
    except _TransformFailure as exc:
        outcome.issue = result.add(exc.code, exc.kind, **exc.params)
    return outcome


def _external(uri: str, resolve: ExternalResolver | None, digest_name: str,
              transformed: bool) -> tuple[bytes, bytes | None]:
    """(bytes, None) of a part to transform, or (b"", digest) of a :class:`Part` digested
    as it is (streamed: never held whole)."""
    if resolve is None:
        raise _TransformFailure("SIG_REFERENCE_UNRESOLVED", UNVERIFIABLE, uri=uri,
                                reason="external references are not allowed here")
    try:
        part = resolve(uri)
        if isinstance(part, bytes):
            return part, None
        if transformed:
            return part.read(), None
        return b"", part.digest(digest_name)
    except Unresolved as exc:
        kind = UNVERIFIABLE if exc.code == "SIG_ENCRYPTED_PACKAGE" else BROKEN
        raise _TransformFailure(exc.code, kind, uri=uri, reason=exc.reason,
                                **exc.params) from None


def _check_all(refs: list[etree._Element], sig: etree._Element, ids: _IdIndex,
               resolve: ExternalResolver | None, limits: Limits, result: DsigResult,
               in_manifest: bool) -> list[RefOutcome]:
    """Check references; with ``limits.workers`` > 1, the package parts with transforms
    (XML to parse and canonicalize) on a second thread while this one digests the others
    (lxml's parsing and C14N, inflating and hashing release the GIL, so on an idle core
    reading the images overlaps canonicalizing the XML; one long task per thread keeps
    the GIL handoffs few). Results and issues are merged in document order, so the
    outcome is the sequential one."""
    def transformed(ref: etree._Element) -> bool:
        uri = ref.get("URI") or ""
        return bool(uri) and not uri.startswith("#") and _one(ref, "Transforms") is not None

    def one(ref: etree._Element) -> tuple[RefOutcome, DsigResult]:
        private = DsigResult()
        return _check_reference(ref, sig, ids, resolve, limits, private, in_manifest), private

    heavy = [r for r in refs if transformed(r)]
    if limits.workers <= 1 or not heavy or len(heavy) == len(refs):
        return [_check_reference(r, sig, ids, resolve, limits, result, in_manifest) for r in refs]
    with ThreadPoolExecutor(max_workers=1) as pool:
        background = pool.submit(lambda: [one(r) for r in heavy])
        light = [one(r) for r in refs if not transformed(r)]
        done_heavy = background.result()
    merged = iter(done_heavy), iter(light)
    out = []
    for ref in refs:
        outcome, private = next(merged[0] if transformed(ref) else merged[1])
        for issue in private.issues:
            if issue not in result.issues:
                result.issues.append(issue)
        for alg in private.digests:
            if alg not in result.digests:
                result.digests.append(alg)
        out.append(outcome)
    return out


def _manifests_in(target: etree._Element) -> list[etree._Element]:
    if target.tag == _q("Manifest"):
        return [target]
    return list(target.iter(_q("Manifest")))


# -- the signature ------------------------------------------------------------------------


def verify(sig: etree._Element, *, resolve: ExternalResolver | None = None,
           limits: Limits | None = None) -> DsigResult:
    """Verify ``sig`` (a ``ds:Signature`` element in its parsed document)."""
    limits = limits or Limits()
    result = DsigResult(signature_id=sig.get("Id"))
    signed_info = _children(sig, "SignedInfo")
    values = _children(sig, "SignatureValue")
    if len(signed_info) != 1 or len(values) != 1:
        result.add("SIG_MALFORMED", BROKEN,
                   reason="a signature needs exactly one SignedInfo and one SignatureValue")
        return result
    si = signed_info[0]
    ids = _IdIndex(sig.getroottree().getroot())
    for dup in ids.duplicates_within(sig):
        result.add("SIG_DUPLICATE_ID", BROKEN, id=dup)

    refs = _children(si, "Reference")
    if not refs:
        result.add("SIG_MALFORMED", BROKEN, reason="SignedInfo has no Reference")
    if len(refs) > limits.max_references:
        result.add("SIG_MALFORMED", BROKEN, reason=f"more than {limits.max_references} references")
        return result
    manifests_done: set[int] = set()
    for outcome in _check_all(refs, sig, ids, resolve, limits, result, in_manifest=False):
        result.references.append(outcome)
        if not outcome.ok or outcome.target is None:
            continue
        for manifest in _manifests_in(outcome.target):
            if id(manifest) in manifests_done:
                continue
            manifests_done.add(id(manifest))
            mrefs = _children(manifest, "Reference")
            if len(mrefs) + len(result.references) > limits.max_references:
                result.add("SIG_MALFORMED", BROKEN,
                           reason=f"more than {limits.max_references} references")
                break
            result.references.extend(
                _check_all(mrefs, sig, ids, resolve, limits, result, in_manifest=True))

    signed_targets = [o.target for o in result.references if o.ok and o.target is not None]
    _key_info(sig, result)
    _signature_value(sig, si, values[0], result, limits)
    _xades(sig, signed_targets, result)
    if result.signing_time is None:
        _legacy_signing_time(signed_targets, result)
    return result


def _signature_value(sig: etree._Element, si: etree._Element, value_el: etree._Element,
                     result: DsigResult, limits: Limits) -> None:
    cm = _one(si, "CanonicalizationMethod")
    sm = _one(si, "SignatureMethod")
    if cm is None or sm is None:
        result.add("SIG_MALFORMED", BROKEN,
                   reason="SignedInfo lacks CanonicalizationMethod or SignatureMethod")
        return
    method = C14N.get(cm.get("Algorithm") or "")
    if method is None:
        result.add("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=cm.get("Algorithm") or "?")
        return
    alg = sm.get("Algorithm") or ""
    smethod = SIGNATURE_METHODS.get(alg)
    if smethod is None:
        result.add("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=alg or "?")
        return
    digest, salt, mgf = smethod.digest, None, None
    if smethod.family == "rsa-pss" and digest is None:
        try:
            digest, salt, mgf = _pss_params(sm)
        except ValueError as exc:
            result.add("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=f"rsa-pss ({exc})")
            return
    assert digest is not None
    result.scheme = smethod.family
    for name in (digest, mgf):
        if name is not None and name not in result.digests:
            result.digests.append(name)
    try:
        signed = c14nmod.subtree(si, method, _prefix_list(cm))
    except c14nmod.C14nError as exc:
        result.add("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=str(exc))
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
    reasons = []
    for der, cert in candidates:
        try:
            ok = keys.verify(cert, smethod.family, digest, signed, value, pss_salt=salt,
                             pss_mgf_digest=mgf)
        except keys.KeyError_ as exc:
            reasons.append(str(exc))
            continue
        if ok:
            result.signer, result.signer_der = cert, der
            break
    if result.signer is None:
        reason = "; ".join(sorted(set(reasons))) or "the value does not match SignedInfo"
        result.add("SIG_VALUE_INVALID", BROKEN, reason=reason)
        return
    # Other KeyInfo certificates must be issuers of the signer: anything else makes the
    # signer ambiguous (a known attack shows one certificate and verifies with another).
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


def _pss_params(sm: etree._Element) -> tuple[str, int | None, str | None]:
    params = sm.find(f"{{{DSIG_MORE_2007}}}RSAPSSParams")
    digest, salt, mgf = "sha256", None, None
    if params is None:
        return digest, salt, mgf
    dm = params.find(_q("DigestMethod"))
    if dm is not None:
        name = DIGESTS.get(dm.get("Algorithm") or "")
        if name is None:
            raise ValueError(f"digest {dm.get('Algorithm')}")
        digest = name
    mgf_el = params.find(f"{{{DSIG_MORE_2007}}}MaskGenerationFunction")
    if mgf_el is not None:
        if (mgf_el.get("Algorithm") or DSIG_MORE_2007 + "MGF1") != DSIG_MORE_2007 + "MGF1":
            raise ValueError(f"mask generation {mgf_el.get('Algorithm')}")
        mdm = mgf_el.find(_q("DigestMethod"))
        if mdm is not None:
            mname = DIGESTS.get(mdm.get("Algorithm") or "")
            if mname is None:
                raise ValueError(f"MGF digest {mdm.get('Algorithm')}")
            mgf = mname
    salt_el = params.find(f"{{{DSIG_MORE_2007}}}SaltLength")
    if salt_el is not None:
        salt = int((salt_el.text or "").strip())
        if not 0 <= salt <= 1024:
            raise ValueError("salt length")
    trailer = params.find(f"{{{DSIG_MORE_2007}}}TrailerField")
    if trailer is not None and (trailer.text or "").strip() not in ("1", ""):
        raise ValueError("trailer field")
    return digest, salt, mgf


def _key_info(sig: etree._Element, result: DsigResult) -> None:
    ki = _one(sig, "KeyInfo")
    if ki is None:
        return
    pgp = ki.find(_q("PGPData")) is not None
    if pgp and ki.find(f"{_q('X509Data')}/{_q('X509Certificate')}") is None:
        result.openpgp = True


def _keyinfo_certs(sig: etree._Element, result: DsigResult) -> list[tuple[bytes, x509.Certificate]]:
    ki = _one(sig, "KeyInfo")
    out: list[tuple[bytes, x509.Certificate]] = []
    if ki is None:
        return out
    seen: set[bytes] = set()
    for data in ki.iter(_q("X509Data")):
        for cert_el in data.iter(_q("X509Certificate")):
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


# -- XAdES ---------------------------------------------------------------------------------


def _xades_find(root: etree._Element, name: str) -> list[etree._Element]:
    out: list[etree._Element] = []
    for ns in XADES_NAMESPACES:
        out.extend(root.iter(f"{{{ns}}}{name}"))
    return out


def _xades(sig: etree._Element, signed_targets: list[etree._Element], result: DsigResult) -> None:
    signed_props = []
    for obj in _children(sig, "Object"):
        for sp in _xades_find(obj, "SignedProperties"):
            if any(_within(sp, t) for t in signed_targets):
                signed_props.append(sp)
    for obj in _children(sig, "Object"):
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
    certs: list[etree._Element] = []
    for tag in ("SigningCertificate", "SigningCertificateV2"):
        for sc in _xades_find(sp, tag):
            certs.extend(c for c in sc if isinstance(c.tag, str) and c.tag.endswith("}Cert"))
    if not certs or result.signer_der is None:
        return
    matched = False
    for cert_el in certs:
        digest_el = next((c for c in cert_el
                          if isinstance(c.tag, str) and c.tag.endswith("}CertDigest")), None)
        if digest_el is None:
            continue
        dm = digest_el.find(_q("DigestMethod"))
        dv = digest_el.find(_q("DigestValue"))
        name = DIGESTS.get(dm.get("Algorithm") or "") if dm is not None else None
        if name is None or dv is None:
            continue
        try:
            expected = keys.b64decode(dv.text)
        except ValueError:
            continue
        if not hmac.compare_digest(keys.cert_digest(result.signer_der, name), expected):
            continue
        serial_el = next((e for e in cert_el.iter(_q("X509SerialNumber"))), None)
        if serial_el is not None and result.signer is not None:
            try:
                if int((serial_el.text or "").strip()) != result.signer.serial_number:
                    continue
            except ValueError:
                continue
        matched = True
        break
    if not matched:
        result.add("SIG_SIGNING_CERT_MISMATCH", BROKEN,
                   subject=keys.subject_text(result.signer) if result.signer else "?")


def _legacy_signing_time(signed_targets: list[etree._Element], result: DsigResult) -> None:
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


def part_name_from_uri(uri: str) -> str:
    """``/word/document.xml?ContentType=…`` → ``word/document.xml`` (percent-decoded)."""
    path = uri.split("?", 1)[0].split("#", 1)[0]
    return urllib.parse.unquote(path).lstrip("/")


def iter_signatures(root: etree._Element) -> Iterable[etree._Element]:
    if root.tag == _q("Signature"):
        yield root
        return
    for child in root:
        if child.tag == _q("Signature"):
            yield child


__all__ = ["BROKEN", "DsigResult", "ExternalResolver", "Issue", "Limits", "NOTE", "Part",
           "RefOutcome",
           "UNVERIFIABLE", "Unresolved", "iter_signatures", "parse_time", "part_name_from_uri",
           "verify"]
