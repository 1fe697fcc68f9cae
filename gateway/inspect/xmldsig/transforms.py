"""Reference transforms: canonicalization (inclusive, exclusive, 1.1), enveloped-signature
and the OPC relationships transform, applied in order to a node set or to octets."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from gateway.inspect import safe_xml
from gateway.inspect.xmldsig import c14n as c14nmod
from gateway.inspect.xmldsig.algorithms import (
    C14N,
    ENVELOPED,
    OPC_DSIG_NS,
    OPC_RELATIONSHIPS_NS,
    RELATIONSHIP_TRANSFORM,
    C14nMethod,
)
from gateway.inspect.xmldsig.result import BROKEN, UNVERIFIABLE, DsigResult, Limits, RefOutcome
from gateway.inspect.xmldsig.tree import within

_EXC_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"
_DEFAULT_C14N = C14N["http://www.w3.org/TR/2001/REC-xml-c14n-20010315"]


@dataclass
class Nodes:
    elem: etree._Element
    whole_document: bool = False
    comments: bool = False
    exclude: etree._Element | None = None


class TransformFailure(Exception):
    def __init__(self, code: str, kind: str, **params: str) -> None:
        super().__init__(code)
        self.code = code
        self.kind = kind
        self.params = params


def prefix_list(transform: etree._Element) -> list[str] | None:
    inc = transform.find(f"{{{_EXC_NS}}}InclusiveNamespaces")
    if inc is None:
        return None
    return [p for p in (inc.get("PrefixList") or "").split() if p]


def _parse(data: bytes, limits: Limits, what: str) -> etree._ElementTree:
    """A referenced part's XML, parsed safely; XML that cannot be read breaks the reference."""
    try:
        return safe_xml.parse_tree(data, max_bytes=limits.xml_max_bytes, what=what,
                                   allow_external_doctype=limits.allow_external_doctype)
    except safe_xml.XmlError as exc:
        raise TransformFailure("SIG_REFERENCE_UNREADABLE", BROKEN, uri=what,
                               reason=str(exc)) from None


def _canonical(data: bytes | Nodes, method: C14nMethod, prefixes: list[str] | None,
               limits: Limits, what: str) -> bytes:
    if isinstance(data, bytes):
        return c14nmod.document(_parse(data, limits, what), method, prefixes)
    use = C14nMethod(method.exclusive, method.with_comments and data.comments, method.version)
    try:
        if data.whole_document and data.exclude is None:
            return c14nmod.document(data.elem, use, prefixes)
        return c14nmod.subtree(data.elem, use, prefixes, exclude=data.exclude)
    except c14nmod.C14nError as exc:
        raise TransformFailure("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE,
                                algorithm=str(exc)) from None


def _selectors(transform: etree._Element, name: str, attribute: str) -> frozenset[str]:
    """The ``attribute`` values of the transform's ``name`` children (in the OPC signature
    namespace); a child without the attribute selects nothing."""
    tag = f"{{{OPC_DSIG_NS}}}{name}"
    values = (r.get(attribute) for r in transform if isinstance(r.tag, str) and r.tag == tag)
    return frozenset(v for v in values if v is not None)


def relationship_transform(data: bytes | Nodes, transform: etree._Element, limits: Limits,
                            what: str, outcome: RefOutcome) -> Nodes:
    """OPC Part 2 relationships transform: keep the selected Relationship elements, sorted
    by Id, attributes only (TargetMode defaulted), nothing else."""
    ids = _selectors(transform, "RelationshipReference", "SourceId")
    types = _selectors(transform, "RelationshipsGroupReference", "SourceType")
    outcome.relationship_ids, outcome.relationship_types = ids, types
    root = _parse(data, limits, what).getroot() if isinstance(data, bytes) else data.elem
    if root.tag != f"{{{OPC_RELATIONSHIPS_NS}}}Relationships":
        raise TransformFailure("SIG_REFERENCE_UNREADABLE", BROKEN, uri=what,
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
    return Nodes(out, whole_document=True)


def apply_transforms(data: bytes | Nodes, transforms: list[etree._Element], sig: etree._Element,
                      limits: Limits, what: str, outcome: RefOutcome,
                      result: DsigResult) -> bytes:
    for transform in transforms:
        alg = transform.get("Algorithm") or ""
        if alg in C14N:
            data = _canonical(data, C14N[alg], prefix_list(transform), limits, what)
        elif alg == ENVELOPED:
            if isinstance(data, bytes):
                raise TransformFailure("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE,
                                        algorithm="enveloped-signature on octets")
            if within(sig, data.elem):
                data = Nodes(data.elem, data.whole_document, data.comments, exclude=sig)
        elif alg == RELATIONSHIP_TRANSFORM:
            data = relationship_transform(data, transform, limits, what, outcome)
        else:
            raise TransformFailure("SIG_UNSUPPORTED_ALGORITHM", UNVERIFIABLE, algorithm=alg or "?")
    if isinstance(data, Nodes):
        data = _canonical(data, _DEFAULT_C14N, None, limits, what)
    return data
