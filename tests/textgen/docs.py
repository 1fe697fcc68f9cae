"""Documents with legacy-font text, built the way the real programs store them.

A run whose font is a legacy font (``.VnTime``, ``VNI-Times``…) is given Unicode text here
and written as the *surface* Word/Excel would store (each byte of the legacy encoding as
its Windows-1252 character); in DOCX the TCVN3 "ư" byte becomes ``<w:softHyphen/>`` as
Word writes it.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

from lxml import etree

from gateway.inspect.text import legacy
from gateway.inspect.text.detect import font_encoding


@dataclass(frozen=True)
class R:
    """A run: Unicode ``text`` shown in ``font`` (None: the document default)."""

    text: str
    font: str | None = None
    bold: bool = False


def surface(text: str, font: str | None) -> str:
    fe = font_encoding(font)
    if fe is None:
        return text
    return legacy.encode_text(text, fe.encoding, upper_font=fe.upper)


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _w_run_xml(run: R, soft_hyphen_element: bool = True) -> str:
    s = surface(run.text, run.font)
    rpr = ""
    if run.font or run.bold:
        rpr = "<w:rPr>"
        if run.font:
            f = escape(run.font, {'"': "&quot;"})
            rpr += f'<w:rFonts w:ascii="{f}" w:hAnsi="{f}" w:cs="{f}"/>'
        if run.bold:
            rpr += "<w:b/>"
        rpr += "</w:rPr>"
    parts = []
    pieces = s.split("\xad") if soft_hyphen_element else [s]
    for i, piece in enumerate(pieces):
        if i:
            parts.append("<w:softHyphen/>")
        if piece:
            parts.append(f'<w:t xml:space="preserve">{escape(piece)}</w:t>')
    return f"<w:r>{rpr}{''.join(parts)}</w:r>"


def textbox_xml(runs: list[R], drawingml: bool = True) -> str:
    """A floating text box as Word writes it: DrawingML with a VML fallback (the fallback
    repeats the text; readers must count it once)."""
    inner = ("<w:txbxContent><w:p>" + "".join(_w_run_xml(r) for r in runs)
             + "</w:p></w:txbxContent>")
    vml = ('<w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml" '
           'style="width:90pt;height:24pt">'
           f"<v:textbox>{inner}</v:textbox></v:shape></w:pict>")
    if not drawingml:
        return f"<w:r>{vml}</w:r>"
    return (
        '<w:r><mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
        '<mc:Choice Requires="wps"><w:drawing><wp:anchor xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing">'
        '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        '<a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        '<wps:wsp xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
        f"<wps:txbx>{inner}</wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing>"
        f"</mc:Choice><mc:Fallback>{vml}</mc:Fallback></mc:AlternateContent></w:r>"
    )


def _append_run(paragraph: etree._Element, run_xml: str) -> None:
    """Append a ``<w:r>`` given as text (without its namespace declaration) to a paragraph."""
    from docx.oxml import parse_xml

    paragraph.append(parse_xml(run_xml.replace("<w:r>", f'<w:r xmlns:w="{W_NS}" >', 1)))


def make_docx(
    body: list[list[R] | str],
    *,
    header: list[R] | None = None,
    footer: list[R] | None = None,
    textbox: list[R] | None = None,
    textbox_vml_only: bool = False,
    table: list[list[list[R]]] | None = None,
    footnote: list[R] | None = None,
    default_font: str | None = None,
    style_font: tuple[str, str] | None = None,
) -> bytes:
    """Build a DOCX with python-docx, then put the runs in as Word writes them.

    ``style_font``: (style name, font) — a paragraph style whose font is legacy; body
    paragraphs given as a plain string use that style."""
    import docx
    from docx.shared import Pt

    d = docx.Document()
    if default_font:
        d.styles["Normal"].font.name = default_font
    if style_font:
        st = d.styles.add_style(style_font[0], 1)
        st.font.name = style_font[1]
        st.font.size = Pt(13)
    if textbox:
        p = d.add_paragraph()
        _append_run(p._p, textbox_xml(textbox, not textbox_vml_only))
    for item in body:
        if isinstance(item, str):
            # A run with no font of its own: it shows in the paragraph style's font (or the
            # document default), so its stored text is that font's surface.
            p = d.add_paragraph(style=style_font[0] if style_font else None)
            font = style_font[1] if style_font else default_font
            _append_run(p._p, _w_run_xml(R(surface(item, font))))
            continue
        p = d.add_paragraph()
        for run in item:
            _append_run(p._p, _w_run_xml(run))
    if table:
        t = d.add_table(rows=len(table), cols=max(len(r) for r in table))
        for ri, row in enumerate(table):
            for ci, cell_runs in enumerate(row):
                para = t.cell(ri, ci).paragraphs[0]
                for run in cell_runs:
                    _append_run(para._p, _w_run_xml(run))
    sec = d.sections[0]
    if header:
        hp = sec.header.paragraphs[0]
        for run in header:
            _append_run(hp._p, _w_run_xml(run))
    if footer:
        fp = sec.footer.paragraphs[0]
        for run in footer:
            _append_run(fp._p, _w_run_xml(run))
    buf = io.BytesIO()
    d.save(buf)
    data = buf.getvalue()
    if footnote:
        xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               f'<w:footnotes xmlns:w="{W_NS}"><w:footnote w:id="1"><w:p>'
               + "".join(_w_run_xml(r) for r in footnote)
               + "</w:p></w:footnote></w:footnotes>")
        data = replace_parts(data, {"word/footnotes.xml": xml.encode("utf-8")})
    return data


def replace_parts(data: bytes, parts: dict[str, bytes | None]) -> bytes:
    """Copy a ZIP package replacing (or adding, or with None removing) some members."""
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename in parts:
                replacement = parts[info.filename]
                if replacement is not None:
                    out.writestr(info.filename, replacement)
                continue
            out.writestr(info, src.read(info))
        for name, content in parts.items():
            if content is not None and name not in src.namelist():
                out.writestr(name, content)
    return buf.getvalue()


def make_xlsx(rows: list[list[R | str | int | None]], *, sheet_title: str = "Sheet1",
              rich: list[R] | None = None, second_sheet: str | None = None,
              shared: bool = True) -> bytes:
    """An XLSX whose legacy-font cells hold the surface text (shared strings), with an
    optional rich-text cell mixing fonts (A-column after the rows)."""
    import openpyxl
    from openpyxl.styles import Font

    wb = openpyxl.Workbook()
    ws = wb.worksheets[0]  # the one sheet of a new workbook, its active one
    ws.title = sheet_title
    for ri, row in enumerate(rows, 1):
        for ci, v in enumerate(row, 1):
            if v is None:
                continue
            c = ws.cell(row=ri, column=ci)
            if isinstance(v, R):
                c.value = surface(v.text, v.font)
                if v.font:
                    c.font = Font(name=v.font, bold=v.bold)
            else:
                c.value = v
    if rich:
        from openpyxl.cell.rich_text import CellRichText, TextBlock
        from openpyxl.cell.text import InlineFont

        blocks = [TextBlock(InlineFont(rFont=r.font or "Times New Roman"), surface(r.text, r.font))
                  for r in rich]
        ws.cell(row=len(rows) + 1, column=1).value = CellRichText(*blocks)
    if second_sheet:
        wb.create_sheet(second_sheet)
    buf = io.BytesIO()
    wb.save(buf)
    return to_shared_strings(buf.getvalue()) if shared else buf.getvalue()


S_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def to_shared_strings(data: bytes) -> bytes:
    """openpyxl writes inline strings; Excel writes a shared string table. Move every
    inline string (plain or rich) of every sheet into xl/sharedStrings.xml, equal strings
    sharing one entry, as Excel does."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    table: list[bytes] = []
    index: dict[bytes, int] = {}
    parts: dict[str, bytes | None] = {}
    for name in zf.namelist():
        if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
            continue
        root = etree.fromstring(zf.read(name))
        for c in root.iter(f"{{{S_NS}}}c"):
            if c.get("t") != "inlineStr":
                continue
            is_ = c.find(f"{{{S_NS}}}is")
            assert is_ is not None, "an inline string cell without its <is>"
            key = b"".join(etree.tostring(ch) for ch in is_)
            if key not in index:
                index[key] = len(table)
                table.append(key)
            c.remove(is_)
            c.set("t", "s")
            v = etree.SubElement(c, f"{{{S_NS}}}v")
            v.text = str(index[key])
        parts[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                     standalone=True)
    sst = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{S_NS}" '
           f'count="{len(table)}" uniqueCount="{len(table)}">'.encode()
           + b"".join(b"<si>" + k + b"</si>" for k in table) + b"</sst>")
    parts["xl/sharedStrings.xml"] = sst
    ct = zf.read("[Content_Types].xml").decode()
    if "sharedStrings" not in ct:
        ct = ct.replace("</Types>", '<Override PartName="/xl/sharedStrings.xml" '
                        'ContentType="application/vnd.openxmlformats-officedocument.'
                        'spreadsheetml.sharedStrings+xml"/></Types>')
        parts["[Content_Types].xml"] = ct.encode()
    rels = zf.read("xl/_rels/workbook.xml.rels").decode()
    if "sharedStrings" not in rels:
        rels = rels.replace("</Relationships>", '<Relationship Id="rIdSst" '
                            'Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                            'relationships/sharedStrings" Target="sharedStrings.xml"/>'
                            "</Relationships>")
        parts["xl/_rels/workbook.xml.rels"] = rels.encode()
    return replace_parts(data, parts)


