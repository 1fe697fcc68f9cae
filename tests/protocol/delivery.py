"""Send a message through the lab's milter listener and read back what Postfix delivered."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy
from email.message import EmailMessage

from gateway.lab import Lab, strip_sink_pseudo_headers


def deliver(mta: Lab, msg: EmailMessage, sender: str, rcpt: str) -> tuple[EmailMessage, bytes]:
    """Send ``msg``; it must be accepted (250). Returns it as delivered, parsed and raw."""
    code, text = mta.send(msg, sender, [rcpt])
    assert code == 250, text
    raw = mta.wait_delivered(msg["Message-ID"])
    got = message_from_bytes(raw, policy=policy.default)
    assert isinstance(got, EmailMessage)
    return got, raw


def report_header(got: EmailMessage) -> str:
    """The one ``X-Legal-Validity-Report`` header, white space removed (a folded code list
    reads ``A,B, C`` once unfolded)."""
    (report,) = got.get_all("X-Legal-Validity-Report") or []
    return re.sub(r"\s+", "", str(report))


def notices_about(mta: Lab, message_id: str) -> list[EmailMessage]:
    """Every message in the sink that replies to ``message_id`` (the gateway's notices)."""
    out = []
    for f in sorted(mta.sink_dir.iterdir()):
        msg = message_from_bytes(strip_sink_pseudo_headers(f.read_bytes()), policy=policy.default)
        if isinstance(msg, EmailMessage) and msg.get("In-Reply-To", "").strip() == message_id:
            out.append(msg)
    return out


def wait_notice_about(mta: Lab, message_id: str, timeout: float = 60) -> EmailMessage:
    """The first notice that replies to ``message_id``, once the sink has it."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = notices_about(mta, message_id)
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no notice about {message_id}: {mta.gateway_log()[-2000:]}")
