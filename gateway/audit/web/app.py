"""The auditors' web page: a read-only view of the decision log behind a login (WSGI, Flask).

Pages (Vietnamese first, English labels):

- ``/decisions``: search and filter (since/until, sender, domain, agency, verdict, queue id)
  with paging; ``/decisions/<id>``: one decision with its documents, signatures and
  findings (code, article, Vietnamese and English texts);
- ``/reports``: monthly charts and tables (the same figures as ``hople audit report``);
- ``/export.csv``: the current filter as CSV, the columns of ``hople audit query --csv``;
- ``/verify``: the tamper-evident chain's status;
- ``/password``, ``/login``, ``/logout``;
- ``/metrics``: Prometheus text, without login but only from the configured addresses.

Nothing is shown that the command line would not show: envelope metadata, verdicts,
finding codes, file names, digests and signature summaries; the log holds no bodies.

Security: server-side sessions in a signed, HttpOnly, SameSite=Strict cookie with idle and
absolute expiry; a CSRF token on every POST (login included) and an Origin check; forced
password change at first login; account lockout and a per-address throttle on failed
logins; a Content-Security-Policy without any script, ``X-Frame-Options: DENY`` and no
caching of pages. Every request (but static files and allowed metrics scrapes) is written
to the access log with the user, time, address, page and filter.
"""

from __future__ import annotations

import io
import logging
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Callable, Iterator
from urllib.parse import urlencode

from flask import Flask, Response, g, redirect, render_template, request
from markupsafe import Markup

from gateway.audit import render
from gateway.policy.agencies import AgencyMap
from gateway.audit.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gateway.audit.metrics import LogMetrics
from gateway.audit.records import Decision, format_time
from gateway.audit.reports import (
    ReportError,
    build_report,
    decision_agency_address,
    month_bounds,
    month_key,
    months_between,
)
from gateway.audit.store import DecisionStore, StoreError
from gateway.audit.users import (
    AccountError,
    Accounts,
    LockoutPolicy,
    PasswordRuleError,
    SessionPolicy,
    password_problems,
)
from gateway.audit.web.security import (
    Network,
    Throttle,
    address_allowed,
    client_address,
    login_csrf_token,
    parse_networks,
    same,
    security_headers,
    sign,
    unsign,
)

__all__ = ["WebConfig", "create_app"]

log = logging.getLogger("hople.web")

HERE = Path(__file__).resolve().parent
VERDICTS = ("valid", "invalid", "rejected", "held", "no-documents", "uninspected",
            "unchecked")
VERDICT_VI = {"valid": "Hợp lệ", "invalid": "Không hợp lệ", "rejected": "Từ chối",
              "held": "Tạm giữ", "no-documents": "Không có văn bản",
              "uninspected": "Chưa kiểm tra được",
              "unchecked": "Chưa kiểm tra"}
SESSION_COOKIE = "hople_session"
PRE_COOKIE = "hople_pre"
MAX_PAGE = 200
"""Deepest page of a listing (narrow the filter to see older decisions)."""
MAX_REPORT_MONTHS = 24
PUBLIC = {"login", "static", "metrics"}


@dataclass
class WebConfig:
    agencies: AgencyMap
    zone: tzinfo
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    """Signs cookies and login CSRF tokens. Random by default (sessions end at restart)."""
    metrics_allow: tuple[Network, ...] = field(
        default_factory=lambda: parse_networks(["127.0.0.1/32", "::1/128"]))
    trusted_proxies: tuple[Network, ...] = ()
    https: bool = False
    """Behind a TLS reverse proxy: Secure cookies and HSTS."""
    page_size: int = 50
    lockout: LockoutPolicy = LockoutPolicy()
    sessions: SessionPolicy = SessionPolicy()
    address_fail_limit: int = 20
    address_fail_window: float = 900.0
    verify_cache_seconds: float = 60.0
    clock: Callable[[], datetime] | None = None


class _FilterError(ValueError):
    pass


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    until: datetime | None = None
    sender: str | None = None
    domain: str | None = None
    agency: str | None = None
    verdict: str | None = None
    queue_id: str | None = None
    raw: tuple[tuple[str, str], ...] = ()
    """The form values as given (to refill the form and build links)."""

    def store_args(self) -> dict[str, Any]:
        return {"since": self.since, "until": self.until, "sender": self.sender,
                "domain": self.domain, "verdict": self.verdict, "queue_id": self.queue_id}

    def query(self, **extra: Any) -> str:
        items = [(k, v) for k, v in self.raw if v] + [(k, str(v)) for k, v in extra.items()]
        return urlencode(items)


