"""Text and fonts of Office Open XML documents: DOCX (runs resolved through run fonts,
character and paragraph styles, theme fonts), XLSX (cells with their cell style's font,
shared and inline strings, drawings) and PPTX (slides and notes through DrawingML)."""

from __future__ import annotations

import re

from lxml import etree

from gateway.inspect.text.extract.base import (
    Block,
    Budget,
    Extracted,
    Package,
    Run,
    Unreadable,
    parse_xml,
    part_number,
)

# ------------------------------------------------------------------------------------------------
# DOCX

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_W_P, _W_R, _W_T, _W_TBL, _W_TR, _W_TC = W + "p", W + "r", W + "t", W + "tbl", W + "tr", W + "tc"
_W_SKIP = frozenset({W + "del", W + "moveFrom", W + "delText", W + "instrText", W + "pPr",
                     W + "rPr", W + "sectPr", W + "tblPr", W + "tblGrid", W + "trPr", W + "tcPr",
                     W + "fldChar", MC + "Fallback", W + "commentRangeStart"})
_W_TXBX = W + "txbxContent"


class Styles:
    """Run font resolution: run rFonts → character style → paragraph style → defaults."""

    def __init__(self, styles: etree._Element | None, theme: etree._Element | None) -> None:
        self.theme: dict[str, str] = {}
        self._fonts_memo: dict[tuple[str | None, ...], str | None] = {}
        self._memo: dict[str, str | None] = {}
        if theme is not None:
            for kind, key in (("majorFont", "major"), ("minorFont", "minor")):
                el = theme.find(f".//{A}{kind}/{A}latin")
                if el is not None and (face := el.get("typeface")):
                    self.theme[key] = face
        self.default: str | None = None
        self.styles: dict[str, tuple[str | None, str | None]] = {}  # id → (font, basedOn)
        self.default_para: str | None = None
        if styles is None:
            return
        rpr = styles.find(f"{W}docDefaults/{W}rPrDefault/{W}rPr/{W}rFonts")
        if rpr is not None:
            self.default = self.fonts(rpr)
        for st in styles.iter(W + "style"):
            sid = st.get(W + "styleId")
            if not sid:
                continue
            rf = st.find(f"{W}rPr/{W}rFonts")
            based = st.find(W + "basedOn")
            self.styles[sid] = (self.fonts(rf) if rf is not None else None,
                                based.get(W + "val") if based is not None else None)
            if st.get(W + "type") == "paragraph" and st.get(W + "default") in ("1", "true", "on"):
                self.default_para = sid

    def fonts(self, rf: etree._Element) -> str | None:
        """The font of high-ANSI text (where legacy letters are), else the ASCII font."""
        key = (rf.get(W + "hAnsi"), rf.get(W + "ascii"), rf.get(W + "cs"),
               rf.get(W + "hAnsiTheme"), rf.get(W + "asciiTheme"))
        memo = self._fonts_memo
        if key not in memo:
            memo[key] = self._fonts(rf)
        return memo[key]

    def _fonts(self, rf: etree._Element) -> str | None:
        from gateway.inspect.text.detect import font_encoding

        names = [rf.get(W + "hAnsi"), rf.get(W + "ascii"), rf.get(W + "cs")]
        for attr in ("hAnsiTheme", "asciiTheme"):
            t = rf.get(W + attr)
            if t:
                names.append(self.theme.get("major" if t.startswith("major") else "minor"))
        names = [n for n in names if n]
        for n in names:
            if font_encoding(n) is not None:
                return n
        return names[0] if names else None

    def style_font(self, sid: str | None, depth: int = 0) -> str | None:
        if not sid or depth > 20:
            return None
        if sid in self._memo:
            return self._memo[sid]
        font, based = self.styles.get(sid, (None, None))
        if font is None:
            font = self.style_font(based, depth + 1)
        if depth == 0:
            self._memo[sid] = font
        return font


