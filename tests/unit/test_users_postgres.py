"""Accounts, sessions, the access log and the metrics on PostgreSQL (schema migration 2's
PostgreSQL statements, TIMESTAMPTZ columns, the identity column, ``to_regclass``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gateway.audit.store import DecisionStore, open_store
from gateway.audit.users import Accounts, LockoutPolicy
from tests.audit.pgserver import PgServer

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(pg_server: PgServer, request: pytest.FixtureRequest) -> Iterator[DecisionStore]:
    s = open_store(pg_server.create_db(f"users_{request.node.name.lower()[:40]}"))
    try:
        yield s
    finally:
        s.close()


def test_accounts_sessions_and_access_log_on_postgresql(store: DecisionStore) -> None:
    now = [T0]
    acc = Accounts(store, clock=lambda: now[0], lockout=LockoutPolicy(2, 300))
    acc.add("kiemtra", "Mật-khẩu#1", full_name="Nguyễn Văn Kiểm")
    user = acc.get("kiemtra")
    assert user is not None and user.created_at == T0 and user.must_change
    assert acc.authenticate("kiemtra", "Sai#mat-khau1").reason == "bad"
    assert acc.authenticate("kiemtra", "Sai#mat-khau1").reason == "locked"
    now[0] += timedelta(seconds=301)
    assert acc.authenticate("kiemtra", "Mật-khẩu#1").ok
    token, session = acc.create_session("kiemtra", "10.0.0.1")
    found = acc.session(token)
    assert found is not None and found[0].expires_at == session.expires_at
    acc.change_password("kiemtra", "Mật-khẩu#1", "Khác@Hẳn2")
    assert acc.session(token) is None
    for i in range(3):
        acc.log_access(username="kiemtra", client_addr="10.0.0.1", method="GET",
                       path="/decisions", query=f"page={i + 1}", status=200, event="search")
    log = acc.access_log()
    assert [e.query for e in log] == ["page=3", "page=2", "page=1"]
    assert log[0].at == now[0] and log[0].id > log[1].id


def test_metrics_on_postgresql(store: DecisionStore) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from gateway.audit.metrics import LogMetrics
    from tests.web.data import populate

    populate(store)
    text = LogMetrics(store).render().decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples[("hople_decisions_total", (("action", "accept"), ("verdict", "invalid")))] == 2
    assert samples[("hople_findings_total", (("code", "EDITABLE_NOT_SIGNED"),))] == 3
    assert samples[("hople_decision_duration_seconds_count", ())] == 6
    assert ("hople_notice_outbox_depth", ()) in samples
