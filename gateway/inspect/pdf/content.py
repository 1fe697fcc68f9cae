"""Reading a content stream: its tokens, and its operations one at a time.

The token alternatives are written once; ``OPERATION`` finds the next operator with the same
alternatives in the same order, so what it reads as operands and operator is what a token by
token reading finds (``tests/unit/test_pdf_layout_scan.py`` compares the two).
"""

from __future__ import annotations

import re

# One token: string (one level of nested parentheses; its runs of plain bytes read at once, a
# string having only one possible end), hex string, dict delimiters, name, number, array
# delimiters, comment, operator (keywords, including ' and "). Where no token starts, one byte
# is skipped (whitespace, stray delimiters, binary junk).
_OPERANDS: tuple[tuple[str, bytes], ...] = (
    ("str", rb"\((?:[^()\\]++|\\.|\((?:[^()\\]++|\\.)*+\))*+\)"),
    ("dict", rb"<<|>>"),
    ("hex", rb"<[0-9A-Fa-f\s]*>"),
    ("name", rb"/[^\s/\[\]()<>{}%]*"),
    ("num", rb"[+-]?(?:\d+\.?\d*|\.\d+)"),
    ("arr", rb"[\[\]]"),
    ("cmt", rb"%[^\r\n]*"),
)
_OPERATOR = rb"""[A-Za-z'"*][A-Za-z0-9'"*]*"""
_TOKEN = re.compile(
    b"|".join(b"(?P<%s>%s)" % (k.encode(), p) for k, p in _OPERANDS)
    + b"|(?P<op>" + _OPERATOR + b")",
    re.DOTALL,
)
# One operation: the operands (and skipped bytes) before an operator, then the operator. The
# alternatives and their order are _TOKEN's, so an operation ends at the operator the token by
# token reading finds; the bytes that start no token are those that cannot start an operator
# either; the bytes that cannot start any token (whitespace among them) are skipped a run at a
# time. Possessive: the operands are never read again by backtracking.
OPERATION = re.compile(
    rb"""(?:[^A-Za-z'"*()<>/\[\]%0-9+.\-]++|""" + b"|".join(p for _, p in _OPERANDS)
    + rb"""|[^A-Za-z'"*])*+(""" + _OPERATOR + b")",
    re.DOTALL,
)
# The operands of the common ``(text) Tj``: one literal string between whitespace.
_ONE_STRING = re.compile(rb"\s*+(" + _OPERANDS[0][1] + rb")\s*+", re.DOTALL)
INLINE_END = re.compile(rb"\sEI(?=[\s]|$)")
MAX_OPERANDS = 64
"""Operands kept for one operator (beyond, the oldest are dropped, the last 16 kept)."""


def operands(data: bytes, first: int, last: int) -> list[tuple[str, bytes]]:
    """The operand tokens in ``data[first:last]`` (comments dropped): when there are more than
    MAX_OPERANDS, the oldest are dropped down to the last 16, again and again."""
    out: list[tuple[str, bytes]] = []
    search = _TOKEN.search
    pos = first
    while pos < last:
        m = search(data, pos, last)
        if m is None:
            break
        pos = m.end()
        kind = m.lastgroup or ""
        if kind == "cmt":
            continue
        out.append((kind, m.group()))
        if len(out) > MAX_OPERANDS:
            del out[:-16]
    return out


def shown_chars(data: bytes, first: int, last: int) -> int:
    """Characters of the strings among the operands in ``data[first:last]``."""
    one = _ONE_STRING.fullmatch(data, first, last)
    if one is not None:  # ``(text) Tj``: the one operand is that string
        return string_len("str", one.group(1))
    return sum(string_len(k, t) for k, t in operands(data, first, last) if k in ("str", "hex"))


def string_len(kind: str, tok: bytes) -> int:
    """Characters of a literal (``str``) or hex (``hex``) string token."""
    if kind == "str":
        return max(0, len(tok) - 2 - tok.count(b"\\"))
    return max(0, (len(tok) - 2 - sum(tok.count(c) for c in (b" ", b"\n", b"\r", b"\t"))) // 2)


__all__ = ["INLINE_END", "MAX_OPERANDS", "OPERATION", "operands", "shown_chars", "string_len"]