class _DocxWalker:
    def __init__(self, part: str, kind: str, styles: Styles, out: Extracted, budget: Budget,
                 counter: list[int]) -> None:
        self.part = part
        self.kind = kind
        self.styles = styles
        self.out = out
        self.budget = budget
        self.counter = counter  # shared block index of the main flow
        self.para_no = 0
        self.table_no = 0
        self.textbox_no = 0
        self.cell: list[tuple[int, int, int]] = []  # stack of (table, row, cell)

    def walk(self, el: etree._Element, kind: str) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _W_SKIP:
                continue
            if self.budget.truncated:
                return
            if tag == _W_P:
                self.para(child, kind)
            elif tag == _W_TBL:
                self.table_no += 1
                self.cell.append((self.table_no, 0, 0))
                self.walk(child, kind)
                self.cell.pop()
            elif tag == _W_TR:
                t, r, _ = self.cell[-1] if self.cell else (0, 0, 0)
                if self.cell:
                    self.cell[-1] = (t, r + 1, 0)
                self.walk(child, kind)
            elif tag == _W_TC:
                if self.cell:
                    t, r, c = self.cell[-1]
                    self.cell[-1] = (t, r, c + 1)
                self.walk(child, kind)
            elif tag == _W_TXBX:
                self.textbox_no += 1
                self.walk(child, "textbox")
            else:
                self.walk(child, kind)

    def para(self, p: etree._Element, kind: str) -> None:
        if kind != "textbox":
            self.para_no += 1
        ppr = p.find(W + "pPr")
        pstyle = None
        if ppr is not None:
            ps = ppr.find(W + "pStyle")
            pstyle = ps.get(W + "val") if ps is not None else None
        pfont = self.styles.style_font(pstyle or self.styles.default_para) or self.styles.default
        runs: list[Run] = []
        self.collect(p, runs, pfont, kind)
        if kind == "textbox":
            place = f"{self.part}, text box {self.textbox_no}"
        elif self.cell:
            t, r, c = self.cell[-1]
            place = f"{self.part}, table {t} row {r} cell {c}"
        else:
            place = f"{self.part}, paragraph {self.para_no}"
        block = Block(self.part, place, "cell" if (self.cell and kind == "body") else kind,
                      self.counter[0], runs)
        self.counter[0] += 1
        if runs:
            self.out.blocks.append(block)

    def collect(self, el: etree._Element, runs: list[Run], pfont: str | None, kind: str) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _W_SKIP:
                continue
            if tag == _W_R:
                self.run(child, runs, pfont, kind)
            elif tag == _W_TXBX:
                self.textbox_no += 1
                self.walk(child, "textbox")
            elif tag == _W_P:
                self.para(child, kind)
            else:
                self.collect(child, runs, pfont, kind)

    def run(self, r: etree._Element, runs: list[Run], pfont: str | None, kind: str) -> None:
        font = None
        parts: list[str] = []
        for child in r:
            tag = child.tag
            if tag == _W_T:
                parts.append(child.text or "")
            elif tag == _W_RPR:
                rf = child.find(_W_RFONTS)
                if rf is not None:
                    font = self.styles.fonts(rf)
                if font is None:
                    rs = child.find(_W_RSTYLE)
                    if rs is not None:
                        font = self.styles.style_font(rs.get(_W_VAL))
            elif isinstance(tag, str):  # not a comment or processing instruction
                piece = _RUN_CHARS.get(tag)
                if piece is not None:
                    parts.append(piece)
                elif tag not in _W_SKIP:
                    # drawings and VML shapes hold text boxes of their own
                    for tx in child.iter(_W_TXBX):
                        if any(a.tag == _MC_FALLBACK for a in tx.iterancestors()):
                            continue
                        self.textbox_no += 1
                        self.walk(tx, "textbox")
        if not parts:
            return
        text = "".join(parts)
        if text and self.budget.take(len(text)):
            runs.append(Run(text, font if font is not None else pfont))


_W_RPR, _W_RFONTS, _W_RSTYLE, _W_VAL = W + "rPr", W + "rFonts", W + "rStyle", W + "val"
_MC_FALLBACK = MC + "Fallback"
_RUN_CHARS = {W + "tab": "\t", W + "br": "\n", W + "cr": "\n", W + "softHyphen": "\xad",
              W + "noBreakHyphen": "-"}


