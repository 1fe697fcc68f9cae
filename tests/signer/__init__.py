"""A test-only signer for OOXML and ODF packages (never product code).

It writes signatures the way Microsoft Office (OOXML: origin part, ``sigN.xml`` with a
package Manifest, RelationshipTransform for ``.rels`` parts, SignatureTime, XAdES
SignedProperties) and LibreOffice (ODF: ``META-INF/documentsignatures.xml``, one reference
per stream, ``dc:date``, XAdES) do, with RSA PKCS#1 v1.5, RSA-PSS or ECDSA (raw r||s).

Packages are ``dict[str, bytes]`` (part name → bytes, in ZIP order); :func:`zip_package`
writes one. The canonicalization here is deliberately independent of the gateway's code:
every signed subtree is built as a standalone document whose apex declares exactly the
namespaces in scope where it is inserted, so its C14N equals the C14N of the subset.
"""

from __future__ import annotations

import base64
import hashlib
import io
import urllib.parse
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
MDSSI = "http://schemas.openxmlformats.org/package/2006/digital-signature"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
REL_TRANSFORM = "http://schemas.openxmlformats.org/package/2006/RelationshipTransform"
ODF_DSIG_NS = "urn:oasis:names:tc:opendocument:xmlns:digitalsignature:1.0"
DC = "http://purl.org/dc/elements/1.1/"

