"""``hople audit …``: query, show, verify, purge and report on the decision log.

The log is chosen by ``--db URL``, else the ``HOPLE_DB`` environment variable, else the
``[store] url`` of the gateway settings (``--config FILE`` or the default settings file).
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.audit import reports
from gateway.audit.guard import guard as _guard
from gateway.audit.guard import usage as _usage
from gateway.audit.progress import Progress
from gateway.audit.reports import (
    build_report,
    decision_agency_address,
    month_bounds,
    months_between,
    report_zone,
)
from gateway.audit.retention import cutoff
from gateway.audit.store import DecisionStore, open_store
from gateway.model.report import Verdict
from gateway.policy.agencies import AgencyMap, load_agencies

__all__ = ["register"]

DEFAULT_URL = "sqlite:////var/lib/hople/decisions.db"
VERDICTS = tuple(v.value for v in Verdict)
EXIT_OK, EXIT_PROBLEMS = 0, 1


def store_url(args: argparse.Namespace) -> str:
    if getattr(args, "db", None):
        return str(args.db)
    env = os.environ.get("HOPLE_DB")
    if env:
        return env
    from gateway.settings import DEFAULT_PATH, load_settings

    config = getattr(args, "config", None)
    path = Path(config) if config else (DEFAULT_PATH if DEFAULT_PATH.exists() else None)
    if path is None:
        return DEFAULT_URL
    return str(load_settings(path).store.url)


def _open(args: argparse.Namespace, *, read_only: bool = True) -> DecisionStore:
    """The log, read-only unless the command writes (``purge``): auditors may only read it."""
    return open_store(store_url(args), read_only=read_only)


def _agencies(args: argparse.Namespace) -> AgencyMap:
    return load_agencies(Path(args.agencies) if getattr(args, "agencies", None) else None)


def parse_when(text: str, name: str, *, end: bool = False) -> datetime:
    """ISO date or date-time; a date alone is local midnight (``--until DATE`` is the end
    of that day); a time without a zone is local time."""
    try:
        return reports.parse_when(text, name, end=end)
    except reports.ReportError as exc:
        raise _usage(str(exc)) from None


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "since": parse_when(args.since, "--since") if args.since else None,
        "until": parse_when(args.until, "--until", end=True) if args.until else None,
        "sender": args.sender,
        "domain": args.domain,
        "verdict": args.verdict,
        "queue_id": args.queue_id,
    }


# -- commands ---------------------------------------------------------------------------------


@_guard
def cmd_query(args: argparse.Namespace) -> int:
    from gateway.audit import render

    agencies = _agencies(args)
    wanted = args.agency.lower() if args.agency else None
    if wanted and agencies.by_code(wanted) is None:
        raise _usage(f"--agency: no agency {args.agency!r} in {agencies.source}")

    def keep(d: Any) -> bool:
        return wanted is None or agencies.resolve(decision_agency_address(d)).code == wanted

    filters = _filters(args)
    limit = None if args.limit == 0 else args.limit
    out = sys.stdout
    with _open(args) as store:
        if not (args.json or args.csv):
            if wanted is None:
                found = store.query(**filters, limit=limit)
            else:
                found = [d for d in store.iter_query(**filters) if keep(d)]
                found = list(reversed(found))[:limit] if limit else list(reversed(found))
            if not found:
                print("no decisions match", file=sys.stderr)
                return EXIT_OK
            print(render.query_table(found, agencies))
            return EXIT_OK
        total = store.count(**filters)
        progress = Progress(total, "export")
        writer = render.csv_writer(out) if args.csv else None
        if writer is not None:
            writer.writerow(render.QUERY_COLUMNS)
        written = 0
        for i, d in enumerate(store.iter_query(**filters), 1):
            progress.update(i)
            if not keep(d):
                continue
            if writer is not None:
                writer.writerow(render.decision_csv_row(d, agencies))
            else:
                out.write(render.decision_json(d, agencies) + "\n")
            written += 1
            if limit and written >= limit:
                break
        progress.close()
        out.flush()
    return EXIT_OK


@_guard
def cmd_show(args: argparse.Namespace) -> int:
    from gateway.audit import render

    agencies = _agencies(args)
    with _open(args) as store:
        d = store.get(args.id)
    if d is None:
        print(f"hople: audit: no decision with id {args.id}", file=sys.stderr)
        return EXIT_PROBLEMS
    if args.json:
        print(render.decision_json(d, agencies))
    else:
        print(render.decision_text(d, agencies))
    return EXIT_OK


@_guard
def cmd_verify(args: argparse.Namespace) -> int:
    with _open(args) as store:
        total = store.count()
        progress = Progress(total, "verify")
        result = store.verify(progress=progress.update, anchors=args.anchor or ())
        progress.close()
    for note in result.notes:
        print(f"note: {note}")
    if result.ok:
        start = ("" if result.start_seq <= 1
                 else f" from the purge checkpoint (seq {result.start_seq})")
        anchored = f", {len(args.anchor)} anchor(s) matched" if args.anchor else ""
        print(f"chain OK: {result.checked} records verified{start}{anchored}; "
              f"head seq {result.head_seq} hash {result.head_hash}")
        return EXIT_OK
    first = result.problems[0]
    print(f"chain BROKEN at seq {first.seq}: {first.message}")
    for p in result.problems[1:]:
        print(f"  also seq {p.seq}: {p.message}")
    print(f"({result.checked} records examined; head seq {result.head_seq})")
    return EXIT_PROBLEMS


@_guard
def cmd_purge(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    before = cutoff(args.older_than, now)
    with _open(args, read_only=False) as store:
        if args.dry_run:
            n = store.count(until=before)
            print(f"would purge up to {n} decisions decided before {before.isoformat()}")
            return EXIT_OK
        check = store.verify()
        if not check.ok:
            p = check.problems[0]
            print(f"hople: audit: purge refused: the chain does not verify "
                  f"(seq {p.seq}: {p.message}); keep the evidence", file=sys.stderr)
            return EXIT_PROBLEMS
        result = store.purge(before, now=now)
    if not result.purged:
        print(f"nothing to purge before {before.isoformat()}")
    else:
        print(f"purged {result.purged} records (through seq {result.purged_through_seq}, "
              f"decided before {before.isoformat()}); checkpoint seq {result.checkpoint_seq}")
    if result.side_rows:
        print(f"also removed {result.side_rows} access-log entries, finished notices and "
              f"expired sessions older than the cutoff")
    return EXIT_OK


@_guard
def cmd_report(args: argparse.Namespace) -> int:
    from gateway.audit import render
    from gateway.audit.html_report import html_report

    if args.month and (args.first or args.last):
        raise _usage("give --month or --from/--to, not both")
    if args.month:
        months = months_between(args.month, args.month)
    elif args.first:
        months = months_between(args.first, args.last or args.first)
    else:
        raise _usage("give --month YYYY-MM or --from YYYY-MM [--to YYYY-MM]")
    zone = report_zone(args.tz)
    since, until = month_bounds(months, zone)
    agencies = _agencies(args)
    with _open(args) as store:
        total = store.count(since=since, until=until)
        progress = Progress(total, "report")
        report = build_report(store.iter_query(since=since, until=until), agencies, months,
                              zone, on_item=progress.update)
        progress.close()
        source = store.backend
        head = store.head()
    if args.html:
        text = html_report(report, datetime.now(UTC), source=source, top=args.top,
                           head=head)
        try:
            Path(args.html).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise _usage(f"--html: cannot write {args.html}: {exc.strerror or exc}") from None
        print(f"wrote {args.html} ({report.total.messages} messages)", file=sys.stderr)
        if not args.csv:
            return EXIT_OK
    if args.csv:
        sys.stdout.write(render.report_csv(report, top=args.top))
    else:
        print(render.report_table(report, top=min(args.top, 3)))
        print(f"\nchain head at this report: seq {head[0]} hash {head[1]} "
              "(keep it: `hople audit verify --anchor SEQ:HASH` checks it later)")
    return EXIT_OK


# -- registration -----------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL",
                   help="decision log URL (sqlite:////path.db or postgresql://…); "
                        "default: $HOPLE_DB or the settings' store.url")
    p.add_argument("--config", metavar="FILE", help="gateway settings file (for store.url)")
    p.add_argument("--agencies", metavar="FILE",
                   help="agency map (default: the shipped rules/agencies.toml)")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def _anchor(text: str) -> tuple[int, str]:
    seq, _, digest = text.partition(":")
    digest = digest.strip().lower()
    if not seq.strip().isdigit() or len(digest) != 64 or any(
            c not in "0123456789abcdef" for c in digest):
        raise argparse.ArgumentTypeError(f"not SEQ:HASH (a number and 64 hex digits): {text!r}")
    return int(seq), digest


def _id(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a decision id: {text!r}") from None


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="the decision log: query, show, verify, purge, report")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    q = asub.add_parser("query", help="decisions matching filters (newest first)")
    _common(q)
    q.add_argument("--since", metavar="ISO", help="from this date/time (inclusive)")
    q.add_argument("--until", metavar="ISO",
                   help="up to this time (exclusive); a date alone includes that day")
    q.add_argument("--sender", metavar="ADDRESS", help="envelope sender (exact, any case)")
    q.add_argument("--domain", metavar="DOMAIN", help="sender domain (and its subdomains)")
    q.add_argument("--verdict", choices=VERDICTS)
    q.add_argument("--queue-id", metavar="ID", help="Postfix queue id")
    q.add_argument("--agency", metavar="CODE", help="agency code from the agency map")
    q.add_argument("--limit", type=_positive, default=100,
                   help="at most N decisions (default 100; 0 = all)")
    fmt = q.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON Lines, one decision per line")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    q.set_defaults(func=cmd_query)

    s = asub.add_parser("show", help="one decision with its documents and findings")
    _common(s)
    s.add_argument("id", type=_id, metavar="ID")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_show)

    v = asub.add_parser(
        "verify", help="check the tamper-evident chain of the whole log",
        description="Check every record against its hash and its link to the one before. "
                    "Keep the printed head (seq and hash) outside the database, e.g. in the "
                    "monthly report; --anchor SEQ:HASH later proves the chain was not "
                    "rewritten or cut short since.")
    _common(v)
    v.add_argument("--anchor", metavar="SEQ:HASH", action="append", type=_anchor,
                   help="a head recorded earlier that the chain must still contain "
                        "(repeatable)")
    v.set_defaults(func=cmd_verify)

    g = asub.add_parser("purge", help="remove decisions older than a duration (≥ 12 months)")
    _common(g)
    g.add_argument("--older-than", required=True, metavar="DURATION",
                   help="e.g. 12m, 18months, 2y, 400d; less than 12 months is refused "
                        "(Article 11.2e)")
    g.add_argument("--dry-run", action="store_true", help="count only")
    g.set_defaults(func=cmd_purge)

    r = asub.add_parser("report", help="per-agency figures for a month or a range of months")
    _common(r)
    r.add_argument("--month", metavar="YYYY-MM")
    r.add_argument("--from", dest="first", metavar="YYYY-MM")
    r.add_argument("--to", dest="last", metavar="YYYY-MM")
    r.add_argument("--tz", metavar="ZONE", help="time zone of the months (default "
                   "Asia/Ho_Chi_Minh)")
    r.add_argument("--top", type=_positive, default=5, help="failure reasons listed per agency")
    r.add_argument("--csv", action="store_true", help="CSV on standard output")
    r.add_argument("--html", metavar="FILE", help="write a self-contained HTML report with charts")
    r.set_defaults(func=cmd_report)
