"""``/decisions`` (search with paging), ``/decisions/<id>`` and ``/export.csv``."""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request

from gateway.audit import render
from gateway.audit.records import Decision, format_time
from gateway.audit.reports import decision_agency_address
from gateway.audit.store import StoreError
from gateway.audit.web.config import MAX_PAGE
from gateway.audit.web.filters import FilterError, Filters, parse_filters, raw_filters
from gateway.audit.web.state import AppState, refuse, state

__all__ = ["bp"]

log = logging.getLogger("hople.web")

bp = Blueprint("decisions", __name__)

MAX_ID = 2**63 - 1
"""Largest decision number (a 64-bit key in both stores)."""


def matching_ids(st: AppState, f: Filters) -> list[int]:
    """Ids of decisions in the agency filter, newest first (the agency is resolved at
    read time from the agency map, so this walks the filtered log)."""
    ids = [d.id for d in st.store.iter_query(**f.store_args()) if st.agency_of(d) == f.agency]
    ids.reverse()
    return ids


def _page(args: Any) -> int:
    try:
        page = max(1, int(args.get("page") or 1))
    except ValueError:
        raise FilterError("page: không phải số / not a number") from None
    if page > MAX_PAGE:
        raise FilterError(f"chỉ xem được {MAX_PAGE} trang đầu; hãy thu hẹp bộ lọc / "
                          f"only the first {MAX_PAGE} pages: narrow the filter")
    return page


@bp.route("/")
def index() -> Any:
    return redirect("/decisions", code=303)


@bp.route("/decisions")
def decisions() -> Any:
    st = state()
    error = None
    rows: list[Decision] = []
    total = 0
    page = 1
    try:
        f = parse_filters(request.args, st.config.agencies, st.config.zone)
        page = _page(request.args)
    except FilterError as exc:
        f = Filters(raw=raw_filters(request.args))
        error = str(exc)
    size = st.config.page_size
    if error is None:
        g.event = "search"
        offset = (page - 1) * size
        if f.agency is None:
            total = st.store.count(**f.store_args())
            rows = st.store.query(**f.store_args(), limit=offset + size)[offset:]
        else:
            ids = matching_ids(st, f)
            total = len(ids)
            rows = [d for d in (st.store.get(i) for i in ids[offset:offset + size]) if d]
    else:
        g.event = "search-refused"
    pages = max(1, -(-total // size))
    body = render_template(
        "decisions.html", rows=rows, total=total, page=page, pages=min(pages, MAX_PAGE),
        filters=dict(f.raw), error=error, agency_of=st.agency_of,
        codes=lambda d: list(dict.fromkeys(d.codes)),
        page_link=lambda p: "/decisions?" + f.query(page=p),
        export_link="/export.csv?" + f.query(),
        changed=request.args.get("changed") == "1",
    )
    return Response(body, status=400 if error else 200, mimetype="text/html")


@bp.route("/decisions/<int:decision_id>")
def decision(decision_id: int) -> Any:
    st = state()
    if decision_id > MAX_ID:
        return refuse(400, f"Số quyết định quá lớn: {decision_id}.",
                      f"No such decision number: {decision_id} is out of range.", "not-found")
    d = st.store.get(decision_id)
    if d is None:
        return refuse(404, f"Không có quyết định số {decision_id}.",
                      f"No decision {decision_id}.", "not-found")
    g.event = "decision"
    agency = st.config.agencies.resolve(decision_agency_address(d))
    return render_template("decision.html", d=d, agency=agency, texts=render.catalog_texts,
                           utc=format_time(d.decided_at))


@bp.route("/export.csv")
def export() -> Any:
    st = state()
    try:
        f = parse_filters(request.args, st.config.agencies, st.config.zone)
    except FilterError as exc:
        return refuse(400, str(exc), "Bad filter.", "export-refused")
    g.event = "export"

    def generate() -> Iterator[str]:
        buf = io.StringIO()
        w = render.csv_writer(buf)
        buf.write("\ufeff")  # so that spreadsheet programs read the file as UTF-8
        w.writerow(render.QUERY_COLUMNS)
        try:
            for d in st.store.iter_query(**f.store_args()):
                if f.agency is not None and st.agency_of(d) != f.agency:
                    continue
                w.writerow(render.decision_csv_row(d, st.config.agencies))
                if buf.tell() > 64 * 1024:
                    yield buf.getvalue()
                    buf.seek(0)
                    buf.truncate()
        except StoreError as exc:
            # the headers are gone already: end the file with a line that says why it
            # stops here rather than a silently short export
            log.error("export: %s", exc)
            w.writerow([f"ERROR: {exc}"])
        yield buf.getvalue()

    stamp = st.now().astimezone(st.config.zone).strftime("%Y%m%d-%H%M%S")
    # the first piece is made before the status is sent: a query that cannot start ends
    # in an error page (and its status in the access log), not in a cut file marked 200
    chunks = generate()
    first = next(chunks)
    resp = Response(itertools.chain([first], chunks), mimetype="text/csv")
    resp.headers["Content-Type"] = "text/csv; charset=utf-8"
    resp.headers["Content-Disposition"] = f'attachment; filename="hople-decisions-{stamp}.csv"'
    return resp
