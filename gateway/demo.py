"""``python -m gateway.demo`` (``make demo``): the gateway in a private Postfix, with sample mail.

Starts Postfix on loopback ports with the gateway as its milter and a local sink (see
``gateway.lab``), sends a handful of generated messages, prints what happened to each (the
SMTP reply, and the verdict headers of what was delivered), prints the decision log, and
stops everything. Needs root and the packages installed by ``scripts/bootstrap.sh``.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import sys
import textwrap
import time
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage

AGENCY = "vanthu.stc@daknong.gov.vn"  # Article 5.1: <mailbox>.<agency>@ the provincial domain
RECIPIENT = "ubnd@daknong.gov.vn"


# -- sample documents ------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _page_image(width: int = 620, height: int = 877) -> bytes:
    """Grey pixels of a scanned page: paper, dark 'text' lines, a little noise."""
    import random

    noise = random.Random(125).randbytes(width * height)
    paper = bytes(228 if b < 8 else 240 for b in range(256))            # specks
    ink = bytes(40 if b < 90 else 228 if b < 98 else 240 for b in range(256))  # ~35 % dark
    rows = []
    for y in range(height):
        row = noise[y * width:(y + 1) * width]
        if 80 < y < height - 120 and (y // 14) % 2 == 0 and y % 14 > 3:
            rows.append(row[:70].translate(paper) + row[70:width - 70].translate(ink)
                        + row[width - 70:].translate(paper))
        else:
            rows.append(row.translate(paper))
    return b"".join(rows)


@functools.lru_cache(maxsize=8)
def sample_pdf(scanned: bool = True, text: str = "Cong van so 125/STC-NS") -> bytes:
    """A small, well-formed one-page PDF: by default a scan (one grey image covering the
    page, no text); ``scanned=False`` gives a software-made page with a line of text."""
    if scanned:
        w, h = 620, 877
        image = zlib.compress(_page_image(w, h), 9)
        content = b"q 595 0 0 842 0 0 cm /Im1 Do Q"
        resources = b"/Resources << /XObject << /Im1 5 0 R >> >>"
        extra = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace "
                 b"/DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n"
                 % (w, h, len(image)) + image + b"\nendstream")
    else:
        content = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode("latin-1")
        resources = b"/Resources << /Font << /F1 5 0 R >> >>"
        extra = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    stream = zlib.compress(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] " + resources
        + b" /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream
        + b"\nendstream",
        extra,
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, xref))
    return out.getvalue()


def sample_docx(text: str = "Kế hoạch triển khai năm 2025") -> bytes:
    """An unsigned Word document (python-docx)."""
    import docx

    d = docx.Document()
    d.add_heading("ỦY BAN NHÂN DÂN TỈNH ĐẮK NÔNG", level=1)
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def filler(size: int) -> bytes:
    """``size`` bytes that do not compress (so nothing below shrinks them)."""
    import random

    return random.Random(size).randbytes(size)


def message(sender: str, subject: str, body: str,
            attachments: Sequence[tuple[str, bytes, str]] = ()) -> EmailMessage:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = RECIPIENT
    m["Subject"] = subject
    m["Message-ID"] = f"<{uuid.uuid4().hex}@demo.hople>"
    m.set_content(body)
    for name, data, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass
class Sample:
    title: str
    msg: EmailMessage
    sender: str


def samples() -> list[Sample]:
    return [
        Sample("1. Text only, from an agency mailbox",
               message(AGENCY, "Lịch họp giao ban tuần", "Kính gửi các phòng: lịch họp thứ Hai.\n"),
               AGENCY),
        Sample("2. A PDF (non-editable, Article 9.2b), from an agency mailbox",
               message(AGENCY, "Công văn số 125/STC-NS", "Gửi kèm công văn.\n",
                       [("Công văn 125-STC-NS.pdf", sample_pdf(), "application/pdf")]),
               AGENCY),
        Sample("3. A DOCX from a free mailbox (Article 9.4)",
               message("nguyen.van.a@gmail.com", "Báo cáo", "Gửi báo cáo.\n",
                       [("Báo cáo.docx", sample_docx(), DOCX)]),
               "nguyen.van.a@gmail.com"),
        Sample("4. A 26 MiB attachment (Article 5.2: at most 25 MB per file)",
               message(AGENCY, "Hồ sơ quét", "Gửi hồ sơ.\n",
                       [("Hồ sơ.pdf", sample_pdf() + filler(26 * 1024 * 1024), "application/pdf")]),
               AGENCY),
        Sample("5. An unsigned DOCX from an agency mailbox (Article 9.2a)",
               message(AGENCY, "Kế hoạch năm 2025", "Gửi kế hoạch.\n",
                       [("Kế hoạch 2025.docx", sample_docx(), DOCX)]),
               AGENCY),
    ]


# -- running ---------------------------------------------------------------------------------


def _print(text: str = "") -> None:
    print(text, flush=True)


def _wrap(text: str, indent: str = "      ") -> str:
    return textwrap.fill(" ".join(text.split()), width=100, initial_indent=indent,
                         subsequent_indent=indent)


def _reply_text(text: str) -> str:
    """A multi-line reply as one paragraph (Postfix repeats the status on every line)."""
    lines = text.splitlines()
    if len(lines) > 1:
        status = lines[0].split(" ", 1)[0]
        lines = [lines[0]] + [ln[len(status) + 1:] if ln.startswith(status + " ") else ln
                              for ln in lines[1:]]
    return " ".join(lines)


def _audit_table(lab: object) -> None:
    """The decision log through ``hople audit query`` when that command exists, else a
    table printed here from the store."""
    import subprocess

    cmd = [sys.executable, "-m", "gateway", "audit", "query", "--config",
           str(lab.gateway_config)]  # type: ignore[attr-defined]
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        cp = None
    if cp is not None and cp.returncode == 0 and cp.stdout.strip():
        _print(cp.stdout.rstrip())
        return
    rows = lab.store().query(oldest_first=True)  # type: ignore[attr-defined]
    _print(f"  {'time (UTC)':19}  {'queue id':12}  {'sender':28}  {'verdict':12}  "
           f"{'action':16}  codes")
    for d in rows:
        _print(f"  {d.decided_at.strftime('%Y-%m-%d %H:%M:%S'):19}  {(d.queue_id or '-'):12}  "
               f"{(d.sender or '-')[:28]:28}  {d.verdict:12}  {(d.action_taken or d.action):16}  "
               f"{','.join(dict.fromkeys(d.codes)) or '-'}")


def run() -> int:
    from gateway.lab import Lab, LabError, unavailable_reason

    reason = unavailable_reason()
    if reason is None and importlib.util.find_spec("docx") is None:
        reason = ("python-docx is not installed (the demo writes a Word document): "
                  "pip install -e '.[demo]'")
    if reason:
        print(f"demo: {reason}", file=sys.stderr)
        return 2
    _print("Starting a private Postfix on loopback with the gateway as its milter…")
    started = time.monotonic()
    try:
        lab = Lab(workers=2)
        lab.start()
    except LabError as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return 1
    try:
        _print(f"  Postfix 127.0.0.1:{lab.smtp_port} → gateway (unix socket) → sink "
               f"127.0.0.1:{lab.sink_port}  ({time.monotonic() - started:.1f} s)")
        for s in samples():
            _print()
            _print(s.title)
            mid = s.msg["Message-ID"]
            code, text = lab.send(s.msg, s.sender, [RECIPIENT])
            _print(f"  SMTP reply: {code}")
            _print(_wrap(_reply_text(text)))
            if code == 250:
                try:
                    raw = lab.wait_delivered(mid, timeout=60)
                except LabError as exc:
                    _print(f"  not delivered: {exc}")
                    continue
                got = message_from_bytes(raw, policy=policy.default)
                _print("  delivered with:")
                for name in ("X-Legal-Validity", "X-Legal-Validity-Report"):
                    for value in got.get_all(name) or []:
                        _print(_wrap(f"{name}: {value}", indent="    "))
            else:
                _print("  not delivered: the sending server keeps the message and tells its user")
        _print()
        _print("Decision log:")
        _audit_table(lab)
    finally:
        _print()
        _print("Stopping Postfix, the gateway and the sink…")
        lab.stop()
    _print("Done.")
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
