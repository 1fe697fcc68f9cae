"""When a sender must not get a notice (RFC 3834 section 2, and loops of our own).

A notice is an automatic reply, so it is never sent to the null sender (bounces), to
mailing lists (``List-Id``, ``List-Unsubscribe`` and the other RFC 2369/2919 headers,
``Precedence: list/bulk/junk``), to automatically generated mail (``Auto-Submitted`` with any
value but ``no``; Microsoft's ``X-Auto-Response-Suppress``), to list and daemon addresses
(``owner-…``, ``…-request``, ``MAILER-DAEMON``, no-reply boxes), to a message that carries an
``X-Hople-Notice`` header at all (a notice of another gateway or a forged one: answering it
could start a loop), or to the gateway's own address.
"""

from __future__ import annotations

from collections.abc import Iterable

from gateway.notices.marker import HEADER as MARKER_HEADER
from gateway.notices.render import Headers, header_value

LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Subscribe", "List-Help",
                "List-Owner", "List-Archive")
BULK_PRECEDENCE = frozenset({"list", "bulk", "junk"})
DAEMON_LOCALS = frozenset({"mailer-daemon", "postmaster-daemon", "noreply", "no-reply",
                           "no_reply", "donotreply", "do-not-reply", "do_not_reply"})
MS_SUPPRESS = frozenset({"all", "autoreply", "oof"})


def _local_part(address: str) -> str:
    return address.rsplit("@", 1)[0].lower() if "@" in address else address.lower()


def _domain(address: str) -> str:
    return address.rsplit("@", 1)[1].lower().rstrip(".") if "@" in address else ""


def in_domains(address: str, domains: Iterable[str]) -> bool:
    """``a@x.example.vn`` is in ``example.vn`` (subdomains count)."""
    d = _domain(address)
    for dom in domains:
        dom = dom.strip().lstrip("@").rstrip(".").lower()
        if dom and (d == dom or d.endswith("." + dom)):
            return True
    return False


def suppression_reason(
    sender: str | None,
    headers: Headers,
    *,
    own_addresses: Iterable[str] = (),
    sender_domains: Iterable[str] = (),
) -> str | None:
    """Why no notice may go to ``sender`` (the envelope sender) for this message, or None.

    ``sender_domains``: when not empty, only senders in these domains (or their subdomains)
    are notified: the province's own agencies, never a forged outside address.
    """
    addr = (sender or "").strip().strip("<>")
    if not addr:
        return "null sender"
    if "@" not in addr:
        return f"sender {addr!r} is not an address"
    local = _local_part(addr)
    if local in DAEMON_LOCALS or local.startswith("owner-") or local.endswith(
            ("-request", "-owner", "-bounces")):
        return f"sender {addr} is a list or daemon address"
    if addr.lower() in {a.strip().lower() for a in own_addresses if a}:
        return "the sender is the gateway itself"
    if header_value(headers, MARKER_HEADER) is not None:
        return f"the message carries {MARKER_HEADER} (a gateway notice)"
    auto = header_value(headers, "Auto-Submitted")
    if auto is not None:
        keyword = auto.split(";", 1)[0].split("(", 1)[0].strip().lower()
        if keyword != "no":
            return f"Auto-Submitted: {keyword or '(empty)'}"
    precedence = header_value(headers, "Precedence")
    if precedence is not None and precedence.split(";", 1)[0].strip().lower() in BULK_PRECEDENCE:
        return f"Precedence: {precedence.strip().lower()}"
    for name in LIST_HEADERS:
        if header_value(headers, name) is not None:
            return f"mailing list ({name})"
    ms = header_value(headers, "X-Auto-Response-Suppress")
    if ms is not None:
        values = {v.strip().lower() for v in ms.split(",")}
        if values & MS_SUPPRESS:
            return f"X-Auto-Response-Suppress: {ms.strip()}"
    domains = [d for d in sender_domains if d.strip()]
    if domains and not in_domains(addr, domains):
        return f"sender domain {_domain(addr)} is not in notices.sender-domains"
    return None


__all__ = ["LIST_HEADERS", "in_domains", "suppression_reason"]
