"""The content-stream scan reads an operation at a time: the same measurements as reading
token by token, on literal and hostile streams.

The reference below is the token-by-token reading the classifier used before (its token
pattern copied as it was): every stream here, every prefix of the sample page streams (a
stream cut anywhere) and thousands of random streams built from awkward pieces must give the
same characters shown (visible and invisible), paths, images and their areas, fonts, operator
count and painted XObjects (name and matrix).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.inspect.pdf import content, layout
from gateway.inspect.pdf.layout import PageStats, _Scanner

_OLD_TOKEN = re.compile(
    rb"""
    (?P<str>\((?:[^()\\]|\\.|\((?:[^()\\]|\\.)*\))*\))
  | (?P<dict><<|>>)
  | (?P<hex><[0-9A-Fa-f\s]*>)
  | (?P<name>/[^\s/\[\]()<>{}%]*)
  | (?P<num>[+-]?(?:\d+\.?\d*|\.\d+))
  | (?P<arr>[\[\]])
  | (?P<cmt>%[^\r\n]*)
  | (?P<op>[A-Za-z'"*][A-Za-z0-9'"*]*)
    """,
    re.VERBOSE | re.DOTALL,
)
_OLD_INLINE_END = re.compile(rb"\sEI(?=[\s]|$)")


def _old_tokens(data: bytes) -> Iterator[tuple[str, bytes]]:
    pos, n = 0, len(data)
    while pos < n:
        m = _OLD_TOKEN.search(data, pos)
        if m is None:
            return
        kind, tok, pos = m.lastgroup or "", m.group(), m.end()
        if kind == "op" and tok == b"ID":
            e = _OLD_INLINE_END.search(data, pos)
            pos = e.end() if e else n
            yield "op", b"EI"
            continue
        yield kind, tok


class _Recorder(_Scanner):
    """A scanner that records the XObjects painted instead of looking them up."""

    def __init__(self, limit: int = layout.MAX_OPS_PER_PAGE) -> None:
        super().__init__(PageStats(1, 600.0, 800.0), (0.0, 0.0, 600.0, 800.0))
        self.painted: list[tuple[bytes, layout.Matrix]] = []
        self.limit = limit

    def _do(self, name: bytes, xobjects: Any, ctm: layout.Matrix, depth: int) -> None:
        self.painted.append((name, ctm))

    def old_run(self, data: bytes) -> None:
        """The token-by-token reading (the classifier's before this scan), on one stream."""
        page, ctm, tr = self.page, layout._IDENTITY, 0
        stack: list[layout.Matrix] = []
        operands: list[tuple[str, bytes]] = []
        for kind, tok in _old_tokens(data):
            if kind != "op":
                if kind != "cmt":
                    operands.append((kind, tok))
                    if len(operands) > 64:
                        del operands[:-16]
                continue
            self.ops += 1
            if self.ops > self.limit:
                page.truncated = True
                return
            if tok in layout._SHOW:
                n = sum(content.string_len(k, t) for k, t in operands if k in ("str", "hex"))
                if tr in (3, 7):
                    page.invisible_chars += n
                else:
                    page.visible_chars += n
            elif tok == b"q":
                stack.append(ctm)
                if len(stack) > 256:
                    del stack[0]
            elif tok == b"Q":
                ctm = stack.pop() if stack else ctm
            elif tok == b"cm":
                nums = [layout._num(t) for k, t in operands[-6:] if k == "num"]
                if len(nums) == 6:
                    ctm = layout._mul(layout._matrix(nums), ctm)
            elif tok == b"Tr":
                if operands and operands[-1][0] == "num":
                    tr = int(layout._num(operands[-1][1]))
            elif tok == b"Tf":
                for k, t in operands[-2:]:
                    if k == "name":
                        page.fonts.add(t)
            elif tok in layout._PAINT:
                page.paths += 1
            elif tok == b"EI":
                self._image_painted(ctm, None)
            elif tok == b"Do":
                if operands and operands[-1][0] == "name":
                    self._do(operands[-1][1], None, ctm, 0)
            operands.clear()

    def measured(self) -> tuple[Any, ...]:
        p = self.page
        return (p.visible_chars, p.invisible_chars, p.paths, p.images, round(p.image_area, 6),
                sorted(p.fonts), p.truncated, self.ops, self.painted)


def _both(data: bytes, limit: int = layout.MAX_OPS_PER_PAGE) -> tuple[Any, Any]:
    new, old = _Recorder(limit), _Recorder(limit)
    saved = layout.MAX_OPS_PER_PAGE
    layout.MAX_OPS_PER_PAGE = limit
    try:
        new.run(data, None, layout._IDENTITY, 0)
    finally:
        layout.MAX_OPS_PER_PAGE = saved
    old.old_run(data)
    return new.measured(), old.measured()


def _measure(data: bytes) -> tuple[Any, ...]:
    new, old = _both(data)
    assert new == old, data
    return new


SCAN_PAGE = (b"q 595.00 0 0 842.00 0.00 0.00 cm /Im0 Do Q\nBT 3 Tr /F1 10 Tf\n"
             b"1 0 0 1 50 782.0 Tm (UY BAN NHAN DAN TINH - SO NOI VU) Tj\n"
             b"1 0 0 1 50 769.0 Tm (Cong van so 123/SNV-VP \\(ban sao\\) Tj) Tj\nET")

TRICKY = [
    SCAN_PAGE,
    # visible text drawn over the page image: render mode 0 after 3
    SCAN_PAGE.replace(b"ET", b"0 Tr (typed over the scan) Tj ET"),
    # text inside a string, a comment and a name must not read as operators
    b"q 600 0 0 800 0 0 cm /Im0 Do Q BT 3 Tr (a) Tj ( 0 Tr (x) Tj ) Tj % 0 Tr (y) Tj\n"
    b"/0Tr (z) Tj ET",
    # nested and escaped parentheses, an unbalanced string, a string of two nesting levels
    b"BT (a(b)c) Tj (d\\)e) Tj (f\\\\) Tj (g((h))i) Tj (unclosed Tj ET",
    # hex strings with spaces, odd hex, a broken hex string
    b"BT <48 65 6C6C6F> Tj <ABC> Tj <4G> Tj ET",
    # TJ arrays, ' and " with their extra operands
    b"BT [(Kern) -120 (ed) 50 (text)] TJ 2 0 (next line) ' 1 2 (spaced) \" ET",
    # inline images: binary data with operators inside, EI glued, no EI at all
    b"q 600 0 0 800 0 0 cm BI /W 4 /H 1 /CS /G /BPC 8 ID \x00(Tj)\xff EI Q BT (x) Tj ET",
    b"BI /W 1 /H 1 ID xEIyy EI\nBT (after) Tj ET",
    b"q 1 0 0 1 0 0 cm BI /W 9 /H 9 ID \x00\x01 (never) Tj 0 0 m f",
    # operators glued to numbers, numbers of odd forms, names with odd bytes
    b"1 0 0 1 0 0cm 5Tr(glued)Tj 1.2.3 -.5 +7 - . cm 0 0 m 1 1 l S f* B* b*",
    b"/F\xff1 12 Tf /F#20 9 Tf /Im\x00 Do /Im1Do /Im2 Do",
    # more than 64 operands before one operator, in several lengths
    b"BT " + b"(ab) " * 70 + b"Tj " + b"(c) 1 " * 60 + b"TJ " + b"(d) " * 200 + b"Tj ET",
    b"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 " * 5 + b"600 0 0 800 0 0 cm /X Do",
    # dictionaries, arrays, stray delimiters, binary junk, CR-only lines, form feeds
    b"/P << /MCID 0 >> BDC [1 2] 0 d ) ] } { > >> << EMC\r(a) Tj\f(b) Tj\v\x00(c) Tj",
    bytes(range(256)) * 3 + b"((( [[[ << /x ) BI ID",
    # q/Q unbalanced, deep q nesting, cm with too few numbers, Tr with a name
    b"Q Q q " * 300 + b"2 0 0 2 0 0 cm /A Do " + b"Q " * 400 + b"1 2 cm /B Do /n Tr (v) Tj",
    b"3 Tr (inv) Tj 7 Tr (clip) Tj 1e5 Tr (e) Tj 3.9 Tr (f) Tj -3 Tr (g) Tj",
    b"% only a comment",
    b"",
    b"   \n\t ",
    b"(only operands) 1 2 /N",
]


@pytest.mark.parametrize("data", TRICKY, ids=range(len(TRICKY)))
def test_tricky_streams_measure_as_token_by_token(data: bytes) -> None:
    _measure(data)


def test_the_scan_page_and_text_over_it() -> None:
    scan = _measure(SCAN_PAGE)
    assert scan[:4] == (0, len("UY BAN NHAN DAN TINH - SO NOI VU")
                        + len("Cong van so 123/SNV-VP (ban sao) Tj"), 0, 0)
    assert scan[-1] == [(b"/Im0", (595.0, 0.0, 0.0, 842.0, 0.0, 0.0))]
    typed = _measure(TRICKY[1])
    assert typed[0] == len("typed over the scan")
    hidden = _measure(TRICKY[2])
    assert hidden[:2] == (0, 1 + len(" 0 Tr (x) Tj ") + 1)  # (a), the nested string, (z)


def test_every_prefix_of_the_sample_streams() -> None:
    """A stream cut anywhere (a truncated or damaged content stream)."""
    for data in (SCAN_PAGE, TRICKY[1], TRICKY[3], TRICKY[5], TRICKY[6], TRICKY[9]):
        for end in range(len(data) + 1):
            _measure(data[:end])


def test_the_operator_limit_cuts_at_the_same_place() -> None:
    data = b"0 0 m 1 1 l S " * 50 + b"BT (x) Tj ET"
    for limit in (0, 1, 2, 99, 149, 150, 151, 153, 1000):
        new, old = _both(data, limit)
        assert new == old and new[6] == (limit < 153)


_PIECES = [
    b" ", b"\n", b"\r", b"\t", b"\x00", b"\xff", b"(", b")", b"\\", b"(a b)", b"(x\\)y)",
    b"((n))", b"<", b">", b"<<", b">>", b"<4142>", b"<4 1>", b"/", b"/Im0", b"/F1", b"%",
    b"% c\n", b"[", b"]", b"{", b"}", b"0", b"1", b"-2", b"+.5", b"3.", b"600", b"800",
    b"q", b"Q", b"cm", b"Do", b"Tj", b"TJ", b"'", b'"', b"Tr", b"Tf", b"BT", b"ET", b"f", b"S",
    b"B*", b"re", b"BI", b"ID", b"EI", b"Tm", b"Td", b"a", b"Z9", b"*",
]


def test_random_streams_of_awkward_pieces() -> None:
    rng = random.Random(12)
    for _ in range(3000):
        data = b"".join(rng.choice(_PIECES) + rng.choice((b"", b" ", b" ", b"\n"))
                        for _ in range(rng.randrange(1, 60)))
        _measure(data)


def test_a_long_text_layer_is_read_in_one_pass() -> None:
    """Ten thousand lines of invisible text: counted exactly, as token by token."""
    lines = b"".join(b"1 0 0 1 50 %d Tm (line %d of the OCR layer) Tj\n" % (i % 800, i)
                     for i in range(10_000))
    got = _measure(b"q 600 0 0 800 0 0 cm /Im0 Do Q BT 3 Tr /F1 9 Tf\n" + lines + b"ET")
    assert got[1] == sum(len(b"line %d of the OCR layer" % i) for i in range(10_000))
    assert got[0] == 0 and got[7] == 10_000 * 2 + 8
