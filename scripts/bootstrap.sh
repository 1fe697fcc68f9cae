#!/usr/bin/env bash
# Install what hople-gateway needs on a Debian machine: system packages (when run as root)
# and a virtual environment in .venv with the project installed in editable mode.
# Idempotent: packages already present and an up-to-date venv are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(postfix libmilter-dev libmagic1 libmagic-mgc gcc python3-dev python3-venv
              postgresql chromium chromium-driver ca-certificates
              recode  # recode: reference VPS/VNI/VIQR converter for the text tests
              systemd  # systemd-analyze checks the units (verify, security exposure)
              miltertest  # miltertest: libmilter-based client for the milter protocol tests
              libarchive13  # RAR, 7z, tar, cab, ISO archives (intake/archives.py via libarchive-c)
              7zip)  # 7zz: archives from another producer in tests/unit/test_archives.py
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}"
  # "No configuration": no system Postfix instance on port 25; the tests run their own.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
stamp=.venv/.hople-installed
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
# constraints.txt: the exact versions the tests passed with (scripts/freeze-constraints.sh);
# `demo` is python-docx for `make demo`, `dev` the test and lint tools.
# setup.py, _scorer.c and _stamps.c: the compiled text scorer is built by the install (a change to
# its sources needs a new build)
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ] \
   || [ setup.py -nt "$stamp" ] || [ gateway/inspect/text/_scorer.c -nt "$stamp" ] \
   || [ gateway/inspect/text/_stamps.c -nt "$stamp" ]; then
  .venv/bin/pip install -q --disable-pip-version-check -c constraints.txt -e '.[demo,dev]'
  touch "$stamp"
fi
