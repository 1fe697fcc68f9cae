"""Signatures in legacy binary Office files (DOC, XLS, PPT: OLE2 compound files).

Two kinds of document signature exist (MS-OFFCRYPTO 2.5.1 and 2.5.2):

* the CryptoAPI signature of Office 2000–2003, a ``_signatures`` stream in the root storage
  (an MD5 digest over a format-specific traversal of the compound file);
* XML-DSig in a binary file (Office 2007+ signing a .doc/.xls/.ppt), an
  ``_xmlsignatures`` storage whose signatures reference compound-file streams.

No open verifier exists for either and the first rests on MD5, so the gateway does not
verify them: a file that carries one gets a signature report with integrity
``unverifiable`` and a finding telling the sender to send DOCX/XLSX/PPTX or a signed PDF.
Such a file is never reported unsigned and never valid.

VBA project signatures (``\\x05DigitalSignature``, ``…Ex``, ``…Ext`` streams, MS-OVBA) sign
only the macro project, never the document content: they do not count as a document
signature. A file with only those is unsigned, with a warning saying so (the same rule as
ODF macro signatures).

The compound file is read with ``olefile`` (directory only; no stream is parsed).
"""

from __future__ import annotations

import olefile

from gateway.inspect.base import InspectContext, InspectionResult
from gateway.model.catalog import make_finding
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.model.partdata import Data, open_stream
from gateway.model.report import Coverage, Integrity, Revocation, SignatureReport, Trust

FORMAT = "legacy-office"
_VBA_SIGNATURES = ("\x05digitalsignature", "\x05digitalsignatureex", "\x05digitalsignatureext")


def _entries(data: Data) -> list[tuple[list[str], int]]:
    """Every storage and stream: (path components, entry type)."""
    ole = olefile.OleFileIO(open_stream(data))
    try:
        out = []
        for path in ole.listdir(streams=True, storages=True):
            out.append((path, ole.get_type(path)))
        return out
    finally:
        ole.close()


def inspect_legacy_office(doc: Document, ctx: InspectContext) -> InspectionResult:
    try:
        entries = _entries(doc.data)
    except Exception as exc:  # noqa: BLE001 - olefile raises assorted errors: a finding
        return InspectionResult(findings=(make_finding(
            "DOCUMENT_UNREADABLE", place=doc.path, name=doc.path,
            reason=f"not a readable OLE2 compound file ({type(exc).__name__})"),))
    kinds: list[str] = []
    vba = False
    for path, kind in entries:
        lowered = [p.lower() for p in path]
        if lowered == ["_signatures"] and kind == olefile.STGTY_STREAM:
            kinds.append("CryptoAPI _signatures")
        elif lowered[:1] == ["_xmlsignatures"] and len(lowered) == 1:
            kinds.append("XML-DSig _xmlsignatures")
        elif lowered and lowered[-1] in _VBA_SIGNATURES and kind == olefile.STGTY_STREAM:
            vba = True
    findings: list[Finding] = []
    if vba and not kinds:
        findings.append(make_finding("SIG_MACRO_SIGNATURE_ONLY", place=doc.path, name=doc.path,
                                     kind="VBA project"))
    signatures = tuple(
        SignatureReport(
            format=FORMAT,
            integrity=Integrity.UNVERIFIABLE,
            coverage=Coverage.UNKNOWN,
            trust=Trust.UNKNOWN,
            revocation=Revocation.UNKNOWN,
            findings=(make_finding("SIG_LEGACY_UNVERIFIABLE", place=doc.path, name=doc.path,
                                   fmt=doc.fmt.upper(), kind=kind),),
        )
        for kind in kinds
    )
    return InspectionResult(findings=tuple(findings), signatures=signatures,
                            facts={"legacy_signature": ", ".join(kinds)} if kinds else {})


__all__ = ["FORMAT", "inspect_legacy_office"]
