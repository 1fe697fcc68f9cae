"""The decision log: a tamper-evident record of every decision, its queries and reports."""

from gateway.audit.store import Decision, DecisionStore, StoreError, open_store

__all__ = ["Decision", "DecisionStore", "StoreError", "open_store"]
