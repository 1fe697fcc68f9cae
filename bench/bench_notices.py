"""Notice costs on the milter's path, as ratios against the decision-log append measured in
the same run (the milter pays that append for every message anyway):

- render: rendering one notice (three documents, Vietnamese and English) from its report;
- queue: what the engine adds for a delivered-invalid message: render, the rate-limit count
  and the insert into ``notice_outbox`` (one write transaction on SQLite);
- claim+mark: the sender's bookkeeping per notice (claim, mark sent), without SMTP.
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gateway.audit.store import open_store
from gateway.model.catalog import make_finding
from gateway.model.envelope import Envelope
from gateway.model.findings import Action
from gateway.model.report import DocClass, DocumentReport, DocVerdict, MessageReport, Verdict
from gateway.notices.outbox import Outbox, new_message_id
from gateway.notices.render import NoticeFacts, render_notice
from gateway.notices.service import NoticeRules, templates_for

N = 200
AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _report() -> MessageReport:
    def doc(name: str, code: str) -> DocumentReport:
        return DocumentReport(path=name, sha256="0" * 64, size=1000, media_type="x/y",
                              doc_class=DocClass.EDITABLE, verdict=DocVerdict.INVALID,
                              findings=(make_finding(code, name=name),))

    return MessageReport(input="Q", kind="message", verdict=Verdict.INVALID, action=Action.ACCEPT,
                         documents=(doc("Kế hoạch.docx", "EDITABLE_NOT_SIGNED"),
                                    doc("Báo cáo.pdf", "PDF_BORN_DIGITAL_UNSIGNED"),
                                    doc("Tờ trình.xlsx", "EDITABLE_NOT_SIGNED")))


def main() -> None:
    templates = templates_for(NoticeRules())
    report = _report()
    headers = [("Subject", b"=?utf-8?q?B=C3=A1o_c=C3=A1o?="), ("Message-ID", b"<m@x>")]
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'd.db'}"
        store = open_store(url)
        box = Outbox(open_store(url))
        try:
            started = time.perf_counter()
            for i in range(N):
                env = Envelope(sender=f"s{i}@daknong.gov.vn", recipients=("r@x.gov.vn",),
                               queue_id=f"Q{i}")
                store.record(report, env, decided_at=AT + timedelta(seconds=i))
            record = (time.perf_counter() - started) / N

            facts = NoticeFacts.from_message(Envelope(sender="a@daknong.gov.vn", queue_id="Q"),
                                             headers, decision_id=1, decided_at=AT)
            started = time.perf_counter()
            for _ in range(N):
                render_notice(templates, "invalid", report, facts)
            render = (time.perf_counter() - started) / N

            started = time.perf_counter()
            for i in range(N):
                n = render_notice(templates, "invalid", report, facts)
                box.enqueue(kind="invalid", recipient=f"s{i % 20}@daknong.gov.vn",
                            subject=n.subject, body=n.body, message_id=new_message_id("gw"),
                            now=AT + timedelta(seconds=i), rate_limit=10)
            queue = (time.perf_counter() - started) / N

            started = time.perf_counter()
            done = 0
            while True:
                got = box.claim_due(AT + timedelta(hours=1), limit=20)
                if not got:
                    break
                for e in got:
                    box.mark_sent(e.id, AT)
                done += len(got)
            mark = (time.perf_counter() - started) / max(done, 1)
        finally:
            store.close()
            box.store.close()
    print(f"   baseline decision-log append: {record * 1000:.2f} ms per message")
    print(f"   render notice:      {render / record:.2f} x the append ({render * 1000:.2f} ms)")
    print(f"   queue notice:       {queue / record:.2f} x the append ({queue * 1000:.2f} ms)")
    print(f"   claim + mark sent:  {mark / record:.2f} x the append ({mark * 1000:.2f} ms)")


if __name__ == "__main__":
    main()
