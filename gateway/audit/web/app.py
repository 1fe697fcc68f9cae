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

Where things are: :mod:`.config` (settings), :mod:`.state` (what the pages share),
:mod:`.hooks` (session, CSRF, headers, access log, error pages), :mod:`.filters` (the search
form), :mod:`.security` (signing, tokens, throttle, headers) and :mod:`.views` (one
blueprint per area). This module only assembles them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from markupsafe import Markup

from gateway.audit.display import SUSPECT, visible, visible_any
from gateway.audit.store import DecisionStore
from gateway.audit.web import hooks
from gateway.audit.web.config import VERDICT_VI, VERDICTS, WebConfig
from gateway.audit.web.state import AppState
from gateway.audit.web.views import auth, decisions, metrics, reports

__all__ = ["WebConfig", "create_app"]

HERE = Path(__file__).resolve().parent


def shown(value: Any) -> Any:
    """Jinja's finalize: :func:`gateway.audit.display.visible` on every printed string
    (markup made by the app stays markup)."""
    if isinstance(value, Markup):
        return Markup(visible(str(value))) if SUSPECT.search(value) else value
    return visible_any(value)


def create_app(store: DecisionStore, config: WebConfig) -> Flask:
    """The WSGI application over an open store (the caller owns and closes the store)."""
    app = Flask(
        "gateway.audit.web",
        root_path=str(HERE),
        template_folder=str(HERE / "templates"),
        static_folder=str(HERE / "static"),
        static_url_path="/static",
    )
    # every value a template prints goes through ``shown``: no bidirectional or control
    # character reaches the page as it is (file names, addresses, paths come from senders)
    app.jinja_options = {**app.jinja_options, "finalize": shown}
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024, SEND_FILE_MAX_AGE_DEFAULT=3600,
                      TEMPLATES_AUTO_RELOAD=False)
    st = AppState(store, config)
    app.extensions["hople"] = {"state": st, "accounts": st.accounts, "metrics": st.metrics,
                               "store": store, "config": config, "throttle": st.throttle}
    zone = config.zone
    app.jinja_env.globals.update(local=st.local, verdicts=VERDICTS, verdict_vi=VERDICT_VI,
                                 agencies=config.agencies,
                                 zone_name=str(getattr(zone, "key", None) or zone))
    hooks.register(app)
    for bp in (auth.bp, decisions.bp, reports.bp, metrics.bp):
        app.register_blueprint(bp)
    return app
