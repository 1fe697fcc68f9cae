"""Conversion of legacy Vietnamese text to Unicode (NFC); ``hople convert`` is in
:mod:`gateway.convert`.

* Text files (and HTML/CSV): decoded from UTF-8 when they are UTF-8, else detected among
  the 8-bit legacy encodings (or named with ``--from``); legacy text inside UTF-8 (pasted
  TCVN3/VNI surfaces, VIQR) is converted too. Written as UTF-8.
* DOCX: every run whose font (own, character style, paragraph style or document default)
  is a legacy font gets its text converted and an explicit Unicode font (Times New Roman
  by default); ``.…H`` fonts come out in capitals. Nothing else in the package changes.
* XLSX: cells and rich-text runs in legacy fonts are converted and those fonts renamed in
  the styles; a shared string also used by Unicode-font cells is copied, not changed.

Converting a signed document breaks its signature: the command says so.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from gateway.inspect.text import detect, legacy
from gateway.inspect.text.extract import (
    Package,
    S,
    Styles,
    Unreadable,
    W,
)

DEFAULT_FONT = "Times New Roman"
_MAX_MEMBER = 200 * 1024 * 1024
_MAX_TOTAL = 400 * 1024 * 1024


class ConvertError(Exception):
    """The input cannot be converted (one line for the user)."""


@dataclass
class Stats:
    runs: int = 0
    """Runs, cells or text pieces converted."""
    encodings: set[str] = field(default_factory=set)
    fonts: set[str] = field(default_factory=set)
    sample: str = ""
    signed: bool = False

    def note(self, enc: str, font: str | None, text: str) -> None:
        self.runs += 1
        self.encodings.add(legacy.LABELS.get(enc, enc))
        if font:
            self.fonts.add(font)


def _has_vn(text: str) -> bool:
    from gateway.inspect.text.vietnamese import has_vietnamese_letters

    return has_vietnamese_letters(text)


# ------------------------------------------------------------------------------------------------
# Text


def convert_text(data: bytes, from_enc: str | None = None) -> tuple[str, Stats]:
    """Bytes of a text file → NFC Unicode text and what was converted."""
    st = Stats()
    if from_enc:
        enc = from_enc.lower()
        if enc not in legacy.ENCODINGS:
            known = ", ".join(legacy.ENCODINGS)
            raise ConvertError(f"unknown encoding {from_enc!r} (one of {known})")
        if enc == "viqr" or enc == "vni":
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text = legacy.cp1252_view(data) if enc == "vni" else data.decode("latin-1")
            out = legacy.decode_text(text, enc)
        else:
            try:
                text = data.decode("utf-8")
                out = legacy.decode_text(text, enc)
            except UnicodeDecodeError:
                out = legacy.decode_bytes(data, enc)
        st.note(enc, None, out)
        st.sample = _first_vn_line(out)
        return out, st
    bom = data.startswith(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError:
        det = detect.detect_bytes(data, vps=False)
        if det is None:
            raise ConvertError("not UTF-8 and not recognisable legacy Vietnamese; name the "
                               "encoding with --from") from None
        st.note(det.encoding, None, det.converted)
        st.sample = _first_vn_line(det.converted)
        return det.converted, st
    det = detect.detect_content(text)
    if det is not None:
        st.note(det.encoding, None, det.converted)
        st.sample = _first_vn_line(det.converted)
        return det.converted, st
    nfc = unicodedata.normalize("NFC", text)
    if nfc != text:
        st.runs += 1
        st.encodings.add("Unicode (decomposed)")
        st.sample = _first_vn_line(nfc)
    return nfc, st


def _first_vn_line(text: str) -> str:
    for line in text.splitlines():
        if _has_vn(line):
            return line.strip()
    return ""


# ------------------------------------------------------------------------------------------------
# DOCX

_WORD_PARTS = re.compile(
    r"word/(document|header\d*|footer\d*|footnotes|endnotes|comments|glossary/document)\.xml")
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


def _serialize(root: etree._Element) -> bytes:
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8",
                          standalone=True)


def _set_fonts(parent: etree._Element, tag: str, font: str, attrs: tuple[str, ...]) -> None:
    rf = parent.find(tag)
    if rf is None:
        rf = etree.SubElement(parent, tag)
        if tag == W + "rFonts":
            parent.remove(rf)
            parent.insert(0, rf)
    for a in attrs:
        rf.set(a, font)
    for a in ("asciiTheme", "hAnsiTheme", "cstheme"):
        rf.attrib.pop(W + a, None)


def _docx_part(root: etree._Element, styles: Styles, target: str, st: Stats) -> bool:
    changed = False
    for r in list(root.iter(W + "r")):
        if any(a.tag in (W + "del", W + "moveFrom") for a in r.iterancestors()):
            continue
        font = None
        rpr = r.find(W + "rPr")
        if rpr is not None:
            rf = rpr.find(W + "rFonts")
            if rf is not None:
                font = styles.fonts(rf)
            if font is None:
                rs = rpr.find(W + "rStyle")
                if rs is not None:
                    font = styles.style_font(rs.get(W + "val"))
        if font is None:
            p = next(r.iterancestors(W + "p"), None)
            pstyle = None
            if p is not None:
                ps = p.find(f"{W}pPr/{W}pStyle")
                pstyle = ps.get(W + "val") if ps is not None else None
            font = styles.style_font(pstyle or styles.default_para) or styles.default
        fe = detect.font_encoding(font)
        if fe is None:
            continue
        # Contiguous text pieces (w:t and the soft hyphen that is TCVN3 "ư") decode together.
        groups: list[list[etree._Element]] = []
        cur: list[etree._Element] = []
        for child in r:
            if child.tag in (W + "t", W + "softHyphen"):
                cur.append(child)
            else:
                if cur:
                    groups.append(cur)
                cur = []
        if cur:
            groups.append(cur)
        for g in groups:
            surface = "".join((c.text or "") if c.tag == W + "t" else "\xad" for c in g)
            text = legacy.decode_text(surface, fe.encoding, upper=fe.upper)
            if text == surface and all(c.tag == W + "t" for c in g):
                continue
            first_t = next((c for c in g if c.tag == W + "t"), None)
            if first_t is None:
                first_t = etree.Element(W + "t")
                g[0].addprevious(first_t)
            first_t.text = text
            first_t.set(_XML_SPACE, "preserve")
            for c in g:
                if c is not first_t:
                    r.remove(c)
            st.note(fe.encoding, font, text)
            if not st.sample and _has_vn(text):
                st.sample = text
        # The font changes for every run in a legacy font, so that text typed later in it
        # is Unicode too.
        if rpr is None:
            rpr = etree.Element(W + "rPr")
            r.insert(0, rpr)
        _set_fonts(rpr, W + "rFonts", target, (W + "ascii", W + "hAnsi", W + "cs"))
        st.fonts.add(font or "")
        changed = True
    return changed


def convert_docx(data: bytes, target: str = DEFAULT_FONT) -> tuple[bytes, Stats]:
    try:
        pkg = Package(data, _MAX_MEMBER, _MAX_TOTAL)
        styles = Styles(pkg.xml("word/styles.xml"), pkg.xml("word/theme/theme1.xml"))
        st = Stats(signed=any(n.startswith("_xmlsignatures/") for n in pkg.names))
        new: dict[str, bytes] = {}
        for name in sorted(pkg.names):
            if not _WORD_PARTS.fullmatch(name):
                continue
            root = pkg.xml(name)
            if root is not None and _docx_part(root, styles, target, st):
                new[name] = _serialize(root)
    except Unreadable as exc:
        raise ConvertError(str(exc)) from None
    st.fonts.discard("")
    return _rezip(pkg.zf, new), st


def _rezip(src: zipfile.ZipFile, new: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = new.get(info.filename)
            if data is None:
                data = src.read(info)
            zi = zipfile.ZipInfo(info.filename, date_time=info.date_time)
            zi.compress_type = info.compress_type
            zi.external_attr = info.external_attr
            out.writestr(zi, data)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------------
# XLSX


def convert_xlsx(data: bytes, target: str = DEFAULT_FONT) -> tuple[bytes, Stats]:
    from gateway.inspect.text.extract import xlsx_sheets

    try:
        pkg = Package(data, _MAX_MEMBER, _MAX_TOTAL)
        st = Stats(signed=any(n.startswith("_xmlsignatures/") for n in pkg.names))
        styles = pkg.xml("xl/styles.xml")
        fonts: list[etree._Element] = []
        xfs: list[int] = []
        if styles is not None:
            fonts_el = styles.find(S + "fonts")
            fonts = fonts_el.findall(S + "font") if fonts_el is not None else []
            cx = styles.find(S + "cellXfs")
            for xf in cx.findall(S + "xf") if cx is not None else []:
                try:
                    xfs.append(int(xf.get("fontId") or 0))
                except ValueError:
                    xfs.append(0)
        font_enc: dict[int, tuple[str, detect.FontEncoding]] = {}
        for i, f in enumerate(fonts):
            n = f.find(S + "name")
            name = n.get("val") if n is not None else None
            fe = detect.font_encoding(name)
            if fe is not None and name:
                font_enc[i] = (name, fe)

        def xf_enc(s: str | None) -> tuple[str, detect.FontEncoding] | None:
            try:
                return font_enc.get(xfs[int(s)] if s else (xfs[0] if xfs else 0))
            except (ValueError, IndexError):
                return None

        sst = pkg.xml("xl/sharedStrings.xml")
        sis = list(sst.iter(S + "si")) if sst is not None else []
        sheets = [(n, p, pkg.xml(p)) for n, p in xlsx_sheets(pkg)]
        legacy_use: dict[int, tuple[str, detect.FontEncoding]] = {}
        unicode_use: set[int] = set()
        for _, _, root in sheets:
            if root is None:
                continue
            for c in root.iter(S + "c"):
                if c.get("t") != "s":
                    continue
                v = c.find(S + "v")
                try:
                    idx = int(v.text) if v is not None and v.text else -1
                except ValueError:
                    continue
                enc = xf_enc(c.get("s"))
                if enc is None:
                    unicode_use.add(idx)
                else:
                    legacy_use.setdefault(idx, enc)

        def convert_si(si: etree._Element,
                       cell_enc: tuple[str, detect.FontEncoding] | None) -> bool:
            changed = False
            for child in si:
                if child.tag == S + "t" and cell_enc is not None:
                    changed |= _convert_t(child, cell_enc, st)
                elif child.tag == S + "r":
                    rf = child.find(f"{S}rPr/{S}rFont")
                    enc = None
                    if rf is not None:
                        fe = detect.font_encoding(rf.get("val"))
                        enc = (rf.get("val") or "", fe) if fe is not None else None
                    elif cell_enc is not None:
                        enc = cell_enc
                    t = child.find(S + "t")
                    if enc is not None and t is not None:
                        changed |= _convert_t(t, enc, st)
                        if rf is not None:
                            rf.set("val", target)
                            changed = True
            return changed

        sst_changed = False
        remap: dict[int, int] = {}
        for i, si in enumerate(sis):
            enc = legacy_use.get(i)
            if enc is not None and i in unicode_use:
                copy = etree.fromstring(etree.tostring(si))
                convert_si(copy, enc)
                assert sst is not None  # the shared strings are its children
                sst.append(copy)
                remap[i] = len(sis) + len(remap)
                sst_changed = True
                sst_changed |= convert_si(si, None)  # rich runs in legacy fonts only
            else:
                sst_changed |= convert_si(si, enc)
        if remap and sst is not None:
            sst.set("uniqueCount", str(len(list(sst.iter(S + "si")))))
        new: dict[str, bytes] = {}
        for _, part, root in sheets:
            if root is None:
                continue
            changed = False
            for c in root.iter(S + "c"):
                enc = xf_enc(c.get("s"))
                t = c.get("t")
                if enc is None:
                    if t == "inlineStr":
                        is_ = c.find(S + "is")
                        if is_ is not None:
                            changed |= convert_si(is_, None)
                    continue
                if t == "s" and remap:
                    v = c.find(S + "v")
                    if v is None or not v.text:
                        continue
                    try:
                        idx = int(v.text)
                    except ValueError:
                        continue
                    if idx in remap:
                        v.text = str(remap[idx])
                        changed = True
                elif t == "inlineStr":
                    is_ = c.find(S + "is")
                    if is_ is not None:
                        changed |= convert_si(is_, enc)
                elif t == "str":
                    v = c.find(S + "v")
                    if v is not None:
                        changed |= _convert_t(v, enc, st)
            if changed:
                new[part] = _serialize(root)
        if sst_changed and sst is not None:
            new["xl/sharedStrings.xml"] = _serialize(sst)
        if font_enc and styles is not None:
            for i, (name, _) in font_enc.items():
                n = fonts[i].find(S + "name")
                if n is not None:  # it is: its name made the font a legacy one
                    n.set("val", target)
                st.fonts.add(name)
            new["xl/styles.xml"] = _serialize(styles)
    except Unreadable as exc:
        raise ConvertError(str(exc)) from None
    return _rezip(pkg.zf, new), st


def _convert_t(t: etree._Element, enc: tuple[str, detect.FontEncoding], st: Stats) -> bool:
    surface = t.text or ""
    name, fe = enc
    text = legacy.decode_text(surface, fe.encoding, upper=fe.upper)
    if text == surface:
        return False
    t.text = text
    if text != text.strip():
        t.set(_XML_SPACE, "preserve")
    st.note(fe.encoding, name, text)
    if not st.sample and _has_vn(text):
        st.sample = text
    return True


# ------------------------------------------------------------------------------------------------
# Command


def convert_file(src: Path, dst: Path, *, from_enc: str | None = None,
                 font: str = DEFAULT_FONT) -> Stats:
    from gateway.intake.sniff import sniff

    try:
        data = src.read_bytes()
    except OSError as exc:
        raise ConvertError(f"{src}: cannot read: {exc.strerror or exc}") from None
    _, fmt = sniff(data, src.name)
    if fmt in ("docx", "docm", "dotx", "dotm"):
        out, st = convert_docx(data, font)
    elif fmt in ("xlsx", "xlsm", "xltx"):
        out, st = convert_xlsx(data, font)
    elif fmt in ("txt", "csv", "html", "other") and b"\x00" not in data[:4096]:
        text, st = convert_text(data, from_enc)
        out = text.encode("utf-8")
    else:
        raise ConvertError(f"{src}: {fmt} files are not converted (text, DOCX and XLSX are)")
    try:
        dst.write_bytes(out)
    except OSError as exc:
        raise ConvertError(f"{dst}: cannot write: {exc.strerror or exc}") from None
    return st
