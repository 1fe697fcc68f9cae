"""Algorithm identifiers of XML-DSig (RFC 3275, RFC 6931) and what they map to.

Unknown identifiers are never skipped: a reference or signature that uses one cannot be
verified and says so.
"""

from __future__ import annotations

from dataclasses import dataclass

DS = "http://www.w3.org/2000/09/xmldsig#"
DSIG11 = "http://www.w3.org/2009/xmldsig11#"
DSIG_MORE_2001 = "http://www.w3.org/2001/04/xmldsig-more#"
DSIG_MORE_2007 = "http://www.w3.org/2007/05/xmldsig-more#"
XMLENC = "http://www.w3.org/2001/04/xmlenc#"
XADES_NAMESPACES = (
    "http://uri.etsi.org/01903/v1.3.2#",
    "http://uri.etsi.org/01903/v1.4.1#",
    "http://uri.etsi.org/01903/v1.2.2#",
    "http://uri.etsi.org/01903/v1.1.1#",
)
XADES_SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
OBJECT_TYPE = DS + "Object"
MANIFEST_TYPE = DS + "Manifest"

ENVELOPED = DS + "enveloped-signature"
RELATIONSHIP_TRANSFORM = "http://schemas.openxmlformats.org/package/2006/RelationshipTransform"
OPC_RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
OPC_DSIG_NS = "http://schemas.openxmlformats.org/package/2006/digital-signature"


@dataclass(frozen=True)
class C14nMethod:
    exclusive: bool
    with_comments: bool
    version: str
    """``1.0`` or ``1.1`` (exclusive is always 1.0)."""


C14N = {
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315": C14nMethod(False, False, "1.0"),
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments": C14nMethod(False, True, "1.0"),
    "http://www.w3.org/2001/10/xml-exc-c14n#": C14nMethod(True, False, "1.0"),
    "http://www.w3.org/2001/10/xml-exc-c14n#WithComments": C14nMethod(True, True, "1.0"),
    "http://www.w3.org/2006/12/xml-c14n11": C14nMethod(False, False, "1.1"),
    "http://www.w3.org/2006/12/xml-c14n11#WithComments": C14nMethod(False, True, "1.1"),
}

DIGESTS = {
    DS + "sha1": "sha1",
    DSIG_MORE_2001 + "sha224": "sha224",
    XMLENC + "sha256": "sha256",
    DSIG_MORE_2001 + "sha384": "sha384",
    XMLENC + "sha384": "sha384",
    XMLENC + "sha512": "sha512",
    DSIG_MORE_2007 + "sha3-224": "sha3_224",
    DSIG_MORE_2007 + "sha3-256": "sha3_256",
    DSIG_MORE_2007 + "sha3-384": "sha3_384",
    DSIG_MORE_2007 + "sha3-512": "sha3_512",
}
"""Digest URIs → :mod:`hashlib` names. MD5 is deliberately absent (refused). Which of them
a signature may use is the ``[algorithms]`` rules' call (:mod:`gateway.inspect.algorithms`)."""


@dataclass(frozen=True)
class SigMethod:
    family: str
    """``rsa`` (PKCS#1 v1.5), ``rsa-pss``, ``ecdsa``."""
    digest: str | None
    """hashlib name; ``None`` for rsa-pss with explicit parameters."""


SIGNATURE_METHODS = {
    DS + "rsa-sha1": SigMethod("rsa", "sha1"),
    DSIG_MORE_2001 + "rsa-sha224": SigMethod("rsa", "sha224"),
    DSIG_MORE_2001 + "rsa-sha256": SigMethod("rsa", "sha256"),
    DSIG_MORE_2001 + "rsa-sha384": SigMethod("rsa", "sha384"),
    DSIG_MORE_2001 + "rsa-sha512": SigMethod("rsa", "sha512"),
    DSIG_MORE_2007 + "sha1-rsa-MGF1": SigMethod("rsa-pss", "sha1"),
    DSIG_MORE_2007 + "sha224-rsa-MGF1": SigMethod("rsa-pss", "sha224"),
    DSIG_MORE_2007 + "sha256-rsa-MGF1": SigMethod("rsa-pss", "sha256"),
    DSIG_MORE_2007 + "sha384-rsa-MGF1": SigMethod("rsa-pss", "sha384"),
    DSIG_MORE_2007 + "sha512-rsa-MGF1": SigMethod("rsa-pss", "sha512"),
    DSIG_MORE_2007 + "sha3-256-rsa-MGF1": SigMethod("rsa-pss", "sha3_256"),
    DSIG_MORE_2007 + "sha3-384-rsa-MGF1": SigMethod("rsa-pss", "sha3_384"),
    DSIG_MORE_2007 + "sha3-512-rsa-MGF1": SigMethod("rsa-pss", "sha3_512"),
    DSIG_MORE_2007 + "rsa-pss": SigMethod("rsa-pss", None),
    DSIG_MORE_2001 + "ecdsa-sha1": SigMethod("ecdsa", "sha1"),
    DSIG_MORE_2001 + "ecdsa-sha224": SigMethod("ecdsa", "sha224"),
    DSIG_MORE_2001 + "ecdsa-sha256": SigMethod("ecdsa", "sha256"),
    DSIG_MORE_2001 + "ecdsa-sha384": SigMethod("ecdsa", "sha384"),
    DSIG_MORE_2001 + "ecdsa-sha512": SigMethod("ecdsa", "sha512"),
}

DIGEST_SIZES = {"sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64,
                "sha3_224": 28, "sha3_256": 32, "sha3_384": 48, "sha3_512": 64}
