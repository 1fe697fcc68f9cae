"""Security pieces of the auditors' web page that do not need Flask: signed cookie values,
CSRF tokens, the per-address login throttle, client addresses behind a proxy, and the
response headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import threading
import time
import unicodedata
from collections import deque
from collections.abc import Iterable, Sequence
from urllib.parse import unquote, urlsplit

__all__ = [
    "Throttle",
    "client_address",
    "local_path",
    "login_csrf_token",
    "parse_networks",
    "same",
    "security_headers",
    "sign",
    "unsign",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _mac(secret: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(secret, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens; False when either is missing."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8", "replace"), b.encode("utf-8", "replace"))


def sign(secret: bytes, value: str, purpose: str = "session") -> str:
    """``value.mac``: a cookie value that cannot be made up without the secret."""
    return f"{value}.{_mac(secret, purpose, value)}"


def unsign(secret: bytes, signed: str | None, purpose: str = "session") -> str | None:
    """The value of a :func:`sign` output, or None when it was not signed with ``secret``."""
    if not signed or "." not in signed or len(signed) > 512:
        return None
    value, mac = signed.rsplit(".", 1)
    return value if same(mac, _mac(secret, purpose, value)) else None


def login_csrf_token(secret: bytes, pre_session: str) -> str:
    """The token the login form must echo: bound to the visitor's pre-login cookie."""
    return _mac(secret, "login-csrf", pre_session)


MAX_PATH = 2000


def _plain(text: str) -> bool:
    # printable ASCII only: no space, tab, CR, LF or other controls, nothing a browser
    # strips or rewrites, and no backslash (which browsers read as "/")
    return all("!" <= ch <= "~" for ch in text) and "\\" not in text


def _odd(ch: str) -> bool:
    return ch == "\\" or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def local_path(value: str | None) -> str | None:
    """``value`` when it is a path on this site (``/decisions?verdict=invalid``), else None.

    Refused: anything not starting with exactly one ``/`` (``//host``, ``https://…``,
    ``javascript:``); any character outside printable ASCII (tabs, CR/LF, spaces, other
    controls and non-ASCII, which browsers strip or rewrite: ``/\t/evil.example`` becomes
    ``//evil.example``); backslashes; and a path that does any of this once
    percent-decoded (``/%2F%2Fevil``, ``/%09/evil``, ``/%5C%5Cevil``), as some proxies and
    browsers decode."""
    if not value or len(value) > MAX_PATH or not _plain(value) or value.startswith("//"):
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    path = unquote(parts.path)
    if path.startswith("//") or any(_odd(ch) for ch in path):
        return None
    return value


class Throttle:
    """Counts failures per key (a client address) in a sliding window; a key with
    ``limit`` failures inside ``window`` seconds is blocked until the oldest expires."""

    def __init__(self, limit: int = 20, window: float = 900.0, max_keys: int = 10000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._fails: dict[str, deque[float]] = {}
        self._mu = threading.Lock()

    def _trim(self, key: str, now: float) -> deque[float]:
        q = self._fails.get(key)
        if q is None:
            return deque()
        while q and q[0] <= now - self.window:
            q.popleft()
        if not q:
            self._fails.pop(key, None)
        return q

    def blocked(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._mu:
            return len(self._trim(key, now)) >= self.limit

    def fail(self, key: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._mu:
            self._add(key, now)

    def _add(self, key: str, now: float) -> None:
        if key not in self._fails and len(self._fails) >= self.max_keys:
            for k in list(self._fails)[: self.max_keys // 10 or 1]:
                self._trim(k, now)
            if len(self._fails) >= self.max_keys:
                self._fails.pop(next(iter(self._fails)))
        self._fails.setdefault(key, deque()).append(now)

    def attempt(self, key: str, now: float | None = None) -> float | None:
        """Check and count one attempt in one step (under the lock): None when ``key`` is
        blocked, else the attempt's mark, counted as a failure until :meth:`forgive`. So
        parallel attempts cannot pass the limit between the check and the count."""
        now = time.monotonic() if now is None else now
        with self._mu:
            if len(self._trim(key, now)) >= self.limit:
                return None
            self._add(key, now)
            return now

    def forgive(self, key: str, mark: float) -> None:
        """The attempt ``mark`` succeeded: it no longer counts."""
        with self._mu:
            q = self._fails.get(key)
            if q is not None and mark in q:
                q.remove(mark)
                if not q:
                    self._fails.pop(key, None)


def parse_networks(values: Iterable[str]) -> tuple[Network, ...]:
    """``127.0.0.1``, ``10.0.0.0/8``, ``::1`` … → networks; ValueError names a bad one."""
    out = []
    for v in values:
        try:
            out.append(ipaddress.ip_network(v.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{v!r} is not an IP address or network") from None
    return tuple(out)


def _in(addr: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(addr.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == n.version and ip in n for n in networks)


def address_allowed(addr: str, networks: Sequence[Network]) -> bool:
    return _in(addr, networks)


def client_address(remote: str | None, forwarded_for: str | None,
                   trusted_proxies: Sequence[Network]) -> str:
    """The client's address: the peer, or when the peer is a trusted reverse proxy the
    right-most address of ``X-Forwarded-For`` that is not itself a trusted proxy."""
    addr = remote or ""
    if not forwarded_for or not trusted_proxies or not _in(addr, trusted_proxies):
        return addr
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted_proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return addr
    return addr


CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def security_headers(*, https: bool, cache: bool = False) -> dict[str, str]:
    """Headers on every response: no script at all (CSP), no framing, no sniffing, no
    referrer, and pages never cached (static assets may be)."""
    out = {
        "Content-Security-Policy": CSP,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }
    if not cache:
        out["Cache-Control"] = "no-store, max-age=0"
        out["Pragma"] = "no-cache"
    if https:
        out["Strict-Transport-Security"] = "max-age=31536000"
    return out