FILTER_KEYS = ("since", "until", "sender", "domain", "agency", "verdict", "queue_id")


def _when(text: str, name: str, zone: tzinfo, *, end: bool) -> datetime:
    """A date (midnight in the report's zone; ``until`` takes the whole day) or an ISO
    date-time (a time without a zone is in the report's zone)."""
    text = text.strip()
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            at = datetime(day.year, day.month, day.day, tzinfo=zone)
            return at + timedelta(days=1) if end else at
        value = datetime.fromisoformat(text)
    except ValueError:
        raise _FilterError(f"{name}: không phải ngày hợp lệ / not a date: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=zone)


def parse_filters(args: Any, agencies: AgencyMap, zone: tzinfo) -> Filters:
    raw = tuple((k, (args.get(k) or "").strip()[:320]) for k in FILTER_KEYS)
    values = dict(raw)
    agency = values["agency"].lower() or None
    if agency and agencies.by_code(agency) is None:
        raise _FilterError(f"không có cơ quan / no agency {values['agency']!r}")
    verdict = values["verdict"] or None
    if verdict and verdict not in VERDICTS:
        raise _FilterError(f"kết quả không hợp lệ / unknown verdict {verdict!r}")
    return Filters(
        since=_when(values["since"], "since", zone, end=False) if values["since"] else None,
        until=_when(values["until"], "until", zone, end=True) if values["until"] else None,
        sender=values["sender"] or None,
        domain=values["domain"] or None,
        agency=agency,
        verdict=verdict,
        queue_id=values["queue_id"] or None,
        raw=raw,
    )


class _VerifyCache:
    def __init__(self, store: DecisionStore, ttl: float) -> None:
        self.store = store
        self.ttl = ttl
        self._mu = threading.Lock()
        self._at = 0.0
        self._result: Any = None
        self._when: datetime | None = None

    def get(self, fresh: bool) -> tuple[Any, datetime]:
        with self._mu:
            age = time.monotonic() - self._at
            if self._result is None or age > self.ttl or fresh:
                self._result = self.store.verify()
                self._at = time.monotonic()
                self._when = datetime.now(timezone.utc)
            assert self._when is not None
            return self._result, self._when


def _catalog_texts(code: str, name: str) -> tuple[str, str]:
    from gateway.model.catalog import CATALOG

    spec = CATALOG.get(code)
    if spec is None:
        return "", ""

    class Fill(dict):  # type: ignore[type-arg]
        def __missing__(self, key: str) -> str:
            return "…"

    values = Fill(name=name)
    try:
        return spec.vi.format_map(values), spec.en.format_map(values)
    except (ValueError, IndexError, AttributeError):
        return spec.vi, spec.en


def create_app(store: DecisionStore, config: WebConfig) -> Flask:
    """The WSGI application over an open store (the caller owns and closes the store)."""
    app = Flask(
        "gateway.audit.web",
        root_path=str(HERE),
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
        static_url_path="/static",
    )
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024, SEND_FILE_MAX_AGE_DEFAULT=3600,
                      TEMPLATES_AUTO_RELOAD=False)
    accounts = Accounts(store, clock=config.clock, lockout=config.lockout,
                        sessions=config.sessions)
    throttle = Throttle(config.address_fail_limit, config.address_fail_window)
    metrics = LogMetrics(store)
    verify_cache = _VerifyCache(store, config.verify_cache_seconds)
    zone = config.zone
    agencies = config.agencies
    app.extensions["hople"] = {"accounts": accounts, "metrics": metrics, "store": store,
                               "config": config, "throttle": throttle}

    def now() -> datetime:
        return (config.clock or (lambda: datetime.now(timezone.utc)))()

    def local(at: datetime | None) -> str:
        return at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") if at else "–"

    app.jinja_env.globals.update(local=local, verdicts=VERDICTS, verdict_vi=VERDICT_VI,
                                 agencies=agencies,
                                 zone_name=str(getattr(zone, "key", None) or zone))

    def set_cookie(resp: Response, name: str, value: str, max_age: int | None) -> None:
        resp.set_cookie(name, value, max_age=max_age, path="/", httponly=True,
                        samesite="Strict", secure=config.https)

    def clear_cookie(resp: Response, name: str) -> None:
        resp.delete_cookie(name, path="/", httponly=True, samesite="Strict",
                           secure=config.https)

    def refuse(status: int, vi: str, en: str, event: str) -> Response:
        g.event = event
        resp = Response(render_template("error.html", status=status, vi=vi, en=en),
                        status=status, mimetype="text/html")
        return resp

    # -- every request --------------------------------------------------------------------

    @app.before_request
    def authenticate() -> Any:
        g.client = client_address(request.remote_addr,
                                  request.headers.get("X-Forwarded-For"),
                                  config.trusted_proxies)
        g.user = None
        g.session = None
        g.event = "page"
        g.log_name = None
        endpoint = request.endpoint or ""
        if endpoint == "static":
            return None
        if endpoint == "metrics":
            if not address_allowed(g.client, config.metrics_allow):
                return refuse(403, "Không được phép truy cập.", "Forbidden.", "metrics-denied")
            return None
        if request.method == "POST":
            origin = request.headers.get("Origin")
            if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
                return refuse(403, "Yêu cầu bị từ chối (nguồn gốc khác).",
                              "Request refused (cross-origin).", "csrf-refused")
        token = unsign(config.secret, request.cookies.get(SESSION_COOKIE))
        found = accounts.session(token) if token else None
        if found is not None:
            g.session, g.user = found
        if endpoint == "login":
            return None
        if g.user is None:
            if request.method == "GET" and endpoint:
                g.event = "denied"
                target = request.full_path if request.query_string else request.path
                return redirect("/login?" + urlencode({"next": target}), code=303)
            return refuse(401 if endpoint else 404, "Cần đăng nhập.", "Login required.",
                          "denied")
        if request.method == "POST" and not same(request.form.get("csrf"),
                                                 g.session.csrf_token):
            return refuse(403, "Yêu cầu bị từ chối: thiếu hoặc sai mã chống giả mạo (CSRF).",
                          "Request refused: missing or wrong CSRF token.", "csrf-refused")
        if g.user.must_change and endpoint not in ("password", "logout"):
            g.event = "password-required"
            return redirect("/password", code=303)
        return None

    @app.after_request
    def finish(resp: Response) -> Response:
        endpoint = request.endpoint or ""
        static = endpoint == "static"
        for k, v in security_headers(https=config.https, cache=static).items():
            resp.headers.setdefault(k, v)
        if static or (endpoint == "metrics" and resp.status_code == 200):
            return resp
        user = g.get("user")
        name = user.username if user is not None else g.get("log_name")
        query = request.query_string.decode("utf-8", "replace")
        try:
            accounts.log_access(username=name, client_addr=g.get("client") or "",
                                method=request.method, path=request.path, query=query,
                                status=resp.status_code, event=g.get("event") or "page")
        except Exception as exc:  # noqa: BLE001 - a page is not served without its log row
            log.error("access log: cannot write: %s", exc)
            resp = Response("access log unavailable / không ghi được nhật ký truy cập",
                            status=503, mimetype="text/plain")
            resp.headers.update(security_headers(https=config.https))
        return resp

    @app.errorhandler(404)
    def not_found(_: Any) -> Any:
        return refuse(404, "Không tìm thấy trang.", "Page not found.", "not-found")

    @app.errorhandler(405)
    def bad_method(_: Any) -> Any:
        return refuse(405, "Phương thức không được phép.", "Method not allowed.", "bad-method")

    @app.errorhandler(413)
    def too_large(_: Any) -> Any:
        return refuse(413, "Yêu cầu quá lớn.", "Request too large.", "too-large")

    @app.errorhandler(StoreError)
    def store_error(exc: StoreError) -> Any:
        log.error("store: %s", exc)
        return refuse(500, "Không đọc được nhật ký quyết định.",
                      f"The decision log cannot be read: {exc}", "error")

    @app.errorhandler(Exception)
    def crashed(exc: Exception) -> Any:
        from werkzeug.exceptions import HTTPException

        if isinstance(exc, HTTPException):
            return exc
        log.exception("web: unexpected error")
        return refuse(500, "Lỗi máy chủ.", "Server error.", "error")

    # -- login, logout, password ----------------------------------------------------------

    def safe_next(value: str | None) -> str:
        if (value and value.startswith("/") and not value.startswith("//")
                and "\\" not in value and "\r" not in value and "\n" not in value):
            return value
        return "/decisions"

    def login_page(status: int = 200, error: str | None = None) -> Response:
        pre = unsign(config.secret, request.cookies.get(PRE_COOKIE), "pre") or \
            secrets.token_urlsafe(24)
        body = render_template("login.html", csrf=login_csrf_token(config.secret, pre),
                               next=safe_next(request.values.get("next")), error=error,
                               username=request.form.get("username", "")[:100])
        resp = Response(body, status=status, mimetype="text/html")
        set_cookie(resp, PRE_COOKIE, sign(config.secret, pre, "pre"), 3600)
        return resp

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if request.method == "GET":
            if g.user is not None:
                return redirect(safe_next(request.args.get("next")), code=303)
            g.event = "login-page"
            return login_page()
        pre = unsign(config.secret, request.cookies.get(PRE_COOKIE), "pre")
        if pre is None or not same(request.form.get("csrf"),
                                   login_csrf_token(config.secret, pre)):
            return refuse(403, "Yêu cầu bị từ chối: thiếu hoặc sai mã chống giả mạo (CSRF).",
                          "Request refused: missing or wrong CSRF token.", "csrf-refused")
        name = (request.form.get("username") or "").strip().lower()[:100]
        g.log_name = name or None
        if throttle.blocked(g.client):
            g.event = "login-throttled"
            return login_page(429, "Quá nhiều lần đăng nhập sai từ địa chỉ này; hãy thử lại "
                                   "sau. / Too many failed logins from this address; try "
                                   "again later.")
        result = accounts.authenticate(name, request.form.get("password") or "")
        if not result.ok or result.user is None:
            throttle.fail(g.client)
            g.event = f"login-{result.reason}" if result.reason != "bad" else "login-failed"
            return login_page(401, "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang bị "
                                   "khóa. / Wrong user name or password, or the account is "
                                   "locked.")
        previous = unsign(config.secret, request.cookies.get(SESSION_COOKIE))
        if previous:
            accounts.end_session(previous)  # a login always starts a new session
        token, session = accounts.create_session(result.user.username, g.client)
        g.user = result.user
        g.event = "login"
        target = "/password" if result.user.must_change else safe_next(request.form.get("next"))
        resp = redirect(target, code=303)
        set_cookie(resp, SESSION_COOKIE, sign(config.secret, token),
                   config.sessions.max_seconds)
        clear_cookie(resp, PRE_COOKIE)
        return resp

    @app.route("/logout", methods=["POST"])
    def logout() -> Any:
        token = unsign(config.secret, request.cookies.get(SESSION_COOKIE))
        if token:
            accounts.end_session(token)
        g.event = "logout"
        resp = redirect("/login", code=303)
        clear_cookie(resp, SESSION_COOKIE)
        return resp

    @app.route("/password", methods=["GET", "POST"])
    def password() -> Any:
        user = g.user
        if request.method == "GET":
            g.event = "password-page"
            return render_template("password.html", forced=user.must_change, errors=[])
        current = request.form.get("current") or ""
        new = request.form.get("new") or ""
        confirm = request.form.get("confirm") or ""
        errors: list[str] = []
        if new != confirm:
            errors.append("hai lần nhập mật khẩu mới không khớp / the new passwords differ")
        errors.extend(password_problems(new))
        if not errors:
            try:
                accounts.change_password(user.username, current, new)
            except PasswordRuleError as exc:
                errors.extend(exc.problems)
            except AccountError as exc:
                errors.append(str(exc))
        if errors:
            g.event = "password-refused"
            return Response(render_template("password.html", forced=user.must_change,
                                            errors=errors), status=400, mimetype="text/html")
        # every session of the account ended with the change: start a fresh one
        token, _ = accounts.create_session(user.username, g.client)
        g.event = "password-changed"
        resp = redirect("/decisions?" + urlencode({"changed": "1"}), code=303)
        set_cookie(resp, SESSION_COOKIE, sign(config.secret, token),
                   config.sessions.max_seconds)
        return resp

    # -- decisions --------------------------------------------------------------------------

    def agency_of(d: Decision) -> str:
        return agencies.resolve(decision_agency_address(d)).code

    def matching_ids(f: Filters) -> list[int]:
        """Ids of decisions in the agency filter, newest first (the agency is resolved at
        read time from the agency map, so this walks the filtered log)."""
        ids = [d.id for d in store.iter_query(**f.store_args()) if agency_of(d) == f.agency]
        ids.reverse()
        return ids

    @app.route("/")
    def index() -> Any:
        return redirect("/decisions", code=303)

    @app.route("/decisions")
    def decisions() -> Any:
        error = None
        rows: list[Decision] = []
        total = 0
        page = 1
        try:
            f = parse_filters(request.args, agencies, zone)
            try:
                page = max(1, int(request.args.get("page") or 1))
            except ValueError:
                raise _FilterError("page: không phải số / not a number") from None
            if page > MAX_PAGE:
                raise _FilterError(f"chỉ xem được {MAX_PAGE} trang đầu; hãy thu hẹp bộ lọc / "
                                   f"only the first {MAX_PAGE} pages: narrow the filter")
        except _FilterError as exc:
            f = Filters(raw=tuple((k, (request.args.get(k) or "")[:320]) for k in FILTER_KEYS))
            error = str(exc)
        size = config.page_size
        if error is None:
            g.event = "search"
            offset = (page - 1) * size
            if f.agency is None:
                total = store.count(**f.store_args())
                rows = store.query(**f.store_args(), limit=offset + size)[offset:]
            else:
                ids = matching_ids(f)
                total = len(ids)
                rows = [d for d in (store.get(i) for i in ids[offset:offset + size]) if d]
        pages = max(1, -(-total // size))
        return render_template(
            "decisions.html", rows=rows, total=total, page=page, pages=min(pages, MAX_PAGE),
            filters=dict(f.raw), error=error, agency_of=agency_of,
            codes=lambda d: list(dict.fromkeys(d.codes)),
            page_link=lambda p: "/decisions?" + f.query(page=p),
            export_link="/export.csv?" + f.query(),
            changed=request.args.get("changed") == "1",
        )

    @app.route("/decisions/<int:decision_id>")
    def decision(decision_id: int) -> Any:
        d = store.get(decision_id)
        if d is None:
            return refuse(404, f"Không có quyết định số {decision_id}.",
                          f"No decision {decision_id}.", "not-found")
        g.event = "decision"
        agency = agencies.resolve(decision_agency_address(d))
        return render_template("decision.html", d=d, agency=agency, texts=_catalog_texts,
                               utc=format_time(d.decided_at))

    @app.route("/export.csv")
    def export() -> Any:
        try:
            f = parse_filters(request.args, agencies, zone)
        except _FilterError as exc:
            return refuse(400, str(exc), "Bad filter.", "export-refused")
        g.event = "export"

        def generate() -> Iterator[str]:
            buf = io.StringIO()
            w = render.csv_writer(buf)
            buf.write("\ufeff")  # so that spreadsheet programs read the file as UTF-8
            w.writerow(render.QUERY_COLUMNS)
            try:
                for d in store.iter_query(**f.store_args()):
                    if f.agency is not None and agency_of(d) != f.agency:
                        continue
                    w.writerow(render.decision_csv_row(d, agencies))
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

        stamp = now().astimezone(zone).strftime("%Y%m%d-%H%M%S")
        resp = Response(generate(), mimetype="text/csv")
        resp.headers["Content-Type"] = "text/csv; charset=utf-8"
        resp.headers["Content-Disposition"] = (
            f'attachment; filename="hople-decisions-{stamp}.csv"')
        return resp

    # -- reports, chain, metrics ------------------------------------------------------------

    @app.route("/reports")
    def reports() -> Any:
        current = month_key(now(), zone)
        start = int(current[:4]) * 12 + int(current[5:]) - 1 - 5  # six months to this one
        first_default = f"{start // 12:04d}-{start % 12 + 1:02d}"
        first = (request.args.get("from") or first_default).strip()
        last = (request.args.get("to") or current).strip()
        error = None
        report = None
        try:
            months = months_between(first, last, max_months=MAX_REPORT_MONTHS)
            since, until = month_bounds(months, zone)
            report = build_report(store.iter_query(since=since, until=until), agencies,
                                  months, zone)
        except ReportError as exc:
            error = str(exc)
        g.event = "report"
        return render_template(
            "reports.html", report=report, error=error, first=first[:7], last=last[:7],
            trend_svg=Markup(render.trend_svg(report)) if report else None,
            reasons_svg=Markup(render.reasons_svg(report)) if report else None,
            pct=lambda v: "–" if v is None else f"{v:.1f}",
        )

    @app.route("/verify")
    def verify() -> Any:
        result, when = verify_cache.get(request.args.get("fresh") == "1")
        g.event = "verify"
        return render_template("verify.html", result=result, checked_at=when)

    @app.route("/metrics", endpoint="metrics")
    def metrics_page() -> Any:
        return Response(metrics.render(), status=200,
                        headers={"Content-Type": METRICS_CONTENT_TYPE})

    return app
