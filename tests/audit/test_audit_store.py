"""The decision log on both backends: schema, records, queries, the tamper-evident chain,
retention and concurrent writers."""

from __future__ import annotations

import io
import multiprocessing
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gateway.audit.query import Filters
from gateway.audit.records import GENESIS, Decision, canonical_decision, chain_hash
from gateway.audit.schema import LATEST, MIGRATIONS
from gateway.audit.store import DecisionStore, StoreError, open_store
from gateway.model.catalog import make_finding
from gateway.model.report import DocClass
from tests.audit.factory import (
    T0,
    Raw,
    doc,
    env,
    freemail_report,
    held_report,
    report,
)


def fill(store: DecisionStore, n: int, start: datetime = T0, step: timedelta = timedelta(hours=1)
         ) -> list[int]:
    return [
        store.record(report(doc(f"d{i}.docx", signed=i % 2 == 0)), env(queue_id=f"Q{i:03d}"),
                     decided_at=start + i * step, action_taken="tagged")
        for i in range(n)
    ]


# -- schema -----------------------------------------------------------------------------------


def test_schema_version_matches_migrations(store: DecisionStore, backend_url: str) -> None:
    versions = [m.version for m in MIGRATIONS]
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    assert store.schema_version() == LATEST == versions[-1]
    store.close()
    again = open_store(backend_url)  # reopening applies nothing twice
    try:
        raw = Raw(backend_url)
        assert [r[0] for r in raw("SELECT version FROM schema_version ORDER BY version")] \
            == versions
        raw.close()
    finally:
        again.close()


def test_newer_schema_is_refused(store: DecisionStore, backend_url: str) -> None:
    raw = Raw(backend_url)
    raw("INSERT INTO schema_version (version, summary, applied_at) VALUES (?, 'future', 'x')",
        (LATEST + 1,))
    raw.close()
    with pytest.raises(StoreError, match="newer than this gateway"):
        open_store(backend_url)


def test_sqlite_log_is_in_wal_mode(tmp_path: Path) -> None:
    s = open_store(f"sqlite:///{tmp_path / 'x.db'}")
    s.close()
    raw = Raw(f"sqlite:///{tmp_path / 'x.db'}")
    assert raw("PRAGMA journal_mode")[0][0] == "wal"


@pytest.mark.parametrize("url,reason", [
    ("mysql://x/y", "unsupported log URL scheme 'mysql'"),
    ("sqlite://x.db", "bad sqlite URL"),
    ("sqlite:////nonexistent-dir-hople/x.db", "does not exist"),
    ("postgresql://nobody@127.0.0.1:1/none", "cannot connect"),
])
def test_bad_urls_give_one_line_errors(url: str, reason: str) -> None:
    with pytest.raises(StoreError, match=reason) as info:
        open_store(url)
    assert "\n" not in str(info.value)


def test_relative_sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with open_store("sqlite:///rel.db") as s:
        s.record(report(), env(), decided_at=T0)
    assert (tmp_path / "rel.db").is_file()


# -- records ----------------------------------------------------------------------------------


def stored(store: DecisionStore, decision_id: int) -> Decision:
    """The decision ``decision_id``, which the test has recorded."""
    d = store.get(decision_id)
    assert d is not None, decision_id
    return d


