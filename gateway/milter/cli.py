"""``hople serve``: registered in ``gateway.cli``; imports pymilter only when run."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def cmd_serve(args: Any) -> int:
    from gateway.settings import DEFAULT_PATH, load_settings

    path = Path(args.config) if args.config else (DEFAULT_PATH if DEFAULT_PATH.exists() else None)
    from gateway.policy.strict import RulesError

    try:
        settings = load_settings(path)
    except RulesError as exc:
        print(f"hople: settings error: {exc}", file=sys.stderr)
        return 2
    from gateway.milter.app import serve
    from gateway.milter.startup import ServeError

    try:
        return serve(settings)
    except ServeError as exc:
        print(f"hople: serve: {exc}", file=sys.stderr)
        return 1


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "serve", help="run the milter for Postfix (until SIGTERM)",
        description="Run the gateway as a Postfix milter. Settings: --config FILE, else "
                    "/etc/hople/gateway.toml when it exists, else the built-in defaults "
                    "(see etc/gateway.toml.example).",
    )
    p.add_argument("--config", metavar="FILE", help="settings file (TOML)")
    p.set_defaults(func=cmd_serve)


__all__ = ["cmd_serve", "register"]
