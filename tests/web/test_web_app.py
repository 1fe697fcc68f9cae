"""The auditors' web page through WSGI (Flask's test client) and plain HTTP: login, sessions,
CSRF, forced password change, lockout, access log, pages, CSV export and metrics."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.users import LockoutPolicy, SessionPolicy
from tests.web.conftest import Site, make_site
from tests.web.data import ADMIN, FIRST_PASSWORD, NEW_PASSWORD

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no CSRF field in the page"
    return m.group(1)


def login(client: Any, username: str, password: str, next_: str = "/decisions") -> Any:
    page = client.get("/login")
    assert page.status_code == 200
    return client.post("/login", data={"csrf": csrf_of(page.text), "username": username,
                                       "password": password, "next": next_})


def signed_in(site: Site) -> Any:
    """A client logged in as the admin, past the forced password change."""
    client = site.app.test_client()
    r = login(client, ADMIN, FIRST_PASSWORD)
    assert r.status_code == 303 and r.headers["Location"] == "/password"
    page = client.get("/password")
    r = client.post("/password", data={"csrf": csrf_of(page.text), "current": FIRST_PASSWORD,
                                       "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert r.status_code == 303, r.text
    return client


def session_cookie(client: Any) -> str | None:
    c = client.get_cookie("hople_session")
    return c.value if c else None


PAGES = ["/", "/decisions", "/decisions?verdict=invalid", "/decisions/1", "/reports",
         "/export.csv", "/verify", "/password"]


# -- no page without login ------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_redirects_to_login_without_a_session(site: Site, path: str) -> None:
    r = site.app.test_client().get(path)
    assert r.status_code == 303
    target = urllib.parse.urlsplit(r.headers["Location"])
    assert target.path == "/login"
    assert "Nhật ký" not in r.text and "EDITABLE_NOT_SIGNED" not in r.text


def test_a_forged_or_unsigned_session_cookie_is_no_session(site: Site) -> None:
    client = signed_in(site)
    good = session_cookie(client)
    assert good and client.get("/decisions").status_code == 200
    token, mac = good.rsplit(".", 1)
    flipped = ("y" if token[0] == "x" else "x") + token[1:]
    for bad in (token, f"{token}.{'A' * len(mac)}", f"{flipped}.{mac}", ""):
        other = site.app.test_client()
        other.set_cookie("hople_session", bad)
        assert other.get("/decisions").status_code == 303


def test_post_without_a_session_is_refused(site: Site) -> None:
    client = site.app.test_client()
    assert client.post("/logout", data={"csrf": "x"}).status_code == 401
    assert client.post("/password", data={"csrf": "x"}).status_code == 401


# -- login ----------------------------------------------------------------------------------


def test_wrong_password_is_refused_without_a_session(site: Site) -> None:
    client = site.app.test_client()
    r = login(client, ADMIN, FIRST_PASSWORD + "x")
    assert r.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in r.text
    assert session_cookie(client) is None
    assert client.get("/decisions").status_code == 303
    r = login(client, "nobody", FIRST_PASSWORD)
    assert r.status_code == 401 and session_cookie(client) is None
    events = [(e.username, e.event, e.status) for e in site.accounts.access_log()]
    assert (ADMIN, "login-failed", 401) in events
    assert ("nobody", "login-failed", 401) in events


def test_session_cookie_attributes_and_security_headers(site: Site) -> None:
    client = site.app.test_client()
    page = client.get("/login")
    r = client.post("/login", data={"csrf": csrf_of(page.text), "username": ADMIN,
                                    "password": FIRST_PASSWORD})
    cookie = [h for h in r.headers.getlist("Set-Cookie") if h.startswith("hople_session=")][0]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert "Max-Age=28800" in cookie and "Secure" not in cookie
    for resp in (page, r, client.get("/password")):
        h = resp.headers
        assert h["X-Frame-Options"] == "DENY"
        assert "script-src" not in h["Content-Security-Policy"]
        assert "default-src 'none'" in h["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert h["Cache-Control"].startswith("no-store")
        assert h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "no-referrer"
    assert "<script" not in client.get("/password").text


def test_https_mode_marks_cookies_secure_and_sends_hsts(tmp_path: Path) -> None:
    s = make_site(tmp_path, https=True)
    try:
        client = s.app.test_client()
        page = client.get("/login", base_url="https://localhost")
        assert "Secure" in page.headers["Set-Cookie"]
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        s.store.close()


def test_first_login_forces_a_password_change_that_follows_article_12_1(site: Site) -> None:
    client = site.app.test_client()
    r = login(client, ADMIN, FIRST_PASSWORD)
    assert r.headers["Location"] == "/password"
    for path in ("/decisions", "/reports", "/export.csv", "/decisions/1"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["Location"] == "/password", path
    page = client.get("/password")
    assert "Bạn phải đổi mật khẩu" in page.text
    token = csrf_of(page.text)
    weak = client.post("/password", data={"csrf": token, "current": FIRST_PASSWORD,
                                          "new": "khongdu8", "confirm": "khongdu8"})
    assert weak.status_code == 400
    assert "ít nhất 8 ký tự" not in weak.text  # 8 characters long: only the classes fail
    assert "chữ in hoa" in weak.text and "ký tự đặc biệt" in weak.text
    same = client.post("/password", data={"csrf": token, "current": FIRST_PASSWORD,
                                          "new": FIRST_PASSWORD, "confirm": FIRST_PASSWORD})
    assert same.status_code == 400 and "phải khác" in same.text
    wrong = client.post("/password", data={"csrf": token, "current": "Sai#Mat-khau1",
                                           "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 400 and "không đúng" in wrong.text
    differ = client.post("/password", data={"csrf": token, "current": FIRST_PASSWORD,
                                            "new": NEW_PASSWORD, "confirm": NEW_PASSWORD + "!"})
    assert differ.status_code == 400
    old_cookie = session_cookie(client)
    ok = client.post("/password", data={"csrf": token, "current": FIRST_PASSWORD,
                                        "new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert ok.status_code == 303 and ok.headers["Location"].startswith("/decisions")
    assert session_cookie(client) != old_cookie  # a fresh session after the change
    assert client.get("/decisions").status_code == 200
    stale = site.app.test_client()
    stale.set_cookie("hople_session", old_cookie or "")
    assert stale.get("/decisions").status_code == 303  # the old session ended
    user = site.accounts.get(ADMIN)
    assert user is not None and not user.must_change
    again = site.app.test_client()
    assert login(again, ADMIN, FIRST_PASSWORD).status_code == 401
    r = login(again, ADMIN, NEW_PASSWORD)
    assert r.status_code == 303 and r.headers["Location"] == "/decisions"


def test_login_redirects_only_to_local_pages(site: Site) -> None:
    signed_in(site)
    for next_, expected in (("/reports?from=2026-01", "/reports?from=2026-01"),
                            ("//evil.example/x", "/decisions"),
                            ("https://evil.example/", "/decisions"),
                            ("/\\evil.example", "/decisions")):
        client = site.app.test_client()
        r = login(client, ADMIN, NEW_PASSWORD, next_=next_)
        assert r.headers["Location"] == expected, next_


def test_repeated_failures_lock_the_account_even_for_the_right_password(tmp_path: Path) -> None:
    s = make_site(tmp_path, lockout=LockoutPolicy(max_failures=3, lock_seconds=600))
    try:
        client = s.app.test_client()
        for _ in range(3):
            assert login(client, ADMIN, "Sai#mat-khau1").status_code == 401
        r = login(client, ADMIN, FIRST_PASSWORD)
        assert r.status_code == 401 and session_cookie(client) is None
        # the message does not tell a locked account from a wrong password
        assert "Sai tên đăng nhập hoặc mật khẩu" in r.text
        events = [e.event for e in reversed(s.accounts.access_log(username=ADMIN))]
        # the third failure locks; the right password is then refused as locked
        assert events == ["login-failed", "login-failed", "login-locked", "login-locked"]
        s.accounts.set_password(ADMIN, FIRST_PASSWORD)  # an administrator's reset unlocks
        assert login(client, ADMIN, FIRST_PASSWORD).status_code == 303
    finally:
        s.store.close()


def test_many_failures_from_one_address_are_throttled(tmp_path: Path) -> None:
    s = make_site(tmp_path, address_fail_limit=4)
    try:
        client = s.app.test_client()
        for i in range(4):
            assert login(client, f"user{i}", "Sai#mat-khau1").status_code == 401
        r = login(client, ADMIN, FIRST_PASSWORD)
        assert r.status_code == 429 and session_cookie(client) is None
        other = s.app.test_client()
        page = other.get("/login", environ_base={"REMOTE_ADDR": "10.9.9.9"})
        r = other.post("/login", environ_base={"REMOTE_ADDR": "10.9.9.9"},
                       data={"csrf": csrf_of(page.text), "username": ADMIN,
                             "password": FIRST_PASSWORD})
        assert r.status_code == 303  # another address is not affected
        assert any(e.event == "login-throttled" for e in s.accounts.access_log())
    finally:
        s.store.close()


def test_disabled_account_cannot_log_in_and_loses_its_sessions(site: Site) -> None:
    client = signed_in(site)
    assert client.get("/decisions").status_code == 200
    site.accounts.set_disabled(ADMIN, True)
    assert client.get("/decisions").status_code == 303
    assert login(site.app.test_client(), ADMIN, NEW_PASSWORD).status_code == 401


def test_idle_and_absolute_session_expiry(tmp_path: Path) -> None:
    now = [datetime(2026, 3, 10, 8, 0, tzinfo=UTC)]
    s = make_site(tmp_path, clock=lambda: now[0],
                  sessions=SessionPolicy(idle_seconds=600, max_seconds=1500))
    s.accounts.clock = lambda: now[0]
    try:
        client = s.app.test_client()
        login(client, ADMIN, FIRST_PASSWORD)
        assert client.get("/password").status_code == 200
        now[0] += timedelta(seconds=590)
        assert client.get("/password").status_code == 200  # activity moves the idle expiry
        now[0] += timedelta(seconds=590)
        assert client.get("/password").status_code == 200
        now[0] += timedelta(seconds=400)  # 1580 s after login: past the absolute limit
        assert client.get("/password").status_code == 303
        client2 = s.app.test_client()
        login(client2, ADMIN, FIRST_PASSWORD)
        now[0] += timedelta(seconds=601)
        assert client2.get("/password").status_code == 303
    finally:
        s.store.close()


def test_logout_ends_the_session(site: Site) -> None:
    client = signed_in(site)
    cookie = session_cookie(client)
    page = client.get("/decisions")
    r = client.post("/logout", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["Location"] == "/login"
    replay = site.app.test_client()
    replay.set_cookie("hople_session", cookie or "")
    assert replay.get("/decisions").status_code == 303
    assert site.accounts.session_count(ADMIN) == 0


# -- CSRF -------------------------------------------------------------------------------------


def test_post_without_csrf_token_is_refused(site: Site) -> None:
    client = site.app.test_client()
    client.get("/login")
    r = client.post("/login", data={"username": ADMIN, "password": FIRST_PASSWORD})
    assert r.status_code == 403 and session_cookie(client) is None
    r = client.post("/login", data={"csrf": "forged", "username": ADMIN,
                                    "password": FIRST_PASSWORD})
    assert r.status_code == 403
    # a login token is bound to the visitor's own pre-login cookie
    other = site.app.test_client()
    stolen = csrf_of(other.get("/login").text)
    r = client.post("/login", data={"csrf": stolen, "username": ADMIN,
                                    "password": FIRST_PASSWORD})
    assert r.status_code == 403

    client = signed_in(site)
    for path, data in (("/logout", {}),
                       ("/password", {"current": NEW_PASSWORD, "new": "Khac#Mat-khau2",
                                      "confirm": "Khac#Mat-khau2"})):
        r = client.post(path, data=data)
        assert r.status_code == 403, path
        r = client.post(path, data={**data, "csrf": "x" * 43})
        assert r.status_code == 403, path
    assert client.get("/decisions").status_code == 200  # still logged in: logout refused
    user = site.accounts.get(ADMIN)
    assert user is not None
    assert login(site.app.test_client(), ADMIN, NEW_PASSWORD).status_code == 303
    refused = [e for e in site.accounts.access_log() if e.event == "csrf-refused"]
    assert len(refused) >= 7


def test_cross_origin_post_is_refused_even_with_a_token(site: Site) -> None:
    client = signed_in(site)
    token = csrf_of(client.get("/decisions").text)
    r = client.post("/logout", data={"csrf": token},
                    headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = client.post("/logout", data={"csrf": token}, headers={"Origin": "http://localhost"})
    assert r.status_code == 303


def test_plain_http_post_without_csrf_is_refused(served_site: Site) -> None:
    """Through the real server (waitress) with a real cookie jar: no token, no login."""
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(served_site.base + "/login").read().decode()
    assert csrf_of(page)
    body = urllib.parse.urlencode({"username": ADMIN, "password": FIRST_PASSWORD}).encode()
    with pytest.raises(urllib.error.HTTPError) as err:
        opener.open(served_site.base + "/login", data=body)
    assert err.value.code == 403
    assert not any(c.name == "hople_session" for c in jar)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(served_site.base + "/logout", data=b"csrf=")
    assert err.value.code == 401


# -- access log -----------------------------------------------------------------------------


def test_every_access_is_logged_with_user_page_filter_and_address(site: Site) -> None:
    client = signed_in(site)
    client.get("/decisions?verdict=invalid&sender=annv.snv%40daknong.gov.vn",
               environ_base={"REMOTE_ADDR": "10.20.30.40"})
    client.get(f"/decisions/{site.known.ids['unsigned']}")
    client.get("/export.csv?agency=snv")
    client.get("/reports?from=2026-01&to=2026-03")
    client.get("/static/hople.css")
    log = list(reversed(site.accounts.access_log(limit=None)))
    events = [e.event for e in log]
    assert events[:4] == ["login-page", "login", "password-page", "password-changed"]
    search = [e for e in log if e.event == "search"][-1]
    assert search.username == ADMIN and search.client_addr == "10.20.30.40"
    assert search.path == "/decisions" and "verdict=invalid" in search.query
    assert "annv.snv%40daknong.gov.vn" in search.query and search.status == 200
    assert any(e.event == "decision" and e.path == f"/decisions/{site.known.ids['unsigned']}"
               for e in log)
    assert any(e.event == "export" and e.query == "agency=snv" for e in log)
    assert any(e.event == "report" for e in log)
    assert not any(e.path.startswith("/static") for e in log)
    assert all(e.at.tzinfo is not None for e in log)
    assert all(NEW_PASSWORD not in (e.query + e.path) for e in log)


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    from gateway.audit.web.security import parse_networks

    s = make_site(tmp_path, trusted_proxies=parse_networks(["127.0.0.1"]))
    try:
        client = s.app.test_client()
        client.get("/decisions", headers={"X-Forwarded-For": "203.0.113.9, 10.0.0.7"})
        client.get("/decisions", headers={"X-Forwarded-For": "203.0.113.9"},
                   environ_base={"REMOTE_ADDR": "192.0.2.1"})
        addrs = [e.client_addr for e in reversed(s.accounts.access_log())]
        assert addrs == ["10.0.0.7", "192.0.2.1"]
    finally:
        s.store.close()


# -- pages ----------------------------------------------------------------------------------


def test_search_filters_and_paging(tmp_path: Path) -> None:
    s = make_site(tmp_path, page_size=2)
    try:
        client = signed_in(s)
        ids = s.known.ids

        def listed(query: str) -> list[int]:
            r = client.get("/decisions?" + query)
            assert r.status_code == 200, r.text
            return [int(x) for x in re.findall(r'href="/decisions/(\d+)"', r.text)]

        assert listed("") == [6, 5]
        assert listed("page=2") == [4, 3]
        assert listed("page=3") == [2, 1]
        page = client.get("/decisions").text
        assert 'id="total">6<' in page and "page=2" in page
        assert listed("verdict=invalid") == [ids["unsigned2"], ids["unsigned"]]
        assert listed("agency=snv") == [ids["unsigned2"], ids["unsigned"]]
        assert listed("agency=external") == [ids["freemail"]]
        assert listed("sender=ANNV.SNV@daknong.gov.vn") == [ids["unsigned"]]
        assert listed("domain=gmail.com") == [ids["freemail"]]
        assert listed(f"queue_id={s.known.queue_ids['held']}") == [ids["held"]]
        assert listed("since=2026-02-01&until=2026-02-28") == [ids["freemail"], ids["unsigned"]]
        assert listed("since=2026-03-06&verdict=invalid") == [ids["unsigned2"]]
        for bad in ("since=yesterday", "verdict=maybe", "agency=nope", "page=x", "page=999"):
            r = client.get("/decisions?" + bad)
            assert r.status_code == 400 and 'id="filter-error"' in r.text, bad
        assert listed("sender=nobody@nowhere.example") == []
    finally:
        s.store.close()


def test_decision_page_shows_documents_signatures_and_bilingual_findings(site: Site) -> None:
    client = signed_in(site)
    r = client.get(f"/decisions/{site.known.ids['freemail']}")
    assert r.status_code == 200
    page = r.text
    for expected in ("SENDER_FREEMAIL", "EDITABLE_NOT_SIGNED", "Điều 9.4", "Kế hoạch hội nghị.docx",
                     "nguyenvana@gmail.com", site.known.queue_ids["freemail"], "Từ chối"):
        assert expected in page, expected
    from gateway.model.catalog import CATALOG

    vi = CATALOG["SENDER_FREEMAIL"].vi.split("{")[0].strip()
    en = CATALOG["SENDER_FREEMAIL"].en.split("{")[0].strip()
    assert vi and vi in page and en and en in page
    d = site.store.get(site.known.ids["freemail"])
    assert d is not None and d.hash in page and d.documents[0].sha256 in page
    assert "Kính gửi" not in page  # the body is never logged, so never shown
    signed = client.get(f"/decisions/{site.known.ids['signed']}").text
    for expected in ("ooxml-xmldsig", "intact", "trusted", "CN=Sở Thông tin và Truyền thông",
                     "Hợp lệ"):
        assert expected in signed, expected
    assert client.get("/decisions/999").status_code == 404
    assert client.get("/decisions/abc").status_code == 404


def test_export_csv_has_the_rows_of_hople_audit_query_csv(site: Site, capsys: Any) -> None:
    from gateway.cli import main

    client = signed_in(site)
    for query, cli_args in (("", []), ("verdict=invalid", ["--verdict", "invalid"]),
                            ("agency=snv", ["--agency", "snv"]),
                            ("domain=gmail.com", ["--domain", "gmail.com"])):
        r = client.get("/export.csv?" + query)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert r.headers["Content-Disposition"].startswith("attachment; filename=")
        web_rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
        capsys.readouterr()
        assert main(["audit", "query", "--db", site.url, "--csv", "--limit", "0",
                     *cli_args]) == 0
        cli_rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
        assert web_rows == cli_rows, query
        assert len(web_rows) > 1
    assert client.get("/export.csv?verdict=nonsense").status_code == 400


def test_reports_page_draws_the_monthly_charts(site: Site) -> None:
    client = signed_in(site)
    r = client.get("/reports?from=2026-01&to=2026-03")
    assert r.status_code == 200
    page = r.text
    assert page.count("<svg") == 2
    trend = page.split('id="trend-chart"')[1].split("</svg>")[0]
    assert trend.count("<rect") >= 4 and "2026-02" in trend and "<polyline" in trend
    reasons = page.split('id="reasons-chart"')[1].split("</svg>")[0]
    assert "EDITABLE_NOT_SIGNED" in reasons and "Sở Nội vụ" in reasons
    assert "<td>2026-02</td><td class=\"n\">2</td>" in page
    bad = client.get("/reports?from=2026-05&to=2026-01")
    assert bad.status_code == 400 and 'id="report-error"' in bad.text
    assert 'id="report-error"' in client.get("/reports?from=2020-01&to=2026-01").text
    assert client.get("/reports").status_code == 200  # the default period


def test_verify_page_shows_ok_then_the_broken_record(site: Site) -> None:
    client = signed_in(site)
    page = client.get("/verify").text
    assert 'class="ok big" id="chain-status"' in page and "6 records verified" in page
    raw = sqlite3.connect(site.url[len("sqlite:///"):])
    raw.execute("UPDATE decisions SET sender = 'ke-gian@daknong.gov.vn' WHERE id = 3")
    raw.commit()
    raw.close()
    assert "6 records verified" in client.get("/verify").text  # cached for a minute
    page = client.get("/verify?fresh=1").text
    assert "Chain BROKEN at seq 3" in page and "edited" in page


def test_metrics_only_from_allowed_addresses(site: Site) -> None:
    client = site.app.test_client()
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    assert "hople_decisions_total" in r.text
    r = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.1.1"})
    assert r.status_code == 403 and "hople_decisions_total" not in r.text
    events = [(e.event, e.client_addr) for e in site.accounts.access_log()]
    assert ("metrics-denied", "10.1.1.1") in events
    assert not any(e == "page" and p == "/metrics" for e, p in
                   ((x.event, x.path) for x in site.accounts.access_log()))


def test_a_record_altered_in_the_database_gives_a_clear_error_page(site: Site) -> None:
    client = signed_in(site)
    raw = sqlite3.connect(site.url[len("sqlite:///"):])
    raw.execute("UPDATE decisions SET findings = '{broken' WHERE id = 2")
    raw.commit()
    raw.close()
    for path in ("/decisions", "/decisions/2", "/export.csv"):
        r = client.get(path)
        body = r.data.decode("utf-8", "replace")
        assert r.status_code in (200, 500), path
        assert "Traceback" not in body
        if path != "/export.csv":
            assert r.status_code == 500 and "hople audit verify" in body, path
        else:  # the rows read so far, then a line saying why the file ends there
            lines = body.strip().splitlines()
            assert lines[0].lstrip("\ufeff").startswith("id,decided_at,")
            assert lines[-1].startswith("ERROR: decision 2 cannot be read")
    assert client.get("/decisions/3").status_code == 200  # other records still open
    assert any(e.event == "error" and e.status == 500 for e in site.accounts.access_log())


def test_no_page_is_served_when_its_access_cannot_be_logged(site: Site, monkeypatch: Any) -> None:
    client = signed_in(site)

    def broken(**_: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(site.accounts, "log_access", broken)
    r = client.get("/decisions")
    assert r.status_code == 503 and "EDITABLE_NOT_SIGNED" not in r.text
    assert r.headers["X-Frame-Options"] == "DENY"
