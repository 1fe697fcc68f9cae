"""``hople web`` (the auditors' web page) and ``hople users …`` (their accounts).

Both use the decision log chosen like ``hople audit``: ``--db URL``, else ``$HOPLE_DB``, else
the ``[store] url`` of the gateway settings (``--config FILE`` or the default file).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import secrets
import string
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.audit.cli import parse_when, store_url
from gateway.audit.credentials import AccountError, check_password
from gateway.audit.guard import guard as _guard
from gateway.audit.guard import usage as _usage
from gateway.audit.store import DecisionStore, open_store
from gateway.audit.users import Accounts, User

__all__ = ["register"]

DEFAULT_LISTEN = "127.0.0.1:8080"
MIN_SECRET_BYTES = 32


def _open(args: argparse.Namespace) -> DecisionStore:
    return open_store(store_url(args))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", metavar="URL",
                   help="decision log URL (sqlite:////path.db or postgresql://…); "
                        "default: $HOPLE_DB or the settings' store.url")
    p.add_argument("--config", metavar="FILE", help="gateway settings file (for store.url)")


# -- hople users --------------------------------------------------------------------------------


def _read_password(args: argparse.Namespace, prompt: str) -> str:
    if getattr(args, "generate", False):
        return generate_password()
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise _usage("--password-stdin: no password on standard input")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise _usage("no terminal to ask for the password: use --password-stdin or --generate")
    first = getpass.getpass(f"{prompt}: ")
    check_password(first)
    if getpass.getpass("Nhập lại / again: ") != first:
        raise _usage("the two passwords differ")
    return first


def generate_password(length: int = 16) -> str:
    """A random temporary password that satisfies Article 12.1."""
    alphabet = string.ascii_letters + string.digits + "!@#$%^&*-_=+"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(length))
        try:
            check_password(pw)
        except AccountError:
            continue
        return pw


def _status(u: User, now: datetime) -> str:
    parts = []
    if u.disabled:
        parts.append("disabled")
    if u.locked(now):
        parts.append("locked")
    if u.must_change:
        parts.append("must-change-password")
    return ",".join(parts) or "active"


def _when(at: datetime | None) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S%z") if at else "-"


@_guard
def cmd_add(args: argparse.Namespace) -> int:
    password = _read_password(args, "Mật khẩu tạm / temporary password")
    with _open(args) as store:
        user = Accounts(store).add(args.username, password, full_name=args.full_name or "")
    print(f"account {user.username} created; the password must be changed at first login")
    if args.generate:
        print(f"temporary password: {password}")
    return 0


@_guard
def cmd_passwd(args: argparse.Namespace) -> int:
    password = _read_password(args, "Mật khẩu mới / new password")
    with _open(args) as store:
        Accounts(store).set_password(args.username, password, must_change=True)
    print(f"password of {args.username.lower()} set; it must be changed at the next login "
          "(sessions ended, lockout cleared)")
    if args.generate:
        print(f"temporary password: {password}")
    return 0


@_guard
def cmd_disable(args: argparse.Namespace) -> int:
    with _open(args) as store:
        Accounts(store).set_disabled(args.username, True)
    print(f"account {args.username.lower()} disabled (sessions ended)")
    return 0


@_guard
def cmd_enable(args: argparse.Namespace) -> int:
    with _open(args) as store:
        Accounts(store).set_disabled(args.username, False)
    print(f"account {args.username.lower()} enabled")
    return 0


@_guard
def cmd_list(args: argparse.Namespace) -> int:
    from gateway.audit.render import table

    now = datetime.now(UTC)
    with _open(args) as store:
        accounts = Accounts(store)
        users = accounts.list()
        rows = [[u.username, u.full_name or "-", _status(u, now), _when(u.last_login_at),
                 _when(u.password_changed_at), str(accounts.session_count(u.username))]
                for u in users]
    if not rows:
        print("no accounts (add one with `hople users add NAME`)", file=sys.stderr)
        return 0
    print(table(["USER", "NAME", "STATUS", "LAST LOGIN", "PASSWORD SET", "SESSIONS"], rows,
                right=(5,)))
    return 0


@_guard
def cmd_log(args: argparse.Namespace) -> int:
    from gateway.audit.render import table

    since = parse_when(args.since, "--since") if args.since else None
    with _open(args) as store:
        entries = Accounts(store).access_log(since=since, username=args.user,
                                             limit=args.limit or None)
    if not entries:
        print("no access recorded", file=sys.stderr)
        return 0
    rows = [[_when(e.at), e.username or "-", e.client_addr or "-", e.method,
             e.path + (f"?{e.query}" if e.query else ""), str(e.status), e.event]
            for e in reversed(entries)]
    print(table(["TIME", "USER", "FROM", "METHOD", "PAGE", "STATUS", "EVENT"], rows,
                right=(5,)))
    return 0


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return value


def register_users(sub: Any) -> None:
    p = sub.add_parser("users", help="accounts of the auditors' web page")
    usub = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    def with_password(q: argparse.ArgumentParser) -> None:
        g = q.add_mutually_exclusive_group()
        g.add_argument("--password-stdin", action="store_true",
                       help="read the password from the first line of standard input")
        g.add_argument("--generate", action="store_true",
                       help="make up a random temporary password and print it")

    a = usub.add_parser("add", help="create an account (password changed at first login)")
    _common(a)
    a.add_argument("username", metavar="NAME")
    a.add_argument("--full-name", metavar="TEXT", help="name shown on the page")
    with_password(a)
    a.set_defaults(func=cmd_add)

    w = usub.add_parser("passwd", help="set a temporary password (changed at next login)")
    _common(w)
    w.add_argument("username", metavar="NAME")
    with_password(w)
    w.set_defaults(func=cmd_passwd)

    d = usub.add_parser("disable", help="disable an account and end its sessions")
    _common(d)
    d.add_argument("username", metavar="NAME")
    d.set_defaults(func=cmd_disable)

    e = usub.add_parser("enable", help="enable a disabled account again")
    _common(e)
    e.add_argument("username", metavar="NAME")
    e.set_defaults(func=cmd_enable)

    ls = usub.add_parser("list", help="accounts and their status")
    _common(ls)
    ls.set_defaults(func=cmd_list)

    lg = usub.add_parser("log", help="the web page's access log (oldest of the selection "
                                     "first)")
    _common(lg)
    lg.add_argument("--user", metavar="NAME")
    lg.add_argument("--since", metavar="ISO")
    lg.add_argument("--limit", type=_limit, default=100, help="newest N entries (0 = all)")
    lg.set_defaults(func=cmd_log)


# -- hople web ----------------------------------------------------------------------------------


def _read_secret(path: str) -> bytes:
    try:
        data = Path(path).read_bytes().strip()
    except OSError as exc:
        raise _usage(f"web: --secret-file {path}: {exc.strerror or exc}") from None
    if len(data) < MIN_SECRET_BYTES:
        raise _usage(f"web: --secret-file {path}: at least {MIN_SECRET_BYTES} bytes are needed "
                     "(e.g. `openssl rand -hex 32`)")
    return data


def build_config(args: argparse.Namespace) -> Any:
    from gateway.audit.reports import ReportError, report_zone
    from gateway.audit.web.app import WebConfig
    from gateway.audit.web.security import parse_networks
    from gateway.policy.agencies import load_agencies
    from gateway.policy.strict import RulesError

    try:
        networks = parse_networks(args.metrics_allow or ["127.0.0.1", "::1"])
        proxies = parse_networks(args.trusted_proxy or [])
    except ValueError as exc:
        raise _usage(f"web: {exc}") from None
    try:
        zone = report_zone(args.tz)
    except ReportError as exc:
        raise _usage(f"web: --tz: {exc}") from None
    try:
        agencies = load_agencies(Path(args.agencies) if args.agencies else None)
    except RulesError as exc:
        raise _usage(f"web: agency map: {exc}") from None
    config = WebConfig(agencies=agencies, zone=zone, metrics_allow=networks,
                       trusted_proxies=proxies, https=args.https)
    if args.secret_file:
        config.secret = _read_secret(args.secret_file)
    return config


def split_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPv6]:PORT`` → (host, port)."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise _usage(f"web: --listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]"), int(port)


@_guard
def cmd_web(args: argparse.Namespace) -> int:
    from gateway.audit.web.app import create_app
    from gateway.audit.web.server import create_server

    host, port = split_listen(args.listen)
    config = build_config(args)
    logging.basicConfig(level=logging.INFO, format="hople web: %(levelname)s %(message)s")
    if not args.secret_file:
        logging.getLogger("hople.web").warning(
            "no --secret-file: cookies are signed with a random key, sessions end at restart")
    with _open(args) as store:
        app = create_app(store, config)
        server = create_server(app, host, port, threads=args.threads, https=args.https)
        print(f"hople web: serving the decision log ({store.backend}) on http://{args.listen}/ "
              f"(metrics at /metrics for {', '.join(str(n) for n in config.metrics_allow)})",
              file=sys.stderr, flush=True)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            server.close()
    return 0


def _threads(text: str) -> int:
    value = _limit(text)
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("between 1 and 64")
    return value


def register_web(sub: Any) -> None:
    p = sub.add_parser("web", help="the auditors' read-only web page over the decision log")
    _common(p)
    p.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT",
                   help=f"address to serve on (default {DEFAULT_LISTEN}; put a TLS reverse "
                        "proxy in front for other hosts)")
    p.add_argument("--agencies", metavar="FILE",
                   help="agency map (default: the shipped rules/agencies.toml)")
    p.add_argument("--secret-file", metavar="FILE",
                   help="key (≥ 32 bytes) signing the cookies; without it a random key is "
                        "used and sessions end when the page restarts")
    p.add_argument("--metrics-allow", metavar="NETWORK", action="append",
                   help="address or network allowed to read /metrics without login "
                        "(repeatable; default 127.0.0.1 and ::1)")
    p.add_argument("--trusted-proxy", metavar="NETWORK", action="append",
                   help="reverse proxy whose X-Forwarded-For is believed (repeatable)")
    p.add_argument("--https", action="store_true",
                   help="served through HTTPS by the proxy: Secure cookies and HSTS")
    p.add_argument("--tz", metavar="ZONE",
                   help="time zone of dates and months (default Asia/Ho_Chi_Minh)")
    p.add_argument("--threads", type=_threads, default=4, help="worker threads (default 4)")
    p.set_defaults(func=cmd_web)


def register(sub: Any) -> None:
    register_web(sub)
    register_users(sub)