DIGEST_URI = {
    "sha1": DS + "sha1",
    "sha256": "http://www.w3.org/2001/04/xmlenc#sha256",
    "sha384": "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "sha512": "http://www.w3.org/2001/04/xmlenc#sha512",
}
_HASH: dict[str, Callable[[], hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
    "sha512": hashes.SHA512}

REL_ORIGIN = "http://schemas.openxmlformats.org/package/2006/relationships/digital-signature/origin"
REL_SIGNATURE = "http://schemas.openxmlformats.org/package/2006/relationships/digital-signature/signature"
CT_ORIGIN = "application/vnd.openxmlformats-package.digital-signature-origin"
CT_SIGNATURE = "application/vnd.openxmlformats-package.digital-signature-xmlsignature+xml"
CT_RELS = "application/vnd.openxmlformats-package.relationships+xml"
OFFICE_UNSIGNED_REL_TYPES = (
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties",
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/thumbnail",
    REL_ORIGIN,
)
OFFICE_UNSIGNED_PARTS = ("docProps/core.xml", "docProps/app.xml", "docProps/custom.xml")

# -- minimal documents -----------------------------------------------------------------------

_XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
_CORE = (_XML_DECL + b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
         b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>'
         b'Nguy\xe1\xbb\x85n V\xc4\x83n A</dc:creator></cp:coreProperties>')
_APP = (_XML_DECL + b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'extended-properties"><Application>Test</Application></Properties>')
_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")

_MAIN = {
    "docx": ("word/document.xml",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"),
    "xlsx": ("xl/workbook.xml",
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"),
    "pptx": ("ppt/presentation.xml",
             "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"),
}


def _rels(items: Iterable[tuple[str, str, str]], external: Iterable[str] = ()) -> bytes:
    ext = set(external)
    body = "".join(
        f'<Relationship Id="{i}" Type="{t}" Target="{g}"'
        + (' TargetMode="External"' if i in ext else "") + "/>"
        for i, t, g in items)
    return _XML_DECL + f'<Relationships xmlns="{RELS_NS}">{body}</Relationships>'.encode()


def make_ooxml(kind: str = "docx", *, body: str = "Văn bản thử nghiệm",
               big_parts: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """A small OOXML package of ``kind`` (docx, xlsx, pptx) with an image part."""
    main, main_ct = _MAIN[kind]
    folder = main.split("/")[0]
    W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    if kind == "docx":
        main_xml = (_XML_DECL + f'<w:document xmlns:w="{W}" xmlns:r="{R}"><w:body><w:p><w:r>'
                    f'<w:t>{body}</w:t></w:r></w:p></w:body></w:document>'.encode())
        child, child_ct, child_type = (
            "word/styles.xml",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml",
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles")
        child_xml = _XML_DECL + f'<w:styles xmlns:w="{W}"/>'.encode()
    elif kind == "xlsx":
        S = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
        main_xml = (_XML_DECL + f'<workbook xmlns="{S}" xmlns:r="{R}"><sheets><sheet name="A" '
                    f'sheetId="1" r:id="rId1"/></sheets></workbook>'.encode())
        child, child_ct, child_type = (
            "xl/worksheets/sheet1.xml",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml",
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet")
        child_xml = (_XML_DECL + f'<worksheet xmlns="{S}"><sheetData><row r="1">'
                     f'<c r="A1" t="inlineStr"><is><t>{body}</t></is></c></row></sheetData>'
                     "</worksheet>".encode())
    else:
        P = "http://schemas.openxmlformats.org/presentationml/2006/main"
        main_xml = (_XML_DECL + f'<p:presentation xmlns:p="{P}" xmlns:r="{R}"><p:sldIdLst>'
                    f'<p:sldId id="256" r:id="rId1"/></p:sldIdLst></p:presentation>'.encode())
        child, child_ct, child_type = (
            "ppt/slides/slide1.xml",
            "application/vnd.openxmlformats-officedocument.presentationml.slide+xml",
            "http://schemas.openxmlformats.org/officeDocument/2006/relationships/slide")
        child_xml = (_XML_DECL + f'<p:sld xmlns:p="{P}"><p:cSld><p:spTree/></p:cSld>'
                     f'<!-- {body} --></p:sld>'.encode())
    image = f"{folder}/media/image1.png"
    main_rels = f"{folder}/_rels/{main.split('/')[-1]}.rels"
    rel_child = child[len(folder) + 1:]
    overrides = [
        (main, main_ct), (child, child_ct),
        ("docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
        ("docProps/app.xml",
         "application/vnd.openxmlformats-officedocument.extended-properties+xml"),
    ]
    parts: dict[str, bytes] = {}
    parts["[Content_Types].xml"] = content_types(overrides)
    parts["_rels/.rels"] = _rels([
        ("rId1", f"{R}/officeDocument", main),
        ("rId2", OFFICE_UNSIGNED_REL_TYPES[0], "docProps/core.xml"),
        ("rId3", OFFICE_UNSIGNED_REL_TYPES[1], "docProps/app.xml"),
    ])
    parts[main] = main_xml
    parts[main_rels] = _rels([
        ("rId1", child_type, rel_child),
        ("rId2", f"{R}/image", "media/image1.png"),
        ("rId3", f"{R}/hyperlink", "https://example.gov.vn/"),
    ], external=["rId3"])
    parts[child] = child_xml
    parts[image] = _PNG
    parts["docProps/core.xml"] = _CORE
    parts["docProps/app.xml"] = _APP
    for name, data in (big_parts or {}).items():
        parts[name] = data
    return parts


def content_types(overrides: list[tuple[str, str]],
                  defaults: list[tuple[str, str]] | None = None) -> bytes:
    defaults = defaults or [("rels", CT_RELS), ("xml", "application/xml"), ("png", "image/png"),
                            ("sigs", CT_ORIGIN), ("bin", "application/octet-stream")]
    body = "".join(f'<Default Extension="{e}" ContentType="{c}"/>' for e, c in defaults)
    body += "".join(f'<Override PartName="/{p}" ContentType="{c}"/>' for p, c in overrides)
    return _XML_DECL + f'<Types xmlns="{CT_NS}">{body}</Types>'.encode()


def add_content_type(parts: dict[str, bytes], part: str, ctype: str) -> None:
    root = etree.fromstring(parts["[Content_Types].xml"])
    for el in root:
        if el.get("PartName") == "/" + part:
            return
    el = etree.SubElement(root, f"{{{CT_NS}}}Override")
    el.set("PartName", "/" + part)
    el.set("ContentType", ctype)
    parts["[Content_Types].xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                                  standalone=True)


def content_type_of(parts: dict[str, bytes], part: str) -> str:
    root = etree.fromstring(parts["[Content_Types].xml"])
    for el in root:
        if (el.tag == f"{{{CT_NS}}}Override"
                and el.get("PartName", "").lower() == "/" + part.lower()):
            return el.get("ContentType", "")
    ext = part.rsplit(".", 1)[-1].lower()
    for el in root:
        if el.tag == f"{{{CT_NS}}}Default" and el.get("Extension", "").lower() == ext:
            return el.get("ContentType", "")
    raise KeyError(part)


def zip_package(parts: dict[str, bytes], *, first: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        names = list(parts)
        if first and first in parts:
            names.remove(first)
            names.insert(0, first)
        for name in names:
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            zf.writestr(zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0)), parts[name],
                        compress_type=method)
    return buf.getvalue()


def unzip_package(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {n: zf.read(n) for n in zf.namelist() if not n.endswith("/")}


# -- crypto ---------------------------------------------------------------------------------


def _sign(key, data: bytes, method: str, digest: str) -> bytes:
    h = _HASH[digest]()
    if method == "rsa":
        return key.sign(data, padding.PKCS1v15(), h)
    if method == "rsa-pss":
        return key.sign(data, padding.PSS(mgf=padding.MGF1(h), salt_length=h.digest_size), h)
    if method == "ecdsa":
        der = key.sign(data, ec.ECDSA(h))
        r, s = utils.decode_dss_signature(der)
        size = (key.curve.key_size + 7) // 8
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise ValueError(method)


def signature_method_uri(method: str, digest: str) -> str:
    name = {"sha1": "sha1", "sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}[digest]
    if method == "rsa":
        return DS + "rsa-sha1" if digest == "sha1" else f"http://www.w3.org/2001/04/xmldsig-more#rsa-{name}"
    if method == "rsa-pss":
        return f"http://www.w3.org/2007/05/xmldsig-more#{name}-rsa-MGF1"
    return f"http://www.w3.org/2001/04/xmldsig-more#ecdsa-{name}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _digest(data: bytes, digest: str) -> str:
    return _b64(hashlib.new(digest, data).digest())


def _c14n_doc(data: bytes) -> bytes:
    return etree.tostring(etree.fromstring(data).getroottree(), method="c14n", with_comments=False)


def _c14n_standalone(xml: str) -> bytes:
    """C14N of a subtree written as a standalone document (its apex declares the in-scope
    namespaces)."""
    return etree.tostring(etree.fromstring(xml.encode()).getroottree(), method="c14n",
                          with_comments=False)


def _relationship_transform(rels: bytes, ids: set[str]) -> bytes:
    root = etree.fromstring(rels)
    chosen = sorted((r for r in root if r.get("Id") in ids), key=lambda r: r.get("Id", ""))
    body = ""
    for r in chosen:
        attrs = {k: v for k, v in r.attrib.items() if not k.startswith("{")}
        attrs.setdefault("TargetMode", "Internal")
        body += "<Relationship " + " ".join(
            f'{k}="{_attr(v)}"' for k, v in sorted(attrs.items())) + "></Relationship>"
    return f'<Relationships xmlns="{RELS_NS}">{body}</Relationships>'.encode()


def _attr(v: str) -> str:
    return v.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _xades(sp_id: str, cert: x509.Certificate, signing_time: datetime, digest: str,
           target: str, crls: Iterable[bytes] = (), certs: Iterable[bytes] = ()) -> tuple[str, str]:
    """(QualifyingProperties XML to embed, standalone SignedProperties XML for C14N).

    ``crls``/``certs``: XAdES-X-L unsigned RevocationValues/CertificateValues (DER)."""
    inner = (
        f'<xd:SignedSignatureProperties><xd:SigningTime>{_xs_time(signing_time)}</xd:SigningTime>'
        f'<xd:SigningCertificate><xd:Cert><xd:CertDigest>'
        f'<DigestMethod Algorithm="{DIGEST_URI[digest]}"/>'
        f'<DigestValue>{_digest(_der(cert), digest)}</DigestValue></xd:CertDigest><xd:IssuerSerial>'
        f'<X509IssuerName>{_attr(cert.issuer.rfc4514_string())}</X509IssuerName>'
        f'<X509SerialNumber>{cert.serial_number}</X509SerialNumber></xd:IssuerSerial></xd:Cert>'
        f'</xd:SigningCertificate><xd:SignaturePolicyIdentifier><xd:SignaturePolicyImplied/>'
        f'</xd:SignaturePolicyIdentifier></xd:SignedSignatureProperties>')
    standalone = (f'<xd:SignedProperties xmlns="{DS}" xmlns:xd="{XADES}" Id="{sp_id}">{inner}'
                  f'</xd:SignedProperties>')
    unsigned = ""
    crls, certs = list(crls), list(certs)
    if crls or certs:
        unsigned = "<xd:UnsignedProperties><xd:UnsignedSignatureProperties>"
        if certs:
            unsigned += "<xd:CertificateValues>" + "".join(
                f"<xd:EncapsulatedX509Certificate>{_b64(c)}</xd:EncapsulatedX509Certificate>"
                for c in certs) + "</xd:CertificateValues>"
        if crls:
            unsigned += "<xd:RevocationValues><xd:CRLValues>" + "".join(
                f"<xd:EncapsulatedCRLValue>{_b64(c)}</xd:EncapsulatedCRLValue>" for c in crls
            ) + "</xd:CRLValues></xd:RevocationValues>"
        unsigned += "</xd:UnsignedSignatureProperties></xd:UnsignedProperties>"
    embedded = (f'<xd:QualifyingProperties xmlns:xd="{XADES}" Target="#{target}">'
                f'<xd:SignedProperties Id="{sp_id}">{inner}</xd:SignedProperties>{unsigned}'
                f"</xd:QualifyingProperties>")
    return embedded, standalone


def _xs_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _reference(uri: str, digest: str, value: str, transforms: str = "", type_: str = "") -> str:
    t = f' Type="{type_}"' if type_ else ""
    tr = f"<Transforms>{transforms}</Transforms>" if transforms else ""
    return (f'<Reference{t} URI="{_attr(uri)}">{tr}<DigestMethod Algorithm="{DIGEST_URI[digest]}"/>'
            f"<DigestValue>{value}</DigestValue></Reference>")


def _signed_info_and_value(refs: str, key, method: str, digest: str) -> tuple[str, str]:
    body = (f'<CanonicalizationMethod Algorithm="{C14N}"/>'
            f'<SignatureMethod Algorithm="{signature_method_uri(method, digest)}"/>{refs}')
    canonical = _c14n_standalone(f'<SignedInfo xmlns="{DS}">{body}</SignedInfo>')
    return f"<SignedInfo>{body}</SignedInfo>", _b64(_sign(key, canonical, method, digest))


def _key_info(cert: x509.Certificate, chain: Sequence[bytes]) -> str:
    certs = "".join(f"<X509Certificate>{_b64(d)}</X509Certificate>" for d in [_der(cert), *chain])
    return f"<KeyInfo><X509Data>{certs}</X509Data></KeyInfo>"


# -- OOXML -----------------------------------------------------------------------------------


def sign_ooxml(parts: dict[str, bytes], key, cert: x509.Certificate, *,
               chain: Sequence[bytes] = (), method: str = "rsa", digest: str = "sha256",
               signing_time: datetime | None = None, xades: bool = True,
               skip_parts: Iterable[str] = (), embed_crls: Iterable[bytes] = (),
               embed_certs: Iterable[bytes] = ()) -> dict[str, bytes]:
    """Return a copy of ``parts`` with one more Office-style signature.

    ``skip_parts``: parts deliberately left out of the Manifest (for coverage tests);
    ``embed_crls``/``embed_certs``: XAdES-X-L revocation data and certificates."""
    parts = dict(parts)
    signing_time = signing_time or datetime.now(UTC)
    # Origin part and relationships (created by the first signature).
    origin = "_xmlsignatures/origin.sigs"
    if origin not in parts:
        root = etree.fromstring(parts["_rels/.rels"])
        rel = etree.SubElement(root, f"{{{RELS_NS}}}Relationship")
        rel.set("Id", "rIdSigOrigin")
        rel.set("Type", REL_ORIGIN)
        rel.set("Target", origin)
        parts["_rels/.rels"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                              standalone=True)
        parts[origin] = b""
    origin_rels = "_xmlsignatures/_rels/origin.sigs.rels"
    existing = etree.fromstring(parts[origin_rels]) if origin_rels in parts else etree.fromstring(
        f'<Relationships xmlns="{RELS_NS}"/>'.encode())
    n = len(existing) + 1
    sig_part = f"_xmlsignatures/sig{n}.xml"
    rel = etree.SubElement(existing, f"{{{RELS_NS}}}Relationship")
    rel.set("Id", f"rId{n}")
    rel.set("Type", REL_SIGNATURE)
    rel.set("Target", f"sig{n}.xml")
    parts[origin_rels] = etree.tostring(existing, xml_declaration=True, encoding="UTF-8",
                                        standalone=True)
    add_content_type(parts, sig_part, CT_SIGNATURE)

    skip = set(skip_parts)
    manifest = ""
    for name in sorted(parts):
        if (name == "[Content_Types].xml" or name.startswith("_xmlsignatures/")
                or name in OFFICE_UNSIGNED_PARTS or name in skip):
            continue
        ctype = content_type_of(parts, name)
        uri = f"/{name}?ContentType={ctype}"
        if name.endswith(".rels"):
            rels_root = etree.fromstring(parts[name])
            ids = {r.get("Id", "") for r in rels_root
                   if r.get("Type") not in OFFICE_UNSIGNED_REL_TYPES}
            refs = "".join(f'<mdssi:RelationshipReference xmlns:mdssi="{MDSSI}" SourceId="{i}"/>'
                           for i in sorted(ids))
            transforms = (f'<Transform Algorithm="{REL_TRANSFORM}">{refs}</Transform>'
                          f'<Transform Algorithm="{C14N}"/>')
            value = _digest(_c14n_doc(_relationship_transform(parts[name], ids)), digest)
            manifest += _reference(uri, digest, value, transforms)
        elif name.endswith(".xml"):
            manifest += _reference(uri, digest, _digest(_c14n_doc(parts[name]), digest),
                                   f'<Transform Algorithm="{C14N}"/>')
        else:
            manifest += _reference(uri, digest, _digest(parts[name], digest))
    sig_props = (
        '<SignatureProperties>'
        '<SignatureProperty Id="idSignatureTime" Target="#idPackageSignature">'
        f'<mdssi:SignatureTime xmlns:mdssi="{MDSSI}">'
        "<mdssi:Format>YYYY-MM-DDThh:mm:ssTZD</mdssi:Format>"
        f"<mdssi:Value>{_xs_time(signing_time)}</mdssi:Value></mdssi:SignatureTime>"
        f"</SignatureProperty></SignatureProperties>")
    package_object_inner = f"<Manifest>{manifest}</Manifest>{sig_props}"
    package_object = f'<Object Id="idPackageObject">{package_object_inner}</Object>'
    refs = _reference("#idPackageObject", digest, _digest(_c14n_standalone(
        f'<Object xmlns="{DS}" Id="idPackageObject">{package_object_inner}</Object>'), digest),
        type_=DS + "Object")
    xades_object = ""
    if xades:
        embedded, standalone = _xades("idSignedProperties", cert, signing_time, digest,
                                      "idPackageSignature", embed_crls, embed_certs)
        xades_object = f"<Object>{embedded}</Object>"
        refs += _reference("#idSignedProperties", digest,
                           _digest(_c14n_standalone(standalone), digest),
                           f'<Transform Algorithm="{C14N}"/>',
                           "http://uri.etsi.org/01903#SignedProperties")
    signed_info, value = _signed_info_and_value(refs, key, method, digest)
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><Signature xmlns="{DS}" Id="idPackageSignature">'
           f"{signed_info}<SignatureValue>{value}</SignatureValue>{_key_info(cert, list(chain))}"
           f"{package_object}{xades_object}</Signature>")
    parts[sig_part] = xml.encode()
    return parts


# -- ODF ---------------------------------------------------------------------------------------

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


def make_odt(body: str = "Văn bản thử nghiệm") -> dict[str, bytes]:
    office = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    text = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    manifest_ns = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"
    entries = [("/", "application/vnd.oasis.opendocument.text"), ("content.xml", "text/xml"),
               ("styles.xml", "text/xml"), ("meta.xml", "text/xml"),
               ("Pictures/image1.png", "image/png")]
    decl = '<?xml version="1.0" encoding="UTF-8"?>'
    manifest = (f'{decl}<manifest:manifest xmlns:manifest="{manifest_ns}" '
                'manifest:version="1.2">' + "".join(
                    f'<manifest:file-entry manifest:full-path="{p}" manifest:media-type="{t}"/>'
                    for p, t in entries) + "</manifest:manifest>")
    return {
        "mimetype": ODT_MIMETYPE,
        "content.xml": (f'{decl}<office:document-content xmlns:office="{office}" '
                        f'xmlns:text="{text}"><office:body><office:text><text:p>{body}</text:p>'
                        f"</office:text></office:body></office:document-content>").encode(),
        "styles.xml": f'{decl}<office:document-styles xmlns:office="{office}"/>'.encode(),
        "meta.xml": f'{decl}<office:document-meta xmlns:office="{office}"/>'.encode(),
        "Pictures/image1.png": _PNG,
        "META-INF/manifest.xml": manifest.encode(),
    }


def sign_odf(parts: dict[str, bytes], key, cert: x509.Certificate, *,
             chain: Sequence[bytes] = (), method: str = "rsa", digest: str = "sha256",
             signing_time: datetime | None = None,
             skip_parts: Iterable[str] = ()) -> dict[str, bytes]:
    """Return a copy of ``parts`` with one more LibreOffice-style document signature."""
    parts = dict(parts)
    signing_time = signing_time or datetime.now(UTC)
    name = "META-INF/documentsignatures.xml"
    existing = parts.get(name)
    n = 1 if existing is None else len(etree.fromstring(existing)) + 1
    sig_id, prop_id, sp_id = f"ID_sig{n}", f"ID_prop{n}", f"idSignedProperties_{n}"
    skip = set(skip_parts)
    refs = ""
    for part in parts:
        if part == name or part in skip:
            continue
        uri = urllib.parse.quote(part)
        if part.endswith(".xml"):
            refs += _reference(uri, digest, _digest(_c14n_doc(parts[part]), digest),
                               f'<Transform Algorithm="{C14N}"/>')
        else:
            refs += _reference(uri, digest, _digest(parts[part], digest))
    date = signing_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
    prop_inner = f'<dc:date xmlns:dc="{DC}">{date}</dc:date>'
    prop = f'<SignatureProperty Id="{prop_id}" Target="#{sig_id}">{prop_inner}</SignatureProperty>'
    refs += _reference(f"#{prop_id}", digest, _digest(_c14n_standalone(
        f'<SignatureProperty xmlns="{DS}" Id="{prop_id}" Target="#{sig_id}">{prop_inner}'
        "</SignatureProperty>"), digest))
    embedded, standalone = _xades(sp_id, cert, signing_time, digest, sig_id)
    refs += _reference(f"#{sp_id}", digest, _digest(_c14n_standalone(standalone), digest),
                       type_="http://uri.etsi.org/01903#SignedProperties")
    signed_info, value = _signed_info_and_value(refs, key, method, digest)
    sig = (f'<Signature xmlns="{DS}" Id="{sig_id}">{signed_info}'
           f"<SignatureValue>{value}</SignatureValue>{_key_info(cert, list(chain))}"
           f"<Object><SignatureProperties>{prop}</SignatureProperties></Object>"
           f"<Object>{embedded}</Object></Signature>")
    if existing is None:
        doc = (f'<?xml version="1.0" encoding="UTF-8"?><document-signatures '
               f'xmlns="{ODF_DSIG_NS}">{sig}</document-signatures>')
        parts[name] = doc.encode()
    else:
        end = b"</document-signatures>"
        parts[name] = existing.replace(end, sig.encode() + end)
    return parts


__all__ = ["make_ooxml", "make_odt", "sign_ooxml", "sign_odf", "zip_package", "unzip_package",
           "content_type_of", "add_content_type"]
