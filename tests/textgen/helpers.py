"""Shared helpers of the text tests: a context with the shipped rules, documents,
messages, and the system converters (iconv, recode) as independent references."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

from gateway.inspect.base import InspectContext
from gateway.inspect.text.inspector import inspect_text
from gateway.inspect.text.message import check_message
from gateway.intake.mime import Walker
from gateway.intake.sniff import classify, sniff
from gateway.model.document import Document
from gateway.model.findings import Finding
from gateway.policy.load import load_policy


@lru_cache(maxsize=1)
def policy():
    return load_policy()


def ctx(**text_overrides) -> InspectContext:
    opts = policy().options()
    if text_overrides:
        opts = dict(opts)
        opts["text"] = {**opts["text"], **text_overrides}
    return InspectContext(at=datetime(2026, 1, 1, tzinfo=UTC), options=opts)


def inspect_doc(name: str, data: bytes, **overrides) -> tuple[list[Finding], dict]:
    media, fmt = sniff(data, name)
    doc = Document(name, name, data, media, fmt, classify(fmt))
    r = inspect_text(doc, ctx(**overrides))
    return list(r.findings), dict(r.facts)


def parse(raw: bytes):
    p = policy()
    return Walker(p.rules.limits, p.rules.documents).walk_message(io.BytesIO(raw))


def message_findings(raw: bytes, **overrides) -> list[Finding]:
    return check_message(parse(raw), ctx(**overrides))


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def raw_message(body: bytes, *, charset: str | None = "utf-8", subject: str = "Thông báo",
                subtype: str = "plain", subject_raw: str | None = None,
                attachments: Sequence[tuple[str, bytes]] = ()) -> bytes:
    """A message with a body in the given bytes and declared charset (no re-encoding)."""
    ct = f"text/{subtype}" + (f"; charset={charset}" if charset else "")
    head = [
        "From: vp@daknong.gov.vn",
        "To: stttt@daknong.gov.vn",
        f"Subject: {subject_raw if subject_raw is not None else _encode_subject(subject)}",
        "MIME-Version: 1.0",
    ]
    if not attachments:
        head.append(f"Content-Type: {ct}")
        head.append("Content-Transfer-Encoding: 8bit")
        return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body
    import base64
    import email.utils

    b = "BOUNDARY-text-tests"
    head.append(f'Content-Type: multipart/mixed; boundary="{b}"')
    out = ("\r\n".join(head) + "\r\n\r\n").encode("ascii")
    out += (f"--{b}\r\nContent-Type: {ct}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n".encode()
            + body + b"\r\n")
    for name, data in attachments:
        fname = email.utils.encode_rfc2231(name, "utf-8")
        out += (f"--{b}\r\nContent-Type: application/octet-stream\r\n"
                f"Content-Disposition: attachment; filename*={fname}\r\n"
                "Content-Transfer-Encoding: base64\r\n\r\n").encode()
        out += base64.encodebytes(data).replace(b"\n", b"\r\n")
    out += f"--{b}--\r\n".encode()
    return out


def _encode_subject(s: str) -> str:
    from email.header import Header

    return Header(s, "utf-8").encode() if not s.isascii() else s


def have(tool: str) -> bool:
    return shutil.which(tool) is not None


def iconv(data: bytes, src: str, dst: str) -> bytes | None:
    """glibc iconv; None when it refuses the input."""
    r = subprocess.run(["iconv", "-f", src, "-t", dst], input=data, capture_output=True)
    return r.stdout if r.returncode == 0 else None


def recode(data: bytes, request: str) -> bytes:
    r = subprocess.run(["recode", "-f", request], input=data, capture_output=True)
    return r.stdout
