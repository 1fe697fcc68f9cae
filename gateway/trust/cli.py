"""``hople trust``: list what is trusted, install pinned roots, refresh the CRL cache."""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import re
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from gateway.trust import fetch as fetchmod
from gateway.trust.pins import Pin, PinError, load_pins
from gateway.trust.store import (
    CertFile,
    CrlFile,
    fingerprint_colons,
    parse_certs,
    parse_crls,
    read_cert_dirs,
    read_crl_dirs,
)

if TYPE_CHECKING:
    from gateway.policy.schema import Trust

log = logging.getLogger("gateway.trust")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
INSTALL_LOG = "install.log"
"""Written next to installed certificates: one line per install (forced ones marked)."""


class TrustCommandError(Exception):
    """Printed as one line; ``code`` is the exit status."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.code = code


# -- common -----------------------------------------------------------------------------------

def _load_trust(args: argparse.Namespace) -> Trust:
    from gateway.policy.load import load_policy

    policy = load_policy(Path(args.rules) if args.rules else None)
    return policy.rules.trust


def _pins() -> dict[str, Pin]:
    try:
        return load_pins()
    except (OSError, PinError) as exc:
        raise TrustCommandError(f"cannot read the pin list: {exc}") from None


def _day(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def _now() -> datetime:
    return datetime.now(UTC)


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _cert_json(c: CertFile, pins: dict[str, Pin]) -> dict[str, Any]:
    pin = pins.get(c.sha256)
    return {
        "subject": c.subject,
        "issuer": c.issuer,
        "sha256": fingerprint_colons(c.sha256),
        "not_before": c.not_before.isoformat(),
        "not_after": c.not_after.isoformat(),
        "pinned": pin.name if pin else None,
        "legacy": bool(pin and pin.legacy),
        "file": str(c.source) if c.source else None,
    }


# -- list -----------------------------------------------------------------------------------

def cmd_list(args: argparse.Namespace) -> int:
    trust = _load_trust(args)
    pins = _pins()
    problems: list[str] = []
    anchor_dirs = [Path(d) for d in trust.anchors] + [Path(d) for d in (args.trust or [])]
    anchors = read_cert_dirs(anchor_dirs, problems)
    inters = read_cert_dirs([Path(d) for d in trust.intermediates], problems)
    crl_dir = Path(trust.crl_cache) if trust.crl_cache else None
    crls = read_crl_dirs([crl_dir], problems) if crl_dir else []
    installed = {c.sha256 for c in anchors} | {c.sha256 for c in inters}
    missing = [p for p in pins.values() if p.sha256 not in installed]
    now = _now()

    if args.json:
        print(json.dumps({
            "anchors": [_cert_json(c, pins) for c in anchors],
            "intermediates": [_cert_json(c, pins) for c in inters],
            "crls": [{"issuer": c.issuer, "this_update": c.this_update.isoformat(),
                      "next_update": c.next_update.isoformat() if c.next_update else None,
                      "stale": bool(c.next_update and c.next_update < now),
                      "file": str(c.source)} for c in crls],
            "pinned_not_installed": [{"name": p.name, "kind": p.kind, "title": p.title,
                                      "sha256": fingerprint_colons(p.sha256)} for p in missing],
            "problems": problems,
        }, ensure_ascii=False, indent=2))
        return EXIT_OK

    def show(title: str, certs: list[CertFile], dirs: list[Path]) -> None:
        print(f"{title} ({len(certs)}) from {', '.join(str(d) for d in dirs) or '(none)'}:")
        if not certs:
            print("  (none)")
        for c in certs:
            pin = pins.get(c.sha256)
            if pin:
                label = f"pinned: {pin.name} ({pin.title})" + (" [legacy]" if pin.legacy else "")
            else:
                label = "not pinned"
            state = ""
            if c.not_after < now:
                state = "  EXPIRED"
            elif c.not_before > now:
                state = "  NOT YET VALID"
            print(f"  {c.subject}")
            print(f"      SHA-256 {fingerprint_colons(c.sha256)}")
            print(f"      valid {_day(c.not_before)} .. {_day(c.not_after)}{state}   {label}")
            if c.source:
                print(f"      file {c.source}")

    show("Trust anchors", anchors, anchor_dirs)
    show("Intermediates (chain building only, not trusted by themselves)", inters,
         [Path(d) for d in trust.intermediates])
    print(f"CRL cache ({len(crls)}) in {crl_dir or '(none)'}:")
    if not crls:
        print("  (none: revocation of signer certificates will be 'unknown' unless "
              "signatures embed CRLs)")
    for c in crls:
        stale = " STALE" if c.next_update and c.next_update < now else ""
        nxt = _day(c.next_update) if c.next_update else "?"
        print(f"  {c.issuer}: updated {_day(c.this_update)}, next {nxt}{stale}")
    if missing:
        print("Pinned but not installed:")
        for p in missing:
            print(f"  {p.name} ({p.kind}): {p.title}" + (" [legacy]" if p.legacy else ""))
    if problems:
        print("Problems:")
        for problem in problems:
            print(f"  {problem}")
    return EXIT_OK


# -- add ------------------------------------------------------------------------------------

def _install_log(directory: Path, line: str) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / INSTALL_LOG).open("a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def cmd_add(args: argparse.Namespace) -> int:
    trust = _load_trust(args)
    pins = _pins()
    if not trust.anchors:
        raise TrustCommandError("no anchors directory configured ([trust] anchors)", EXIT_USAGE)
    anchors_dir = Path(trust.anchors[0])
    inter_dir = Path(trust.intermediates[0]) if trust.intermediates else None
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        raise TrustCommandError(f"{args.file}: cannot read: {exc.strerror or exc}",
                                EXIT_USAGE) from None
    try:
        certs = parse_certs(data)
    except ValueError as exc:
        raise TrustCommandError(f"{args.file}: not a certificate ({exc})") from None

    status = EXIT_OK
    for c in certs:
        fp = fingerprint_colons(c.sha256)
        pin = pins.get(c.sha256)
        if not _is_ca(c.cert):
            print(f"refused: {c.subject} is not a CA certificate (SHA-256 {fp}); a signer's "
                  "own certificate must not be a trust anchor", file=sys.stderr)
            status = EXIT_FAILED
            continue
        if pin is None and not args.force:
            print(f"refused: {c.subject}\n  SHA-256 {fp}\n  is not in the pin list "
                  "(certs/pinned.toml). Compare the fingerprint with the one published by "
                  "the CA and, if they agree, install it with --force.", file=sys.stderr)
            status = EXIT_FAILED
            continue
        if pin is not None and pin.kind == "intermediate":
            if inter_dir is None:
                raise TrustCommandError("no intermediates directory configured", EXIT_USAGE)
            target_dir, role = inter_dir, "intermediate"
        else:
            target_dir, role = anchors_dir, "trust anchor"
        name = pin.name if pin else f"unpinned-{c.sha256[:16].lower()}"
        target = target_dir / f"{name}.pem"
        existing = {e.sha256 for e in read_cert_dirs([target_dir], [])} \
            if target_dir.is_dir() else set()
        if c.sha256 in existing:
            print(f"already installed: {c.subject} ({role}) in {target_dir}")
            continue
        pem = c.cert.public_bytes(serialization.Encoding.PEM)
        try:
            _atomic_write(target, pem)
            when = _now().isoformat(timespec="seconds")
            forced = pin is None
            _install_log(target_dir, f"{when}\t{'FORCED-UNPINNED' if forced else 'pinned'}\t"
                                     f"{fp}\t{c.subject}\t{target.name}")
        except OSError as exc:
            raise TrustCommandError(f"{target}: cannot write: {exc.strerror or exc}") from None
        if pin is None:
            msg = (f"installed an UNPINNED certificate as a {role}: {c.subject} "
                   f"SHA-256 {fp} -> {target} (--force)")
            log.warning(msg)
            print("WARNING: " + msg, file=sys.stderr)
            print("WARNING: every signature chaining to it will be trusted; remove the file "
                  "to undo.", file=sys.stderr)
        else:
            print(f"installed {pin.title} ({role}) -> {target}")
            if pin.legacy:
                print("  note: legacy root; its chains use SHA-1, refused while [trust] "
                      "weak-hash-algorithms lists sha1")
        if c.not_after < _now():
            print(f"  note: this certificate expired on {_day(c.not_after)}", file=sys.stderr)
    return status


# -- refresh-crls ---------------------------------------------------------------------------

def _cache_name(url: str) -> str:
    base = url.rstrip("/").rsplit("/", 1)[-1] or "crl"
    base = re.sub(r"[^A-Za-z0-9._-]", "_", base)[:60]
    if base.lower().endswith(".crl"):
        base = base[:-4]
    return f"{base}-{hashlib.sha256(url.encode()).hexdigest()[:12]}.crl"


def _verify_crl(crl: CrlFile, cas: list[CertFile]) -> str | None:
    """None when the CRL is signed by one of ``cas``; otherwise why not."""
    candidates = [c for c in cas if c.cert.subject == crl.crl.issuer]
    if not candidates:
        return f"issued by {crl.issuer}, which is not a configured CA"
    for ca in candidates:
        try:
            if crl.crl.is_signature_valid(ca.cert.public_key()):  # type: ignore[arg-type]
                return None
        except (TypeError, ValueError, UnsupportedAlgorithm):  # a key that cannot check it
            continue
    return f"signature does not verify with the key of {crl.issuer}"


def cmd_refresh_crls(args: argparse.Namespace) -> int:
    trust = _load_trust(args)
    if not (trust.allow_network or args.allow_network):
        raise TrustCommandError(
            "network access is off: set allow-network = true in [trust] or pass "
            "--allow-network", EXIT_USAGE)
    if not trust.crl_cache:
        raise TrustCommandError("no CRL cache configured ([trust] crl-cache)", EXIT_USAGE)
    cache = Path(trust.crl_cache)
    timeout = args.timeout if args.timeout is not None else trust.fetch_timeout_seconds
    if timeout <= 0:
        raise TrustCommandError("--timeout must be positive", EXIT_USAGE)
    problems: list[str] = []
    cas = read_cert_dirs([Path(d) for d in trust.anchors], problems)
    cas += read_cert_dirs([Path(d) for d in trust.intermediates], problems)
    for p in problems:
        print(f"note: {p}", file=sys.stderr)

    urls: list[str] = []
    sources = [c.cert for c in cas]
    for name in args.certs or []:
        try:
            sources.extend(c.cert for c in parse_certs(Path(name).read_bytes()))
        except (OSError, ValueError) as exc:
            raise TrustCommandError(f"{name}: not a readable certificate ({exc})",
                                    EXIT_USAGE) from None
    for cert in sources:
        for url in fetchmod.distribution_points(cert):
            if url not in urls:
                urls.append(url)
    for url in trust.crl_urls:
        if url not in urls:
            urls.append(url)
    if not urls:
        print("no CRL distribution points found (configure [trust] crl-urls or install "
              "CA certificates)")
        return EXIT_OK

    existing = ({c.source.name: c for c in read_crl_dirs([cache], []) if c.source is not None}
                if cache.is_dir() else {})
    failed = 0
    for url in urls:
        try:
            got = fetchmod.fetch(url, timeout)
            crls = parse_crls(got.data)
            if len(crls) != 1:
                raise ValueError(f"{len(crls)} CRLs in one response")
            crl = crls[0]
        except fetchmod.FetchError as exc:
            print(f"failed  {exc}")
            failed += 1
            continue
        except ValueError as exc:
            print(f"failed  {url}: not a CRL ({exc})")
            failed += 1
            continue
        why = _verify_crl(crl, cas)
        if why:
            print(f"failed  {url}: {why}; not stored")
            failed += 1
            continue
        name = _cache_name(url)
        old = existing.get(name)
        if old is not None and old.this_update > crl.this_update:
            print(f"kept    {url}: the cached CRL is newer ({_day(old.this_update)})")
            continue
        try:
            _atomic_write(cache / name, crl.der)
        except OSError as exc:
            print(f"failed  {url}: cannot write {cache / name}: {exc.strerror or exc}")
            failed += 1
            continue
        nxt = _day(crl.next_update) if crl.next_update else "?"
        print(f"ok      {url} -> {cache / name} ({crl.issuer}, next update {nxt}, "
              f"{len(list(crl.crl))} revoked)")
    print(f"{len(urls) - failed} of {len(urls)} CRLs refreshed")
    return EXIT_FAILED if failed else EXIT_OK


# -- registration -----------------------------------------------------------------------------

def _guard(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except TrustCommandError as exc:
            print(f"hople trust: {exc}", file=sys.stderr)
            return exc.code
    return run


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("trust", help="trust anchors and CRL cache")
    sub = p.add_subparsers(dest="trust_command", metavar="ACTION", required=True)

    ls = sub.add_parser("list", help="show trusted roots, intermediates and cached CRLs")
    ls.add_argument("--rules", metavar="FILE", help="site rules merged over the shipped rules")
    ls.add_argument("--trust", metavar="DIR", action="append",
                    help="extra directory of trust anchors (as with hople check)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(func=_guard(cmd_list))

    add = sub.add_parser("add", help="install a CA certificate whose fingerprint is pinned")
    add.add_argument("file", metavar="FILE", help="certificate (PEM or DER)")
    add.add_argument("--rules", metavar="FILE", help="site rules merged over the shipped rules")
    add.add_argument("--force", action="store_true",
                     help="install a certificate that is not in the pin list (logged)")
    add.set_defaults(func=_guard(cmd_add))

    rc = sub.add_parser("refresh-crls",
                        help="download CRLs into the cache (needs network to be allowed)")
    rc.add_argument("certs", nargs="*", metavar="CERT",
                    help="also fetch the CRLs named by these certificates")
    rc.add_argument("--rules", metavar="FILE", help="site rules merged over the shipped rules")
    rc.add_argument("--allow-network", action="store_true",
                    help="allow downloads even if [trust] allow-network is false")
    rc.add_argument("--timeout", type=float, metavar="SECONDS",
                    help="per-download timeout (default: [trust] fetch-timeout-seconds)")
    rc.set_defaults(func=_guard(cmd_refresh_crls))


__all__ = ["register"]
