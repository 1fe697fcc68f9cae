"""Walking a signature document: ``ds:`` children, Id lookup that refuses ambiguous Ids
(the defence against signature wrapping), ancestry, and the signatures a root holds."""

from __future__ import annotations

from collections.abc import Iterable

from lxml import etree

from gateway.inspect.xmldsig.algorithms import DS

_ID_ATTRS = ("Id", "ID", "id", "{http://www.w3.org/XML/1998/namespace}id")


def q(name: str) -> str:
    return f"{{{DS}}}{name}"


def children(elem: etree._Element, name: str, ns: str = DS) -> list[etree._Element]:
    return [c for c in elem if c.tag == f"{{{ns}}}{name}"]


def one(elem: etree._Element, name: str, ns: str = DS) -> etree._Element | None:
    found = children(elem, name, ns)
    return found[0] if len(found) == 1 else None


class IdIndex:
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
            inside = [e for e in elems if within(e, sig)]
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
        inside = [e for e in elems if within(e, sig)]
        outside_ok = all(in_other_signature(e, sig) for e in elems if not within(e, sig))
        if len(inside) == 1 and outside_ok:
            # Co-signatures in one ODF file may reuse the same local Ids; each signature
            # resolves its own.
            return inside[0], None
        return None, "SIG_DUPLICATE_ID"


def within(el: etree._Element, ancestor: etree._Element) -> bool:
    node: etree._Element | None = el
    while node is not None:
        if node is ancestor:
            return True
        node = node.getparent()
    return False


def in_other_signature(el: etree._Element, sig: etree._Element) -> bool:
    node: etree._Element | None = el
    while node is not None:
        if node.tag == q("Signature") and node is not sig:
            return True
        node = node.getparent()
    return False



def iter_signatures(root: etree._Element) -> Iterable[etree._Element]:
    if root.tag == q("Signature"):
        yield root
        return
    for child in root:
        if child.tag == q("Signature"):
            yield child
