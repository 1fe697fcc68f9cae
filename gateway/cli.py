"""The ``hople`` command. One error boundary turns domain errors into one-line messages."""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway import __version__
from gateway.cli_common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, parse_time
from gateway.model.display import visible
from gateway.model.envelope import Envelope
from gateway.model.report import MessageReport, Verdict
from gateway.policy.strict import RulesError

if TYPE_CHECKING:
    from gateway.pipeline import Checker

# Re-exported for callers of the command as a library (tests, scripts).
__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "UsageError", "main", "parser"]


def _looks_like_message(data: bytes, name: str) -> bool:
    if name.lower().endswith((".eml", ".msg.txt", ".mbox")):
        return True
    head = data[:4096]
    if head.startswith((b"%PDF", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"{\\rtf")):
        return False
    lines = head.split(b"\n", 20)
    fields = 0
    for line in lines[:-1]:
        if not line.strip():
            break
        if line[:1] in (b" ", b"\t"):
            continue
        key = line.split(b":", 1)[0]
        if b":" in line and key and all(33 <= c <= 126 and c != 58 for c in key):
            fields += 1
        else:
            return False
    return fields >= 2


def build_checker(args: argparse.Namespace) -> Checker:
    # The pipeline, the rules and the trust engine load lazily: `hople --help` stays fast.
    from gateway.pipeline import Checker
    from gateway.policy.load import load_policy
    from gateway.trust import engine_for_check

    policy = load_policy(Path(args.rules) if args.rules else None)
    at = parse_time(args.at) if args.at else None
    trust = engine_for_check(policy, [Path(d) for d in (args.trust or [])])
    return Checker(policy, trust=trust, clock=(lambda: at) if at else None)


def render_text(report: MessageReport) -> str:
    """The readable report. File names, signers and finding texts come from the sender:
    control and bidirectional characters are shown as ``<U+XXXX>`` (``model/display.py``)."""
    v = visible
    lines = [f"{v(report.input)}: {report.verdict.value.upper()}  (action: {report.action.label})"]
    if report.smtp_reply:
        lines.append(f"  SMTP reply: {v(str(report.smtp_reply))}")
    for f in report.findings:
        lines.append(f"  [{f.severity.label}] {f.code} (Điều {f.article}): {v(f.vi)}")
        lines.append(f"      {v(f.en)}")
    for d in report.documents:
        lines.append(f"  - {v(d.path)}  [{d.doc_class.value}, {v(d.media_type)}] → "
                     f"{d.verdict.value}")
        for s in d.signatures:
            lines.append(
                f"      signature {s.format}: integrity={s.integrity.value} "
                f"coverage={s.coverage.value} trust={s.trust.value} "
                f"revocation={s.revocation.value} signer={v(s.signer or '?')} "
                f"time={s.signing_time.isoformat() if s.signing_time else '?'}"
                + (f" reasons={','.join(s.reasons)}" if s.reasons else "")
            )
            for f in s.findings:
                lines.append(f"        [{f.severity.label}] {f.code}: {v(f.en)}")
        for f in d.findings:
            lines.append(f"      [{f.severity.label}] {f.code} (Điều {f.article}): {v(f.vi)}")
            lines.append(f"          {v(f.en)}")
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    inputs: list[tuple[str, bytes]] = []
    for p in args.paths:
        try:
            inputs.append((p, Path(p).read_bytes()))
        except OSError as exc:
            raise UsageError(f"{p}: cannot read: {exc.strerror or exc}") from None
    checker = build_checker(args)
    worst = EXIT_OK
    for path, data in inputs:
        try:
            if _looks_like_message(data, path):
                report = checker.check_message(io.BytesIO(data), Envelope(), label=path)
            else:
                report = checker.check_document(Path(path).name, data, label=path)
        except Exception as exc:  # noqa: BLE001 - a report that says so, never a traceback
            logging.getLogger("hople.check").error("%s: check failed: %s: %s", path,
                                                   type(exc).__name__, exc)
            report = _unchecked(path, f"{type(exc).__name__}: {str(exc)[:200]}")
        if args.json:
            print(json.dumps(report.to_json(), ensure_ascii=False), flush=True)
        else:
            print(render_text(report), flush=True)
        if report.verdict not in (Verdict.VALID, Verdict.NO_DOCUMENTS):
            worst = EXIT_FINDINGS
    return worst


def _unchecked(path: str, reason: str) -> MessageReport:
    """The report of an input the checker itself failed on: not valid, and says why."""
    from gateway.model.catalog import make_finding
    from gateway.model.findings import Action

    finding = make_finding("INSPECTION_FAILED", name=path, reason=reason)
    return MessageReport(input=path, kind="message", verdict=Verdict.UNCHECKED,
                         action=Action.ACCEPT, findings=(finding,))