def test_record_and_get_round_trip(store: DecisionStore) -> None:
    r = report(doc("Công văn số 12.docx", signed=True), doc("bảng.xlsx"),
               doc("scan.pdf", cls=DocClass.NON_EDITABLE))
    e = env(sasl_user="annv", client_name="mail.daknong.gov.vn",
            recipients=("a@lamdong.gov.vn", "b@daknong.gov.vn"))
    local = timezone(timedelta(hours=7))
    at = datetime(2026, 3, 10, 15, 30, 1, 123456, tzinfo=local)
    first = store.record(r, e, decided_at=at, action_taken="tagged")
    second = store.record(report(), env(queue_id="NEXT"), decided_at=at)
    assert (first, second) == (1, 2)

    d = store.get(first)
    assert d is not None
    assert d.decided_at == at and d.decided_at.tzinfo == UTC
    assert (d.queue_id, d.message_id, d.sender, d.sender_domain) == (
        "4XyZ1", "<m@daknong.gov.vn>", "annv.stttt@daknong.gov.vn", "daknong.gov.vn")
    assert d.recipients == ("a@lamdong.gov.vn", "b@daknong.gov.vn")
    assert (d.sasl_user, d.client_addr, d.client_name) == ("annv", "10.0.0.5",
                                                           "mail.daknong.gov.vn")
    assert d.from_header == "Nguyễn Văn An <annv.stttt@daknong.gov.vn>"
    assert (d.verdict, d.action, d.action_taken) == ("invalid", "accept", "tagged")
    assert d.rules_hash == "r" * 64 and d.duration_ms == 12.5
    assert [x.path for x in d.documents] == ["Công văn số 12.docx", "bảng.xlsx", "scan.pdf"]
    signed, unsigned, scan = d.documents
    assert signed.verdict == "valid" and signed.findings == ()
    assert signed.signatures[0]["signer"] == "CN=Sở Thông tin và Truyền thông"
    assert signed.signatures[0]["integrity"] == "intact"
    assert signed.signatures[0]["signing_time"] == "2026-03-09T01:02:03.000000+00:00"
    assert unsigned.verdict == "invalid"
    assert [(f.code, f.article, f.severity) for f in unsigned.findings] == [
        ("EDITABLE_NOT_SIGNED", "9.2a", "error")]
    assert scan.doc_class == "non-editable" and scan.media_type == "application/pdf"
    assert d.codes == ("EDITABLE_NOT_SIGNED",)
    assert d.prev_hash == GENESIS and len(d.hash) == 64
    assert stored(store, second).prev_hash == d.hash
    assert store.get(999) is None


def test_hostile_values_are_stored_safely(store: DecisionStore) -> None:
    """NUL bytes (refused by PostgreSQL text), lone surrogates and huge headers are cleaned
    and bounded instead of failing the append."""
    e = env(sender="a\x00b@daknong.gov.vn", from_header="x" * 50_000 + "\udcff",
            recipients=tuple(f"r{i}@x.vn" for i in range(5000)))
    rid = store.record(report(), e, decided_at=T0)
    d = store.get(rid)
    assert d is not None
    assert d.sender == "a\ufffdb@daknong.gov.vn"
    assert d.from_header is not None and len(d.from_header) == 1000
    assert len(d.recipients) == 1000
    assert store.verify().ok


def test_null_and_unknown_sender(store: DecisionStore) -> None:
    a = store.record(report(), env(sender="", from_header=None), decided_at=T0)
    b = store.record(report(), env(sender=None, from_header=None, queue_id=None), decided_at=T0)
    assert stored(store, a).sender == ""
    assert stored(store, b).sender is None
    assert stored(store, b).queue_id is None


def test_no_body_or_document_text_is_stored(store: DecisionStore, backend_url: str) -> None:
    """Article 3.3: the log keeps envelope facts and verdicts, never bodies or content."""
    from gateway.pipeline import Checker
    from gateway.policy.load import load_policy

    body_secret, doc_secret = "BODY-SECRET-7731", "DOCUMENT-SECRET-9914"
    import base64

    docx_like = base64.b64encode(f"PK\x03\x04{doc_secret}".encode()).decode()
    msg = (
        "From: An <annv.stttt@daknong.gov.vn>\r\nTo: vp.snv@daknong.gov.vn\r\n"
        "Subject: Subject-Secret-5521\r\nMessage-ID: <s1@daknong.gov.vn>\r\n"
        "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        f"--b\r\nContent-Type: text/plain\r\n\r\n{body_secret}\r\n"
        "--b\r\nContent-Type: text/plain; name=note.txt\r\n"
        f"Content-Disposition: attachment; filename=note.txt\r\n\r\n{doc_secret}\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\n"
        "Content-Disposition: attachment; filename=a.docx\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{docx_like}\r\n--b--\r\n"
    ).encode()
    checker = Checker(load_policy())
    e = env(message_id="<s1@daknong.gov.vn>")
    r = checker.check_message(io.BytesIO(msg), e)
    rid = store.record(r, e, decided_at=T0)
    d = store.get(rid)
    assert d is not None and {x.path for x in d.documents} >= {"note.txt", "a.docx"}
    raw = Raw(backend_url)
    dump = raw.dump()
    raw.close()
    for secret in (body_secret, doc_secret, "Subject-Secret-5521"):
        assert secret not in dump
    assert "a.docx" in dump and "<s1@daknong.gov.vn>" in dump


# -- queries ----------------------------------------------------------------------------------


