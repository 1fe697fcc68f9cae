"""What runs around every page: who is asking (session, client address, CSRF and Origin
checks, the forced password change), the security headers and the access-log row on the
way out, and the error pages."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, g, redirect, request
from werkzeug.exceptions import HTTPException

from gateway.audit.store import StoreError
from gateway.audit.web.config import SESSION_COOKIE
from gateway.audit.web.security import (
    address_allowed,
    client_address,
    same,
    security_headers,
    unsign,
)
from gateway.audit.web.state import refuse, state

__all__ = ["LOGIN", "LOGOUT", "METRICS", "PASSWORD", "register"]

log = logging.getLogger("hople.web")

LOGIN, LOGOUT, PASSWORD = "auth.login", "auth.logout", "auth.password"
METRICS = "metrics.metrics"
STATIC = "static"


def authenticate() -> Any:
    st = state()
    config = st.config
    g.client = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                              config.trusted_proxies)
    g.user = None
    g.session = None
    g.event = "page"
    g.log_name = None
    endpoint = request.endpoint or ""
    if endpoint == STATIC:
        return None
    if endpoint == METRICS:
        if not address_allowed(g.client, config.metrics_allow):
            return refuse(403, "Không được phép truy cập.", "Forbidden.", "metrics-denied")
        return None
    if request.method == "POST":
        origin = request.headers.get("Origin")
        if origin and origin != "null" and origin.rstrip("/") != request.host_url.rstrip("/"):
            return refuse(403, "Yêu cầu bị từ chối (nguồn gốc khác).",
                          "Request refused (cross-origin).", "csrf-refused")
    token = unsign(config.secret, request.cookies.get(SESSION_COOKIE))
    found = st.accounts.session(token) if token else None
    if found is not None:
        g.session, g.user = found
    if endpoint == LOGIN:
        return None
    if g.user is None:
        if request.method == "GET" and endpoint:
            g.event = "denied"
            target = request.full_path if request.query_string else request.path
            return redirect("/login?" + urlencode({"next": target}), code=303)
        return refuse(401 if endpoint else 404, "Cần đăng nhập.", "Login required.", "denied")
    if request.method == "POST" and not same(request.form.get("csrf"), g.session.csrf_token):
        return refuse(403, "Yêu cầu bị từ chối: thiếu hoặc sai mã chống giả mạo (CSRF).",
                      "Request refused: missing or wrong CSRF token.", "csrf-refused")
    if g.user.must_change and endpoint not in (PASSWORD, LOGOUT):
        g.event = "password-required"
        return redirect("/password", code=303)
    return None


def finish(resp: Response) -> Response:
    st = state()
    endpoint = request.endpoint or ""
    static = endpoint == STATIC
    for k, v in security_headers(https=st.config.https, cache=static).items():
        resp.headers.setdefault(k, v)
    if static or (endpoint == METRICS and resp.status_code == 200):
        return resp
    user = g.get("user")
    name = user.username if user is not None else g.get("log_name")
    query = request.query_string.decode("utf-8", "replace")
    try:
        st.accounts.log_access(username=name, client_addr=g.get("client") or "",
                               method=request.method, path=request.path, query=query,
                               status=resp.status_code, event=g.get("event") or "page")
    except Exception as exc:  # noqa: BLE001 - a page is not served without its log row
        log.error("access log: cannot write: %s: %s", type(exc).__name__, exc)
        resp = Response("access log unavailable / không ghi được nhật ký truy cập",
                        status=503, mimetype="text/plain")
        resp.headers.update(security_headers(https=st.config.https))
    return resp


def not_found(_: Any) -> Any:
    return refuse(404, "Không tìm thấy trang.", "Page not found.", "not-found")


def bad_method(_: Any) -> Any:
    return refuse(405, "Phương thức không được phép.", "Method not allowed.", "bad-method")


def too_large(_: Any) -> Any:
    return refuse(413, "Yêu cầu quá lớn.", "Request too large.", "too-large")


def store_error(exc: StoreError) -> Any:
    log.error("store: %s", exc)
    return refuse(500, "Không đọc được nhật ký quyết định.",
                  f"The decision log cannot be read: {exc}", "error")


def crashed(exc: Exception) -> Any:
    if isinstance(exc, HTTPException):
        return exc
    log.exception("web: unexpected error")
    return refuse(500, "Lỗi máy chủ.", "Server error.", "error")


def register(app: Flask) -> None:
    app.before_request(authenticate)
    app.after_request(finish)
    app.register_error_handler(404, not_found)
    app.register_error_handler(405, bad_method)
    app.register_error_handler(413, too_large)
    app.register_error_handler(StoreError, store_error)
    app.register_error_handler(Exception, crashed)
