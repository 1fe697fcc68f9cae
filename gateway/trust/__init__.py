"""Trust anchors, certificate chains and revocation (the only network I/O besides notices).

``build_engine`` reads configured directories into a :class:`TrustEngine`;
``engine_for_check`` does it from the rules' ``[trust]`` section plus ``--trust`` dirs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.trust.cache import ChainCache
from gateway.trust.engine import TrustEngine, build_engine

log = logging.getLogger(__name__)


def _dirs(values: Any) -> list[Path]:
    return [Path(v).expanduser() for v in (values or ())]


def engine_from_rules(trust: Any, extra_dirs: Sequence[Path] = (), *,
                      allow_fetch: bool | None = None) -> TrustEngine:
    """An engine from a ``[trust]`` rules section (``gateway.policy.schema.Trust``).

    Configured directories that do not exist are reported in ``engine.problems`` (an
    engine without anchors trusts nothing and says so in its findings).
    """
    fetch = trust.fetch_during_check and trust.allow_network
    if allow_fetch is not None:
        fetch = allow_fetch
    crl_dirs = [Path(trust.crl_cache).expanduser()] if trust.crl_cache else []
    return build_engine(
        _dirs(trust.anchors) + [Path(d) for d in extra_dirs],
        _dirs(trust.intermediates),
        crl_dirs,
        allow_fetch=fetch,
        revocation_unknown=trust.revocation_unknown,
        check_intermediates=trust.check_intermediates,
        weak_hashes=trust.weak_hash_algorithms,
        fetch_timeout=trust.fetch_timeout_seconds,
        cache=ChainCache(trust.chain_cache_size, trust.chain_cache_seconds,
                         trust.chain_cache_time_step_seconds),
    )


def engine_for_check(policy: Any, extra_dirs: list[Path]) -> TrustEngine | None:
    """The trust engine for ``hople check``: configured anchors plus ``--trust`` dirs.

    Returns an engine even when no anchor is configured: it then answers
    ``trust: unknown`` with a TRUST_NO_ANCHORS finding, which tells the operator what to do.
    """
    trust = getattr(policy.rules, "trust", None)
    if trust is None:  # rules without a [trust] section: only the --trust dirs
        return build_engine([Path(d) for d in extra_dirs])
    return engine_from_rules(trust, extra_dirs)


__all__ = ["TrustEngine", "build_engine", "engine_for_check", "engine_from_rules"]
