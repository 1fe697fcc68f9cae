"""Report figures on a known set of decisions, and their CSV, table and HTML forms."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from gateway.audit.html_report import html_report
from gateway.audit.records import Decision, decision_from_report
from gateway.audit.render import csv_safe, report_csv, report_table
from gateway.audit.reports import (
    ReportError,
    build_report,
    failure_codes,
    month_bounds,
    months_between,
    report_zone,
)
from gateway.model.report import DocClass
from gateway.policy.agencies import load_agencies, parse_agencies
from tests.audit.factory import doc, env, freemail_report, held_report, report

ICT = report_zone("Asia/Ho_Chi_Minh")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def known_set() -> list[Decision]:
    """Eight decisions in March 2026 (Vietnam time), one in February and one in April."""
    stttt, syt = "annv.stttt@daknong.gov.vn", "x.syt@lamdong.gov.vn"
    items = [
        # the first minute of March in Vietnam is still February in UTC
        (report(doc("a.docx", signed=True)), env(stttt), "2026-02-28T17:00:00+00:00"),
        (report(doc("b.docx", signed=True), doc("c.docx", signed=True)), env(stttt),
         "2026-03-05T09:00:00+07:00"),
        (report(doc("d.docx"), doc("e.pdf", cls=DocClass.NON_EDITABLE)), env(stttt),
         "2026-03-06T09:00:00+07:00"),
        (report(), env(stttt), "2026-03-07T09:00:00+07:00"),
        (held_report(), env(syt), "2026-03-08T09:00:00+07:00"),
        (freemail_report(), env("someone@gmail.com"), "2026-03-09T09:00:00+07:00"),
        (freemail_report("yahoo.com.vn"), env("b@yahoo.com.vn"), "2026-03-10T09:00:00+07:00"),
        (report(doc("f.docx"), doc("g.docx")), env("zz@daknong.gov.vn"),
         "2026-03-31T23:59:59+07:00"),
        # outside March
        (report(doc("h.docx")), env(stttt), "2026-02-28T16:59:59+00:00"),
        (report(doc("i.docx")), env(stttt), "2026-03-31T17:00:00+00:00"),
    ]
    return [
        decision_from_report(r, e, decided_at=at(t), action_taken=None, seq=i + 1)
        for i, (r, e, t) in enumerate(items)
    ]


def test_month_arithmetic() -> None:
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    start, end = month_bounds(["2026-03"], ICT)
    assert start.isoformat() == "2026-03-01T00:00:00+07:00"
    assert end.isoformat() == "2026-04-01T00:00:00+07:00"
    assert month_bounds(["2026-12"], ICT)[1].isoformat() == "2027-01-01T00:00:00+07:00"
    for bad in ("2026-13", "2026-3", "March", ""):
        with pytest.raises(ReportError):
            months_between(bad, bad)
    with pytest.raises(ReportError, match="ends before it starts"):
        months_between("2026-03", "2026-01")


def test_report_figures_per_agency() -> None:
    rep = build_report(known_set(), load_agencies(), ["2026-03"], ICT)
    rows = {r.code: r for r in rep.agencies}
    assert [r.code for r in rep.agencies] == ["stttt", "syt", "external", "unknown"]

    s = rows["stttt"]
    assert (s.messages, s.documents, s.valid_documents, s.invalid_documents) == (4, 5, 4, 1)
    assert s.valid_pct == 80.0
    assert (s.freemail_refusals, s.held, s.rejected) == (0, 0, 0)
    assert s.top_reasons() == [("EDITABLE_NOT_SIGNED", 1)]
    assert s.name == "Sở Thông tin và Truyền thông"

    y = rows["syt"]
    assert (y.messages, y.documents, y.valid_documents, y.held) == (1, 1, 0, 1)
    assert y.valid_pct == 0.0 and y.top_reasons() == [("INSPECTION_FAILED", 1)]

    x = rows["external"]
    assert (x.messages, x.documents, x.freemail_refusals, x.rejected) == (2, 2, 2, 2)
    assert x.top_reasons() == [("EDITABLE_NOT_SIGNED", 2), ("SENDER_FREEMAIL", 2)]

    u = rows["unknown"]
    assert (u.messages, u.documents, u.valid_documents) == (1, 2, 0)
    assert u.top_reasons() == [("EDITABLE_NOT_SIGNED", 2)]  # once per document

    t = rep.total
    assert (t.messages, t.documents, t.valid_documents) == (8, 10, 4)
    assert t.valid_pct == 40.0
    assert (t.freemail_refusals, t.held) == (2, 1)
    assert t.top_reasons(2) == [("EDITABLE_NOT_SIGNED", 5), ("SENDER_FREEMAIL", 2)]
    assert [(m.name, m.messages) for m in rep.trend] == [("2026-03", 8)]


def test_trend_over_a_range_includes_empty_months() -> None:
    months = months_between("2026-01", "2026-04")
    rep = build_report(known_set(), load_agencies(), months, ICT)
    assert [(m.name, m.messages, m.documents, m.valid_documents) for m in rep.trend] == [
        ("2026-01", 0, 0, 0), ("2026-02", 1, 1, 0), ("2026-03", 8, 10, 4),
        ("2026-04", 1, 1, 0)]
    assert rep.trend[0].valid_pct is None
    assert rep.total.messages == 10


def test_failure_codes_ignore_warnings_and_info() -> None:
    d = known_set()[2]  # unsigned docx (error) + pdf (info NON_EDITABLE_ACCEPTED or none)
    assert set(failure_codes(d)) == {"EDITABLE_NOT_SIGNED"}


def test_report_csv_and_table() -> None:
    rep = build_report(known_set(), load_agencies(), ["2026-03"], ICT)
    rows = list(csv.reader(io.StringIO(report_csv(rep))))
    assert rows[0] == ["agency", "agency_name", "messages", "documents", "valid_documents",
                       "valid_pct", "freemail_refusals", "held", "rejected", "top_reasons",
                       "uninspected", "uninspected_parts"]
    body = {r[0]: r for r in rows[1:]}
    assert body["stttt"][2:9] == ["4", "5", "4", "80.0", "0", "0", "0"]
    assert body["external"][6] == "2"
    assert body["total"][2:8] == ["8", "10", "4", "40.0", "2", "1"]
    assert body["total"][9] == "EDITABLE_NOT_SIGNED:5 SENDER_FREEMAIL:2 INSPECTION_FAILED:1"
    text = report_table(rep)
    assert "Sở Thông tin và Truyền thông" in text
    assert re.search(r"stttt\s+Sở Thông tin và Truyền thông\s+4\s+5\s+80\.0", text)
    assert re.search(r"2026-03\s+8\s+10\s+40\.0\s+2\s+1", text)


def test_html_report_is_self_contained_with_charts() -> None:
    months = months_between("2026-02", "2026-03")
    rep = build_report(known_set(), load_agencies(), months, ICT)
    page = html_report(rep, datetime(2026, 4, 2, tzinfo=UTC), source="sqlite")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 2 and page.count("</svg>") == 2
    lowered = page.lower()
    for forbidden in ("http://", "https://", "<script", "src=", "<link", "url(", "@import"):
        assert forbidden not in lowered
    assert "2026-03: 4 valid documents" in page  # trend bars
    assert "2026-03: 40.0% valid" in page  # trend line
    assert "Sở Thông tin và Truyền thông: EDITABLE_NOT_SIGNED × 2" in page  # reasons bars
    assert "SENDER_FREEMAIL" in page and "80.0" in page


def test_html_report_escapes_names() -> None:
    amap = parse_agencies({"domains": ["daknong.gov.vn"], "agency": [
        {"code": "x", "name": "<img onerror=alert(1)> & Co", "local": ["stttt"]}]}, "test")
    rep = build_report(known_set(), amap, ["2026-03"], ICT)
    page = html_report(rep, datetime(2026, 4, 2, tzinfo=UTC))
    assert "<img" not in page
    assert "&lt;img onerror=alert(1)&gt; &amp; Co" in page


def test_html_report_without_mail() -> None:
    rep = build_report([], load_agencies(), ["2026-03"], ICT)
    page = html_report(rep, datetime(2026, 4, 2, tzinfo=UTC))
    assert page.count("<svg") == 2 and "No failures in this period." in page
    assert rep.total.valid_pct is None


def test_csv_cells_cannot_become_formulas() -> None:
    assert csv_safe("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert csv_safe("+1") == "'+1" and csv_safe("@a") == "'@a" and csv_safe("-x") == "'-x"
    assert csv_safe("a=b") == "a=b" and csv_safe(5) == 5