def test_query_filters(store: DecisionStore) -> None:
    store.record(report(doc("a.docx", signed=True)), env("annv.stttt@daknong.gov.vn",
                 queue_id="A1"), decided_at=T0)
    store.record(freemail_report(), env("someone@gmail.com", queue_id="B2"),
                 decided_at=T0 + timedelta(days=1))
    store.record(held_report(), env("ANNV.STTTT@DAKNONG.GOV.VN", queue_id="C3"),
                 decided_at=T0 + timedelta(days=2))
    store.record(report(doc("b.docx")), env("x.syt@mail.lamdong.gov.vn", queue_id="D4"),
                 decided_at=T0 + timedelta(days=3))

    def ids(**kw: Any) -> list[int]:
        return [d.id for d in store.query(**kw)]

    assert ids() == [4, 3, 2, 1]  # newest first
    assert ids(limit=2) == [4, 3]
    assert [d.id for d in store.query(oldest_first=True, limit=1)] == [1]
    assert ids(since=T0 + timedelta(days=1)) == [4, 3, 2]
    assert ids(until=T0 + timedelta(days=1)) == [1]
    assert ids(since=T0 + timedelta(days=1), until=T0 + timedelta(days=3)) == [3, 2]
    assert ids(sender="annv.stttt@daknong.gov.vn") == [3, 1]  # any case
    assert ids(sender="<Someone@Gmail.com>") == [2]
    assert ids(domain="gmail.com") == [2]
    assert ids(domain="lamdong.gov.vn") == [4]  # subdomains too
    assert ids(domain="daknong.gov.vn") == [3, 1]
    assert ids(domain="gov.vn") == [4, 3, 1]
    assert ids(domain="ov.vn") == []
    assert ids(verdict="valid") == [1]
    assert ids(verdict="rejected") == [2]
    assert ids(verdict="held") == [3]
    assert ids(queue_id="D4") == [4]
    assert ids(queue_id="D4", verdict="valid") == []
    assert store.count(domain="daknong.gov.vn") == 2
    assert [d.id for d in store.iter_query(batch=1)] == [1, 2, 3, 4]
    assert [d.id for d in store.iter_query(domain="daknong.gov.vn", batch=1)] == [1, 3]
    assert [len(d.documents) for d in store.iter_query(batch=3)] == [1, 1, 1, 1]


def test_domain_filter_treats_like_wildcards_literally(store: DecisionStore) -> None:
    store.record(report(), env("a@x1y.vn"), decided_at=T0)
    store.record(report(), env("a@sub.x_y.vn"), decided_at=T0)
    assert [d.sender for d in store.query(domain="x_y.vn")] == ["a@sub.x_y.vn"]
    assert store.query(domain="%") == [] and store.query(domain="\\") == []
    assert store.query(domain="y.vn") == []  # whole labels, not a character suffix


# -- the chain --------------------------------------------------------------------------------


def test_verify_passes_on_a_clean_log(store: DecisionStore) -> None:
    assert store.verify().ok and store.verify().checked == 0
    fill(store, 25)
    result = store.verify()
    assert result.ok, result.problems
    assert (result.checked, result.head_seq, result.start_seq) == (25, 25, 1)
    assert result.head_hash == stored(store, 25).hash


def test_hash_covers_the_canonical_form(store: DecisionStore) -> None:
    fill(store, 2)
    d = store.get(2)
    assert d is not None
    assert chain_hash(d.prev_hash, canonical_decision(d)) == d.hash
    assert b"d1.docx" in canonical_decision(d)  # documents are part of the form


def test_json_columns_are_compact_and_in_field_order(store: DecisionStore,
                                                     backend_url: str) -> None:
    """The writer serialises the JSON columns from the record's own JSON (one pass for the
    hash and the columns): the text stays compact, unescaped UTF-8, keys in field order."""
    import json

    def compact(obj: Any) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))

    r = report(doc("Công văn.docx", signed=True), doc("bảng.xlsx"),
               findings=[make_finding("SENDER_FREEMAIL", domain="gmail.com")])
    rid = store.record(r, env(recipients=("a@lamdong.gov.vn", "b@daknong.gov.vn")),
                       decided_at=T0)
    d = stored(store, rid)
    raw = Raw(backend_url)
    try:
        (recipients, findings), = raw("SELECT recipients, findings FROM decisions WHERE id = ?",
                                     (rid,))
        docs = raw("SELECT findings, signatures FROM documents WHERE decision_id = ? "
                   "ORDER BY idx", (rid,))
    finally:
        raw.close()
    assert recipients == compact(["a@lamdong.gov.vn", "b@daknong.gov.vn"])
    assert findings == compact([f.to_json() for f in d.findings])
    assert '"code":"SENDER_FREEMAIL","article":' in findings
    assert docs == [(compact([f.to_json() for f in x.findings]),
                     compact([dict(s) for s in x.signatures])) for x in d.documents]
    assert "Sở Thông tin" in docs[0][1]
    assert store.verify().ok


