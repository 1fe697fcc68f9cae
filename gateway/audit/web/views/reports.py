"""``/reports`` (monthly trend and failure reasons per agency) and ``/verify`` (the
tamper-evident chain)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, render_template, request
from markupsafe import Markup

from gateway.audit.html_report import reasons_svg, trend_svg
from gateway.audit.reports import (
    ReportError,
    build_report,
    month_bounds,
    month_key,
    months_between,
)
from gateway.audit.web.config import MAX_REPORT_MONTHS
from gateway.audit.web.state import state

__all__ = ["bp"]

bp = Blueprint("reports", __name__)


@bp.route("/reports")
def reports() -> Any:
    st = state()
    zone = st.config.zone
    current = month_key(st.now(), zone)
    start = int(current[:4]) * 12 + int(current[5:]) - 1 - 5  # six months to this one
    first_default = f"{start // 12:04d}-{start % 12 + 1:02d}"
    first = (request.args.get("from") or first_default).strip()
    last = (request.args.get("to") or current).strip()
    error = None
    report = None
    try:
        months = months_between(first, last, max_months=MAX_REPORT_MONTHS)
        since, until = month_bounds(months, zone)
        report = build_report(st.store.iter_query(since=since, until=until),
                              st.config.agencies, months, zone)
    except ReportError as exc:
        error = str(exc)
    g.event = "report" if error is None else "report-refused"
    body = render_template(
        "reports.html", report=report, error=error, first=first[:7], last=last[:7],
        trend_svg=Markup(trend_svg(report)) if report else None,
        reasons_svg=Markup(reasons_svg(report)) if report else None,
        pct=lambda v: "–" if v is None else f"{v:.1f}",
    )
    return Response(body, status=400 if error else 200, mimetype="text/html")


@bp.route("/verify")
def verify() -> Any:
    result, when = state().verify_cache.get(request.args.get("fresh") == "1")
    g.event = "verify"
    return render_template("verify.html", result=result, checked_at=when)