_CT_PPTX = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/ppt/presentation.xml" \
ContentType="application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"/>
<Override PartName="/ppt/slides/slide1.xml" \
ContentType="application/vnd.openxmlformats-officedocument.presentationml.slide+xml"/>
</Types>"""


def make_pptx(shapes: list[list[R]]) -> bytes:
    """A minimal presentation: one slide, one shape per list of runs."""
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"
    p = "http://schemas.openxmlformats.org/presentationml/2006/main"
    sps = []
    for i, runs in enumerate(shapes, 1):
        rs = "".join(
            '<a:r><a:rPr lang="vi-VN">'
            + (f'<a:latin typeface="{escape(r.font)}"/>' if r.font else "")
            + f"</a:rPr><a:t>{escape(surface(r.text, r.font))}</a:t></a:r>" for r in runs)
        sps.append(f'<p:sp><p:nvSpPr><p:cNvPr id="{i + 1}" name="TextBox {i}"/>'
                   '<p:cNvSpPr txBox="1"/><p:nvPr/></p:nvSpPr>'
                   f"<p:spPr/><p:txBody><a:bodyPr/><a:p>{rs}</a:p></p:txBody></p:sp>")
    slide = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
             f'<p:sld xmlns:a="{a}" xmlns:p="{p}">'
             f"<p:cSld><p:spTree>{''.join(sps)}</p:spTree></p:cSld></p:sld>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT_PPTX)
        z.writestr("ppt/presentation.xml", f'<?xml version="1.0"?><p:presentation xmlns:p="{p}"/>')
        z.writestr("ppt/slides/slide1.xml", slide)
    return buf.getvalue()


def make_odt(paragraphs: list[list[R]], *, frame: list[R] | None = None) -> bytes:
    """A minimal ODF text document with font faces and one text style per font."""
    fonts = sorted({r.font for para in paragraphs + ([frame] if frame else [])
                    for r in para if r.font})
    faces = "".join(f'<style:font-face style:name="F{i}" svg:font-family="{escape(f)}"/>'
                    for i, f in enumerate(fonts))
    styles = "".join(f'<style:style style:name="T{i}" style:family="text">'
                     f'<style:text-properties style:font-name="F{i}"/></style:style>'
                     for i in range(len(fonts)))

    def para(runs: list[R]) -> str:
        out = []
        for r in runs:
            s = escape(surface(r.text, r.font))
            if r.font:
                out.append(f'<text:span text:style-name="T{fonts.index(r.font)}">{s}</text:span>')
            else:
                out.append(s)
        return "<text:p>" + "".join(out) + "</text:p>"

    body = "".join(para(p) for p in paragraphs)
    if frame:
        body = ('<text:p><draw:frame draw:name="Stamp">'
                f"<draw:text-box>{para(frame)}</draw:text-box></draw:frame></text:p>" + body)
    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns}>'
               f"<office:font-face-decls>{faces}</office:font-face-decls>"
               f"<office:automatic-styles>{styles}</office:automatic-styles>"
               f"<office:body><office:text>{body}</office:text></office:body></office:document-content>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)
        z.writestr("META-INF/manifest.xml",
                   '<?xml version="1.0"?><manifest:manifest '
                   'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>')
    return buf.getvalue()


def _rtf_unicode(c: str) -> str:
    """``\\uN?``: RTF's signed 16-bit code, ``?`` for readers without Unicode."""
    n = ord(c)
    return f"\\u{n if n < 32768 else n - 65536}?"