def test_verify_names_a_record_edited_by_update(store: DecisionStore, backend_url: str) -> None:
    fill(store, 10)
    raw = Raw(backend_url)
    raw("UPDATE decisions SET verdict = 'rejected' WHERE id = 7")
    raw.close()
    result = store.verify()
    assert not result.ok
    first = result.problems[0]
    assert (first.seq, first.kind) == (7, "edited")
    assert "record seq 7" in first.message and "Q006" in first.message
    assert len(result.problems) == 1  # its stored hash still links the next record


def test_verify_names_a_record_whose_document_was_edited(store: DecisionStore,
                                                         backend_url: str) -> None:
    fill(store, 5)
    raw = Raw(backend_url)
    raw("UPDATE documents SET verdict = 'valid', findings = '[]' WHERE decision_id = 2")
    raw.close()
    first = store.verify().problems[0]
    assert (first.seq, first.kind) == (2, "edited")


def test_verify_names_the_next_record_when_the_edit_was_rehashed(
        store: DecisionStore, backend_url: str) -> None:
    """An intruder who also recomputes the edited record's hash breaks the next link."""
    fill(store, 6)
    d = store.get(3)
    assert d is not None
    import dataclasses

    forged = dataclasses.replace(d, verdict="rejected")
    raw = Raw(backend_url)
    raw("UPDATE decisions SET verdict = 'rejected', hash = ? WHERE id = 3",
        (chain_hash(d.prev_hash, canonical_decision(forged)),))
    raw.close()
    first = store.verify().problems[0]
    assert (first.seq, first.kind) == (4, "relinked")
    assert "seq 3 was edited" in first.message


def test_verify_names_a_deleted_record(store: DecisionStore, backend_url: str) -> None:
    fill(store, 10)
    raw = Raw(backend_url)
    raw("DELETE FROM decisions WHERE id = 4")
    raw.close()
    result = store.verify()
    first = result.problems[0]
    assert (first.seq, first.kind) == (4, "deleted")
    assert "record seq 4 is missing" in first.message
    assert "record seq 5" in first.message


def test_verify_names_records_deleted_at_the_start_and_the_end(
        store: DecisionStore, backend_url: str) -> None:
    fill(store, 8)
    raw = Raw(backend_url)
    raw("DELETE FROM decisions WHERE id IN (1, 2, 8)")
    raw.close()
    problems = store.verify().problems
    assert [(p.seq, p.kind) for p in problems] == [(1, "deleted"), (8, "deleted")]
    assert "records seq 1..2 are missing" in problems[0].message
    assert "at the end of the log" in problems[1].message


def test_verify_names_a_record_inserted_at_the_end(store: DecisionStore,
                                                   backend_url: str) -> None:
    """A well-formed forged record (correct hash and link) after the last one."""
    fill(store, 5)
    last = store.get(5)
    assert last is not None
    import dataclasses

    forged = dataclasses.replace(last, id=6, prev_hash=last.hash, verdict="valid",
                                 documents=())
    forged = dataclasses.replace(forged, hash=chain_hash(last.hash, canonical_decision(forged)))
    raw = Raw(backend_url)
    cols = raw("SELECT * FROM decisions WHERE id = 5")[0]
    row = list(cols)
    row[0], row[11], row[18], row[19] = 6, "valid", forged.prev_hash, forged.hash
    raw(f"INSERT INTO decisions VALUES ({', '.join('?' for _ in row)})", row)
    raw.close()
    first = store.verify().problems[0]
    assert (first.seq, first.kind) == (6, "inserted")
    assert "beyond the chain head" in first.message