def docx(pkg: Package, budget: Budget) -> Extracted:
    out = Extracted()
    main = "word/document.xml"
    ct = pkg.read("[Content_Types].xml") or b""
    m = re.search(
        rb'PartName="/([^"]+)"[^>]*ContentType="[^"]*(?:document|template)\.main\+xml"', ct)
    if m:
        main = m.group(1).decode("utf-8", "replace")
    root = pkg.xml(main)
    if root is None:
        raise Unreadable(f"no main part {main}")
    styles = Styles(pkg.xml("word/styles.xml"), pkg.xml("word/theme/theme1.xml"))
    counter = [0]
    body = root.find(W + "body")
    _DocxWalker(main, "body", styles, out, budget, counter).walk(
        body if body is not None else root, "body")
    others = sorted(n for n in pkg.names if re.fullmatch(
        r"word/(header\d*|footer\d*|footnotes|endnotes|comments)\.xml", n))
    for name in others:
        if budget.truncated:
            break
        kind = re.sub(r"\d*\.xml$", "", name.removeprefix("word/"))  # header, footnotes…
        kind = {"headers": "header", "footnotes": "footnote", "endnotes": "footnote",
                "comments": "comment"}.get(kind, kind)
        part_root = pkg.xml(name)
        if part_root is not None:
            _DocxWalker(name, kind, styles, out, budget, [0]).walk(part_root, kind)
    return out


# ------------------------------------------------------------------------------------------------
# XLSX

S = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
R_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _si_runs(si: etree._Element) -> list[tuple[str, str | None]]:
    """A shared/inline string as (text, run font or None)."""
    out: list[tuple[str, str | None]] = []
    for child in si:
        if child.tag == S + "t":
            out.append((child.text or "", None))
        elif child.tag == S + "r":
            font = None
            rf = child.find(f"{S}rPr/{S}rFont")
            if rf is not None:
                font = rf.get("val")
            t = child.find(S + "t")
            out.append(((t.text or "") if t is not None else "", font))
    return out


def xlsx_styles(pkg: Package) -> tuple[list[str | None], list[int]]:
    """Font names by fontId, and fontId by cell style index (cellXfs)."""
    root = pkg.xml("xl/styles.xml")
    fonts: list[str | None] = []
    xfs: list[int] = []
    if root is None:
        return fonts, xfs
    fonts_el = root.find(S + "fonts")
    if fonts_el is not None:
        for f in fonts_el.findall(S + "font"):
            n = f.find(S + "name")
            fonts.append(n.get("val") if n is not None else None)
    cell_xfs = root.find(S + "cellXfs")
    if cell_xfs is not None:
        for xf in cell_xfs.findall(S + "xf"):
            try:
                xfs.append(int(xf.get("fontId") or 0))
            except ValueError:
                xfs.append(0)
    return fonts, xfs


def xlsx_sheets(pkg: Package) -> list[tuple[str, str]]:
    """(sheet name, part) in workbook order."""
    wb = pkg.xml("xl/workbook.xml")
    if wb is None:
        raise Unreadable("no xl/workbook.xml")
    rels = pkg.rels("xl/workbook.xml")
    out = []
    for sh in wb.iter(S + "sheet"):
        part = rels.get(sh.get(R_NS + "id") or "")
        if part:
            out.append((sh.get("name") or "", part))
    return out


def xlsx(pkg: Package, budget: Budget) -> Extracted:
    out = Extracted()
    fonts, xfs = xlsx_styles(pkg)

    def cell_font(s: str | None) -> str | None:
        try:
            fid = xfs[int(s)] if s else (xfs[0] if xfs else 0)
            return fonts[fid]
        except (ValueError, IndexError):
            return fonts[0] if fonts else None

    sst_root = pkg.xml("xl/sharedStrings.xml")
    shared = [_si_runs(si) for si in sst_root.iter(S + "si")] if sst_root is not None else []
    index = 0
    for n, (name, part) in enumerate(xlsx_sheets(pkg), 1):
        out.blocks.append(Block("xl/workbook.xml", f"sheet {n} name", "sheetname", index,
                                [Run(name, None)]))
        index += 1
        data = pkg.read(part)
        if data is None:
            continue
        root = parse_xml(data)
        for c in root.iter(S + "c"):
            t = c.get("t")
            if t not in ("s", "inlineStr", "str"):
                continue
            font = cell_font(c.get("s"))
            ref = c.get("r") or "?"
            pieces: list[tuple[str, str | None]]
            if t == "s":
                v = c.find(S + "v")
                try:
                    pieces = shared[int(v.text)] if v is not None and v.text else []
                except (ValueError, IndexError):
                    pieces = []
            elif t == "inlineStr":
                is_ = c.find(S + "is")
                pieces = _si_runs(is_) if is_ is not None else []
            else:
                v = c.find(S + "v")
                pieces = [(v.text or "", None)] if v is not None else []
            runs = [Run(txt, f or font) for txt, f in pieces if txt]
            if not runs:
                continue
            if not budget.take(sum(len(r.text) for r in runs)):
                out.truncated = True
                return out
            row = int(re.sub(r"\D", "", ref) or 0)
            blk = Block(part, f"{part} (sheet '{name}') cell {ref}", "cell", index, runs)
            blk.top = row <= 20
            out.blocks.append(blk)
            index += 1
        for drawing in _sheet_drawings(pkg, part):
            _drawingml_blocks(pkg, drawing, "shape", out, budget, {})
    return out