def make_rtf(paragraphs: list[list[R]]) -> bytes:
    """RTF as Word writes a legacy-font document: bytes as \\'hh escapes, font table with
    charset 0 for the legacy fonts."""
    fonts = ["Times New Roman"] + sorted({r.font for p in paragraphs for r in p
                                          if r.font and r.font != "Times New Roman"})
    ftbl = "".join(f"{{\\f{i}\\fnil\\fcharset0 {f};}}" for i, f in enumerate(fonts))
    body = []
    for p in paragraphs:
        parts = []
        for r in p:
            fe = font_encoding(r.font)
            idx = fonts.index(r.font) if r.font else 0
            if fe is not None:
                data = legacy.encode_bytes(r.text, fe.encoding, upper_font=fe.upper)
                s = "".join(f"\\'{b:02x}" if b > 0x7E or chr(b) in "\\{}" else chr(b) for b in data)
            else:
                s = "".join(c if ord(c) < 0x80 and c not in "\\{}" else _rtf_unicode(c)
                            for c in r.text)
            parts.append(f"{{\\f{idx} {s}}}")
        body.append("".join(parts) + "\\par\n")
    head = f"{{\\rtf1\\ansi\\ansicpg1252\\deff0{{\\fonttbl{ftbl}}}\n"
    return (head + "".join(body) + "}").encode("ascii")


