"""The monthly reports count ``uninspected`` messages (and uninspected parts) on their own:
not as valid, not lumped with invalid, in the figures, the CSV, the table, the HTML report
and the auditors' page."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from gateway.audit.html_report import html_report, trend_svg
from gateway.audit.records import Decision, decision_from_report
from gateway.audit.render import report_csv, report_table
from gateway.audit.reports import build_report, report_zone
from gateway.model.catalog import make_finding
from gateway.model.report import DocClass
from gateway.policy.agencies import load_agencies
from tests.audit.factory import doc, env, report

ICT = report_zone("Asia/Ho_Chi_Minh")
STTTT = "annv.stttt@daknong.gov.vn"


def _uninspected_doc(name: str):
    return doc(name, cls=DocClass.OTHER, findings=[make_finding(
        "PART_UNIDENTIFIED", place=name, name=name, media_type="application/octet-stream")])


def decisions() -> list[Decision]:
    items = [
        report(doc("a.docx", signed=True)),                              # valid
        report(doc("b.docx")),                                           # invalid
        report(doc("c.docx", signed=True), _uninspected_doc("d.bin")),   # uninspected
        report(_uninspected_doc("e.bin"), _uninspected_doc("f.bin")),    # uninspected
    ]
    return [decision_from_report(r, env(STTTT), action_taken=None, seq=i + 1,
                                 decided_at=datetime(2026, 3, 5 + i, 2, tzinfo=UTC))
            for i, r in enumerate(items)]


def test_uninspected_messages_and_parts_are_their_own_figures() -> None:
    assert [d.verdict for d in decisions()] == ["valid", "invalid", "uninspected", "uninspected"]
    rep = build_report(decisions(), load_agencies(), ["2026-03"], ICT)
    for row in (rep.agencies[0], rep.total, rep.trend[0]):
        assert (row.messages, row.uninspected, row.uninspected_parts) == (4, 2, 3)
        assert (row.documents, row.valid_documents, row.invalid_documents) == (3, 2, 1)
        assert (row.held, row.rejected) == (0, 0)


def test_uninspected_is_a_column_of_every_form() -> None:
    rep = build_report(decisions(), load_agencies(), ["2026-03"], ICT)
    rows = list(csv.reader(io.StringIO(report_csv(rep))))
    assert rows[0][-2:] == ["uninspected", "uninspected_parts"]
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert (total["uninspected"], total["uninspected_parts"]) == ("2", "3")
    text = report_table(rep)
    assert "UNINSPECTED" in text
    assert re.search(r"2026-03\s+4\s+3\s+66\.7\s+0\s+0\s+2", text)
    page = html_report(rep, datetime(2026, 4, 2, tzinfo=UTC))
    assert "Chưa kiểm tra được / uninspected" in page
    svg = trend_svg(rep)
    assert "2026-03: 3 uninspected documents" in svg and "2026-03: 1 invalid documents" in svg
