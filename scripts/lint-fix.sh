#!/usr/bin/env bash
# Apply the safe automatic fixes for `make lint`, to the whole tree or to the paths given:
#   1. ruff's safe fixes (import order, Python 3.11 idioms, quoted annotations…), no
#      `--unsafe-fixes`: each keeps behaviour the same;
#   2. the `# type: ignore` comments mypy reports as unused, removed.
# Then it prints what is left, which needs a person: long lines, broad excepts, zip() without
# strict=, real type errors. Review the diff before committing it.
#   scripts/lint-fix.sh                    # everything
#   scripts/lint-fix.sh gateway/audit      # one package
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
paths=("$@")
[ ${#paths[@]} -gt 0 ] || paths=(.)

"$PY" -m ruff check --fix --exit-zero --quiet "${paths[@]}"
# mypy reads its file list from pyproject.toml unless paths are given.
mypy_paths=("$@")
"$PY" -m mypy "${mypy_paths[@]}" | "$PY" scripts/strip_unused_ignores.py || true
# once more: a fix can leave an import unused (timezone after datetime.UTC)
"$PY" -m ruff check --fix --exit-zero --quiet "${paths[@]}"

echo "--- left for a person:"
"$PY" -m ruff check --statistics "${paths[@]}" || true
"$PY" -m mypy "${mypy_paths[@]}" | tail -1 || true
