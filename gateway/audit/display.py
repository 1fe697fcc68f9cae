"""Showing untrusted text: the one implementation is :mod:`gateway.model.display` (also used by
``hople check``); re-exported here for the audit commands and pages."""

from gateway.model.display import SUSPECT, visible, visible_any

__all__ = ["SUSPECT", "visible", "visible_any"]
