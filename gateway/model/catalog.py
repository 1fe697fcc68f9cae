"""The catalogue of finding codes: stable code, article, default severity, texts.

Codes are grouped by the capability that emits them (``codes_*.py`` beside this file); this
module merges the groups and renders findings. Rules (``rules/*.toml``) may change a code's
severity and action but not its meaning.
"""

from __future__ import annotations

from typing import Any

from gateway.model.catalog_types import CodeSpec
from gateway.model.findings import Finding

__all__ = ["CATALOG", "CodeSpec", "make_finding"]


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _collect() -> dict[str, CodeSpec]:
    from gateway.model import (
        codes_algorithms,
        codes_core,
        codes_pdf,
        codes_signature,
        codes_text,
    )

    out: dict[str, CodeSpec] = {}
    for module in (codes_core, codes_signature, codes_pdf, codes_text, codes_algorithms):
        for spec in module.CODES:
            if spec.code in out:
                raise RuntimeError(f"finding code {spec.code} defined twice")
            out[spec.code] = spec
    return out


CATALOG: dict[str, CodeSpec] = _collect()


def make_finding(code: str, *, place: str | None = None, **params: Any) -> Finding:
    """Render the finding ``code`` with its default severity and action.

    The policy layer later applies rule overrides (``Policy.adjust``).
    """
    spec = CATALOG[code]
    values = _SafeDict({k: "" if v is None else v for k, v in params.items()})
    return Finding(
        code=spec.code,
        article=spec.article,
        severity=spec.severity,
        vi=spec.vi.format_map(values),
        en=spec.en.format_map(values),
        action=spec.action,
        smtp=spec.smtp,
        place=place,
        params=dict(params),
    )
