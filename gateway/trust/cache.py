"""A bounded cache of chain-validation results: real mail repeats the same signers.

Validating a signer's chain (path building, then revocation against the CRLs and OCSP
responses) costs several milliseconds per signature, the same for every document the same
office signs. :class:`ChainCache` keeps the results that may be served again, under rules
meant to make a served result exactly the one a fresh validation would give:

* **only clean successes are kept**: trusted, revocation good, no finding at all. A
  failure, an unknown revocation, a revoked or expired certificate, or any result with a
  finding is validated afresh every time, so it can never be served as a success, and a
  revoked result stays revoked;
* **the key is every input of the validation**: the engine's trust anchors, configured
  intermediates, cached CRLs and policy (see :meth:`ChainCache.key`), the exact bytes of
  the signer certificate, the certificates, CRLs and OCSP responses given with the
  signature, the requested usage, and the validation time rounded down to ``time_step``
  seconds. A changed anchor set or any changed revocation data is a different key;
* **a result is served only inside its window**: the validation time must lie where every
  certificate of the path (and every certificate given with it) is within its validity,
  and before the nextUpdate of every CRL and OCSP response that could have been used;
* **entries expire** after ``ttl`` seconds and, by the wall clock, at the earliest
  nextUpdate of that revocation data; the least recently used entry goes when ``size``
  entries are held. ``size = 0`` turns the cache off.

The cache is per engine (and so per worker process); it is thread-safe.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.x509 import ocsp

from gateway.model.chain import ChainResult
from gateway.model.report import Revocation, Trust

DEFAULT_SIZE = 512
DEFAULT_TTL = 900.0
DEFAULT_TIME_STEP = 3600


@dataclass(frozen=True)
class Window:
    """Where a clean result holds: validation times in [``start``, ``end``), and wall-clock
    times before ``stale_at`` (the earliest nextUpdate of the revocation data)."""

    start: datetime
    end: datetime
    stale_at: datetime


@dataclass
class _Entry:
    result: ChainResult
    window: Window
    expires: float
    """Monotonic time after which the entry is dropped (the TTL)."""


def is_clean(result: ChainResult) -> bool:
    """Whether ``result`` may be cached: trusted, revocation good, no finding."""
    return (result.trust is Trust.TRUSTED and result.revocation is Revocation.GOOD
            and not result.findings)


class ChainCache:
    """See the module docstring. ``clock`` (monotonic seconds) and ``wall`` (aware UTC
    datetime) are injectable for tests."""

    def __init__(self, size: int = DEFAULT_SIZE, ttl: float = DEFAULT_TTL,
                 time_step: int = DEFAULT_TIME_STEP, *,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        if size < 0 or ttl < 0 or time_step <= 0:
            raise ValueError("chain cache: size and ttl must be >= 0, time_step > 0")
        self.size = size
        self.ttl = ttl
        self.time_step = time_step
        self._clock = clock
        self._wall = wall
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.size > 0 and self.ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    def key(self, engine_id: bytes, usage: str, leaf: bytes, intermediates: Sequence[bytes],
            crls: Sequence[bytes], ocsps: Sequence[bytes], at: datetime) -> bytes:
        """A digest of every input of one validation (``engine_id``: the engine's anchors,
        intermediates, cached CRLs and policy, see ``TrustEngine.cache_id``)."""
        h = hashlib.sha256()
        bucket = int(at.timestamp()) // self.time_step
        _feed(h, [engine_id, usage.encode(), str(bucket).encode(), leaf])
        for label, items in ((b"certs", intermediates), (b"crls", crls), (b"ocsps", ocsps)):
            _feed(h, [label, *items])
        return h.digest()

    def get(self, key: bytes, at: datetime) -> ChainResult | None:
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                w = entry.window
                if (self._clock() >= entry.expires or self._wall() >= w.stale_at):
                    del self._entries[key]
                    entry = None
                elif not (w.start <= at < w.end):
                    entry = None
                else:
                    self._entries.move_to_end(key)
            if entry is None:
                self.misses += 1
                return None
            self.hits += 1
            return entry.result

    def put(self, key: bytes, result: ChainResult, window: Window | None) -> None:
        """Keep ``result`` if it is clean and has a window; anything else is ignored."""
        if not self.enabled or window is None or not is_clean(result):
            return
        if window.start >= window.end or self._wall() >= window.stale_at:
            return
        with self._lock:
            self._entries[key] = _Entry(result, window, self._clock() + self.ttl)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def revocation_window(path: Sequence[x509.Certificate], given: Sequence[x509.Certificate],
                      crls: Sequence[x509.CertificateRevocationList],
                      ocsps: Sequence[bytes]) -> Window | None:
    """The window of a clean result whose path is ``path`` (anchor first), validated with
    ``given`` certificates, ``crls`` (cached and given) and ``ocsps`` (given, DER).

    The revocation data that could have been used: every CRL issued by the issuer of a
    path certificate, and every successful OCSP response (whose own certificates count as
    given ones)."""
    certs = list(path) + list(given)
    issuers = {c.issuer.public_bytes() for c in path}
    updates: list[datetime | None] = [
        c.next_update_utc for c in crls if c.issuer.public_bytes() in issuers]
    for der in ocsps:
        try:
            resp = ocsp.load_der_ocsp_response(der)
            if resp.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL:
                continue
            updates.extend(r.next_update_utc for r in resp.responses)
            certs.extend(resp.certificates)
        except ValueError:  # unreadable: the engine ignores it too (and says so in its log)
            continue
    return window(((c.not_valid_before_utc, c.not_valid_after_utc) for c in certs), updates)


def window(validity: Iterable[tuple[datetime, datetime]],
           next_updates: Iterable[datetime | None]) -> Window | None:
    """The window of a clean result: the intersection of the certificates' validity
    periods, ending at the earliest nextUpdate; ``None`` when there is no revocation data
    with a nextUpdate (nothing bounds how long it holds, so it is not cached)."""
    periods = list(validity)
    updates = list(next_updates)
    if not periods or not updates or any(u is None for u in updates):
        return None
    stale = min(u for u in updates if u is not None)
    start = max(p[0] for p in periods)
    end = min(min(p[1] for p in periods), stale)
    return Window(start, end, stale)


def _feed(h: hashlib._Hash, items: Iterable[bytes]) -> None:
    """Length-prefixed, so that no two different input lists hash the same stream."""
    for item in items:
        h.update(len(item).to_bytes(8, "big"))
        h.update(item)


__all__ = ["ChainCache", "DEFAULT_SIZE", "DEFAULT_TIME_STEP", "DEFAULT_TTL", "Window",
           "is_clean", "revocation_window", "window"]
