"""``hople audit …`` end to end through the command's entry point."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from gateway.audit.store import open_store
from gateway.cli import main
from tests.audit.factory import Raw, doc, env, freemail_report, held_report, report

ICT = timezone(timedelta(hours=7))


def populate(url: str) -> None:
    with open_store(url) as s:
        s.record(report(doc("a.docx", signed=True)), env(queue_id="A1"),
                 decided_at=datetime(2026, 3, 5, 9, tzinfo=ICT), action_taken="tagged")
        s.record(freemail_report(), env("someone@gmail.com", queue_id="B2"),
                 decided_at=datetime(2026, 3, 9, 9, tzinfo=ICT), action_taken="rejected")
        s.record(held_report(), env("x.syt@lamdong.gov.vn", queue_id="C3"),
                 decided_at=datetime(2026, 3, 10, 9, tzinfo=ICT), action_taken="held")
        s.record(report(doc("b.docx")), env(queue_id="D4"),
                 decided_at=datetime(2026, 4, 2, 9, tzinfo=ICT), action_taken="tagged")


@pytest.fixture
def url(tmp_path: Path) -> str:
    u = f"sqlite:///{tmp_path / 'log.db'}"
    populate(u)
    return u


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_query_table(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "audit", "query", "--db", url)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "TIME", "QUEUE-ID", "SENDER", "AGENCY", "VERDICT",
                                "ACTION", "DOCS", "CODES"]
    assert [ln.split()[0] for ln in lines[2:]] == ["4", "3", "2", "1"]
    row = next(ln for ln in lines if ln.split()[0] == "2").split()
    assert row[3:9] == ["B2", "someone@gmail.com", "external", "rejected", "rejected", "1"]
    code, out, _ = run(capsys, "audit", "query", "--db", url, "--limit", "1")
    assert len(out.splitlines()) == 3


def test_query_filters_from_the_command_line(url: str, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    def ids(*extra: str) -> list[int]:
        code, out, _ = run(capsys, "audit", "query", "--db", url, "--json", *extra)
        assert code == 0
        return [json.loads(line)["id"] for line in out.splitlines()]

    assert ids() == [1, 2, 3, 4]  # exports are oldest first
    assert ids("--verdict", "rejected") == [2]
    assert ids("--queue-id", "C3") == [3]
    assert ids("--sender", "ANNV.STTTT@daknong.gov.vn") == [1, 4]
    assert ids("--domain", "lamdong.gov.vn") == [3]
    assert ids("--agency", "stttt") == [1, 4]
    assert ids("--agency", "external") == [2]
    assert ids("--since", "2026-03-09T00:00:00+07:00", "--until",
               "2026-04-01T00:00:00+07:00") == [2, 3]
    assert ids("--limit", "2") == [1, 2]
    code, out, _ = run(capsys, "audit", "query", "--db", url, "--agency", "syt")
    assert code == 0 and [ln.split()[0] for ln in out.splitlines()[2:]] == ["3"]


def test_query_json_and_csv(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "query", "--db", url, "--json", "--queue-id", "A1")
    rec = json.loads(out)
    assert rec["agency"] == {"code": "stttt", "name": "Sở Thông tin và Truyền thông"}
    assert rec["documents"][0]["path"] == "a.docx" and rec["verdict"] == "valid"
    assert rec["decided_at"] == "2026-03-05T02:00:00.000000+00:00"
    code, out, err = run(capsys, "audit", "query", "--db", url, "--csv")
    assert code == 0 and err == ""  # no progress bar when stderr is not a terminal
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["queue_id"] for r in rows] == ["A1", "B2", "C3", "D4"]
    assert rows[1]["agency"] == "external" and rows[1]["verdict"] == "rejected"
    assert rows[1]["codes"] == "SENDER_FREEMAIL EDITABLE_NOT_SIGNED"
    assert rows[0]["valid_documents"] == "1" and rows[0]["documents"] == "1"


def test_query_errors(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "audit", "query", "--db", url, "--agency", "nope")
    assert code == 2 and "no agency 'nope'" in err
    code, _, err = run(capsys, "audit", "query", "--db", url, "--since", "yesterday")
    assert code == 2 and "--since: not an ISO date" in err
    code, _, err = run(capsys, "audit", "query", "--db", "mysql://x/y")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    code, out, err = run(capsys, "audit", "query", "--db", url, "--queue-id", "none")
    assert code == 0 and out == "" and "no decisions match" in err


def test_store_url_from_environment_and_settings(url: str, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HOPLE_DB", url)
    code, out, _ = run(capsys, "audit", "query", "--json")
    assert code == 0 and len(out.splitlines()) == 4
    monkeypatch.delenv("HOPLE_DB")
    pytest.importorskip("gateway.settings")
    cfg = tmp_path / "gateway.toml"
    cfg.write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    code, out, _ = run(capsys, "audit", "query", "--json", "--config", str(cfg))
    assert code == 0 and len(out.splitlines()) == 4


def test_show(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "show", "2", "--db", url)
    assert code == 0
    assert "Decision 2  (REJECTED, action reject, taken: rejected)" in out
    assert "agency:      external" in out
    assert "[error] SENDER_FREEMAIL (Điều 9.4, reject)" in out
    assert "Văn bản gửi từ hộp thư miễn phí" in out  # catalogue text, Vietnamese first
    assert "- cv.docx  [editable" in out
    code, out, _ = run(capsys, "audit", "show", "1", "--db", url, "--json")
    assert json.loads(out)["documents"][0]["signatures"][0]["trust"] == "trusted"
    code, _, err = run(capsys, "audit", "show", "99", "--db", url)
    assert code == 1 and "no decision with id 99" in err


def test_verify_command_on_both_backends(backend_url: str,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    populate(backend_url)
    code, out, _ = run(capsys, "audit", "verify", "--db", backend_url)
    assert code == 0 and out.startswith("chain OK: 4 records verified; head seq 4 hash ")
    raw = Raw(backend_url)
    raw("UPDATE decisions SET sender = 'other@daknong.gov.vn' WHERE id = 3")
    raw("DELETE FROM decisions WHERE id = 1")
    raw.close()
    code, out, _ = run(capsys, "audit", "verify", "--db", backend_url)
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("chain BROKEN at seq 1: record seq 1 is missing (deleted")
    assert lines[1].startswith("  also seq 3: record seq 3 (decision 3, queue id C3")
    assert "was edited" in lines[1]


def test_purge_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    now = datetime.now(UTC)
    with open_store(url) as s:
        for days in (900, 800, 500, 30, 1):
            s.record(report(doc("x.docx")), env(), decided_at=now - timedelta(days=days))
    code, _, err = run(capsys, "audit", "purge", "--db", url, "--older-than", "11m")
    assert code == 2 and "at least 12 months (Article 11.2e)" in err
    code, _, err = run(capsys, "audit", "purge", "--db", url, "--older-than", "soon")
    assert code == 2 and "not a duration" in err
    code, out, _ = run(capsys, "audit", "purge", "--db", url, "--older-than", "18m",
                       "--dry-run")
    assert code == 0 and out.startswith("would purge up to 2 decisions")
    code, out, _ = run(capsys, "audit", "purge", "--db", url, "--older-than", "12m")
    assert code == 0 and out.startswith("purged 3 records (through seq 3")
    assert "checkpoint seq 6" in out
    code, out, _ = run(capsys, "audit", "verify", "--db", url)
    assert code == 0
    assert out.startswith("chain OK: 3 records verified from the purge checkpoint (seq 4)")
    code, out, _ = run(capsys, "audit", "purge", "--db", url, "--older-than", "12m")
    assert code == 0 and out.startswith("nothing to purge")
    # a broken chain is evidence: purge refuses to delete anything
    raw = Raw(url)
    raw("UPDATE decisions SET verdict = 'valid' WHERE id = 4")
    raw.close()
    code, _, err = run(capsys, "audit", "purge", "--db", url, "--older-than", "12m")
    assert code == 1 and "purge refused: the chain does not verify (seq 4" in err


def test_report_command(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "report", "--db", url, "--month", "2026-03")
    assert code == 0
    assert out.startswith("Decision log report 2026-03 (time zone Asia/Ho_Chi_Minh): "
                          "3 messages, 3 documents")
    code, out, _ = run(capsys, "audit", "report", "--db", url, "--month", "2026-03", "--csv")
    rows = {r["agency"]: r for r in csv.DictReader(io.StringIO(out))}
    assert set(rows) == {"stttt", "syt", "external", "total"}
    assert rows["stttt"]["valid_pct"] == "100.0" and rows["external"]["freemail_refusals"] == "1"
    assert rows["syt"]["held"] == "1" and rows["total"]["messages"] == "3"
    page = tmp_path / "r.html"
    code, out, err = run(capsys, "audit", "report", "--db", url, "--from", "2026-02", "--to",
                         "2026-04", "--html", str(page))
    assert code == 0 and out == "" and "wrote" in err
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 2 and "2026-04" in html and "2026-02" in html
    assert "http://" not in html and "<script" not in html


@pytest.mark.parametrize("argv,message", [
    (["--month", "2026-3"], "is not a month"),
    (["--month", "2026-03", "--from", "2026-01"], "not both"),
    ([], "give --month"),
    (["--from", "2026-05", "--to", "2026-01"], "ends before it starts"),
    (["--month", "2026-03", "--tz", "Mars/Olympus"], "unknown time zone"),
])
def test_report_usage_errors(url: str, argv: list[str], message: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "audit", "report", "--db", url, *argv)
    assert code == 2 and message in err and "Traceback" not in err


def test_report_html_unwritable(url: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "audit", "report", "--db", url, "--month", "2026-03", "--html",
                       str(tmp_path / "no" / "such" / "dir.html"))
    assert code == 2 and "cannot write" in err


def test_verify_with_an_anchor(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "audit", "report", "--db", url, "--month", "2026-03")
    head_line = out.splitlines()[-1]
    assert head_line.startswith("chain head at this report: seq 4 hash ")
    anchor = "4:" + head_line.split()[8]
    code, out, _ = run(capsys, "audit", "verify", "--db", url, "--anchor", anchor)
    assert code == 0 and "1 anchor(s) matched" in out
    code, out, _ = run(capsys, "audit", "verify", "--db", url, "--anchor", "4:" + "0" * 64)
    assert code == 1 and "does not have the hash anchored earlier" in out
    code, out, _ = run(capsys, "audit", "verify", "--db", url, "--anchor", "9:" + "0" * 64)
    assert code == 1 and "anchor seq 9 is beyond the chain head" in out
    with pytest.raises(SystemExit) as info:
        main(["audit", "verify", "--db", url, "--anchor", "4:xyz"])
    assert info.value.code == 2
    assert "not SEQ:HASH" in capsys.readouterr().err


def test_html_report_carries_the_chain_head(url: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "r.html"
    run(capsys, "audit", "report", "--db", url, "--month", "2026-03", "--html", str(page))
    with open_store(url) as s:
        seq, digest = s.head()
    assert f"hople audit verify --anchor {seq}:{digest}" in page.read_text(encoding="utf-8")