def test_verify_names_a_record_inserted_in_a_gap(store: DecisionStore, backend_url: str) -> None:
    """After a purge the checkpoint owns a sequence number; a decision inserted with that
    number (or a document added to a decision) is found."""
    fill(store, 4, start=T0 - timedelta(days=800))
    fill_more = [store.record(report(), env(queue_id="NEW"), decided_at=datetime.now(
        UTC)) for _ in range(2)]
    res = store.purge(datetime.now(UTC) - timedelta(days=400))
    assert res.purged == 4 and res.checkpoint_seq == 7 and fill_more == [5, 6]
    raw = Raw(backend_url)
    row = list(raw("SELECT * FROM decisions WHERE id = 6")[0])
    row[0] = 7
    raw(f"INSERT INTO decisions VALUES ({', '.join('?' for _ in row)})", row)
    raw("INSERT INTO documents VALUES (5, 0, 'extra.docx', ?, 1, 'x', 'editable', 'valid', "
        "'[]', '[]')", ("0" * 64,))
    raw.close()
    problems = store.verify().problems
    assert (problems[0].seq, problems[0].kind) == (5, "edited")
    assert any(p.seq == 7 and p.kind == "inserted" and "record seq 7 (decision 7" in p.message
               and "duplicates seq 7 of checkpoint seq 7" in p.message
               for p in problems)


def test_verify_reports_an_unreadable_row_without_crashing(store: DecisionStore,
                                                           backend_url: str) -> None:
    fill(store, 3)
    raw = Raw(backend_url)
    raw("UPDATE decisions SET findings = 'not json' WHERE id = 2")
    raw.close()
    first = store.verify().problems[0]
    assert (first.seq, first.kind) == (2, "edited") and "no longer parses" in first.message
    with pytest.raises(StoreError, match="decision 2 cannot be read"):
        store.get(2)


# -- retention --------------------------------------------------------------------------------


def test_purge_keeps_the_chain_verifiable(store: DecisionStore, backend_url: str) -> None:
    now = datetime(2027, 6, 15, tzinfo=UTC)
    old = fill(store, 6, start=now - timedelta(days=900), step=timedelta(days=30))
    young = fill(store, 3, start=now - timedelta(days=100), step=timedelta(days=1))
    assert old == [1, 2, 3, 4, 5, 6] and young == [7, 8, 9]
    before = now - timedelta(days=400)  # keeps seq 7.. (seq 5/6 are ~750/720 days old)
    last_purged = store.get(6)
    res = store.purge(before, now=now)
    assert (res.purged, res.purged_through_seq, res.checkpoint_seq) == (6, 6, 10)
    assert [d.id for d in store.query(oldest_first=True)] == [7, 8, 9]
    (cp,) = store.checkpoints()
    assert (cp.seq, cp.purged_count, cp.purged_through_seq) == (10, 6, 6)
    assert last_purged is not None and cp.purged_through_hash == last_purged.hash
    result = store.verify()
    assert result.ok, result.problems
    assert (result.start_seq, result.checked, result.head_seq) == (7, 4, 10)

    # appending continues after the checkpoint, and a second purge supersedes the first
    assert store.record(report(), env(), decided_at=now) == 11
    assert store.purge(before, now=now).purged == 0  # nothing older left: no checkpoint
    assert len(store.checkpoints()) == 1
    res2 = store.purge(now - timedelta(days=1), now=now + timedelta(days=1))
    assert (res2.purged, res2.purged_through_seq, res2.checkpoint_seq) == (4, 10, 12)
    result = store.verify()
    assert result.ok, result.problems
    assert result.start_seq == 11 and result.checked == 2


def test_verify_after_purge_detects_a_deleted_checkpoint_or_first_record(
        store: DecisionStore, backend_url: str) -> None:
    now = datetime(2027, 6, 15, tzinfo=UTC)
    fill(store, 3, start=now - timedelta(days=800))
    fill(store, 3, start=now - timedelta(days=10))
    store.purge(now - timedelta(days=400), now=now)
    raw = Raw(backend_url)
    raw("DELETE FROM decisions WHERE id = 4")
    first = store.verify().problems[0]
    assert (first.seq, first.kind) == (4, "deleted")
    raw("DELETE FROM checkpoints")
    problems = store.verify().problems
    assert problems[0].seq == 1 and problems[0].kind == "deleted"
    raw.close()


