"""Canonical XML (C14N 1.0, exclusive C14N, C14N 1.1) of whole documents and subtrees.

lxml canonicalizes a whole document faithfully. For a *subtree* (a same-document reference
such as ``#idPackageObject``) lxml's own path does not reproduce the namespace context of the
ancestors (with libxml2 2.14 it even emits spurious ``xmlns=""``), so the subtree is first
copied into a document of its own whose apex declares every namespace in scope (inclusive
C14N) and carries the ``xml:*`` attributes it inherits; exclusive C14N only needs the
namespaces the subtree uses, which a plain deep copy keeps.
"""

from __future__ import annotations

import copy

from lxml import etree

from gateway.inspect.xmldsig.algorithms import C14nMethod

XML_NS = "http://www.w3.org/XML/1998/namespace"
_INHERITED_XML_ATTRS = ("lang", "space", "base")


class C14nError(ValueError):
    """The subtree cannot be canonicalized faithfully with this method."""


def document(tree: etree._ElementTree | etree._Element, method: C14nMethod,
             prefixes: list[str] | None = None) -> bytes:
    """Canonical form of a whole document (comments outside the root element included
    only ``WithComments``)."""
    if isinstance(tree, etree._Element):
        tree = tree.getroottree()
    return etree.tostring(
        tree, method="c14n", exclusive=method.exclusive, with_comments=method.with_comments,
        inclusive_ns_prefixes=prefixes or None,
    )


def subtree(elem: etree._Element, method: C14nMethod, prefixes: list[str] | None = None,
            *, exclude: etree._Element | None = None) -> bytes:
    """Canonical form of the document subset rooted at ``elem``.

    ``exclude``: an element inside ``elem`` to leave out (the enveloped-signature
    transform)."""
    if elem.getparent() is None and exclude is None:
        # The apex is the root element: same as the document minus top-level comments/PIs.
        return etree.tostring(
            _standalone(elem, method), method="c14n", exclusive=method.exclusive,
            with_comments=method.with_comments, inclusive_ns_prefixes=prefixes or None)
    apex = _standalone(elem, method)
    if exclude is not None:
        _remove_equivalent(elem, apex, exclude)
    return etree.tostring(
        apex, method="c14n", exclusive=method.exclusive, with_comments=method.with_comments,
        inclusive_ns_prefixes=prefixes or None,
    )


def _standalone(elem: etree._Element, method: C14nMethod) -> etree._Element:
    if method.exclusive:
        out = copy.deepcopy(elem)
        out.tail = None
        return out
    inherited: dict[str, str] = {}
    anc = elem.getparent()
    while anc is not None:
        for name in _INHERITED_XML_ATTRS:
            key = f"{{{XML_NS}}}{name}"
            if key in anc.attrib and key not in elem.attrib and name not in inherited:
                inherited[name] = anc.attrib[key]
        anc = anc.getparent()
    if method.version == "1.1" and ("base" in inherited):
        raise C14nError("C14N 1.1 of a subtree with an inherited xml:base is not supported")
    if method.version == "1.1":
        inherited.pop("base", None)  # C14N 1.1 does not inherit xml:base (it fixes it up)
    nsmap = {k: v for k, v in elem.nsmap.items()}
    apex = etree.Element(elem.tag, nsmap=nsmap)
    for key, value in elem.attrib.items():
        apex.set(key, value)
    for name, value in inherited.items():
        apex.set(f"{{{XML_NS}}}{name}", value)
    apex.text = elem.text
    for child in elem:
        apex.append(copy.deepcopy(child))  # deepcopy keeps the child's tail
    return apex


def _remove_equivalent(orig_root: etree._Element, copy_root: etree._Element,
                       target: etree._Element) -> None:
    """Remove from ``copy_root`` the element at the same position as ``target`` in
    ``orig_root`` (keeping the text that follows it)."""
    path: list[int] = []
    node = target
    while node is not orig_root:
        parent = node.getparent()
        if parent is None:
            return
        path.append(list(parent).index(node))
        node = parent
    cur = copy_root
    for index in reversed(path):
        cur = cur[index]
    parent = cur.getparent()
    if parent is None:
        return
    tail = cur.tail
    prev = cur.getprevious()
    parent.remove(cur)
    if tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
