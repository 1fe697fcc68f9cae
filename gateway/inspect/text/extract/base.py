"""What every text reader produces and shares: blocks of runs, the character budget, and
packages (ZIP members read with a size cap through :mod:`gateway.zip_member`, XML parsed
without DTDs, entities or network and refused if it carries a DOCTYPE)."""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from gateway.model.partdata import Data, open_stream
from gateway.zip_member import MemberUnreadable, read_member

STRONG_KINDS = frozenset({"textbox", "shape", "header", "footer"})
"""Places where a standalone stamp counts wherever it is."""


@dataclass
class Run:
    text: str
    font: str | None = None


@dataclass
class Block:
    part: str
    place: str
    kind: str
    """body, cell, textbox, shape, header, footer, footnote, comment, sheetname, slide, line."""
    index: int
    """Order among the blocks of the main flow (for "near the top")."""
    runs: list[Run] = field(default_factory=list)
    top: bool = False
    """Set by readers that know the geometry (PDF: upper part of page 1)."""

    @property
    def text(self) -> str:
        return "".join(r.text for r in self.runs)


@dataclass
class Extracted:
    blocks: list[Block] = field(default_factory=list)
    truncated: bool = False
    notes: list[str] = field(default_factory=list)
    """Problems that left part of the document unread (named in a finding)."""
    chars: int = 0


class Unreadable(Exception):
    """The document cannot be read at all (damaged, hostile or encrypted)."""


class Budget:
    """The characters left to read from one document (``take`` says whether ``n`` more fit;
    once past the end, ``truncated`` is set)."""

    def __init__(self, max_chars: int) -> None:
        self.left = max_chars
        self.truncated = False

    def take(self, n: int) -> bool:
        self.left -= n
        if self.left < 0:
            self.truncated = True
            return False
        return True


# ------------------------------------------------------------------------------------------------
# Safe XML and ZIP


def parse_xml(data: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, remove_comments=True, remove_pis=True,
                             huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise Unreadable(f"malformed XML: {exc}") from None
    if root is None:
        raise Unreadable("empty XML part")
    if root.getroottree().docinfo.doctype:
        raise Unreadable("XML part with a DOCTYPE (refused)")
    return root


class Package:
    """A ZIP package read with caps on member size and total inflated bytes."""

    def __init__(self, data: Data, max_member: int, max_total: int) -> None:
        try:
            self.zf = zipfile.ZipFile(open_stream(data))
            self.names = {i.filename: i for i in self.zf.infolist()}
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise Unreadable(f"not a readable ZIP package: {exc}") from None
        self.max_member = max_member
        self.left = max_total

    def has(self, name: str) -> bool:
        return name in self.names

    def read(self, name: str) -> bytes | None:
        info = self.names.get(name)
        if info is None:
            return None
        if info.flag_bits & 0x1:
            raise Unreadable(f"{name} is encrypted")
        cap = min(self.max_member, self.left)
        try:
            data = read_member(self.zf, info, cap)
        except MemberUnreadable as exc:
            if exc.over_cap:
                raise Unreadable(f"{name} inflates past {cap} bytes") from None
            raise Unreadable(f"{name}: {exc}") from None
        self.left -= len(data)
        return data

    def xml(self, name: str) -> etree._Element | None:
        data = self.read(name)
        return parse_xml(data) if data is not None else None

    def rels(self, part: str) -> dict[str, str]:
        """Relationship id → target part name for ``part``."""
        d, _, base = part.rpartition("/")
        root = self.xml(f"{d}/_rels/{base}.rels" if d else f"_rels/{base}.rels")
        out: dict[str, str] = {}
        if root is None:
            return out
        for rel in root:
            if not isinstance(rel.tag, str) or rel.get("TargetMode") == "External":
                continue
            target = rel.get("Target") or ""
            out[rel.get("Id") or ""] = _join(d, target)
        return out


def _join(base_dir: str, target: str) -> str:
    if target.startswith("/"):
        path = target[1:]
    else:
        path = f"{base_dir}/{target}" if base_dir else target
    parts: list[str] = []
    for p in path.split("/"):
        if p == "..":
            if parts:
                parts.pop()
        elif p and p != ".":
            parts.append(p)
    return "/".join(parts)


def part_number(name: str) -> int:
    """The number at the end of a part name (``slide12.xml`` → 12), to order parts."""
    m = re.search(r"(\d+)\D*$", name)
    return int(m.group(1)) if m else 0
