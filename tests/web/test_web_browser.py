"""The auditors' web page in headless Chromium (Debian's chromium and chromium-driver, driven
by Selenium), served by waitress on a free loopback port over a log with known decisions:
no page without login, a wrong password refused, the forced password change at first login,
search, one decision, the charts, the CSV export. Screenshots of the list and the charts go
to ``$HOPLE_WEB_SCREENSHOTS`` (a directory) when set, else to a temporary directory."""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.audit import render
from tests.web.conftest import Site
from tests.web.data import ADMIN, FIRST_PASSWORD, NEW_PASSWORD

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-dev-shm-usage", "--window-size=1400,1000", "--lang=vi")

if not CHROMIUM.exists() or not (CHROMEDRIVER.exists() or shutil.which("chromedriver")):
    pytest.skip("Debian's chromium and chromium-driver are not installed",
                allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import (  # noqa: E402
    StaleElementReferenceException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


def _gone(element: Any) -> bool:
    """Whether ``element`` left the page. Chromedriver reports an element of a page being
    replaced either as stale or, during the swap, as a node that "does not belong to the
    document" (an unknown error); both mean the old page is gone."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


class Browser:
    def __init__(self, driver: Any, base: str, downloads: Path) -> None:
        self.driver = driver
        self.base = base
        self.downloads = downloads

    def get(self, path: str) -> None:
        self.driver.get(self.base + path)

    @property
    def path(self) -> str:
        return urlsplit(self.driver.current_url).path

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.driver.current_url).query)

    def click(self, css: str) -> None:
        """Click something that loads a new page, and wait until the new page is there
        (a click returns before the navigation it starts has finished)."""
        old = self.driver.find_element(By.TAG_NAME, "html")
        self.find(css).click()
        wait = WebDriverWait(self.driver, 30)
        wait.until(lambda d: _gone(old))
        wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def find(self, css: str) -> Any:
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[Any]:
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def fill(self, values: dict[str, str]) -> None:
        for css, value in values.items():
            field = self.find(css)
            field.clear()
            field.send_keys(value)

    def session_cookie(self) -> str | None:
        c = self.driver.get_cookie("hople_session")
        return c["value"] if c else None

    def listed_ids(self) -> list[int]:
        return [int(a.text) for a in self.find_all("#results a.open")]

    def page_errors(self) -> list[str]:
        """Console errors about the page itself since the last call: a Content-Security-
        Policy violation or a resource (stylesheet, icon) that failed to load. (A form
        answered with 400 or 401 is logged too; that is not a page error.)"""
        return [e["message"] for e in self.driver.get_log("browser")
                if e["level"] == "SEVERE" and ("Content Security Policy" in e["message"]
                                               or "/static/" in e["message"]
                                               or "favicon" in e["message"])]


def _driver(profile: Path, downloads: Path) -> Any:
    os.environ.setdefault("SE_AVOID_STATS", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads),
        "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver_path = str(CHROMEDRIVER) if CHROMEDRIVER.exists() else shutil.which("chromedriver")
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(30)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(downloads)})
    return driver


@pytest.fixture(scope="module")
def browser(served_site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    root = tmp_path_factory.mktemp("chromium")
    downloads = root / "downloads"
    downloads.mkdir()
    try:
        driver = _driver(root / "profile", downloads)
    except Exception as exc:  # noqa: BLE001 - a broken browser install is a skip, not a failure
        pytest.skip(f"headless Chromium does not start: {str(exc).splitlines()[0]}")
    try:
        yield Browser(driver, served_site.base, downloads)
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("HOPLE_WEB_SCREENSHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        return Path(wanted)
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def first_login(browser: Browser) -> dict[str, Any]:
    """Log in for the first time: the page insists on a new password, then lets us in.
    Returns what was seen on the way (the tests below assert on it)."""
    seen: dict[str, Any] = {}
    browser.get("/decisions?verdict=invalid")
    seen["redirected_to"] = browser.path
    seen["next"] = browser.query.get("next")
    browser.fill({"#username": ADMIN, "#password": FIRST_PASSWORD})
    browser.click("#login-submit")
    seen["after_login"] = browser.path
    seen["forced_notice"] = bool(browser.find_all("#forced"))
    browser.get("/reports")
    seen["reports_while_forced"] = browser.path
    browser.fill({"#current": FIRST_PASSWORD, "#new": "yeu-qua1", "#confirm": "yeu-qua1"})
    browser.click("#password-submit")
    seen["weak_errors"] = [li.text for li in browser.find_all("#password-errors li")]
    browser.fill({"#current": FIRST_PASSWORD, "#new": NEW_PASSWORD, "#confirm": NEW_PASSWORD})
    browser.click("#password-submit")
    seen["after_change"] = browser.path
    seen["changed_notice"] = bool(browser.find_all("#changed"))
    seen["cookie"] = browser.driver.get_cookie("hople_session")
    return seen


def test_no_page_is_reachable_without_login(served_site: Site, tmp_path: Path) -> None:
    driver = _driver(tmp_path / "profile", tmp_path)
    try:
        b = Browser(driver, served_site.base, tmp_path)
        for path in ("/decisions", f"/decisions/{served_site.known.ids['signed']}", "/reports",
                     "/verify", "/export.csv?verdict=invalid", "/password"):
            b.get(path)
            assert b.path == "/login", path
            assert b.find_all("#login-form") and not b.find_all("#results")
            assert "Quyết định 12-STTTT.docx" not in driver.page_source
        assert list(tmp_path.glob("*.csv")) == []
        # a wrong password is refused
        b.fill({"#username": ADMIN, "#password": "Sai#mat-khau1"})
        b.click("#login-submit")
        assert b.path == "/login"
        assert "Sai tên đăng nhập hoặc mật khẩu" in b.find("#login-error").text
        assert b.session_cookie() is None
        b.get("/decisions")
        assert b.path == "/login"
    finally:
        driver.quit()


def test_first_login_forces_a_password_change(first_login: dict[str, Any]) -> None:
    assert first_login["redirected_to"] == "/login"
    assert first_login["next"] == ["/decisions?verdict=invalid"]
    assert first_login["after_login"] == "/password" and first_login["forced_notice"]
    assert first_login["reports_while_forced"] == "/password"
    assert any("chữ in hoa" in e for e in first_login["weak_errors"])
    assert first_login["after_change"] == "/decisions" and first_login["changed_notice"]
    cookie = first_login["cookie"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"


def test_search_and_paging_of_decisions(browser: Browser, first_login: dict[str, Any],
                                        served_site: Site, screenshots: Path) -> None:
    ids = served_site.known.ids
    browser.get("/decisions")
    assert browser.listed_ids() == sorted(ids.values(), reverse=True)
    browser.driver.save_screenshot(str(screenshots / "decisions.png"))
    Select(browser.find("#f-verdict")).select_by_value("invalid")
    browser.click("#search")
    assert browser.query["verdict"] == ["invalid"]
    assert browser.listed_ids() == [ids["unsigned2"], ids["unsigned"]]
    assert browser.find("#total").text == "2"
    browser.click("a.button.light[href='/decisions']")
    Select(browser.find("#f-agency")).select_by_value("external")
    browser.click("#search")
    assert browser.listed_ids() == [ids["freemail"]]
    browser.get("/decisions")
    browser.fill({"#f-queue": served_site.known.queue_ids["held"]})
    browser.click("#search")
    assert browser.listed_ids() == [ids["held"]]
    assert browser.find("#results .badge.held").text == "Tạm giữ"
    assert browser.page_errors() == []
    header = browser.find("header.top").value_of_css_property("background-color")
    assert header == "rgba(122, 18, 18, 1)"  # the local stylesheet applied under the CSP


def test_open_one_decision(browser: Browser, first_login: dict[str, Any],
                           served_site: Site, screenshots: Path) -> None:
    browser.get("/decisions?domain=gmail.com")
    browser.click("#results a.open")
    assert browser.path == f"/decisions/{served_site.known.ids['freemail']}"
    browser.driver.save_screenshot(str(screenshots / "decision.png"))
    codes = [c.text for c in browser.find_all("code.code")]
    assert "SENDER_FREEMAIL" in codes and "EDITABLE_NOT_SIGNED" in codes
    text = browser.find("main").text
    assert "Điều 9.4" in text and "nguyenvana@gmail.com" in text
    assert "Kế hoạch hội nghị.docx" in text and "Từ chối / rejected" in text
    from gateway.model.catalog import CATALOG

    assert CATALOG["SENDER_FREEMAIL"].vi.split("{")[0].strip() in text
    assert CATALOG["SENDER_FREEMAIL"].en.split("{")[0].strip() in text
    browser.get(f"/decisions/{served_site.known.ids['signed']}")
    sig = browser.find("table.sigs tbody tr").text
    assert "ooxml-xmldsig" in sig and "CN=Sở Thông tin và Truyền thông" in sig


def test_monthly_charts(browser: Browser, first_login: dict[str, Any],
                        screenshots: Path) -> None:
    browser.get("/reports?from=2026-01&to=2026-03")
    svgs = browser.find_all("svg.chart")
    assert len(svgs) == 2
    bars = browser.find_all("#trend-chart svg rect")
    heights = [float(r.get_attribute("height")) for r in bars]
    # data bars (legend squares are 10 high): February's 2 invalid documents, March's
    # valid one and its 2 invalid ones; January had no document
    data = [(r.get_attribute("fill"), h) for r, h in zip(bars, heights, strict=True) if h > 10]
    assert len(data) == 3
    invalid_feb, valid_mar, invalid_mar = data
    assert invalid_feb[1] == pytest.approx(invalid_mar[1]) == pytest.approx(2 * valid_mar[1])
    assert browser.find("#trend-chart svg polyline").is_displayed()
    assert browser.find("#trend-chart svg").size["height"] > 100
    reasons = browser.find("#reasons-chart").text
    assert "Sở Nội vụ" in reasons
    months = [row.find_elements(By.TAG_NAME, "td")[0].text
              for row in browser.find_all("#trend-table tbody tr")]
    assert months == ["2026-01", "2026-02", "2026-03"]
    browser.driver.save_screenshot(str(screenshots / "reports.png"))
    assert browser.page_errors() == []


def test_export_csv_of_the_current_filter(browser: Browser, first_login: dict[str, Any],
                                          served_site: Site) -> None:
    for old in browser.downloads.iterdir():
        old.unlink()
    browser.get("/decisions?agency=snv")
    browser.find("#export").click()  # a download: the page stays
    deadline = time.monotonic() + 30
    files: list[Path] = []
    while time.monotonic() < deadline:
        files = [p for p in browser.downloads.iterdir() if p.suffix == ".csv"]
        if files and not any(p.suffix == ".crdownload" for p in browser.downloads.iterdir()):
            break
        time.sleep(0.1)
    assert len(files) == 1 and files[0].name.startswith("hople-decisions-")
    rows = list(csv.reader(io.StringIO(files[0].read_text(encoding="utf-8-sig"))))
    assert rows[0] == render.QUERY_COLUMNS
    ids = served_site.known.ids
    assert [int(r[0]) for r in rows[1:]] == [ids["unsigned"], ids["unsigned2"]]
    assert all(r[5] == "snv" and r[10] == "invalid" for r in rows[1:])
    assert browser.path == "/decisions"  # the download did not navigate away


def test_logout_in_the_browser(browser: Browser, first_login: dict[str, Any]) -> None:
    browser.get("/decisions")
    browser.click("form.logout button")
    assert browser.path == "/login"
    browser.get("/decisions")
    assert browser.path == "/login"


def test_hostile_names_and_redirects_in_a_real_browser(tmp_path: Path) -> None:
    """A file name with U+202E and a sender with terminal escapes are shown with their
    controls visible (not reordered), and ``next=/%09/evil.example/x`` — which a browser
    would read as ``//evil.example/x`` — stays on the page."""
    from datetime import UTC, datetime

    from gateway.model.envelope import Envelope
    from tests.audit.factory import doc, report
    from tests.web.conftest import Served, make_site

    (tmp_path / "site").mkdir()
    site = make_site(tmp_path / "site")
    site.accounts.set_password(ADMIN, NEW_PASSWORD, must_change=False)
    env = Envelope(sender="kt\x1b[2J@daknong.gov.vn", recipients=("vanthu@lamdong.gov.vn",),
                   client_addr="10.1.2.3", queue_id="QBIDI")
    decision_id = site.store.record(report(doc("invoice\u202efdp.exe.docx")), env,
                                    decided_at=datetime(2026, 3, 8, 2, tzinfo=UTC))
    served = Served(site.app)
    driver = _driver(tmp_path / "profile", tmp_path)
    try:
        b = Browser(driver, f"http://127.0.0.1:{served.port}", tmp_path)
        b.get("/login")
        b.fill({"#username": ADMIN, "#password": NEW_PASSWORD})
        b.click("#login-submit")
        assert b.path == "/decisions"
        b.get(f"/decisions/{decision_id}")
        text = b.find("main").text
        assert "invoice<U+202E>fdp.exe.docx" in text
        assert "kt<U+001B>[2J@daknong.gov.vn" in text
        assert "\u202e" not in text and "\x1b" not in text
        b.get("/login?next=/%09/evil.example/x")
        host = urlsplit(driver.current_url)
        assert host.hostname == "127.0.0.1" and host.path == "/decisions"
    finally:
        driver.quit()
        served.close()
        site.store.close()
