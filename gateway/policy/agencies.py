"""Which agency sent a message: the agency map in ``rules/agencies.toml``.

The map is data (see the comments in that file). Resolution is pure and cheap, so reports
and queries resolve agencies at read time: a corrected map applies to past records too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.policy.strict import RulesError, read_toml

__all__ = [
    "EXTERNAL",
    "NONE",
    "UNKNOWN",
    "Agency",
    "AgencyMap",
    "SHIPPED_AGENCIES",
    "load_agencies",
]

SHIPPED_AGENCIES = Path(__file__).resolve().parent.parent.parent / "rules" / "agencies.toml"

_LABEL = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    local: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    signer_names: tuple[str, ...] = ()
    """Names the agency's signing certificates carry in O or OU (compared without case,
    accents or extra spaces), for the rule that the signer must belong to the sending unit."""


EXTERNAL = Agency("external", "Ngoài tỉnh (external senders)")
UNKNOWN = Agency("unknown", "Không xác định (unknown agency)")
NONE = Agency("none", "Không có người gửi (null sender)")


@dataclass(frozen=True)
class AgencyMap:
    domains: tuple[str, ...] = ()
    """The province's mail domains: addresses there are matched by local-part labels."""
    agencies: tuple[Agency, ...] = ()
    source: str = ""
    _by_local: dict[str, Agency] = field(default_factory=dict, compare=False, repr=False)
    _by_domain: dict[str, Agency] = field(default_factory=dict, compare=False, repr=False)
    _by_code: dict[str, Agency] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for a in self.agencies:
            self._by_code[a.code] = a
            for loc in a.local:
                self._by_local[loc] = a
            for d in a.domains:
                self._by_domain[d] = a
        for special in (EXTERNAL, UNKNOWN, NONE):
            self._by_code.setdefault(special.code, special)

    def by_code(self, code: str) -> Agency | None:
        return self._by_code.get(code)

    def resolve(self, address: str | None) -> Agency:
        """The agency of a sender address (never fails: external/unknown/none buckets)."""
        if not address:
            return NONE
        addr = address.strip().strip("<>").lower()
        if "@" not in addr:
            return UNKNOWN
        local, domain = addr.rsplit("@", 1)
        domain = domain.rstrip(".")
        labels = domain.split(".")
        for i in range(len(labels) - 1):
            hit = self._by_domain.get(".".join(labels[i:]))
            if hit is not None:
                return hit
        if not any(domain == d or domain.endswith("." + d) for d in self.domains):
            return EXTERNAL
        parts = local.split(".")
        for i in range(len(parts)):
            hit = self._by_local.get(".".join(parts[i:]))
            if hit is not None:
                return hit
        return UNKNOWN


def _fail(source: str, path: str, reason: str) -> RulesError:
    return RulesError(source, path, reason)


def _strings(value: Any, source: str, path: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, path, "expected a list of strings")
    return tuple(v.strip().lower() for v in value)


def parse_agencies(data: dict[str, Any], source: str) -> AgencyMap:
    """Build a map from parsed TOML (strict: unknown keys, duplicates and bad codes fail)."""
    known = {"schema", "domains", "agency"}
    for key in data:
        if key not in known:
            raise _fail(source, key, f"unknown key (known keys: {', '.join(sorted(known))})")
    if data.get("schema", 1) != 1:
        raise _fail(source, "schema", f"unsupported schema {data.get('schema')!r} (expected 1)")
    domains = _strings(data.get("domains", []), source, "domains")
    for i, d in enumerate(domains):
        if not _DOMAIN.match(d):
            raise _fail(source, f"domains[{i}]", f"{d!r} is not a domain name")
    raw = data.get("agency", [])
    if not isinstance(raw, list):
        raise _fail(source, "agency", "expected [[agency]] tables")
    agencies: list[Agency] = []
    codes: set[str] = set()
    locals_seen: dict[str, str] = {}
    domains_seen: dict[str, str] = {}
    fields_ok = {"code", "name", "local", "domains", "signer-names"}
    for i, entry in enumerate(raw):
        where = f"agency[{i}]"
        if not isinstance(entry, dict):
            raise _fail(source, where, "expected a table")
        for key in entry:
            if key not in fields_ok:
                raise _fail(source, f"{where}.{key}",
                            f"unknown key (known keys: {', '.join(sorted(fields_ok))})")
        code, name = entry.get("code"), entry.get("name")
        if not isinstance(code, str) or not code.strip():
            raise _fail(source, f"{where}.code", "a non-empty string is required")
        code = code.strip().lower()
        if code in codes or code in (EXTERNAL.code, UNKNOWN.code, NONE.code):
            raise _fail(source, f"{where}.code", f"{code!r} is used twice or reserved")
        if not isinstance(name, str) or not name.strip():
            raise _fail(source, f"{where}.name", "a non-empty string is required")
        name = unicodedata.normalize("NFC", name.strip())
        local = _strings(entry.get("local", []), source, f"{where}.local")
        for j, loc in enumerate(local):
            if not loc or not all(_LABEL.match(p) for p in loc.split(".")):
                raise _fail(source, f"{where}.local[{j}]",
                            f"{loc!r} is not dot-separated lower-case ASCII labels")
            if loc in locals_seen:
                raise _fail(source, f"{where}.local[{j}]",
                            f"{loc!r} already belongs to {locals_seen[loc]!r}")
            locals_seen[loc] = code
        own = _strings(entry.get("domains", []), source, f"{where}.domains")
        for j, d in enumerate(own):
            if not _DOMAIN.match(d):
                raise _fail(source, f"{where}.domains[{j}]", f"{d!r} is not a domain name")
            if d in domains_seen:
                raise _fail(source, f"{where}.domains[{j}]",
                            f"{d!r} already belongs to {domains_seen[d]!r}")
            domains_seen[d] = code
        if not local and not own:
            raise _fail(source, where, "give at least one of local = [...] or domains = [...]")
        signer_names = entry.get("signer-names", [])
        if not isinstance(signer_names, list) or not all(
            isinstance(v, str) and v.strip() for v in signer_names
        ):
            raise _fail(source, f"{where}.signer-names", "expected a list of non-empty strings")
        codes.add(code)
        signers = tuple(unicodedata.normalize("NFC", v.strip()) for v in signer_names)
        agencies.append(Agency(code, name, local, own, signers))
    return AgencyMap(domains=domains, agencies=tuple(agencies), source=source)


def load_agencies(path: Path | None = None) -> AgencyMap:
    """Read an agency map (the shipped ``rules/agencies.toml`` by default).

    :raises RulesError: naming the file, the key and the reason.
    """
    path = path or SHIPPED_AGENCIES
    return parse_agencies(read_toml(path), str(path))
