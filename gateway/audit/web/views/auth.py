"""``/login``, ``/logout`` and ``/password``."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, g, redirect, render_template, request

from gateway.audit.credentials import AccountError, PasswordRuleError, password_problems
from gateway.audit.web.config import PRE_COOKIE, SESSION_COOKIE
from gateway.audit.web.security import local_path, login_csrf_token, same, sign, unsign
from gateway.audit.web.state import refuse, state

__all__ = ["bp", "safe_next"]

bp = Blueprint("auth", __name__)

DEFAULT_NEXT = "/decisions"


def safe_next(value: str | None) -> str:
    """Where to go after login: a path on this site, else the decisions page."""
    return local_path(value) or DEFAULT_NEXT


def login_page(status: int = 200, error: str | None = None) -> Response:
    secret = state().config.secret
    pre = unsign(secret, request.cookies.get(PRE_COOKIE), "pre") or secrets.token_urlsafe(24)
    body = render_template("login.html", csrf=login_csrf_token(secret, pre),
                           next=safe_next(request.values.get("next")), error=error,
                           username=request.form.get("username", "")[:100])
    resp = Response(body, status=status, mimetype="text/html")
    state().set_cookie(resp, PRE_COOKIE, sign(secret, pre, "pre"), 3600)
    return resp


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    st = state()
    secret = st.config.secret
    if request.method == "GET":
        if g.user is not None:
            return redirect(safe_next(request.args.get("next")), code=303)
        g.event = "login-page"
        return login_page()
    pre = unsign(secret, request.cookies.get(PRE_COOKIE), "pre")
    if pre is None or not same(request.form.get("csrf"), login_csrf_token(secret, pre)):
        return refuse(403, "Yêu cầu bị từ chối: thiếu hoặc sai mã chống giả mạo (CSRF).",
                      "Request refused: missing or wrong CSRF token.", "csrf-refused")
    name = (request.form.get("username") or "").strip().lower()[:100]
    g.log_name = name or None
    # checked and counted before the password (both steps atomic): parallel attempts
    # cannot pass the address limit or the account lockout while passwords are checked
    mark = st.throttle.attempt(g.client)
    if mark is None:
        g.event = "login-throttled"
        return login_page(429, "Quá nhiều lần đăng nhập sai từ địa chỉ này; hãy thử lại "
                               "sau. / Too many failed logins from this address; try "
                               "again later.")
    result = st.accounts.authenticate(name, request.form.get("password") or "")
    if not result.ok or result.user is None:
        g.event = f"login-{result.reason}" if result.reason != "bad" else "login-failed"
        return login_page(401, "Sai tên đăng nhập hoặc mật khẩu, hoặc tài khoản đang bị "
                               "khóa. / Wrong user name or password, or the account is "
                               "locked.")
    st.throttle.forgive(g.client, mark)
    previous = unsign(secret, request.cookies.get(SESSION_COOKIE))
    if previous:
        st.accounts.end_session(previous)  # a login always starts a new session
    token, _ = st.accounts.create_session(result.user.username, g.client)
    g.user = result.user
    g.event = "login"
    target = "/password" if result.user.must_change else safe_next(request.form.get("next"))
    resp = redirect(target, code=303)
    st.set_cookie(resp, SESSION_COOKIE, sign(secret, token), st.config.sessions.max_seconds)
    st.clear_cookie(resp, PRE_COOKIE)
    return resp


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    st = state()
    token = unsign(st.config.secret, request.cookies.get(SESSION_COOKIE))
    if token:
        st.accounts.end_session(token)
    g.event = "logout"
    resp = redirect("/login", code=303)
    st.clear_cookie(resp, SESSION_COOKIE)
    return resp


@bp.route("/password", methods=["GET", "POST"])
def password() -> Any:
    st = state()
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
            st.accounts.change_password(user.username, current, new)
        except PasswordRuleError as exc:
            errors.extend(exc.problems)
        except AccountError as exc:
            errors.append(str(exc))
    if errors:
        g.event = "password-refused"
        return Response(render_template("password.html", forced=user.must_change,
                                        errors=errors), status=400, mimetype="text/html")
    # every session of the account ended with the change: start a fresh one
    token, _ = st.accounts.create_session(user.username, g.client)
    g.event = "password-changed"
    resp = redirect("/decisions?" + urlencode({"changed": "1"}), code=303)
    st.set_cookie(resp, SESSION_COOKIE, sign(st.config.secret, token),
                  st.config.sessions.max_seconds)
    return resp