def test_purge_of_everything_leaves_a_checkpoint_only(store: DecisionStore) -> None:
    now = datetime(2027, 6, 15, tzinfo=UTC)
    fill(store, 3, start=now - timedelta(days=800))
    res = store.purge(now - timedelta(days=400), now=now)
    assert (res.purged, res.checkpoint_seq) == (3, 4)
    assert store.query() == []
    result = store.verify()
    assert result.ok and result.checked == 1 and result.start_seq == 4


# -- concurrency ------------------------------------------------------------------------------


def test_threads_sharing_one_store(store: DecisionStore) -> None:
    errors: list[BaseException] = []

    def work(tag: str) -> None:
        try:
            for i in range(40):
                store.record(report(doc(f"{tag}{i}.docx")), env(queue_id=f"{tag}{i}"),
                             decided_at=T0)
        except BaseException as exc:  # noqa: BLE001 - a thread's failure is asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in "ABCD"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert store.count() == 160
    assert store.verify().ok


def _two_processes(url: str, n: int) -> None:
    from tests.audit.writer import write_many_after

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=write_many_after, args=(barrier, url, n, tag))
             for tag in ("A", "B")]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
    assert [proc.exitcode for proc in procs] == [0, 0]


def test_two_gateway_processes_write_one_log(backend_url: str) -> None:
    n = 200
    _two_processes(backend_url, n)
    with open_store(backend_url) as s:
        result = s.verify()
        assert result.ok, result.problems
        assert result.checked == result.head_seq == 2 * n
        decisions = list(s.iter_query())
        assert [d.id for d in decisions] == list(range(1, 2 * n + 1))
        queue_ids = {d.queue_id for d in decisions}
        assert queue_ids == {f"{t}{i:04d}" for t in "AB" for i in range(n)}
        assert all(len(d.documents) == 1 for d in decisions)
        # both writers really ran at the same time: their records interleave
        tags = [d.queue_id[0] for d in decisions]  # type: ignore[index]
        assert sum(a != b for a, b in zip(tags, tags[1:], strict=False)) >= 2


