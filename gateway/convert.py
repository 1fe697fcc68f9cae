"""``hople convert IN OUT``: legacy Vietnamese text (TCVN3/ABC, VNI, VISCII, VPS,
Windows-1258, VIQR) in a text file, DOCX or XLSX to Unicode (TCVN 6909:2001, NFC).

The conversion itself is :mod:`gateway.inspect.text.convert`; this module is the command.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gateway.cli_common import UsageError
from gateway.inspect.text import legacy
from gateway.inspect.text.convert import DEFAULT_FONT, ConvertError, convert_file


def cmd_convert(args: argparse.Namespace) -> int:
    src, dst = Path(args.input), Path(args.output)
    if dst.exists() and not args.force and dst.resolve() != src.resolve():
        raise UsageError(f"{dst} exists (use --force to overwrite)")
    try:
        st = convert_file(src, dst, from_enc=args.from_enc, font=args.font)
    except ConvertError as exc:
        raise UsageError(str(exc)) from None
    if st.runs == 0:
        print(f"{src}: no legacy Vietnamese text found; {dst} written unchanged in content")
    else:
        fonts = f" in fonts {', '.join(sorted(st.fonts))}" if st.fonts else ""
        print(f"{src}: converted {st.runs} piece(s) of {', '.join(sorted(st.encodings))}{fonts} "
              f"to Unicode → {dst}")
        if st.sample:
            print(f"  e.g.: {st.sample[:120]}")
    if st.signed:
        print("  note: the document was signed; converting it invalidates the signature — "
              "sign the converted file again", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("convert", help="convert legacy Vietnamese text (TCVN3, VNI, …) to Unicode",
                       description="Convert a text file, DOCX or XLSX with legacy Vietnamese "
                                   "text (TCVN3/ABC, VNI, VISCII, VPS, Windows-1258, VIQR) to "
                                   "Unicode (TCVN 6909:2001, NFC).")
    p.add_argument("input", metavar="IN")
    p.add_argument("output", metavar="OUT")
    p.add_argument("--from", dest="from_enc", metavar="ENC", choices=legacy.ENCODINGS,
                   help="encoding of a text file (default: detected)")
    p.add_argument("--font", default=DEFAULT_FONT,
                   help=f"Unicode font for converted runs (default {DEFAULT_FONT})")
    p.add_argument("--force", action="store_true", help="overwrite OUT")
    p.set_defaults(func=cmd_convert)
