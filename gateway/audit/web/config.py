"""Settings of the auditors' web page and the constants its pages share."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from gateway.audit.users import LockoutPolicy, SessionPolicy
from gateway.audit.web.security import Network, parse_networks
from gateway.model.report import Verdict
from gateway.policy.agencies import AgencyMap

__all__ = ["MAX_PAGE", "MAX_REPORT_MONTHS", "PRE_COOKIE", "SESSION_COOKIE", "VERDICTS",
           "VERDICT_VI", "WebConfig"]

VERDICTS = tuple(v.value for v in Verdict)
VERDICT_VI = {"valid": "Hợp lệ", "invalid": "Không hợp lệ", "rejected": "Từ chối",
              "held": "Tạm giữ", "no-documents": "Không có văn bản",
              "uninspected": "Chưa kiểm tra được",
              "unchecked": "Chưa kiểm tra"}
SESSION_COOKIE = "hople_session"
PRE_COOKIE = "hople_pre"
MAX_PAGE = 200
"""Deepest page of a listing (narrow the filter to see older decisions)."""
MAX_REPORT_MONTHS = 24


@dataclass
class WebConfig:
    agencies: AgencyMap
    zone: tzinfo
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    """Signs cookies and login CSRF tokens. Random by default (sessions end at restart)."""
    metrics_allow: tuple[Network, ...] = field(
        default_factory=lambda: parse_networks(["127.0.0.1/32", "::1/128"]))
    trusted_proxies: tuple[Network, ...] = ()
    https: bool = False
    """Behind a TLS reverse proxy: Secure cookies and HSTS."""
    page_size: int = 50
    lockout: LockoutPolicy = LockoutPolicy()
    sessions: SessionPolicy = SessionPolicy()
    address_fail_limit: int = 20
    address_fail_window: float = 900.0
    verify_cache_seconds: float = 60.0
    clock: Callable[[], datetime] | None = None
