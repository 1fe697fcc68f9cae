"""Trust anchors, certificate chains and revocation (the only network I/O besides notices)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def engine_for_check(policy: Any, extra_dirs: list[Path]) -> Any:
    """The trust engine for ``hople check``: configured anchors plus ``--trust`` dirs.

    Until chain validation is built, nothing is trusted: signatures report
    ``trust: unknown`` and editable documents stay unconfirmed.
    """
    return None
