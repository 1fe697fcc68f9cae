"""What each process of the gateway imports.

The milter process (``hople serve``: pymilter, settings, spool, pool, decision log, headers,
notices) must not import the inspectors' libraries: every one of them stays resident for the
life of the process. Those are imported once, in the pool's forkserver
(``gateway.milter.preload``), and shared by the workers forked from it; the second test
checks that a worker checking documents of every kind imports no third-party package the
preload did not bring in.

Each test runs a fresh interpreter: this test process has imported everything already.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

HEAVY = ("pyhanko", "pyhanko_certvalidator", "pdfminer", "lxml", "PIL", "magic", "cryptography",
         "libarchive", "asn1crypto", "psycopg", "olefile", "gateway.pipeline", "gateway.inspect",
         "gateway.intake", "gateway.trust", "gateway.milter.preload")
"""Modules the milter process must not hold: the inspectors' libraries and the gateway's
own checking layers (and psycopg, unless the decision log is PostgreSQL)."""

SERVE = r"""
import json, pickle, sys
from pathlib import Path

import gateway.milter.app as app
import gateway.milter.startup as startup
from gateway.milter import pool

HEAVY = tuple(sys.argv[3].split(","))
report_bytes = Path(sys.argv[2]).read_bytes()


def serve(settings):
    # the start of `hople serve` without a socket: rules, decision log, notices, pool (its
    # forkserver is another process), then one decision with a worker's report, unpickled
    # here as the pool's pipe does
    pool.WorkerPool.start = lambda self: None
    pool.WorkerPool.run = lambda self, *a, **k: pickle.loads(report_bytes)
    if sys.argv[4] == "import-pipeline":
        import gateway.pipeline  # noqa: F401  (proves the check can fail)
    engine, workers, store = startup.build_engine(settings)
    from gateway.milter.engine import MessageData
    from gateway.model.envelope import Envelope

    env = Envelope(sender="vanthu@stc.daknong.gov.vn", recipients=("a@lamdong.gov.vn",),
                   queue_id="Q1")
    decision = engine.decide(MessageData(env, [("From", b"vanthu@stc.daknong.gov.vn")],
                                         "bytes", b"x", 1), apply=lambda d: None)
    store.close()
    held = sorted(m for m in sys.modules
                  if any(m == h or m.startswith(h + ".") for h in HEAVY))
    print(json.dumps({"action": decision.action.name, "held": held}))
    return 0


app.serve = serve
from gateway.cli import main

sys.exit(main(["serve", "--config", sys.argv[1]]))
"""

WORKER = r"""
import io, json, sys
from pathlib import Path

import gateway.milter.preload as preload

assert not preload.MISSING, preload.MISSING
before = set(sys.modules)
from gateway.milter.worker import build_checker
from gateway.model.envelope import Envelope

checker = build_checker(None, ())
verdicts = []
for path in sorted(Path(sys.argv[1]).glob("*.eml")):
    report = checker.check_message(io.BytesIO(path.read_bytes()), Envelope())
    verdicts.append(report.verdict.value)
tops = {m.split(".")[0] for m in before}
new = sorted({m.split(".")[0] for m in set(sys.modules) - before} - tops
             - set(sys.stdlib_module_names) - {"gateway"})
print(json.dumps({"new": new, "verdicts": verdicts}))
"""


def _python(script: str, *args: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    got = subprocess.run([sys.executable, "-W", "ignore", "-c", script, *args], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr[-3000:]
    out: dict[str, object] = json.loads(got.stdout.strip().splitlines()[-1])
    return out


@pytest.fixture(scope="module")
def pdf_report() -> bytes:
    """A worker's report on a message with a PDF, pickled as the pool's pipe sends it."""
    import io

    from gateway.demo import AGENCY, message, sample_pdf
    from gateway.model.envelope import Envelope
    from gateway.pipeline import Checker
    from gateway.policy.load import load_policy

    msg = message(AGENCY, "Công văn", "Gửi kèm.\n", [("cv.pdf", sample_pdf(), "application/pdf")])
    report = Checker(load_policy(None)).check_message(io.BytesIO(msg.as_bytes()), Envelope())
    assert report.documents, "the report must carry a document, as a worker's does"
    return pickle.dumps(report)


def _serve(tmp: Path, report: bytes, mode: str) -> dict[str, Any]:
    (tmp / "report.pickle").write_bytes(report)
    cfg = tmp / "gateway.toml"
    cfg.write_text(f'[milter]\nspool-dir = "{tmp / "spool"}"\n'
                   f'[store]\nurl = "sqlite:///{tmp / "decisions.db"}"\n'
                   f'[notices]\nmarker-secret-file = "{tmp / "none.key"}"\n', encoding="utf-8")
    return _python(SERVE, str(cfg), str(tmp / "report.pickle"), ",".join(HEAVY), mode)


def test_the_milter_process_imports_no_inspector_library(tmp_path: Path,
                                                         pdf_report: bytes) -> None:
    got = _serve(tmp_path, pdf_report, "milter")
    assert got["action"] == "ACCEPT"  # the decision went through the engine and the log
    assert got["held"] == []


def test_the_import_check_sees_an_inspector_library(tmp_path: Path, pdf_report: bytes) -> None:
    got = _serve(tmp_path, pdf_report, "import-pipeline")
    held = set(got["held"])
    assert {"gateway.pipeline", "pyhanko", "lxml", "PIL"} <= held


def test_a_worker_imports_nothing_the_forkserver_did_not(tmp_path: Path) -> None:
    from bench.mailcorpus import build, make_signer

    signer = make_signer(tmp_path / "pki")
    mails = build("mix", 20, scale=0.02, signer=signer)
    kinds = {m.kind for m in mails}
    assert {"office", "scan", "signed_pdf", "text"} <= kinds
    with tempfile.TemporaryDirectory(dir=tmp_path) as where:
        for i, m in enumerate(mails):
            Path(where, f"{i:03d}.eml").write_bytes(m.data)
        got = _python(WORKER, where)
    assert len(got["verdicts"]) == len(mails)
    assert got["new"] == []


PRELOAD_FAILS = r"""
import json, sys
from pathlib import Path

Path(sys.argv[1], "needs_missing_lib.py").write_text("raise OSError('libx.so: cannot open')")
sys.path.insert(0, sys.argv[1])
from gateway.milter.preload import preload

print(json.dumps(preload(("json", "needs_missing_lib", "no_such_module_here"))))
"""


def test_a_library_that_cannot_load_does_not_stop_the_preload(tmp_path: Path) -> None:
    """The forkserver dies on any exception but ImportError from its preload; a library
    that cannot load (libarchive or libmagic missing) is left to the worker that needs it."""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    got = subprocess.run([sys.executable, "-W", "ignore", "-c", PRELOAD_FAILS, str(tmp_path)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert got.returncode == 0, got.stderr[-3000:]
    assert json.loads(got.stdout.strip().splitlines()[-1]) == ["needs_missing_lib",
                                                                "no_such_module_here"]