def make_pdf(lines: list[tuple[str, str]]) -> bytes:
    """A one-page born-digital PDF: each (text, font) line drawn with a Type1 font of that
    name and WinAnsi encoding; legacy-font lines are written as the legacy bytes."""
    fonts: list[str] = []
    for _, f in lines:
        if f not in fonts:
            fonts.append(f)
    content = ["BT"]
    y = 800
    for text, f in lines:
        fe = font_encoding(f)
        data = (legacy.encode_bytes(text, fe.encoding, upper_font=fe.upper) if fe
                else text.encode("cp1252"))
        esc = data.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
        content.append(f"/F{fonts.index(f)} 12 Tf 1 0 0 1 60 {y} Tm ("
                       + esc.decode("latin-1") + ") Tj")
        y -= 20
    content.append("ET")
    stream = "\n".join(content).encode("latin-1")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"]
    font_refs = " ".join(f"/F{i} {5 + 2 * i} 0 R" for i in range(len(fonts)))
    objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                f"/Resources << /Font << {font_refs} >> >> >>".encode())
    objs.append(b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream
                + b"\nendstream")
    for f in fonts:
        name = re.sub(r"[^A-Za-z0-9.+-]", "", f.replace(" ", ""))
        widths = " ".join(["500"] * 224)
        objs.append(f"<< /Type /Font /Subtype /TrueType /BaseFont /{name} "
                    f"/Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 255 /Widths [{widths}] "
                    f"/FontDescriptor {len(objs) + 2} 0 R >>".encode())
        objs.append(f"<< /Type /FontDescriptor /FontName /{name} /Flags 32 "
                    "/FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 900 /Descent -200 "
                    "/CapHeight 700 /StemV 80 >>".encode())
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + o + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
