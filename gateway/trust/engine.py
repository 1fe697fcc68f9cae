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

The engine drives the two passes; path building and validation contexts are in
:mod:`gateway.trust.paths`, the findings a failure maps to in :mod:`gateway.trust.results`,
and CRL/OCSP handling in :mod:`gateway.trust.revinfo`.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.errors import InsufficientRevinfoError, RevokedError
from pyhanko_certvalidator.path import ValidationPath
from pyhanko_certvalidator.policy_decl import RevocationCheckingPolicy, RevocationCheckingRule
from pyhanko_certvalidator.validate import async_validate_path

from gateway.event_loop import run
from gateway.model.catalog import make_finding
from gateway.model.chain import ChainResult
from gateway.model.findings import Finding, Severity
from gateway.model.report import Revocation, Trust
from gateway.trust import paths, results, revinfo
from gateway.trust.cache import ChainCache, Window, is_clean, revocation_window
from gateway.trust.paths import path_certs
from gateway.trust.results import iso, short
from gateway.trust.revinfo import CrlPair, crl_pairs, der_of, loadable, loadable_any
from gateway.trust.store import (
    CertFile,
    CrlFile,
    parse_cert,
    read_cert_dirs,
    read_crl_dirs,
    utc,
)

log = logging.getLogger(__name__)

USAGES = ("signing", "timestamping", "any")
DEFAULT_WEAK_HASHES = ("md2", "md5", "sha1")


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
        self._cached_crls: list[CrlPair] = [
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
        raw = [der_of(x) for x in intermediates]
        rev = ([der_of(x) for x in crls], [der_of(x) for x in ocsps])
        key = self.cache.key(self.cache_id + self._policy_id(), usage, der_of(leaf), raw,
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
                               (make_finding("CERT_UNREADABLE", reason=short(exc)),)), None
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
                unreadable.append(f"certificate {i + 1}: {short(exc)}")
        leaf_asn1 = asn1_x509.Certificate.load(leaf_file.der)

        # Pass 1: trust.
        trust_findings: list[Finding] = []
        path: ValidationPath | None = None
        try:
            ctx = self._context(at, extra, revocation=paths.NO_REVOCATION)
            path = paths.build_path(ctx, leaf_asn1, extra)
        except Exception as exc:  # noqa: BLE001 - every failure is a trust finding naming it
            trust_findings.append(results.trust_failure(exc, leaf_file, at))
        if path is not None:
            trust_findings.extend(results.anchor_validity(path, at))
            trust_findings.extend(results.key_usage(leaf_file, usage, signer))
        subjects = paths.subjects(path)
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
            chain = [x509.load_der_x509_certificate(c.dump()) for c in path_certs(path)]
            given_certs = [x509.load_der_x509_certificate(d) for d in given]
        except ValueError:  # a certificate the validation used cannot be read: not cached
            return None
        all_crls = [c for _, c in self._cached_crls] + [c for _, c in crl_pairs(crls)]
        return revocation_window(chain, given_certs, all_crls, ocsps)

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
        extra: list[asn1_x509.Certificate] = []
        for c in extra_certs:
            if isinstance(c, (bytes, bytearray)):
                try:
                    c = asn1_x509.Certificate.load(parse_cert(bytes(c)).der)
                except (ValueError, TypeError) as exc:  # it cannot help a path either: said
                    log.info("certificate beside a signature ignored: unreadable: %s: %s",
                             type(exc).__name__, short(exc))
                    continue
            extra.append(c)
        rule = (RevocationCheckingRule.CRL_OR_OCSP_REQUIRED if strict_revocation
                else RevocationCheckingRule.CHECK_IF_DECLARED_SOFT)
        return self._context(utc(at), extra, revocation=RevocationCheckingPolicy(rule, rule),
                             crls=[a for a, _ in self._cached_crls]
                             + loadable_any(crls, asn1_crl.CertificateList),
                             ocsps=loadable_any(ocsps, asn1_ocsp.OCSPResponse))

    def anchor_for(self, fingerprint: str) -> CertFile | None:
        for a in self.anchors:
            if a.sha256 == fingerprint:
                return a
        return None

    # -- contexts ---------------------------------------------------------------------------

    def _context(self, at: datetime, extra: list[asn1_x509.Certificate], *,
                 revocation: RevocationCheckingPolicy, crls: Sequence[Any] = (),
                 ocsps: Sequence[Any] = ()) -> ValidationContext:
        return paths.make_context(self._anchor_asn1, self._inter_asn1 + extra, at,
                                  revocation=revocation, weak_hashes=self.weak_hashes,
                                  crls=crls, ocsps=ocsps)

    # -- pass 2 -----------------------------------------------------------------------------

    def _revocation(self, path: ValidationPath, at: datetime, crls: Sequence[Any],
                    ocsps: Sequence[Any]) -> tuple[Revocation, list[Finding]]:
        inter_rule = (RevocationCheckingRule.CRL_OR_OCSP_REQUIRED if self.check_intermediates
                      else RevocationCheckingRule.NO_CHECK)
        policy = RevocationCheckingPolicy(RevocationCheckingRule.CRL_OR_OCSP_REQUIRED,
                                          inter_rule)
        extra = crl_pairs(loadable(crls, asn1_crl.CertificateList))
        pairs = self._cached_crls + extra
        if self.allow_fetch:
            pairs += crl_pairs(revinfo.fetch_missing(path, pairs, self.fetch_timeout,
                                                     self._fetched, self._fetch_lock))
        leaf = path.leaf
        leaf_subject = (paths.asn1_subject(leaf) if isinstance(leaf, asn1_x509.Certificate)
                        else "?")
        try:
            ctx = self._context(at, [], revocation=policy, crls=[a for a, _ in pairs],
                                ocsps=loadable(ocsps, asn1_ocsp.OCSPResponse))
            run(async_validate_path(ctx, path))
        except RevokedError as exc:
            subject = leaf_subject if exc.is_ee_cert else revinfo.revoked_subject(
                path, exc.revocation_dt, pairs) or "an issuing CA"
            reason = getattr(exc.reason, "human_friendly", None) or "unspecified"
            return Revocation.REVOKED, [make_finding(
                "REVOCATION_REVOKED", subject=subject, revoked_at=iso(exc.revocation_dt),
                reason=reason, at=iso(at))]
        except InsufficientRevinfoError as exc:
            unverified: list[str] = []
            if exc.is_ee_cert:
                later = revinfo.ocsp_revoked_later(path, at, ocsps, unverified)
                if later is not None:  # pyhanko reads "revoked after at" as "not good"
                    return Revocation.GOOD, [later]
            subject = leaf_subject if exc.is_ee_cert else (
                revinfo.without_crl(path, pairs) or "an issuing CA of " + leaf_subject)
            reason = "; ".join([short(exc), *unverified])
            return Revocation.UNKNOWN, [results.revocation_unknown(subject, reason,
                                                                  self.revocation_unknown)]
        except Exception as exc:  # noqa: BLE001 - said as revocation unknown, with the reason
            log.info("revocation check failed for %s: %s: %s", leaf_subject,
                     type(exc).__name__, exc)
            return Revocation.UNKNOWN, [results.revocation_unknown(
                leaf_subject, short(exc), self.revocation_unknown)]
        return Revocation.GOOD, revinfo.revoked_later(path, at, pairs)


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
