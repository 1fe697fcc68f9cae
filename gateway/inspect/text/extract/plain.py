"""Text of HTML and plain-text bodies (with the fonts HTML names)."""

from __future__ import annotations

import re

from lxml import etree

from gateway.inspect.text.extract.base import Block, Budget, Extracted, Run

_HTML_FONT = re.compile(r"font-family\s*:\s*([^;\"}]+)|face\s*=\s*[\"']?([^\"'>]+)", re.IGNORECASE)


def html_blocks(text: str, budget: Budget, part: str = "html") -> Extracted:
    """Text of an HTML body by element, with the font an element's style or ``<font face>``
    names (Word's HTML export keeps ``.VnTime`` there)."""
    out = Extracted()
    try:
        import lxml.html

        doc = lxml.html.document_fromstring(text.encode("utf-8"), parser=lxml.html.HTMLParser(
            encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True))
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):  # still read, as plain text
        return plain_blocks(re.sub(r"<[^>]+>", " ", text), budget, part)
    for bad in doc.xpath("//script|//style|//head"):
        bad.getparent().remove(bad)
    block_tags = {"p", "div", "td", "th", "li", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr",
                  "table", "body", "blockquote", "pre"}
    runs: list[Run] = []
    no = [0]

    def font_of(el: etree._Element, inherited: str | None) -> str | None:
        face = el.get("face")
        style = (el.get("style") or "") + " " + (f"face={face}" if face else "")
        m = _HTML_FONT.search(style)
        if m:
            fam = (m.group(1) or m.group(2) or "").split(",")[0].strip().strip("'\"&quot;")
            return fam or inherited
        return inherited

    def end() -> None:
        nonlocal runs
        if (runs and any(r.text.strip() for r in runs)
                and budget.take(sum(len(r.text) for r in runs))):
            no[0] += 1
            out.blocks.append(Block(part, f"{part} line {no[0]}", "body", len(out.blocks), runs))
        runs = []

    def visit(el: etree._Element, font: str | None, depth: int) -> None:
        if depth > 200 or not isinstance(el.tag, str):
            return
        f = font_of(el, font)
        tag = el.tag.lower()
        if tag in block_tags:
            end()
        if el.text:
            runs.append(Run(el.text, f))
        for child in el:
            visit(child, f, depth + 1)
            if child.tail:
                runs.append(Run(child.tail, f))
        if tag in block_tags:
            end()

    visit(doc, None, 0)
    end()
    out.truncated = budget.truncated
    return out


def plain_blocks(text: str, budget: Budget, part: str = "text") -> Extracted:
    out = Extracted()
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if not budget.take(len(line)):
            break
        out.blocks.append(
            Block(part, f"{part} line {no}", "body", len(out.blocks), [Run(line, None)]))
    out.truncated = budget.truncated
    return out