def cmd_rules_check(args: argparse.Namespace) -> int:
    from gateway.policy.load import load_policy

    policy = load_policy(Path(args.file) if args.file else None)
    print(f"rules OK: {' + '.join(policy.sources)}")
    print(f"hash: {policy.hash}")
    print(f"free-mail domains: {len(policy.freemail_domains)}")
    if args.show:
        print(json.dumps(policy.raw, ensure_ascii=False, indent=2, default=str))
    return EXIT_OK


def add_check_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rules", metavar="FILE", help="site rules merged over the shipped rules")
    p.add_argument("--trust", metavar="DIR", action="append",
                   help="extra directory of trust anchors (repeatable)")
    p.add_argument("--at", metavar="ISO-TIME", help="validation time (default: now)")


def parser(serve_only: bool = False) -> argparse.ArgumentParser:
    """The command line; ``serve_only`` leaves out the other layers' subcommands, whose
    imports (cryptography, the web console, the text converter) the milter process does not
    need and would otherwise keep resident."""
    ap = argparse.ArgumentParser(
        prog="hople",
        description="Legal-validity gateway for e-mailed documents (Decision 12/2012/QĐ-UBND).",
    )
    ap.add_argument("--version", action="version", version=f"hople-gateway {__version__}")
    ap.add_argument("-v", "--verbose", action="count", default=0,
                    help="more log output on stderr (-vv for debugging)")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("check", help="inspect .eml messages or documents offline")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--json", action="store_true", help="one JSON object per input (JSON Lines)")
    add_check_options(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("rules", help="rules files")
    rsub = p.add_subparsers(dest="rules_command", metavar="ACTION", required=True)
    rc = rsub.add_parser("check", help="load a rules file (merged over the shipped one)")
    rc.add_argument("file", nargs="?", metavar="FILE")
    rc.add_argument("--show", action="store_true", help="print the merged rules")
    rc.set_defaults(func=cmd_rules_check)

    for register in _plugins(serve_only):
        register(sub)
    return ap


def _command(argv: Sequence[str]) -> str | None:
    """The subcommand named in ``argv`` (the first word that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def _plugins(serve_only: bool = False) -> list[Callable[[Any], None]]:
    """Subcommands that live with their layer (serve, audit, trust, convert…)."""
    out: list[Callable[[Any], None]] = []
    from gateway.milter.cli import register as register_serve

    out.append(register_serve)
    if serve_only:
        return out
    from gateway.trust.cli import register as register_trust

    out.append(register_trust)
    from gateway.audit.cli import register as register_audit

    out.append(register_audit)
    from gateway.convert import register as register_convert

    out.append(register_convert)
    from gateway.audit.web.cli import register as register_web_users

    out.append(register_web_users)
    from gateway.notices.cli import register as register_notices

    out.append(register_notices)
    return out


class _OneLine(logging.Formatter):
    """Log lines for people at a terminal: no tracebacks (the decision log and the milter's
    own logging keep the details)."""

    def format(self, record: logging.LogRecord) -> str:
        exc = record.exc_info[1] if record.exc_info else None
        record = logging.makeLogRecord(record.__dict__)
        if exc is not None:
            record.msg = f"{record.getMessage()}: {type(exc).__name__}: {exc}"
            record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return super().format(record).splitlines()[0]


def _route_warnings(verbose: int) -> None:
    """Library warnings (``CryptographyDeprecationWarning`` from pyHanko's imports and the
    like) are log records of ``py.warnings``: at debug level, so they reach stderr only with
    ``-v`` (then as warnings), never as raw lines in a check's output."""
    level = logging.WARNING if verbose else logging.DEBUG
    wlog = logging.getLogger("py.warnings")

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        wlog.log(level, "%s: %s (%s:%s)", category.__name__, message, filename, lineno)

    warnings.showwarning = show


def _setup_logging(verbose: int) -> None:
    level = logging.ERROR if verbose == 0 else logging.WARNING if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine("hople: %(levelname)s: %(name)s: %(message)s"))
    handler.setLevel(level)
    root = logging.getLogger()
    root.handlers[:] = [h for h in root.handlers if not isinstance(h.formatter, _OneLine)]
    root.addHandler(handler)
    root.setLevel(min(level, logging.WARNING))
    _route_warnings(verbose)
    if verbose == 0:
        # Libraries report validation failures as log records; the report already has them.
        from gateway.milter.worker import QUIET_LIBRARIES

        for name in QUIET_LIBRARIES:
            logging.getLogger(name).setLevel(logging.CRITICAL)


def main(argv: Sequence[str] | None = None) -> int:
    ap = parser(serve_only=_command(sys.argv[1:] if argv is None else argv) == "serve")
    args = ap.parse_args(argv)
    if getattr(args, "command", None) != "serve":  # the milter configures its own logging
        _setup_logging(getattr(args, "verbose", 0) or 0)
    if not getattr(args, "func", None):
        ap.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"hople: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except RulesError as exc:
        print(f"hople: rules error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
