"""The pin list (``certs/pinned.toml``): SHA-256 fingerprints of the CA certificates an
operator may install without ``--force``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gateway.trust.store import normalise_fingerprint

PINNED = Path(__file__).resolve().parent.parent.parent / "certs" / "pinned.toml"
KINDS = ("root", "intermediate")


class PinError(ValueError):
    """The pin list is malformed."""


@dataclass(frozen=True)
class Pin:
    name: str
    kind: str
    title: str
    subject: str
    sha256: str
    """Upper-case hex, no separators."""
    not_before: datetime
    not_after: datetime
    operator: str = ""
    publication: str = ""
    legacy: bool = False
    note: str = ""


_FIELDS = {"name", "kind", "title", "operator", "subject", "sha256", "not-before",
           "not-after", "publication", "legacy", "note"}


def _time(value: object, where: str) -> datetime:
    if not isinstance(value, datetime):
        raise PinError(f"{where}: expected a TOML date-time")
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_pins(path: Path = PINNED) -> dict[str, Pin]:
    """Pins by fingerprint. Raises :class:`PinError` (or ``OSError``) on a bad file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PinError(f"{path}: not valid TOML: {exc}") from None
    if data.get("schema") != 1:
        raise PinError(f"{path}: schema must be 1")
    out: dict[str, Pin] = {}
    names: set[str] = set()
    for i, entry in enumerate(data.get("pin", [])):
        where = f"{path}: pin[{i}]"
        unknown = set(entry) - _FIELDS
        if unknown:
            raise PinError(f"{where}: unknown keys {sorted(unknown)}")
        for key in ("name", "kind", "title", "subject", "sha256"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                raise PinError(f"{where}: {key} is required")
        fp = normalise_fingerprint(entry["sha256"])
        if len(fp) != 64:
            raise PinError(f"{where}: sha256 must have 32 bytes")
        if entry["kind"] not in KINDS:
            raise PinError(f"{where}: kind must be one of {KINDS}")
        if fp in out or entry["name"] in names:
            raise PinError(f"{where}: duplicate fingerprint or name")
        names.add(entry["name"])
        out[fp] = Pin(
            name=entry["name"], kind=entry["kind"], title=entry["title"],
            subject=entry["subject"], sha256=fp,
            not_before=_time(entry.get("not-before"), where + ".not-before"),
            not_after=_time(entry.get("not-after"), where + ".not-after"),
            operator=entry.get("operator", ""), publication=entry.get("publication", ""),
            legacy=bool(entry.get("legacy", False)), note=entry.get("note", ""),
        )
    return out


__all__ = ["PINNED", "Pin", "PinError", "load_pins"]
