"""Package strictness by meaning: what can change what a reader sees is refused; an
irregularity of the unsigned signature plumbing is a warning (eID DSS writes
``_xmlsignatures/_rels/origin.sigs.rels`` without a content type, and Office accepts it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from lxml import etree

from gateway.model.findings import Severity
from gateway.model.report import Verdict
from gateway.pipeline import Checker
from gateway.policy.load import load_policy
from tests import signer as S
from tests.pdfgen.check import engine_for

CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
ORIGIN_RELS = "_xmlsignatures/_rels/origin.sigs.rels"


@pytest.fixture(scope="module")
def checker(pki):
    return Checker(load_policy(), trust=engine_for(pki), clock=lambda: pki.now)


def _signed(pki):
    return S.sign_ooxml(S.make_ooxml(), pki.leaf.key, pki.leaf.cert, chain=pki.chain(pki.leaf),
                        signing_time=pki.now - timedelta(days=1))


def _without_type(parts: dict[str, bytes], untyped: str) -> dict[str, bytes]:
    """The ``rels`` default replaced by one override per relationships part, except
    ``untyped`` (so it alone has no content type); other parts lose theirs by name."""
    parts = dict(parts)
    root = etree.fromstring(parts["[Content_Types].xml"])
    for el in list(root):
        if el.get("Extension") == "rels":
            root.remove(el)
        if el.get("PartName", "").lstrip("/") == untyped:
            root.remove(el)
    for name in parts:
        if name.endswith(".rels") and name != untyped:
            o = etree.SubElement(root, f"{{{CT_NS}}}Override")
            o.set("PartName", "/" + name)
            o.set("ContentType", "application/vnd.openxmlformats-package.relationships+xml")
    if not untyped.endswith(".rels"):  # e.g. the image: drop its extension default too
        ext = untyped.rsplit(".", 1)[-1]
        for el in list(root):
            if el.get("Extension") == ext:
                root.remove(el)
    parts["[Content_Types].xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                                  standalone=True)
    return parts


def _codes(doc):
    return [f.code for f in doc.findings] + [f.code for s in doc.signatures for f in s.findings]


def test_origin_rels_without_a_content_type_is_valid_with_a_warning(pki, checker):
    parts = _without_type(_signed(pki), ORIGIN_RELS)
    report = checker.check_document("eid.docx", S.zip_package(parts))
    (doc,) = report.documents
    assert report.verdict is Verdict.VALID, _codes(doc)
    (warn,) = [f for f in doc.findings if f.code == "SIG_PACKAGE_IRREGULAR"]
    assert warn.severity is Severity.WARNING and ORIGIN_RELS in warn.en
    assert "SIG_CONTAINER_INVALID" not in _codes(doc)


@pytest.mark.parametrize("part", ["word/_rels/document.xml.rels", "word/media/image1.png"])
def test_signed_content_without_a_content_type_is_still_refused(pki, checker, part):
    parts = _without_type(_signed(pki), part)
    report = checker.check_document("eid.docx", S.zip_package(parts))
    (doc,) = report.documents
    assert report.verdict is Verdict.INVALID
    assert {"SIG_CONTAINER_INVALID", "SIG_CONTENT_TYPE_MISMATCH"} & set(_codes(doc))
    assert "package-invalid" in doc.signatures[0].reasons


def test_a_duplicate_zip_entry_is_still_refused(pki, checker):
    import io
    import zipfile

    data = S.zip_package(_signed(pki))
    buf = io.BytesIO(data)
    with zipfile.ZipFile(buf, "a") as zf, pytest.warns(UserWarning):
        zf.writestr("word/document.xml", b"<w:document/>")  # a second copy, unsigned
    report = checker.check_document("eid.docx", buf.getvalue())
    assert report.verdict is Verdict.INVALID
    assert "SIG_CONTAINER_INVALID" in _codes(report.documents[0])