@pytest.mark.postgres
def test_postgresql_connection_lost_is_replaced(pg_url: str) -> None:
    """A server restart or an idle-connection kill must not leave a gateway unable to log:
    the next append reconnects (nothing of it had run) and the chain stays whole."""
    with open_store(pg_url) as s:
        fill(s, 2)
        raw = Raw(pg_url)
        raw("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        raw.close()
        assert s.record(report(), env(), decided_at=T0) == 3
        assert s.count() == 3 and s.verify().ok


def test_anchors_detect_a_rewritten_or_shortened_chain(store: DecisionStore,
                                                       backend_url: str) -> None:
    """Someone who recomputes every hash and the head leaves a chain consistent in itself;
    a head kept outside the database (an anchor) still exposes it."""
    fill(store, 6)
    anchor = store.head()
    assert anchor[0] == 6
    fill(store, 2)
    assert store.verify(anchors=[anchor]).ok
    d5, d6 = store.get(5), store.get(6)
    assert d5 is not None and d6 is not None
    import dataclasses

    raw = Raw(backend_url)
    # rewrite seq 6 consistently (content, hash, next link, head): plain verify cannot tell
    forged6 = dataclasses.replace(d6, verdict="rejected")
    forged6 = dataclasses.replace(forged6, hash=chain_hash(d5.hash, canonical_decision(forged6)))
    raw("UPDATE decisions SET verdict = 'rejected', hash = ? WHERE id = 6", (forged6.hash,))
    prev = forged6.hash
    for i in (7, 8):
        d = store.get(i)
        assert d is not None
        f = dataclasses.replace(d, prev_hash=prev)
        f = dataclasses.replace(f, hash=chain_hash(prev, canonical_decision(f)))
        raw("UPDATE decisions SET prev_hash = ?, hash = ? WHERE id = ?", (prev, f.hash, i))
        prev = f.hash
    raw("UPDATE chain_head SET hash = ? WHERE id = 1", (prev,))
    assert store.verify().ok
    first = store.verify(anchors=[anchor]).problems[0]
    assert (first.seq, first.kind) == (6, "edited") and "anchored earlier" in first.message
    # cut the chain short and rewind the head
    raw("DELETE FROM decisions WHERE id >= 5")
    raw("UPDATE chain_head SET seq = 4, hash = ? WHERE id = 1", (stored(store, 4).hash,))
    raw.close()
    assert store.verify().ok
    first = store.verify(anchors=[anchor]).problems[0]
    assert (first.seq, first.kind) == (6, "deleted") and "beyond the chain head" in first.message


def test_purge_applies_the_same_retention_beside_the_chain(store: DecisionStore) -> None:
    """Access-log entries and finished notices older than the cutoff go with the purge;
    pending notices and younger rows stay; expired sessions are dropped; the chain verifies."""
    now = datetime(2027, 6, 15, tzinfo=UTC)
    old, young = now - timedelta(days=500), now - timedelta(days=10)
    fill(store, 2, start=old, step=timedelta(days=1))
    fill(store, 1, start=young, step=timedelta(days=1))
    db = store.database
    with store.lock, db.write_tx():
        for at in (old, young):
            db.execute("INSERT INTO access_log (at, username, method, path, status, event) "
                       "VALUES (?, 'kiemtra', 'GET', '/', 200, 'page')", (db.ts(at),))
        for at, state in ((old, "sent"), (old, "pending"), (young, "sent"), (old, "suppressed")):
            db.execute("INSERT INTO notice_outbox (created_at, kind, recipient, rate_key, subject, "
                       "body, message_id, state) VALUES (?, 'invalid', 'a@x.vn', 'a@x.vn', 's', "
                       "'', '<m@x>', ?)", (db.ts(at), state))
        db.execute("INSERT INTO web_users (username, password_hash, must_change, disabled, "
                   "created_at, password_changed_at) VALUES ('kiemtra', 'x', 0, 0, ?, ?)",
                   (db.ts(old), db.ts(old)))
        for token, expires in (("t-old", now - timedelta(hours=1)),
                               ("t-new", now + timedelta(hours=1))):
            db.execute("INSERT INTO web_sessions (token_hash, username, csrf_token, created_at, "
                       "last_seen_at, expires_at) VALUES (?, 'kiemtra', 'c', ?, ?, ?)",
                       (token, db.ts(now), db.ts(now), db.ts(expires)))

    result = store.purge(now - timedelta(days=400), now=now)
    assert result.purged == 2 and result.side_rows == 1 + 2 + 1
    with store.lock, db.read_tx():
        assert [db.from_ts(r[0]) for r in db.execute("SELECT at FROM access_log")] == [young]
        states = sorted((db.from_ts(r[0]) == old, r[1])
                        for r in db.execute("SELECT created_at, state FROM notice_outbox"))
        assert states == [(False, "sent"), (True, "pending")]
        assert [r[0] for r in db.execute("SELECT token_hash FROM web_sessions")] == ["t-new"]
    assert store.verify().ok


def test_query_count_and_iter_query_select_the_same_rows(store: DecisionStore) -> None:
    """One filter builder serves the three readers: for every filter (and combinations),
    count() is the length of query(), and iter_query() returns the same decisions oldest
    first, whatever the batch size."""
    senders = ["annv.stttt@daknong.gov.vn", "someone@gmail.com", "ANNV.STTTT@DAKNONG.GOV.VN",
               "x.syt@mail.lamdong.gov.vn", "a@sub.x_y.vn"]
    for i, sender in enumerate(senders * 2):
        rep = freemail_report() if "gmail" in sender else report(doc(f"d{i}.docx"))
        store.record(rep, env(sender, queue_id=f"Q{i}"), decided_at=T0 + timedelta(hours=i))
    filters: list[Filters] = [
        {}, {"since": T0 + timedelta(hours=3)}, {"until": T0 + timedelta(hours=7)},
        {"since": T0 + timedelta(hours=2), "until": T0 + timedelta(hours=8)},
        {"sender": "<AnnV.STTTT@daknong.gov.vn>"}, {"domain": "gov.vn"},
        {"domain": "x_y.vn"}, {"domain": "y.vn"}, {"verdict": "rejected"},
        {"queue_id": "Q6"}, {"domain": "daknong.gov.vn", "since": T0 + timedelta(hours=1)},
    ]
    for f in filters:
        newest_first = [d.id for d in store.query(**f)]
        assert store.count(**f) == len(newest_first), f
        for batch in (1, 3, 1000):
            oldest_first = [d.id for d in store.iter_query(batch=batch, **f)]
            assert oldest_first == newest_first[::-1], (f, batch)
        limited = [d.id for d in store.query(limit=2, oldest_first=True, **f)]
        assert limited == newest_first[::-1][:2], f
    assert store.count(domain="gov.vn") == 6 and store.count(sender="someone@gmail.com") == 2
