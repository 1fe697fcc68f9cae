"""End-to-end fixtures: a real Postfix on loopback with the gateway as its milter.

Mark Postfix test modules with ``pytestmark = pytest.mark.postfix`` and ask for ``mta``.
The tests are skipped (not failed) when not running as root or when Postfix, smtp-sink or
pymilter are missing.

One lab (``gateway.lab.Lab``) is started per test session (about 3 s) and shared by every
module; after each test the ``mta`` fixture puts it back in its default state (shipped rules,
gateway running), so a test that changes the rules or stops the gateway cannot leak into
the next one. Restarting the gateway costs about 5 s (libmilter's shutdown), so group tests
that need a rules override.

``mta`` (a :class:`gateway.lab.Lab`) offers:

``send(msg, sender, rcpts) -> (code, text)``
    Send over SMTP to the milter-enabled listener. ``msg`` is ``bytes`` or an
    ``EmailMessage``. Returns the final reply: ``(250, "2.0.0 Ok: queued as …")`` when
    accepted, else the first refusal (``(550, "5.7.1 …")``, ``(451, "4.…")``). Never raises on
    4xx/5xx. ``port=mta.notice_port`` sends through the listener without the milter.
``wait_delivered(message_id, timeout=30) -> bytes``
    The message as smtp-sink received it, once Postfix logged its delivery (LabError on
    timeout). ``message_id`` with or without angle brackets.
``delivered_queue_id(message_id)``, ``queue_ids_for(message_id)``
    Postfix queue ids from the mail log.
``held() -> list[str]``
    Queue ids in the hold queue (the milter's quarantine). ``queue()`` has every entry
    (``postqueue -j``), ``flush()`` retries deferred mail now.
``store()``
    The gateway's decision log (``gateway.audit.store.DecisionStore``), open for ``query``.
``stop_gateway()``, ``start_gateway()``, ``restart_gateway()``, ``gateway_running``, ``gateway_pid``
    Control the ``hople serve`` process (Postfix then tempfails: milter_default_action).
``set_rules(toml_text)``
    Restart the gateway with a rules override (``None``: shipped rules); the next test gets
    the shipped rules back automatically. A broken override raises LabError with the
    gateway's message (and leaves the gateway stopped).
``config_dir``, ``queue_dir``, ``sink_dir``, ``gateway_config``, ``store_url``
    Paths of this instance; ``maillog()`` and ``gateway_log()`` return the logs.
``notice_secret``
    The secret of the ``X-Hople-Notice`` marker the gateway was started with.
``smtp_port``, ``notice_port``, ``sink_port``
    The loopback ports.

``new_message`` builds a unique test message (see its docstring).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from email.message import EmailMessage

import pytest

from gateway.lab import Lab, unavailable_reason


@pytest.fixture(scope="session")
def _lab() -> Iterator[Lab]:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    lab = Lab(workers=2)
    lab.start()
    try:
        yield lab
    finally:
        lab.stop()


@pytest.fixture
def mta(_lab: Lab) -> Iterator[Lab]:
    """The shared Postfix lab with the shipped rules and a running gateway.

    The reset happens before each test (not after), so consecutive tests that each set their
    own rules restart the gateway once per test instead of twice."""
    if _lab.rules_text is not None:
        _lab.set_rules(None)
    elif not _lab.gateway_running:
        _lab.start_gateway()
    yield _lab


Attachment = tuple[str, bytes, str]
"""(file name, content, MIME type such as ``application/pdf``)."""


@pytest.fixture
def new_message() -> Callable[..., EmailMessage]:
    """``new_message(sender="a@…", to="b@…", subject="…", body="…", attachments=[(name, data,
    "type/subtype")], headers={…})`` → an EmailMessage with a fresh ``Message-ID``
    (read it back with ``msg["Message-ID"]``)."""

    def build(
        sender: str = "van-thu@stc.daknong.gov.vn",
        to: str = "ubnd@daknong.gov.vn",
        subject: str = "Thử nghiệm cổng kiểm tra",
        body: str = "Kính gửi: Văn phòng UBND tỉnh.\n",
        attachments: list[Attachment] | None = None,
        headers: dict[str, str] | list[tuple[str, str]] | None = None,
    ) -> EmailMessage:
        m = EmailMessage()
        m["From"] = sender
        m["To"] = to
        m["Subject"] = subject
        m["Message-ID"] = f"<{uuid.uuid4().hex}@lab.test>"
        items = headers.items() if isinstance(headers, dict) else (headers or [])
        for k, v in items:
            m[k] = v
        m.set_content(body)
        for name, data, mime in attachments or []:
            maintype, subtype = mime.split("/", 1)
            m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return m

    return build
