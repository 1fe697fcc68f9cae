"""Finding codes of the text checks."""

from gateway.model.catalog_types import CodeSpec
from gateway.model.findings import Action, Severity  # noqa: F401  (used as codes are added)

CODES: list[CodeSpec] = []
