"""The auditors' report page shows uninspected messages in their own column."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.audit.factory import env, report
from tests.audit.test_audit_reports_uninspected import _uninspected_doc
from tests.web.conftest import Site
from tests.web.test_web_app import signed_in


def test_the_report_page_has_an_uninspected_column(site: Site) -> None:
    client = signed_in(site)
    r = report(_uninspected_doc("x.bin"))
    assert r.verdict.value == "uninspected"
    for day in (10, 11, 12):
        site.store.record(r, env("vanthu@snv.daknong.gov.vn"), action_taken="accept",
                          decided_at=datetime(2026, 3, day, 3, tzinfo=UTC))
    page = client.get("/reports?from=2026-01&to=2026-03").text
    assert "Chưa kiểm tra được" in page and "Uninspected" in page
    trend = page.split('id="trend-table"')[1].split("</table>")[0]
    march = trend.split("<td>2026-03</td>")[1].split("</tr>")[0]
    assert march.rstrip().endswith('<td class="n">3</td>'), march