def _sheet_drawings(pkg: Package, part: str) -> list[str]:
    return [t for t in pkg.rels(part).values() if "/drawings/" in t and t.endswith(".xml")]


# ------------------------------------------------------------------------------------------------
# DrawingML text (PPTX slides, XLSX drawings)

P_NS = "{http://schemas.openxmlformats.org/presentationml/2006/main}"


def _theme_fonts(pkg: Package, theme_part: str | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if not theme_part:
        return out
    root = pkg.xml(theme_part)
    if root is None:
        return out
    for kind, key in (("majorFont", "+mj-lt"), ("minorFont", "+mn-lt")):
        el = root.find(f".//{A}{kind}/{A}latin")
        if el is not None and (face := el.get("typeface")):
            out[key] = face
    return out


def _drawingml_blocks(pkg: Package, part: str, kind: str, out: Extracted, budget: Budget,
                      theme: dict[str, str], label: str | None = None, top: bool = False) -> None:
    root = pkg.xml(part)
    if root is None:
        return
    default = theme.get("+mn-lt")
    shape_no = 0
    xdr = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
    for body in root.iter(f"{A}txBody", f"{P_NS}txBody", f"{xdr}txBody"):
        shape_no += 1
        for pn, p in enumerate(body.iter(A + "p"), 1):
            pfont = None
            dr = p.find(f"{A}pPr/{A}defRPr/{A}latin")
            if dr is not None:
                pfont = dr.get("typeface")
            runs: list[Run] = []
            for r in p:
                if r.tag in (A + "r", A + "fld"):
                    lt = r.find(f"{A}rPr/{A}latin")
                    font = lt.get("typeface") if lt is not None else None
                    font = font or pfont or default
                    if font and font.startswith("+"):
                        font = theme.get(font, default)
                    t = r.find(A + "t")
                    if t is not None and t.text:
                        runs.append(Run(t.text, font))
                elif r.tag == A + "br":
                    runs.append(Run("\n", None))
            if runs and budget.take(sum(len(x.text) for x in runs)):
                blk = Block(part, f"{label or part}, shape {shape_no} paragraph {pn}", kind,
                            len(out.blocks), runs)
                blk.top = top
                out.blocks.append(blk)


def pptx(pkg: Package, budget: Budget) -> Extracted:
    out = Extracted()
    slides = sorted((n for n in pkg.names if re.fullmatch(r"ppt/slides/slide\d+\.xml", n)),
                    key=part_number)
    theme_part = next(
        (n for n in sorted(pkg.names) if re.fullmatch(r"ppt/theme/theme\d+\.xml", n)), None)
    theme = _theme_fonts(pkg, theme_part)
    for i, slide in enumerate(slides, 1):
        if budget.truncated:
            break
        _drawingml_blocks(pkg, slide, "shape", out, budget, theme, label=f"slide {i}", top=(i == 1))
    notes_parts = (n for n in pkg.names if re.fullmatch(r"ppt/notesSlides/notesSlide\d+\.xml", n))
    for notes in sorted(notes_parts, key=part_number):
        _drawingml_blocks(pkg, notes, "comment", out, budget, theme)
    out.truncated = budget.truncated
    return out
