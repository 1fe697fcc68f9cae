"""Text and fonts of OpenDocument files (text, spreadsheet, presentation): paragraphs,
table cells, frames, notes and annotations, with fonts through the style hierarchy."""

from __future__ import annotations

from lxml import etree

from gateway.inspect.text.extract.base import Block, Budget, Extracted, Package, Run, Unreadable

ODF_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
ODF_STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
ODF_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
ODF_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
ODF_DRAW = "{urn:oasis:names:tc:opendocument:xmlns:drawing:1.0}"
ODF_SVG = "{urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0}"
ODF_FO = "{urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0}"


class _OdfStyles:
    def __init__(self) -> None:
        self.faces: dict[str, str] = {}
        self.styles: dict[str, tuple[str | None, str | None]] = {}
        self.default: str | None = None

    def load(self, root: etree._Element | None) -> None:
        if root is None:
            return
        for ff in root.iter(ODF_STYLE + "font-face"):
            name = ff.get(ODF_STYLE + "name")
            fam = ff.get(ODF_SVG + "font-family") or name
            if name:
                self.faces[name] = (fam or name).strip("'\"")
        for st in root.iter(ODF_STYLE + "style", ODF_STYLE + "default-style"):
            tp = st.find(ODF_STYLE + "text-properties")
            font = None
            if tp is not None:
                fn = tp.get(ODF_STYLE + "font-name") or tp.get(ODF_FO + "font-family")
                if fn:
                    font = self.faces.get(fn, fn.strip("'\""))
            if st.tag == ODF_STYLE + "default-style":
                if font and st.get(ODF_STYLE + "family") == "paragraph":
                    self.default = font
                continue
            name = st.get(ODF_STYLE + "name")
            if name:
                self.styles[name] = (font, st.get(ODF_STYLE + "parent-style-name"))

    def font(self, name: str | None, depth: int = 0) -> str | None:
        if not name or depth > 20:
            return None
        font, parent = self.styles.get(name, (None, None))
        return font or self.font(parent, depth + 1)


class _OdfWalker:
    def __init__(self, part: str, styles: _OdfStyles, out: Extracted, budget: Budget) -> None:
        self.part, self.styles, self.out, self.budget = part, styles, out, budget
        self.para_no = 0
        self.frame_no = 0
        self.cell: tuple[str, int, int] | None = None

    def walk(self, el: etree._Element, kind: str) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or self.budget.truncated:
                continue
            if tag in (ODF_TEXT + "p", ODF_TEXT + "h"):
                self.para(child, kind)
            elif tag == ODF_TABLE + "table":
                saved = self.cell
                self.cell = (child.get(ODF_TABLE + "name") or "", 0, 0)
                if kind == "body":
                    self.out.blocks.append(Block(
                        self.part, f"{self.part}, table '{self.cell[0]}' name", "sheetname",
                        len(self.out.blocks), [Run(self.cell[0], None)]))
                self.walk(child, kind)
                self.cell = saved
            elif tag == ODF_TABLE + "table-row" and self.cell:
                self.cell = (self.cell[0], self.cell[1] + 1, 0)
                self.walk(child, kind)
            elif tag in (ODF_TABLE + "table-cell", ODF_TABLE + "covered-table-cell") and self.cell:
                rep = int(child.get(ODF_TABLE + "number-columns-repeated") or 1)
                self.cell = (self.cell[0], self.cell[1], self.cell[2] + 1)
                self.walk(child, kind)
                self.cell = (self.cell[0], self.cell[1], self.cell[2] + min(rep, 16384) - 1)
            elif tag == ODF_DRAW + "text-box" or tag == ODF_DRAW + "frame" and kind != "textbox":
                if tag == ODF_DRAW + "text-box":
                    self.frame_no += 1
                    self.walk(child, "textbox")
                else:
                    self.walk(child, kind)
            elif tag == ODF_TEXT + "note-body":
                self.walk(child, "footnote")
            elif tag in (ODF_OFFICE + "annotation",):
                self.walk(child, "comment")
            else:
                self.walk(child, kind)

    def para(self, p: etree._Element, kind: str) -> None:
        if kind != "textbox":
            self.para_no += 1
        runs: list[Run] = []
        pfont = self.styles.font(p.get(ODF_TEXT + "style-name")) or self.styles.default
        self.collect(p, runs, pfont, kind)
        if self.cell and kind == "body":
            place = f"{self.part}, table '{self.cell[0]}' row {self.cell[1]} cell {self.cell[2]}"
        elif kind == "textbox":
            place = f"{self.part}, text box {self.frame_no}"
        else:
            place = f"{self.part}, paragraph {self.para_no}"
        if runs and self.budget.take(sum(len(r.text) for r in runs)):
            blk = Block(self.part, place, "cell" if self.cell and kind == "body" else kind,
                        len(self.out.blocks), runs)
            if self.cell and kind == "body":
                blk.top = self.cell[1] <= 20
            self.out.blocks.append(blk)

    def collect(self, el: etree._Element, runs: list[Run], font: str | None, kind: str) -> None:
        if el.text:
            runs.append(Run(el.text, font))
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):
                continue
            if tag == ODF_TEXT + "span":
                f = self.styles.font(child.get(ODF_TEXT + "style-name")) or font
                self.collect(child, runs, f, kind)
            elif tag == ODF_TEXT + "s":
                runs.append(Run(" " * min(int(child.get(ODF_TEXT + "c") or 1), 100), font))
            elif tag == ODF_TEXT + "tab":
                runs.append(Run("\t", font))
            elif tag == ODF_TEXT + "line-break":
                runs.append(Run("\n", font))
            elif tag in (ODF_DRAW + "frame", ODF_DRAW + "text-box", ODF_TEXT + "note",
                         ODF_OFFICE + "annotation"):
                self.walk(child, kind)
            elif tag in (ODF_TEXT + "a", ODF_TEXT + "ruby", ODF_TEXT + "ruby-base",
                         ODF_TEXT + "meta", ODF_TEXT + "bookmark-ref", ODF_TEXT + "sequence"):
                self.collect(child, runs, font, kind)
            if child.tail:
                runs.append(Run(child.tail, font))


def odf(pkg: Package, budget: Budget) -> Extracted:
    out = Extracted()
    styles = _OdfStyles()
    styles_root = pkg.xml("styles.xml")
    styles.load(styles_root)
    content = pkg.xml("content.xml")
    if content is None:
        raise Unreadable("no content.xml")
    styles.load(content)
    body = content.find(ODF_OFFICE + "body")
    _OdfWalker("content.xml", styles, out, budget).walk(
        body if body is not None else content, "body")
    if styles_root is not None:
        for mp in styles_root.iter(ODF_STYLE + "master-page"):
            for hf in mp:
                if isinstance(hf.tag, str):
                    kind = "footer" if "footer" in hf.tag else "header"
                    _OdfWalker("styles.xml", styles, out, budget).walk(hf, kind)
    out.truncated = budget.truncated
    return out
