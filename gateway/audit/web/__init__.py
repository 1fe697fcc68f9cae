"""The auditors' web page (``hople web``): see :mod:`gateway.audit.web.app`."""

from gateway.audit.web.app import WebConfig, create_app

__all__ = ["WebConfig", "create_app"]
