"""The document security store (``/DSS``, ISO 32000-2 12.8.4.3, ETSI EN 319 142-1 5.4): the
certificates, CRLs and OCSP responses a PDF carries for long-term validation, with the
revision that introduced each (a document timestamp protects only what came before it).

Both the store's top-level arrays and its per-signature ``/VRI`` entries are read. An entry
that cannot be read is not used and is named in ``problems`` (the inspector turns that into a
finding): it is never dropped silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509

from gateway.inspect.pdf.signer import RevInfo, short

log = logging.getLogger(__name__)

MAX_ITEMS = 2_000
"""Entries read from one store (certificates, CRLs and responses together)."""


@dataclass(frozen=True)
class DssItem:
    der: bytes
    revision: int | None
    """The revision that introduced the stream (``None``: not an indirect object)."""


@dataclass
class Dss:
    present: bool = False
    certs: list[DssItem] = field(default_factory=list)
    crls: list[DssItem] = field(default_factory=list)
    ocsps: list[DssItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    last_revision: int = 0

    def revinfo(self) -> RevInfo:
        return RevInfo([i.der for i in self.crls], [i.der for i in self.ocsps])

    def cert_objects(self) -> list[asn1_x509.Certificate]:
        out = []
        for item in self.certs:
            try:
                out.append(asn1_x509.Certificate.load(item.der))
            except ValueError as exc:  # checked at read time; kept defensive
                self.problems.append(f"certificate: {short(exc)}")
        return out


_KEYS = (("/Certs", "/Cert", "certs", asn1_x509.Certificate),
         ("/CRLs", "/CRL", "crls", asn1_crl.CertificateList),
         ("/OCSPs", "/OCSP", "ocsps", asn1_ocsp.OCSPResponse))


def read_dss(reader: Any) -> Dss:
    """The store of ``reader``'s current revision (empty when there is none)."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.misc import PdfError

    out = Dss(last_revision=max(reader.xrefs.total_revisions - 1, 0))
    try:
        raw = reader.root.get("/DSS")
        if raw is None:
            return out
        dss = raw.get_object()
        if not isinstance(dss, generic.DictionaryObject):
            out.problems.append(f"/DSS is a {type(dss).__name__}, not a dictionary")
            return out
        out.present = True
        containers = [dss]
        vri = dss.get("/VRI")
        if vri is not None:
            vri = vri.get_object()
            if isinstance(vri, generic.DictionaryObject):
                containers.extend(v.get_object() for v in list(vri.values())[:MAX_ITEMS])
            # (an unreadable /VRI entry raises here and is named below)
            else:
                out.problems.append("/VRI is not a dictionary")
    except (KeyError, TypeError, ValueError, AttributeError, PdfError) as exc:
        out.problems.append(f"/DSS: {type(exc).__name__}: {short(exc)}")
        return out
    seen: set[bytes] = set()
    count = 0
    for container in containers:
        if not isinstance(container, generic.DictionaryObject):
            out.problems.append("a /VRI entry is not a dictionary")
            continue
        for top, vri_key, attr, spec in _KEYS:
            key = top if container is containers[0] else vri_key
            try:
                entries = container.get(key)
                entries = entries.get_object() if entries is not None else None
            except (KeyError, TypeError, ValueError, AttributeError, PdfError) as exc:
                out.problems.append(f"{key}: {type(exc).__name__}: {short(exc)}")
                continue
            if entries is None:
                continue
            if not isinstance(entries, generic.ArrayObject):
                out.problems.append(f"{key} is not an array")
                continue
            for ref in entries:
                count += 1
                if count > MAX_ITEMS:
                    out.problems.append(f"more than {MAX_ITEMS} entries (rest not read)")
                    return out
                item = _item(reader, ref, spec, key, out.problems)
                if item is not None and item.der not in seen:
                    seen.add(item.der)
                    getattr(out, attr).append(item)
    return out


def _item(reader: Any, ref: Any, spec: Any, key: str, problems: list[str]) -> DssItem | None:
    from pyhanko.pdf_utils import generic

    revision: int | None = None
    try:
        if isinstance(ref, generic.IndirectObject):
            revision = reader.xrefs.get_introducing_revision(
                generic.Reference(ref.idnum, ref.generation))
        stream = ref.get_object()
        der = stream.data
        spec.load(der).native  # noqa: B018 - parse fully now: an unreadable entry is named
    except Exception as exc:  # noqa: BLE001 - any decoding error: the entry is not used, and said
        problems.append(f"{key} entry: {type(exc).__name__}: {short(exc)}")
        log.info("DSS %s entry unreadable: %r", key, exc)
        return None
    return DssItem(bytes(der), revision)


def revinfo_for(cert: asn1_x509.Certificate, dss: Dss,
                pool: list[asn1_x509.Certificate]) -> DssItem | None:
    """A DSS CRL issued by ``cert``'s issuer, or an OCSP response about ``cert`` whose
    responder certificate is at hand (in the response or ``pool``) and either carries
    id-pkix-ocsp-nocheck or has revocation data of its own in the DSS."""
    issuer = cert.issuer
    serial = cert.serial_number
    for item in dss.crls:
        crl = asn1_crl.CertificateList.load(item.der)
        if crl.issuer == issuer:
            return item
    for item in dss.ocsps:
        basic = asn1_ocsp.OCSPResponse.load(item.der).basic_ocsp_response
        if basic is None:
            continue
        about = any(single["cert_id"]["serial_number"].native == serial
                    for single in basic["tbs_response_data"]["responses"])
        if about and _responder_ok(basic, cert, dss, pool):
            return item
    return None


def _responder_ok(basic: Any, cert: asn1_x509.Certificate, dss: Dss,
                  pool: list[asn1_x509.Certificate]) -> bool:
    rid = basic["tbs_response_data"]["responder_id"]
    candidates = list(basic["certs"] or []) + pool
    for c in candidates:
        if rid.name == "by_key":
            match = c.public_key.sha1 == rid.chosen.native
        else:
            match = c.subject == rid.chosen
        if not match:
            continue
        if c.subject == cert.issuer or c.ocsp_no_check_value is not None:
            return True  # the CA itself, or a responder exempt from revocation checking
        return any(asn1_crl.CertificateList.load(i.der).issuer == c.issuer for i in dss.crls)
    return False


def chain_covered(leaf: asn1_x509.Certificate, pool: list[asn1_x509.Certificate], dss: Dss,
                  anchors: set[str]) -> tuple[bool, int, str | None]:
    """Whether the document holds the validation data of ``leaf``'s chain: every certificate
    up to a self-issued root or a configured anchor (``anchors``: ``Name.hashable`` of their
    subjects) present in ``pool``, and revocation data in the DSS for every one but the root.
    Returns (covered, the newest revision among the DSS entries used, what is missing)."""
    newest = 0
    cert = leaf
    for _ in range(10):
        if cert.self_issued:
            return True, newest, None
        item = revinfo_for(cert, dss, pool)
        if item is None:
            return False, newest, "revocation data for " + cert.subject.human_friendly
        newest = max(newest, dss.last_revision if item.revision is None else item.revision)
        issuer = next((c for c in pool if c.subject == cert.issuer and c.dump() != cert.dump()),
                      None)
        if issuer is None:
            if cert.issuer.hashable in anchors:
                return True, newest, None
            return False, newest, "certificate of " + cert.issuer.human_friendly
        cert = issuer
    return False, newest, "certificate chain too long"
