"""``/metrics``: Prometheus text, without login, only from the allowed addresses (checked
in :mod:`gateway.audit.web.hooks`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response

from gateway.audit.metrics import CONTENT_TYPE
from gateway.audit.web.state import state

__all__ = ["bp"]

bp = Blueprint("metrics", __name__)


@bp.route("/metrics")
def metrics() -> Any:
    return Response(state().metrics.render(), status=200, headers={"Content-Type": CONTENT_TYPE})
