"""Remove the ``# type: ignore`` comments that mypy reports as unused.

Reads mypy's output on standard input (``mypy | python scripts/strip_unused_ignores.py``) and
edits the files it names in place: an ignore that mypy calls unused as a whole is removed, and
from a partly unused ``# type: ignore[a, b]`` only the unused codes are. Prints one line per
file changed. Safe to run twice: a second mypy run reports nothing left to remove.
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

# gateway/x.py:12: error: Unused "type: ignore[a, b]" comment  [unused-ignore]
REPORT = re.compile(
    r'^(?P<path>[^:\s]+):(?P<line>\d+): error: Unused "type: ignore(?:\[(?P<codes>[^\]]*)\])?" '
    r"comment"
)
IGNORE = re.compile(r"\s*#\s*type:\s*ignore(?:\[(?P<codes>[^\]]*)\])?")


def strip_line(line: str, unused: set[str] | None) -> str:
    """``line`` without its unused ignore; ``unused`` None means the whole comment."""
    m = IGNORE.search(line)
    if m is None:
        return line
    keep: list[str] = []
    if unused is not None and m.group("codes"):
        keep = [c.strip() for c in m.group("codes").split(",") if c.strip() not in unused]
    replacement = f"  # type: ignore[{', '.join(keep)}]" if keep else ""
    rest = line[m.end():]
    if not keep and rest.lstrip().startswith("#"):
        replacement = "  "  # another comment follows: keep it, two spaces before it
        rest = rest.lstrip()
    return (line[: m.start()] + replacement + rest).rstrip() + (
        "\n" if line.endswith("\n") else "")


def main() -> int:
    todo: dict[Path, dict[int, set[str] | None]] = defaultdict(dict)
    for report in sys.stdin:
        m = REPORT.match(report)
        if m is None:
            continue
        codes = m.group("codes")
        todo[Path(m.group("path"))][int(m.group("line"))] = (
            {c.strip() for c in codes.split(",")} if codes else None)
    for path, lines in sorted(todo.items()):
        text = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for number, unused in lines.items():
            text[number - 1] = strip_line(text[number - 1], unused)
        path.write_text("".join(text), encoding="utf-8")
        print(f"{path}: {len(lines)} unused ignore(s) removed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
