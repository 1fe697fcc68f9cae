"""Certificate path validation and revocation against configured trust anchors.

Built on pyhanko-certvalidator. The anchors come only from configured directories (the
operating system's TLS store is never consulted). Validation runs in two passes at the
time ``at``:

1. **trust**: build and validate a path to an anchor (signatures, validity of every
   certificate at ``at``, basic constraints and path length, name constraints, algorithm
   policy), without revocation; then the leaf's key usage for the requested use;
2. **revocation** (only for a trusted path): the same path again with revocation data
   required for the leaf (and for intermediate CAs unless configured otherwise), from the
   CRLs/OCSP responses passed in (embedded in the signature) plus the CRL cache directory.

Revocation data issued after ``at`` is accepted (``at`` is usually the signing time and
the CRL is fetched later); a revocation dated before ``at`` makes the certificate
``revoked``; one dated at or after ``at`` leaves it ``good`` with an info finding. Data
whose validity window (nextUpdate) ended before ``at`` is stale: ``unknown``.

A clean result (trusted, not revoked, no finding) is kept in a bounded cache and served
again for the same certificates, anchors, revocation data and time step, inside the
result's validity window (:mod:`gateway.trust.cache`); anything else is validated afresh.

The engine reads its directories once, at construction, and does no network I/O unless it
was built with ``allow_fetch=True`` (then it may download a missing CRL from a
certificate's distribution point, with a timeout).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    DisallowedAlgorithmError,
    ExpiredError,
    InsufficientRevinfoError,
    InvalidCertificateError,
    NotYetValidError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
    ValidationError,
)
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    DisallowWeakAlgorithmsPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.validate import async_validate_path

from gateway.model.catalog import make_finding
from gateway.model.chain import ChainResult
from gateway.model.findings import Finding, Severity
from gateway.model.names import readable_name, readable_subject
from gateway.model.report import Revocation, Trust
from gateway.trust import fetch as fetchmod
from gateway.trust.cache import ChainCache, Window, is_clean, revocation_window
from gateway.trust.store import (
    CertFile,
    CrlFile,
    parse_cert,
    parse_crls,
    read_cert_dirs,
    read_crl_dirs,
    utc,
)

log = logging.getLogger(__name__)

USAGES = ("signing", "timestamping", "any")
DEFAULT_WEAK_HASHES = ("md2", "md5", "sha1")
_REASON_MAX = 300


def _run(coro: Any) -> Any:
    """Run a coroutine to completion, also when called from inside an event loop.

    Each thread keeps one event loop (made again after a fork): ``asyncio.run`` would build
    a loop and its default executor's thread for every call and join that thread at the
    end, a few milliseconds per chain validation."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        loop = getattr(_LOOPS, "loop", None)
        if loop is None or loop.is_closed() or getattr(_LOOPS, "pid", None) != os.getpid():
            loop = _LOOPS.loop = asyncio.new_event_loop()
            _LOOPS.pid = os.getpid()
        return loop.run_until_complete(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


_LOOPS = threading.local()


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= _REASON_MAX else text[: _REASON_MAX - 1] + "…"


def _iso(value: datetime | None) -> str:
    return utc(value).isoformat() if value else "?"


def _asn1_subject(cert: asn1_x509.Certificate) -> str:
    return readable_subject(cert) or "?"


class TrustEngine:
    """Validates signer certificates; see the module docstring for the rules applied."""

    def __init__(
        self,
        anchors: Sequence[CertFile],
        intermediates: Sequence[CertFile] = (),
        crls: Sequence[CrlFile] = (),
        *,
        allow_fetch: bool = False,
        fetch_timeout: float = 10.0,
        revocation_unknown: Severity = Severity.WARNING,
        check_intermediates: bool = True,
        weak_hashes: Iterable[str] = DEFAULT_WEAK_HASHES,
        problems: Sequence[str] = (),
        sources: dict[str, tuple[Path, ...]] | None = None,
        cache: ChainCache | None = None,
    ) -> None:
        self.anchors: tuple[CertFile, ...] = tuple(anchors)
        self.intermediates: tuple[CertFile, ...] = tuple(intermediates)
        self.crls: tuple[CrlFile, ...] = tuple(crls)
        self.allow_fetch = allow_fetch
        self.fetch_timeout = fetch_timeout
        self.revocation_unknown = revocation_unknown
        self.check_intermediates = check_intermediates
        self.weak_hashes = frozenset(h.lower() for h in weak_hashes)
        self.problems: tuple[str, ...] = tuple(problems)
        """Files or directories that could not be read at construction."""
        self.sources = sources or {}
        self._anchor_asn1 = [asn1_x509.Certificate.load(a.der) for a in self.anchors]
        self._inter_asn1 = [asn1_x509.Certificate.load(c.der) for c in self.intermediates]
        self._cached_crls: list[_CrlPair] = [
            (asn1_crl.CertificateList.load(c.der), c.crl) for c in self.crls]
        self._fetched: dict[str, bytes] = {}
        self._fetch_lock = threading.Lock()
        self.cache = cache if cache is not None else ChainCache()
        """Clean results served again (see :mod:`gateway.trust.cache`); never used when
        fetching is allowed (what a fetch brings is not in the key)."""
        self.cache_id = self._cache_id()

    # -- public -----------------------------------------------------------------------------

    def validate_chain(
        self,
        leaf: bytes,
        intermediates: Sequence[bytes] = (),
        at: datetime | None = None,
        *,
        crls: Sequence[bytes] = (),
        ocsps: Sequence[bytes] = (),
        usage: str = "signing",
    ) -> ChainResult:
        """Trust and revocation of ``leaf`` (DER) at ``at`` (aware; naive means UTC).

        ``intermediates``, ``crls`` and ``ocsps`` are DER bytes taken from the signature.
        Never raises for bad input: unreadable data gives findings.
        """
        if usage not in USAGES:
            raise ValueError(f"usage must be one of {USAGES}, got {usage!r}")
        if at is None:
            raise ValueError("validate_chain needs the validation time 'at'")
        at = utc(at)
        if not self.cache.enabled or self.allow_fetch:
            return self._validate_chain(leaf, intermediates, at, crls, ocsps, usage)[0]
        raw = [_der_of(x) for x in intermediates]
        rev = ([_der_of(x) for x in crls], [_der_of(x) for x in ocsps])
        key = self.cache.key(self.cache_id + self._policy_id(), usage, _der_of(leaf), raw,
                             *rev, at)
        hit = self.cache.get(key, at)
        if hit is not None:
            return hit
        result, path = self._validate_chain(leaf, intermediates, at, crls, ocsps, usage)
        if path is not None and is_clean(result):
            self.cache.put(key, result, self._window(path, raw, *rev))
        return result

    def _validate_chain(self, leaf: bytes, intermediates: Sequence[bytes], at: datetime,
                        crls: Sequence[bytes], ocsps: Sequence[bytes], usage: str
                        ) -> tuple[ChainResult, ValidationPath | None]:
        """:meth:`validate_chain` without the cache: the result and the path it found."""
        try:
            leaf_file = parse_cert(leaf)
        except ValueError as exc:
            return ChainResult(Trust.UNTRUSTED, Revocation.UNKNOWN, "?",
                               (make_finding("CERT_UNREADABLE", reason=_short(exc)),)), None
        signer = leaf_file.subject
        if not self.anchors:
            return ChainResult(Trust.UNKNOWN, Revocation.UNKNOWN, signer,
                               (make_finding("TRUST_NO_ANCHORS", signer=signer),)), None

        extra: list[asn1_x509.Certificate] = []
        unreadable: list[str] = []
        for i, der in enumerate(intermediates):
            try:
                extra.append(asn1_x509.Certificate.load(parse_cert(der).der))
            except (ValueError, TypeError) as exc:
                unreadable.append(f"certificate {i + 1}: {_short(exc)}")
        leaf_asn1 = asn1_x509.Certificate.load(leaf_file.der)

        # Pass 1: trust.
        trust_findings: list[Finding] = []
        path: ValidationPath | None = None
        try:
            path = self._build_path(leaf_asn1, extra, at)
        except Exception as exc:  # noqa: BLE001 - every failure is a trust finding naming it
            trust_findings.append(self._trust_failure(exc, leaf_file, at))
        if path is not None:
            trust_findings.extend(self._anchor_validity(path, at))
            trust_findings.extend(self._usage(leaf_file, usage, signer))
        subjects = self._subjects(path)
        if trust_findings:
            trust_findings.extend(
                make_finding("CERT_UNREADABLE", reason=u) for u in unreadable
            )
            return ChainResult(Trust.UNTRUSTED, Revocation.UNKNOWN, signer,
                               tuple(trust_findings), subjects), None

        # Pass 2: revocation.
        assert path is not None
        revocation, rev_findings = self._revocation(path, at, list(crls), list(ocsps))
        return (ChainResult(Trust.TRUSTED, revocation, signer, tuple(rev_findings), subjects),
                path)

    # -- cache ------------------------------------------------------------------------------

    def _cache_id(self) -> bytes:
        """A digest of the engine's data a validation depends on: anchors, configured
        intermediates and cached CRLs (read once, at construction)."""
        h = hashlib.sha256()
        for label, ders in ((b"anchors", [a.der for a in self.anchors]),
                            (b"inters", [c.der for c in self.intermediates]),
                            (b"crls", [c.der for c in self.crls])):
            h.update(label + len(ders).to_bytes(4, "big"))
            for der in sorted(ders):
                h.update(len(der).to_bytes(8, "big") + der)
        return h.digest()

    def _policy_id(self) -> bytes:
        """The engine's policy settings, read at each validation."""
        return repr((self.check_intermediates, sorted(self.weak_hashes),
                     str(self.revocation_unknown))).encode()

    def _window(self, path: ValidationPath, given: Sequence[bytes], crls: Sequence[bytes],
                ocsps: Sequence[bytes]) -> Window | None:
        """Where the clean result for ``path`` holds (see :func:`revocation_window`)."""
        try:
            path_certs = [x509.load_der_x509_certificate(c.dump()) for c in _path_certs(path)]
            given_certs = [x509.load_der_x509_certificate(d) for d in given]
        except ValueError:  # a certificate the validation used cannot be read: not cached
            return None
        all_crls = [c for _, c in self._cached_crls] + [c for _, c in _crl_pairs(crls)]
        return revocation_window(path_certs, given_certs, all_crls, ocsps)

    def validation_context(
        self,
        at: datetime,
        *,
        extra_certs: Iterable[bytes | asn1_x509.Certificate] = (),
        crls: Iterable[bytes | asn1_crl.CertificateList] = (),
        ocsps: Iterable[bytes] = (),
        strict_revocation: bool = False,
    ) -> ValidationContext:
        """A pyhanko ``ValidationContext`` with the same anchors, intermediates, CRL cache
        and algorithm policy, for pyHanko's own validators (PDF signatures, timestamps).

        Offline (``allow_fetching=False``) and point-in-time at ``at``. With
        ``strict_revocation=False`` (default) revocation data is checked when present
        (soft): use :meth:`validate_chain` on the signer certificate for the trust and
        revocation verdicts the report needs. With ``True`` missing data fails validation.
        """
        others = list(self._inter_asn1)
        for c in extra_certs:
            if isinstance(c, (bytes, bytearray)):
                try:
                    c = asn1_x509.Certificate.load(parse_cert(bytes(c)).der)
                except (ValueError, TypeError) as exc:  # it cannot help a path either: said
                    log.info("certificate beside a signature ignored: unreadable: %s: %s",
                             type(exc).__name__, _short(exc))
                    continue
            others.append(c)
        rule = (RevocationCheckingRule.CRL_OR_OCSP_REQUIRED if strict_revocation
                else RevocationCheckingRule.CHECK_IF_DECLARED_SOFT)
        return ValidationContext(
            trust_roots=list(self._anchor_asn1),
            other_certs=others,
            moment=utc(at),
            allow_fetching=False,
            crls=[a for a, _ in self._cached_crls]
            + _loadable_any(crls, asn1_crl.CertificateList),
            ocsps=_loadable_any(ocsps, asn1_ocsp.OCSPResponse),
            revinfo_policy=CertRevTrustPolicy(RevocationCheckingPolicy(rule, rule),
                                              retroactive_revinfo=True),
            algorithm_usage_policy=self._algorithms(),
        )

    def anchor_for(self, fingerprint: str) -> CertFile | None:
        for a in self.anchors:
            if a.sha256 == fingerprint:
                return a
        return None

    # -- pass 1 -----------------------------------------------------------------------------

    def _algorithms(self) -> DisallowWeakAlgorithmsPolicy:
        return DisallowWeakAlgorithmsPolicy(weak_hash_algos=self.weak_hashes)

    def _context(self, at: datetime, extra: list[asn1_x509.Certificate], *,
                 revocation: RevocationCheckingPolicy, crls: Sequence[bytes] = (),
                 ocsps: Sequence[bytes] = ()) -> ValidationContext:
        return ValidationContext(
            trust_roots=list(self._anchor_asn1),
            other_certs=list(self._inter_asn1) + extra,
            moment=at,
            allow_fetching=False,
            crls=list(crls),
            ocsps=list(ocsps),
            revinfo_policy=CertRevTrustPolicy(revocation, retroactive_revinfo=True),
            algorithm_usage_policy=self._algorithms(),
        )

    def _build_path(self, leaf: asn1_x509.Certificate, extra: list[asn1_x509.Certificate],
                    at: datetime) -> ValidationPath:
        no_check = RevocationCheckingPolicy(RevocationCheckingRule.NO_CHECK,
                                            RevocationCheckingRule.NO_CHECK)
        ctx = self._context(at, extra, revocation=no_check)
        validator = CertificateValidator(leaf, extra, validation_context=ctx)
        return _run(validator.async_validate_path())

    def _trust_failure(self, exc: Exception, leaf: CertFile, at: datetime) -> Finding:
        signer = leaf.subject
        if isinstance(exc, (ExpiredError, NotYetValidError)):
            cert = self._out_of_validity(exc.original_path, at) or leaf.cert
            return self._validity_finding(cert, at)
        if isinstance(exc, DisallowedAlgorithmError):
            return make_finding("CERT_WEAK_ALGORITHM", signer=signer, reason=_short(exc))
        if isinstance(exc, PathBuildingError):
            return make_finding("TRUST_UNTRUSTED_ROOT", signer=signer,
                                reason=f"issuer {leaf.issuer} not found or not trusted")
        if isinstance(exc, InvalidCertificateError) and leaf.self_issued:
            return make_finding("TRUST_UNTRUSTED_ROOT", signer=signer,
                                reason="self-signed certificate that is not a trust anchor")
        if isinstance(exc, (PathValidationError, ValidationError)):
            # A leaf that is itself out of its validity window is the clearest reason.
            if not (leaf.not_before <= at <= leaf.not_after):
                return self._validity_finding(leaf.cert, at)
            return make_finding("TRUST_PATH_INVALID", signer=signer, reason=_short(exc))
        log.warning("chain validation failed unexpectedly for %s", signer, exc_info=exc)
        return make_finding("TRUST_PATH_INVALID", signer=signer,
                            reason=f"{type(exc).__name__}: {_short(exc)}")

    @staticmethod
    def _out_of_validity(path: ValidationPath | None, at: datetime) -> x509.Certificate | None:
        if path is None:
            return None
        for c in _path_certs(path):
            cert = x509.load_der_x509_certificate(c.dump())
            if not (cert.not_valid_before_utc <= at <= cert.not_valid_after_utc):
                return cert
        return None

    @staticmethod
    def _validity_finding(cert: x509.Certificate, at: datetime) -> Finding:
        subject = readable_name(cert.subject)
        if at > cert.not_valid_after_utc:
            return make_finding("CERT_EXPIRED", subject=subject,
                                not_after=_iso(cert.not_valid_after_utc), at=_iso(at))
        return make_finding("CERT_NOT_YET_VALID", subject=subject,
                            not_before=_iso(cert.not_valid_before_utc), at=_iso(at))

    def _anchor_validity(self, path: ValidationPath, at: datetime) -> list[Finding]:
        anchor = path.trust_anchor
        cert_obj = getattr(anchor, "certificate", None)
        if cert_obj is None:
            return []
        cert = x509.load_der_x509_certificate(cert_obj.dump())
        if cert.not_valid_before_utc <= at <= cert.not_valid_after_utc:
            return []
        return [self._validity_finding(cert, at)]

    @staticmethod
    def _usage(leaf: CertFile, usage: str, signer: str) -> list[Finding]:
        if usage == "any":
            return []
        if usage == "signing":
            try:
                ku = leaf.cert.extensions.get_extension_for_class(x509.KeyUsage).value
            except x509.ExtensionNotFound:
                return []  # RFC 5280: no key usage extension means no restriction
            if ku.digital_signature or ku.content_commitment:
                return []
            names = [n for n in ("digital_signature", "content_commitment", "key_encipherment",
                                 "data_encipherment", "key_agreement", "key_cert_sign",
                                 "crl_sign") if getattr(ku, n)]
            shown = ", ".join(n.replace("content_commitment", "non_repudiation")
                              for n in names) or "none"
            return [make_finding("CERT_KEY_USAGE", signer=signer,
                                 usage="document signing", key_usage=shown)]
        # timestamping: the extended key usage must name id-kp-timeStamping
        try:
            eku = leaf.cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            ok = x509.oid.ExtendedKeyUsageOID.TIME_STAMPING in eku
            shown = ", ".join(o.dotted_string for o in eku)
        except x509.ExtensionNotFound:
            ok, shown = False, "no extended key usage"
        if ok:
            return []
        return [make_finding("CERT_KEY_USAGE", signer=signer, usage="time-stamping",
                             key_usage=shown)]

    @staticmethod
    def _subjects(path: ValidationPath | None) -> tuple[str, ...]:
        if path is None:
            return ()
        certs = list(_path_certs(path))
        out = [_asn1_subject(c) for c in reversed(certs)]
        anchor_cert = getattr(path.trust_anchor, "certificate", None)
        if anchor_cert is not None and (not certs or anchor_cert.dump() != certs[0].dump()):
            out.append(_asn1_subject(anchor_cert))
        return tuple(out)

    # -- pass 2 -----------------------------------------------------------------------------

    def _revocation(self, path: ValidationPath, at: datetime, crls: Sequence[Any],
                    ocsps: Sequence[Any]) -> tuple[Revocation, list[Finding]]:
        inter_rule = (RevocationCheckingRule.CRL_OR_OCSP_REQUIRED if self.check_intermediates
                      else RevocationCheckingRule.NO_CHECK)
        policy = RevocationCheckingPolicy(RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
                                          inter_rule)
        extra = _crl_pairs(_loadable(crls, asn1_crl.CertificateList))
        pairs = self._cached_crls + extra
        if self.allow_fetch:
            pairs += _crl_pairs(self._fetch_missing(path, pairs))
        leaf = path.leaf
        leaf_subject = _asn1_subject(leaf) if isinstance(leaf, asn1_x509.Certificate) else "?"
        try:
            ctx = self._context(at, [], revocation=policy, crls=[a for a, _ in pairs],
                                ocsps=_loadable(ocsps, asn1_ocsp.OCSPResponse))
            _run(async_validate_path(ctx, path))
        except RevokedError as exc:
            subject = leaf_subject if exc.is_ee_cert else self._revoked_subject(
                path, exc.revocation_dt, pairs) or "an issuing CA"
            reason = getattr(exc.reason, "human_friendly", None) or "unspecified"
            return Revocation.REVOKED, [make_finding(
                "REVOCATION_REVOKED", subject=subject, revoked_at=_iso(exc.revocation_dt),
                reason=reason, at=_iso(at))]
        except InsufficientRevinfoError as exc:
            unverified: list[str] = []
            if exc.is_ee_cert:
                later = _ocsp_revoked_later(path, at, ocsps, unverified)
                if later is not None:  # pyhanko reads "revoked after at" as "not good"
                    return Revocation.GOOD, [later]
            subject = leaf_subject if exc.is_ee_cert else (
                self._without_crl(path, pairs) or "an issuing CA of " + leaf_subject)
            reason = "; ".join([_short(exc), *unverified])
            return Revocation.UNKNOWN, [self._unknown(subject, reason)]
        except Exception as exc:  # noqa: BLE001 - said as revocation unknown, with the reason
            log.info("revocation check failed for %s: %s: %s", leaf_subject,
                     type(exc).__name__, exc)
            return Revocation.UNKNOWN, [self._unknown(leaf_subject, _short(exc))]
        return Revocation.GOOD, self._revoked_later(path, at, pairs)

    @staticmethod
    def _without_crl(path: ValidationPath, pairs: list[_CrlPair]) -> str | None:
        """The first CA certificate (below the anchor) whose issuer has no CRL in hand."""
        issuers = {c.issuer.public_bytes() for _, c in pairs}
        certs = [x509.load_der_x509_certificate(c.dump()) for c in _path_certs(path)]
        for cert in reversed(certs[1:-1] if len(certs) > 2 else certs[1:1]):
            if cert.issuer.public_bytes() not in issuers:
                return readable_name(cert.subject)
        return None

    def _unknown(self, subject: str, reason: str) -> Finding:
        f = make_finding("REVOCATION_UNKNOWN", subject=subject, reason=reason)
        return dataclasses.replace(f, severity=self.revocation_unknown)

    @staticmethod
    def _crl_entries(path: ValidationPath, pairs: list[_CrlPair]
                     ) -> Iterator[tuple[x509.Certificate, datetime]]:
        """(cert, revocation date) for path certificates listed on a CRL whose signature
        verifies with the certificate issuer's key."""
        certs = [x509.load_der_x509_certificate(c.dump()) for c in _path_certs(path)]
        by_subject = {c.subject.public_bytes(): c for c in certs}
        anchor = getattr(path.trust_anchor, "certificate", None)
        if anchor is not None:
            a = x509.load_der_x509_certificate(anchor.dump())
            by_subject.setdefault(a.subject.public_bytes(), a)
        for _, crl in pairs:
            issuer = by_subject.get(crl.issuer.public_bytes())
            if issuer is None:
                continue
            hits = []
            for cert in certs:
                if cert.issuer == crl.issuer:
                    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                    if entry is not None:
                        hits.append((cert, entry.revocation_date_utc))
            if not hits:
                continue
            try:  # only now: most CRLs list none of the path's certificates
                if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                    continue
            except (TypeError, ValueError, UnsupportedAlgorithm) as exc:  # unverifiable: not used
                log.info("CRL of %s not used: its signature cannot be verified: %s: %s",
                         readable_name(crl.issuer), type(exc).__name__, _short(exc))
                continue
            yield from hits

    def _revoked_subject(self, path: ValidationPath, when: datetime,
                         pairs: list[_CrlPair]) -> str | None:
        for cert, date in self._crl_entries(path, pairs):
            if abs(date - utc(when)) < timedelta(seconds=1):
                return readable_name(cert.subject)
        return None

    def _revoked_later(self, path: ValidationPath, at: datetime,
                       pairs: list[_CrlPair]) -> list[Finding]:
        out = []
        for cert, date in self._crl_entries(path, pairs):
            if date >= at:
                out.append(make_finding("REVOCATION_AFTER_SIGNING",
                                        subject=readable_name(cert.subject),
                                        revoked_at=_iso(date), at=_iso(at)))
        return out

    def _fetch_missing(self, path: ValidationPath, pairs: list[_CrlPair]) -> list[bytes]:
        """Download CRLs for path certificates that have none in hand (allow_fetch only)."""
        have = {c.issuer.public_bytes() for _, c in pairs}
        out: list[bytes] = []
        for c in _path_certs(path):
            cert = x509.load_der_x509_certificate(c.dump())
            if cert.issuer.public_bytes() in have:
                continue
            for url in fetchmod.distribution_points(cert):
                with self._fetch_lock:
                    data = self._fetched.get(url)
                if data is None:
                    try:
                        data = fetchmod.fetch(url, self.fetch_timeout).data
                        data = parse_crls(data)[0].der
                    except (fetchmod.FetchError, ValueError, IndexError) as exc:
                        log.info("CRL fetch failed: %s: %s", type(exc).__name__, _short(exc))
                        continue
                    with self._fetch_lock:
                        self._fetched[url] = data
                out.append(data)
                break
        return out


def _ocsp_revoked_later(path: ValidationPath, at: datetime, ocsps: Sequence[Any],
                        unverified: list[str]) -> Finding | None:
    """An OCSP response, signed by the leaf's issuer (or by a responder it delegated to),
    saying the leaf was revoked at or after ``at`` and usable at ``at``: the signature was
    made while the certificate was valid. (pyhanko-certvalidator treats such a response as
    "not good" rather than as good-at-``at``.) Why a response saying so could not be
    verified is appended to ``unverified`` (and logged), so the revocation stays unknown with
    that reason, never in silence."""
    from cryptography.x509 import ocsp

    certs = [x509.load_der_x509_certificate(c.dump()) for c in _path_certs(path)]
    if len(certs) < 2:
        return None
    leaf, issuer = certs[-1], certs[-2]
    spki = issuer.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
    issuer_key_bits = asn1_keys.PublicKeyInfo.load(spki)["public_key"].contents[1:]
    for der in _loadable(ocsps, asn1_ocsp.OCSPResponse):
        try:
            resp = ocsp.load_der_ocsp_response(der)
            if resp.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
                continue
            single = next((r for r in resp.responses if r.serial_number == leaf.serial_number
                           and r.certificate_status is ocsp.OCSPCertStatus.REVOKED), None)
            if single is None or single.revocation_time_utc is None:
                continue
            if single.issuer_key_hash != hashlib.new(single.hash_algorithm.name,
                                                     issuer_key_bits).digest():
                continue
            if single.revocation_time_utc < at:
                continue
            if single.next_update_utc is not None and at > single.next_update_utc:
                continue
            by_issuer = (resp.responder_name == issuer.subject
                         if resp.responder_name is not None
                         else resp.responder_key_hash == hashlib.sha1(issuer_key_bits).digest())
            signer = issuer
            if not by_issuer:
                signer = next(c for c in resp.certificates if c.issuer == issuer.subject)
                eku = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
                if x509.oid.ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
                    continue
                _verify(issuer.public_key(), signer.signature, signer.tbs_certificate_bytes,
                        signer.signature_hash_algorithm)
            _verify(signer.public_key(), resp.signature, resp.tbs_response_bytes,
                    resp.signature_hash_algorithm)
        except Exception as exc:  # noqa: BLE001 - unverifiable: said, no later revocation claimed
            detail = _short(exc)
            why = "an OCSP response saying it was revoked could not be verified: " + (
                type(exc).__name__ if detail == type(exc).__name__
                else f"{type(exc).__name__}: {detail}")
            log.info("%s: %s", readable_name(leaf.subject), why)
            unverified.append(why)
            continue
        return make_finding("REVOCATION_AFTER_SIGNING", subject=readable_name(leaf.subject),
                            revoked_at=_iso(single.revocation_time_utc), at=_iso(at))
    return None


def _verify(key: Any, signature: bytes, data: bytes, hash_alg: Any) -> None:
    """Raise unless ``signature`` over ``data`` verifies (RSA PKCS#1 v1.5 or ECDSA)."""
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

    if isinstance(key, rsa.RSAPublicKey):
        key.verify(signature, data, padding.PKCS1v15(), hash_alg)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(signature, data, ec.ECDSA(hash_alg))
    else:
        raise ValueError("unsupported responder key")


_CrlPair = tuple[asn1_crl.CertificateList, x509.CertificateRevocationList]


def _crl_pairs(ders: Iterable[bytes]) -> list[_CrlPair]:
    """Each CRL parsed once for pyhanko (asn1crypto) and for our own lookups."""
    out = []
    for der in ders:
        try:
            out.append((asn1_crl.CertificateList.load(der), x509.load_der_x509_crl(der)))
        except (ValueError, TypeError) as exc:
            log.info("ignoring unreadable CRL: %s: %s", type(exc).__name__, _short(exc))
    return out


def _loadable(items: Iterable[bytes], spec: Any) -> list[bytes]:
    """The items that parse fully as ``spec`` (CRL or OCSP response); junk is dropped here so
    that one bad item does not discard the good ones."""
    out = []
    for item in items:
        try:
            der = item.dump() if hasattr(item, "dump") else bytes(item)
            spec.load(der, strict=True)
        except (ValueError, TypeError) as exc:
            log.info("ignoring unreadable revocation data: %s: %s", type(exc).__name__,
                     _short(exc))
            continue
        out.append(der)
    return out


def _loadable_any(items: Iterable[Any], spec: Any) -> list[Any]:
    """Like :func:`_loadable`, passing through already-parsed asn1crypto objects."""
    items = list(items)
    raw = [bytes(i) for i in items if isinstance(i, (bytes, bytearray))]
    return [i for i in items if not isinstance(i, (bytes, bytearray))] + _loadable(raw, spec)


def _der_of(item: Any) -> bytes:
    """DER bytes of a certificate or revocation item given as bytes or asn1crypto object."""
    return bytes(item.dump()) if hasattr(item, "dump") else bytes(item)


def _path_certs(path: ValidationPath) -> list[asn1_x509.Certificate]:
    """Certificates of the path from the anchor side to the leaf (anchor included when it
    is a certificate)."""
    return [c for c in path.iter_certs(include_root=True)
            if isinstance(c, asn1_x509.Certificate)]


def build_engine(
    anchor_dirs: Sequence[Path],
    intermediate_dirs: Sequence[Path] = (),
    crl_dirs: Sequence[Path] = (),
    *,
    allow_fetch: bool = False,
    revocation_unknown: Severity | str = Severity.WARNING,
    check_intermediates: bool = True,
    weak_hashes: Iterable[str] = DEFAULT_WEAK_HASHES,
    fetch_timeout: float = 10.0,
    cache: ChainCache | None = None,
) -> TrustEngine:
    """Read the directories once and return an engine. Unreadable files are listed in
    ``engine.problems`` (and logged), not raised."""
    if isinstance(revocation_unknown, str):
        revocation_unknown = Severity.parse(revocation_unknown)
    problems: list[str] = []
    anchors = read_cert_dirs(list(anchor_dirs), problems)
    inters = read_cert_dirs(list(intermediate_dirs), problems)
    anchor_fps = {a.sha256 for a in anchors}
    inters = [c for c in inters if c.sha256 not in anchor_fps]
    crls = read_crl_dirs(list(crl_dirs), problems)
    for p in problems:  # a missing directory is normal before installation
        (log.info if p.endswith("not a directory") else log.warning)("trust: %s", p)
    return TrustEngine(
        anchors, inters, crls,
        allow_fetch=allow_fetch, fetch_timeout=fetch_timeout,
        revocation_unknown=revocation_unknown, check_intermediates=check_intermediates,
        weak_hashes=weak_hashes, problems=problems, cache=cache,
        sources={"anchors": tuple(anchor_dirs), "intermediates": tuple(intermediate_dirs),
                 "crls": tuple(crl_dirs)},
    )


__all__ = ["TrustEngine", "build_engine", "USAGES"]
