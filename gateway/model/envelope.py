"""What the MTA tells the gateway about a message (empty for an offline check)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Envelope:
    sender: str | None = None
    """MAIL FROM address; ``""`` for the null sender; ``None`` when not known (offline)."""
    recipients: tuple[str, ...] = ()
    client_addr: str | None = None
    client_name: str | None = None
    sasl_user: str | None = None
    queue_id: str | None = None
    message_id: str | None = None
    from_header: str | None = None
