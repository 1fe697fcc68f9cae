"""Checking references: dereferencing (same-document by Id, or a package part through the
resolver), digesting, and comparing with the DigestValue; package parts with transforms may
be checked on a second thread (:func:`check_all`), with the sequential outcome."""

from __future__ import annotations

import hashlib
import hmac
import re
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from lxml import etree

from gateway.inspect.xmldsig import keys
from gateway.inspect.xmldsig.algorithms import DIGESTS
from gateway.inspect.xmldsig.result import (
    BROKEN,
    UNVERIFIABLE,
    DsigResult,
    ExternalResolver,
    Limits,
    RefOutcome,
    Unresolved,
)
from gateway.inspect.xmldsig.transforms import Nodes, TransformFailure, apply_transforms
from gateway.inspect.xmldsig.tree import IdIndex, one, q


def _digest_of(ref: etree._Element, result: DsigResult) -> tuple[str, bytes]:
    dm = one(ref, "DigestMethod")
    dv = one(ref, "DigestValue")
    if dm is None or dv is None:
        raise TransformFailure("SIG_MALFORMED", BROKEN,
                                reason="a Reference lacks DigestMethod or DigestValue")
    alg = dm.get("Algorithm") or ""
    name = DIGESTS.get(alg)
    if name is None:
        raise TransformFailure("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=alg or "?")
    if name not in result.digests:
        result.digests.append(name)
    try:
        expected = keys.b64decode(dv.text)
    except ValueError:
        raise TransformFailure("SIG_MALFORMED", BROKEN,
                                reason="a DigestValue is not base64") from None
    return name, expected


def _deref_same_document(uri: str, sig: etree._Element, ids: IdIndex) -> Nodes:
    if uri == "":
        return Nodes(sig.getroottree().getroot(), whole_document=True, comments=False)
    frag = uri[1:]
    comments = False
    m = re.fullmatch(r"xpointer\(id\(['\"]([^'\"]+)['\"]\)\)", frag)
    if frag == "xpointer(/)":
        return Nodes(sig.getroottree().getroot(), whole_document=True, comments=True)
    if m:
        frag, comments = m.group(1), True
    elif frag.startswith("xpointer("):
        raise TransformFailure("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=f"URI {uri}")
    target, problem = ids.resolve(frag, sig)
    if target is None:
        if problem == "SIG_DUPLICATE_ID":
            raise TransformFailure("SIG_DUPLICATE_ID", BROKEN, id=frag)
        raise TransformFailure("SIG_REFERENCE_UNRESOLVED", BROKEN, uri=uri,
                                reason="no element has this Id")
    return Nodes(target, whole_document=False, comments=comments)


def _check_reference(ref: etree._Element, sig: etree._Element, ids: IdIndex,
                     resolve: ExternalResolver | None, limits: Limits, result: DsigResult,
                     in_manifest: bool) -> RefOutcome:
    uri = ref.get("URI")
    outcome = RefOutcome(uri=uri if uri is not None else "", in_manifest=in_manifest)
    try:
        if uri is None:
            raise TransformFailure("SIG_REFERENCE_UNRESOLVED", UNVERIFIABLE, uri="(none)",
                                    reason="a Reference without URI")
        digest_name, expected = _digest_of(ref, result)
        transforms_el = one(ref, "Transforms")
        transforms = ([t for t in transforms_el if t.tag == q("Transform")]
                      if transforms_el is not None else [])
        data: bytes | Nodes
        actual: bytes | None = None
        if uri == "" or uri.startswith("#"):
            data = _deref_same_document(uri, sig, ids)
            outcome.target = data.elem
        else:
            outcome.external = True
            data, actual = _external(uri, resolve, digest_name, bool(transforms))
        if actual is None:
            octets = apply_transforms(data, transforms, sig, limits, uri, outcome, result)
            actual = hashlib.new(digest_name, octets).digest()
        if not hmac.compare_digest(actual, expected):
            raise TransformFailure("SIG_DIGEST_MISMATCH", BROKEN, uri=uri)
        outcome.ok = True
    except TransformFailure as exc:
        outcome.issue = result.add(exc.code, exc.kind, **exc.params)
    return outcome


def _external(uri: str, resolve: ExternalResolver | None, digest_name: str,
              transformed: bool) -> tuple[bytes, bytes | None]:
    """(bytes, None) of a part to transform, or (b"", digest) of a :class:`Part` digested
    as it is (streamed: never held whole)."""
    if resolve is None:
        raise TransformFailure("SIG_REFERENCE_UNRESOLVED", UNVERIFIABLE, uri=uri,
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
        raise TransformFailure(exc.code, kind, uri=uri, reason=exc.reason,
                                **exc.params) from None


def check_all(refs: list[etree._Element], sig: etree._Element, ids: IdIndex,
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
        return bool(uri) and not uri.startswith("#") and one(ref, "Transforms") is not None

    def check_one(ref: etree._Element) -> tuple[RefOutcome, DsigResult]:
        private = DsigResult()
        return _check_reference(ref, sig, ids, resolve, limits, private, in_manifest), private

    heavy = [r for r in refs if transformed(r)]
    if limits.workers <= 1 or not heavy or len(heavy) == len(refs):
        return [_check_reference(r, sig, ids, resolve, limits, result, in_manifest) for r in refs]
    with ThreadPoolExecutor(max_workers=1) as pool:
        background = pool.submit(lambda: [check_one(r) for r in heavy])
        light = [check_one(r) for r in refs if not transformed(r)]
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


def manifests_in(target: etree._Element) -> list[etree._Element]:
    if target.tag == q("Manifest"):
        return [target]
    return list(target.iter(q("Manifest")))



def part_name_from_uri(uri: str) -> str:
    """``/word/document.xml?ContentType=…`` → ``word/document.xml`` (percent-decoded)."""
    path = uri.split("?", 1)[0].split("#", 1)[0]
    return urllib.parse.unquote(path).lstrip("/")
