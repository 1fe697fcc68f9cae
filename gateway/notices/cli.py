"""``hople notices check|list|show|retry``: the notice templates and the outbox.

The outbox is the ``notice_outbox`` table of the decision log, chosen like ``hople audit``
does (``--db URL``, else ``HOPLE_DB``, else ``[store] url`` of the settings file given by
``--config`` or the default one). ``check`` loads the rules of those settings (or ``--rules``)
and checks the templates they name.
"""

from __future__ import annotations

import argparse
import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.cli_common import UsageError
from gateway.notices.outbox import STATES, Outbox, OutboxEntry


def _guard(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    @functools.wraps(fn)
    def wrapper(args: argparse.Namespace) -> int:
        from gateway.audit.backends import StoreError, database_errors, first_line

        try:
            return fn(args)
        except StoreError as exc:
            raise UsageError(f"notices: {exc}") from None
        except database_errors() as exc:
            raise UsageError(f"notices: database error: {first_line(exc)}") from None

    return wrapper


def _outbox(args: argparse.Namespace) -> Outbox:
    from gateway.audit.cli import store_url
    from gateway.audit.store import open_store

    return Outbox(open_store(store_url(args)))


def _settings(args: argparse.Namespace) -> Any:
    from gateway.settings import DEFAULT_PATH, load_settings

    config = getattr(args, "config", None)
    path = Path(config) if config else (DEFAULT_PATH if DEFAULT_PATH.exists() else None)
    return load_settings(path)


@_guard
def cmd_check(args: argparse.Namespace) -> int:
    from gateway.notices.service import NoticeRules, templates_for
    from gateway.notices.templates import FIELDS
    from gateway.policy.load import load_policy

    rules_path = Path(args.rules) if args.rules else _settings(args).rules_path
    policy = load_policy(rules_path)
    rules = NoticeRules.from_policy(policy)
    templates = templates_for(rules)  # RulesError: file and reason, exit 2 from the CLI
    print(f"notice templates OK: {templates.directory} ({len(FIELDS)} templates, "
          f"{len(templates.remedy_texts)} remedies, {len(templates.layers)} layers)")
    print(f"notices {'enabled' if rules.enabled else 'disabled'}; rate limit "
          f"{rules.rate_limit_per_hour}/hour per sender; security contact: "
          f"{rules.security_contact or '(none)'}; annotate delivered: "
          f"{'yes' if rules.annotate_delivered else 'no'}")
    return 0


def _short(dt: datetime | None) -> str:
    return dt.astimezone().strftime("%Y-%m-%d %H:%M:%S") if dt else "-"


def _line(e: OutboxEntry) -> str:
    why = e.reason or e.last_error or ""
    return (f"{e.id:>6}  {_short(e.created_at)}  {e.state:<10} {e.kind:<8} "
            f"{(e.recipient or '<>'):<32} {e.attempts:>3}  {_short(e.next_attempt_at):<19}  "
            f"{e.queue_id or '-':<12} {why}")


@_guard
def cmd_list(args: argparse.Namespace) -> int:
    box = _outbox(args)
    try:
        entries = box.list(state=args.state, queue_id=args.queue_id, limit=args.limit)
        counts = box.counts()
    finally:
        box.store.close()
    if args.json:
        for e in entries:
            print(json.dumps(e.to_json(), ensure_ascii=False), flush=True)
        return 0
    print("outbox: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    print(f"{'id':>6}  {'created':<19}  {'state':<10} {'kind':<8} {'recipient':<32} "
          f"{'try':>3}  {'next attempt':<19}  {'queue id':<12} reason / last error")
    for e in entries:
        print(_line(e))
    return 0


@_guard
def cmd_show(args: argparse.Namespace) -> int:
    box = _outbox(args)
    try:
        e = box.get(args.id)
    finally:
        box.store.close()
    if e is None:
        raise UsageError(f"notices: no notice {args.id}")
    for key, value in e.to_json().items():
        print(f"{key}: {value if value is not None else '-'}")
    if e.body:
        print()
        print(e.body, end="" if e.body.endswith("\n") else "\n")
    elif e.state == "sent":
        print("\n(the text of a sent notice is not kept)")
    return 0


@_guard
def cmd_retry(args: argparse.Namespace) -> int:
    if not args.ids and not args.failed:
        raise UsageError("notices retry: give notice ids or --failed")
    box = _outbox(args)
    try:
        n = box.retry(None if args.failed else args.ids, datetime.now(UTC))
    finally:
        box.store.close()
    print(f"re-queued {n} notice(s); the gateway sends them at its next pass")
    return 0 if n or args.failed else 1


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("notices", help="notices to senders: templates and the outbox")
    sub = p.add_subparsers(dest="notices_command", metavar="ACTION", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--config", metavar="FILE", help="gateway settings file")
        q.add_argument("--db", metavar="URL", help="decision log URL (else HOPLE_DB, else "
                                                   "[store] url of the settings)")

    c = sub.add_parser("check", help="check the notice templates the rules name")
    c.add_argument("--config", metavar="FILE", help="gateway settings file (for its rules)")
    c.add_argument("--rules", metavar="FILE", help="site rules merged over the shipped rules")
    c.set_defaults(func=cmd_check)

    ls = sub.add_parser("list", help="notices in the outbox, newest first")
    common(ls)
    ls.add_argument("--state", choices=STATES)
    ls.add_argument("--queue-id", metavar="QID")
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true", help="one JSON object per line")
    ls.set_defaults(func=cmd_list)

    sh = sub.add_parser("show", help="one notice, with its text while it is not sent")
    common(sh)
    sh.add_argument("id", type=int)
    sh.set_defaults(func=cmd_show)

    r = sub.add_parser("retry", help="re-queue failed notices")
    common(r)
    r.add_argument("ids", type=int, nargs="*", metavar="ID")
    r.add_argument("--failed", action="store_true", help="every failed notice")
    r.set_defaults(func=cmd_retry)


__all__ = ["register"]
