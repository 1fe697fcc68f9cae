"""How ``hople web`` is served: waitress with limits chosen for running behind a TLS reverse
proxy on loopback, where the proxy holds the slow clients and forwards whole requests.

- ``connection_limit`` 1000 (waitress's default is 100) with ``poll()`` instead of
  ``select()`` (whose descriptor set stops at 1024): a hundred idle or half-sent
  connections no longer take the page away from everyone; the unit allows 4096 descriptors.
- ``channel_timeout`` 30 s, checked every 5 s (``cleanup_interval``): a connection that sends
  nothing for 30 s — a request left half-sent, an idle keep-alive — is closed, so slots taken
  by a stalled client come back within 35 s.
- ``max_request_header_size`` 16 KiB and ``max_request_body_size`` 64 KiB: the largest form
  is a login or password form (Flask refuses more than 64 KiB too; waitress would otherwise
  buffer up to 1 GiB of body to disk before the application sees it).
- ``backlog`` 1024: connections waiting to be accepted while the limit is reached.

Idle connections do not hold worker threads (waitress hands a request to a thread only once
it has been received whole), so these settings bound descriptors and memory, not threads.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SERVER_OPTIONS", "create_server"]

SERVER_OPTIONS: dict[str, Any] = {
    "connection_limit": 1000,
    "asyncore_use_poll": True,
    "channel_timeout": 30,
    "cleanup_interval": 5,
    "max_request_header_size": 16 * 1024,
    "max_request_body_size": 64 * 1024,
    "backlog": 1024,
    "ident": "hople",
    # X-Forwarded-For is read by the app itself, only from --trusted-proxy addresses
    "clear_untrusted_proxy_headers": False,
}


def create_server(app: Any, host: str, port: int, *, threads: int = 4, https: bool = False,
                  **overrides: Any) -> Any:
    """A waitress server for ``app`` on ``host:port`` with :data:`SERVER_OPTIONS` (a test may
    override one, e.g. a shorter timeout)."""
    import waitress

    options = {**SERVER_OPTIONS, **overrides}
    make = waitress.create_server  # type: ignore[attr-defined]
    return make(app, host=host, port=port, threads=threads,
                url_scheme="https" if https else "http", **options)
