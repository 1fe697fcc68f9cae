"""The ``X-Hople-Notice`` marker: how the gateway recognises the notices it sent itself.

A notice carries ``X-Hople-Notice: v1; t=<unix time>; mac=<hex>`` where ``mac`` is
HMAC-SHA256 under a site secret over the version, the time and the notice's Message-ID.
The milter lets a message with a valid marker through unchecked (and untagged), so a notice
never loops back through the checks. The marker binds the Message-ID and expires
(``MAX_AGE_SECONDS``), so a marker copied from one notice cannot wave another message
through later. Normally notices do not reach the milter at all (they are submitted to a
listener without it, see docs/postfix.md); the marker is the second line of defence.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time

HEADER = "X-Hople-Notice"
VERSION = "v1"
MAX_AGE_SECONDS = 24 * 3600
"""How long a marker stays valid (notices are delivered within minutes; retries within a day)."""
CLOCK_SKEW_SECONDS = 300
MIN_SECRET_BYTES = 16

_VALUE = re.compile(r"^\s*v1\s*;\s*t=(\d{1,12})\s*;\s*mac=([0-9a-f]{64})\s*$")


def _norm_id(message_id: str) -> str:
    return message_id.strip()


def _mac(secret: bytes, stamp: int, message_id: str) -> str:
    msg = f"{VERSION}\0{stamp}\0{_norm_id(message_id)}".encode("utf-8", "surrogateescape")
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def _check_secret(secret: bytes) -> None:
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"the notice secret must be at least {MIN_SECRET_BYTES} bytes")


def make_marker(secret: bytes, message_id: str, *, now: float | None = None) -> str:
    """The header value for a notice whose ``Message-ID`` is ``message_id``."""
    _check_secret(secret)
    stamp = int(time.time() if now is None else now)
    return f"{VERSION}; t={stamp}; mac={_mac(secret, stamp, message_id)}"


def verify_marker(
    secret: bytes,
    value: str,
    message_id: str,
    *,
    now: float | None = None,
    max_age: float = MAX_AGE_SECONDS,
) -> bool:
    """True when ``value`` was made with ``secret`` for this Message-ID and has not expired.
    Never raises on a malformed value (a forged header is simply not valid)."""
    if not secret or len(secret) < MIN_SECRET_BYTES or not message_id:
        return False
    m = _VALUE.match(value or "")
    if not m:
        return False
    stamp = int(m.group(1))
    current = time.time() if now is None else now
    if stamp > current + CLOCK_SKEW_SECONDS or current - stamp > max_age:
        return False
    return hmac.compare_digest(_mac(secret, stamp, message_id), m.group(2))


def read_secret(path: str) -> bytes | None:
    """The secret from a file (surrounding whitespace removed), or None when the file is
    missing, unreadable or too short."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(4096).strip()
    except OSError:
        return None
    return data if len(data) >= MIN_SECRET_BYTES else None


__all__ = ["HEADER", "MAX_AGE_SECONDS", "make_marker", "read_secret", "verify_marker"]
