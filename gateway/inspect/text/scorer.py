"""Sums of per-token figures over a text's UTF-8, for the early exits of the content
detection (``detect._quick_bound``).

A token is a run of bytes between ASCII white space, exactly as ``bytes.split()`` cuts them;
its figures are five integers that ``figures(token)`` computes (the detection's syllable
checker: one definition of a good word). Texts repeat their tokens, so each distinct token's
figures are kept in a table and the sum over a text is a look-up per token.

Two implementations of the same sums: the compiled scorer (``_scorer.c``, built with the
package) splits, looks up and sums in one pass over the bytes without a Python object per
token; the pure-Python reference (a dict of packed integers summed by ``sum(map(...))``) is
used when the extension is not built. Both return exactly the same figures; both hand only
the tokens new to their table to ``figures``. The compiled scan also answers two exact
pre-tests from the same pass (``compiled_scan``: surely NFC, surely no UTF-8 mojibake); the
reference does not, and its callers run the full checks.
"""

from __future__ import annotations

import os
from collections.abc import Callable

Figures = tuple[int, int, int, int, int]
"""A token's good words minus its malformed ones, its TCVN3 flips, its Windows-1258 flips,
whether it holds a free combining mark (0 or 1), and its VIQR hints."""

MAX_TOKENS = 200_000
"""Distinct tokens a table keeps; a full table is emptied before the next text."""
MAX_KEY_BYTES = 4 * 1024 * 1024
"""Key bytes the compiled table keeps (it stores no token longer than 256 bytes)."""

try:
    from gateway.inspect.text import _scorer
except ImportError:  # a source tree without a build: the reference below is used
    _scorer = None  # type: ignore[assignment]  # mypy: the stub says the module exists

COMPILED = _scorer is not None
"""Whether the compiled scorer is in use (``pip install``/``setup.py build_ext`` builds it)."""


def compiled_table(seed: int | None = None, max_entries: int = MAX_TOKENS,
                   max_bytes: int = MAX_KEY_BYTES) -> _scorer.Table:
    """A new compiled table (ImportError when the extension is not built), with a random
    hash seed unless one is given: crafted tokens cannot be aimed at one slot."""
    if _scorer is None:
        raise ImportError("gateway.inspect.text._scorer is not built")
    if seed is None:
        seed = int.from_bytes(os.urandom(8), "little")
    return _scorer.Table(seed, max_entries, max_bytes)


def compiled_scan(table: _scorer.Table, utf8: bytes,
                  figures: Callable[[bytes], Figures]) -> tuple[Figures, bool, bool]:
    """The figures of ``utf8``'s tokens summed by the compiled scorer (new tokens' figures
    are computed once per distinct token and stored), and the scan's two exact pre-tests:
    whether ``utf8`` is surely in NFC (every code point in ranges where any string is NFC;
    False: not known) and whether it surely holds no UTF-8 mojibake lead (False: the bytes
    of one occur)."""
    sums, new, sure_nfc, no_mojibake = table.scan(utf8)
    return _with_new(table, sums, new, figures), sure_nfc, no_mojibake


def compiled_scan_if_nfc(table: _scorer.Table, data: bytes,
                         figures: Callable[[bytes], Figures]) -> tuple[Figures, bool] | None:
    """``compiled_scan`` of ``data`` when it is surely NFC, which also says it is valid UTF-8
    (every byte in a whole sequence of the surely-NFC ranges); None otherwise, and then no
    new token's figures are computed (``data`` may not be UTF-8 at all)."""
    sums, new, sure_nfc, no_mojibake = table.scan(data)
    if not sure_nfc:
        return None
    return _with_new(table, sums, new, figures), no_mojibake


def _with_new(table: _scorer.Table, sums: Figures, new: list[tuple[bytes, int]],
              figures: Callable[[bytes], Figures]) -> Figures:
    """``sums`` and the figures of the ``new`` tokens (each stored in the table)."""
    if not new:
        return sums
    m, t, c, k, h = sums
    for tok, n in new:
        f = figures(tok)
        table.add(tok, f)
        m, t, c, k, h = m + n * f[0], t + n * f[1], c + n * f[2], k + n * f[3], h + n * f[4]
    return m, t, c, k, h


def stamp_line_starts(text: str) -> list[int]:
    """Where the lines of ``text`` start that could hold a secrecy stamp (the compiled form of
    ``message._stamp_line_starts(text, 0)``, one pass instead of a regex search per pattern;
    ImportError when the extension is not built)."""
    if _scorer is None:
        raise ImportError("gateway.inspect.text._scorer is not built")
    return _scorer.stamp_line_starts(text)


def stamp_line_starts_utf8(data: bytes) -> list[int]:
    """``stamp_line_starts`` over ``data``, valid UTF-8, as byte offsets (ImportError when
    the extension is not built)."""
    if _scorer is None:
        raise ImportError("gateway.inspect.text._scorer is not built")
    return _scorer.stamp_line_starts_utf8(data)


_FIELD = 21
_FIELD_MASK = (1 << _FIELD) - 1


class PackedTable(dict[bytes, int]):
    """The reference: token → its figures packed in one integer (21-bit fields, the first
    signed), so that the sum over a text runs in C (``map`` and ``sum``); a token seen for
    the first time is packed on the way (``__missing__``: one Python call per new token)."""

    def __init__(self, figures: Callable[[bytes], Figures]) -> None:
        super().__init__()
        self.figures = figures

    def __missing__(self, tok: bytes) -> int:
        v = self[tok] = pack(self.figures(tok))
        return v


def pack(f: Figures) -> int:
    s = _FIELD
    return f[0] + (f[1] << s) + (f[2] << 2 * s) + (f[3] << 3 * s) + (f[4] << 4 * s)


def packed_sums(table: PackedTable, utf8: bytes) -> Figures:
    """The figures of ``utf8``'s tokens, from the packed table. The caller keeps the text
    short enough for the fields (no sum reaches 2**20 either way)."""
    if len(table) > MAX_TOKENS:
        table.clear()
    total = sum(map(table.__getitem__, utf8.split()))
    f, mask, half = _FIELD, _FIELD_MASK, 1 << (_FIELD - 1)
    margin = ((total + half) & mask) - half  # the one signed field
    total = (total - margin) >> f
    return (margin, total & mask, (total >> f) & mask, (total >> 2 * f) & mask, total >> 3 * f)
