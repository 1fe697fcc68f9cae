"""What the pool's forkserver prepares before it forks the workers (``gateway.milter.preload``).

It builds the checker the workers will ask for and checks sample messages with a checker of
its own, then unmaps the library pages it will not use again. A worker must still check with
the rules and trust anchors it was asked for (it reports their hash), the warm-up must leave
nothing behind, and no failure there may stop the forkserver.

The preload runs when it is imported, so each test runs a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from gateway.milter.pages import read_only_file_mappings
from gateway.milter.pool import CHECKER_ENV

ROOT = Path(__file__).resolve().parents[2]


def _python(script: str, *args: str, env: dict[str, str] | None = None
            ) -> tuple[dict[str, Any], str]:
    base = {k: v for k, v in os.environ.items() if k != CHECKER_ENV}
    base["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    got = subprocess.run([sys.executable, "-W", "ignore", "-c", script, *args], cwd=ROOT,
                         env=base | (env or {}), capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr[-3000:]
    return json.loads(got.stdout.strip().splitlines()[-1]), got.stderr


WHICH_CHECKER = r"""
import json, os, sys
from pathlib import Path

import gateway.milter.preload as preload
from gateway.milter.worker import worker_checker
from gateway.policy.load import load_policy

rules, trust = sys.argv[1], sys.argv[2]
left_in_tmp = sorted(os.listdir(os.environ["TMPDIR"]))
prepared = preload.PREPARED.checker


def which(rules_path, dirs):
    c = worker_checker(rules_path, dirs)
    return {"prepared": c is prepared, "hash": c.policy.hash}


out = {"left_in_tmp": left_in_tmp,
       "site": load_policy(Path(rules)).hash, "shipped": load_policy(None).hash,
       "same": which(rules, (trust,)),
       "other_rules": which(None, (trust,)),
       "other_trust": which(rules, ())}
Path(trust, "new.pem").write_text("not a certificate")
out["anchor_added"] = which(rules, (trust,))
Path(trust, "new.pem").unlink()
out["anchor_removed_again"] = which(rules, (trust,))
Path(rules).write_text('[documents]\nuninspected-action = "reject"\n')
out["rules_edited"] = which(rules, (trust,))
out["edited"] = load_policy(Path(rules)).hash
print(json.dumps(out))
"""


def test_a_worker_checks_with_the_rules_and_anchors_it_asks_for(tmp_path: Path) -> None:
    rules = tmp_path / "site.toml"
    rules.write_text("[freemail]\nwith-documents = \"accept\"\n", encoding="utf-8")
    trust = tmp_path / "anchors"
    trust.mkdir()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    spec = json.dumps({"rules": str(rules), "trust": [str(trust)]})
    got, stderr = _python(WHICH_CHECKER, str(rules), str(trust),
                          env={CHECKER_ENV: spec, "TMPDIR": str(tmp)})
    site, shipped, edited = got["site"], got["shipped"], got["edited"]
    assert len({site, shipped, edited}) == 3
    # the forkserver's checker, for exactly what it was built for
    assert got["same"] == {"prepared": True, "hash": site}
    assert got["anchor_removed_again"] == {"prepared": True, "hash": site}
    # anything else is loaded by the worker: other rules, other anchors, changed files
    assert got["other_rules"] == {"prepared": False, "hash": shipped}
    assert got["other_trust"] == {"prepared": False, "hash": site}
    assert got["anchor_added"] == {"prepared": False, "hash": site}
    assert got["rules_edited"] == {"prepared": False, "hash": edited}
    # the warm-up checks left no file behind and said nothing
    assert got["left_in_tmp"] == []
    assert "warm-up" not in stderr and "failed" not in stderr


PREPARATION_FAILS = r"""
import json
import gateway.milter.preload as preload
from gateway.milter.worker import worker_checker

checked = []


def failing_warm_up(prepared):
    raise RuntimeError("a sample could not be checked")


preload.warm_up = failing_warm_up
again = preload._prepare_and_warm_up()  # the import already did it once, with the bad spec
print(json.dumps({"prepared": preload.PREPARED is not None, "again": again is not None,
                  "hash": worker_checker(None, ()).policy.hash}))
"""


def test_a_failed_preparation_or_warm_up_is_logged_and_ignored(tmp_path: Path) -> None:
    from gateway.policy.load import load_policy

    spec = json.dumps({"rules": str(tmp_path / "absent.toml"), "trust": []})
    got, stderr = _python(PREPARATION_FAILS, env={CHECKER_ENV: spec})
    assert got == {"prepared": False, "again": False, "hash": load_policy(None).hash}
    assert "preparing the workers' checker failed (RulesError" in stderr
    assert "warm-up check failed (RuntimeError: a sample could not be checked)" in stderr


FORKSERVER_STARTS = r"""
import json, multiprocessing, os, sys

ctx = multiprocessing.get_context("forkserver")
ctx.set_forkserver_preload(["gateway.milter.preload"])
p = ctx.Process(target=os.getpid)
p.start()
p.join(60)
print(json.dumps({"exitcode": p.exitcode}))
"""


def test_a_forkserver_whose_preparation_fails_still_forks_workers() -> None:
    """The forkserver dies on any exception from its preload but ImportError."""
    got, stderr = _python(FORKSERVER_STARTS, env={CHECKER_ENV: "{not json"})
    assert got == {"exitcode": 0}
    assert "preparing the workers' checker failed (JSONDecodeError" in stderr


POOLS = r"""
import json, sys, time
from pathlib import Path

from gateway.milter.pool import WorkerPool
from gateway.model.envelope import Envelope

MSG = b"From: a@agency.gov.vn\r\nTo: b@agency.gov.vn\r\nSubject: t\r\n\r\nhello\r\n"
out = []
for rules in (Path(sys.argv[1]), None):  # one forkserver, prepared for the first pool's rules
    pool = WorkerPool(1, rules_path=rules, trust_dirs=(Path(sys.argv[2]),))
    pool.start()
    try:
        report = pool.run("bytes", MSG, Envelope(), "Q", time.monotonic() + 60)
        out.append([next(iter(pool._all)).rules_hash, report.rules_hash])
    finally:
        pool.close()
print(json.dumps(out))
"""


def test_workers_report_the_hash_of_the_rules_their_pool_asked_for(tmp_path: Path) -> None:
    from gateway.policy.load import load_policy

    rules = tmp_path / "site.toml"
    rules.write_text("[freemail]\nwith-documents = \"accept\"\n", encoding="utf-8")
    got, stderr = _python(POOLS, str(rules), str(tmp_path))
    site, shipped = load_policy(rules).hash, load_policy(None).hash
    assert got == [[site, site], [shipped, shipped]]
    assert "preparing the workers' checker failed" not in stderr


SMAPS = """\
55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1 /usr/bin/python3.11
Rss:                   4 kB
Anonymous:             0 kB
VmFlags: rd mr mw me sd
7f0000000000-7f0000100000 r-xp 00001000 08:01 2 /usr/lib/libcrypto.so.3
Rss:                 900 kB
Anonymous:             0 kB
7f0000100000-7f0000110000 r--p 00101000 08:01 2 /usr/lib/libcrypto.so.3
Rss:                  64 kB
Anonymous:            64 kB
7f0000110000-7f0000120000 rw-p 00111000 08:01 2 /usr/lib/libcrypto.so.3
Rss:                  64 kB
Anonymous:             8 kB
7f0000120000-7f0000130000 rw-p 00000000 00:00 0
Rss:                  64 kB
Anonymous:            64 kB
7f0000130000-7f0000131000 r--p 00000000 00:00 0
Rss:                   4 kB
Anonymous:             0 kB
7f0000140000-7f0000150000 r--s 00000000 08:01 3 /var/lib/some dir/table.bin
Rss:                  64 kB
Anonymous:             0 kB
7f0000150000-7f0000151000 rw-p 00000000 00:00 0 [heap]
Rss:                   4 kB
Anonymous:             4 kB
7ffd00000000-7ffd00001000 r-xp 00000000 00:00 0 [vdso]
Rss:                   4 kB
Anonymous:             0 kB
"""


def test_only_unmodified_read_only_file_mappings_are_released(tmp_path: Path) -> None:
    """Releasing a page that differs from its file (relocated data, a writable mapping) would
    lose it; anonymous memory has no file to come back from."""
    smaps = tmp_path / "smaps"
    smaps.write_text(SMAPS)
    assert read_only_file_mappings(str(smaps)) == [
        (0x55D0C0A00000, 0x55D0C0A01000),  # the executable's header
        (0x7F0000000000, 0x7F0000100000),  # a library's code
        (0x7F0000140000, 0x7F0000150000),  # a read-only data file, path with a space
    ]


RELEASE = r"""
import hashlib, json, zlib
from pathlib import Path

from gateway.milter.pages import read_only_file_mappings, release_library_pages


def resident(ranges):
    kib, current = 0, None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if not fields[0].endswith(":"):
            current = tuple(int(x, 16) for x in fields[0].split("-"))
        elif fields[0] == "Rss:" and current in ranges:
            kib += int(fields[1])
    return kib


ranges = set(read_only_file_mappings())
before = resident(ranges)
released = release_library_pages()
after = resident(ranges)
print(json.dumps({"before": before, "after": after, "released": released, "ranges": len(ranges),
                  "works": [hashlib.sha256(b"abc").hexdigest()[:8],
                            zlib.decompress(zlib.compress(b"x" * 9)).decode()]}))
"""


def test_released_library_pages_come_back_when_used() -> None:
    got, _ = _python(RELEASE)
    assert got["released"] >= got["ranges"] > 0  # and ctypes, loaded to release them
    assert got["after"] < got["before"]
    assert got["works"] == ["ba7816bf", "x" * 9]  # code from the released mappings still runs
