"""Notices the gateway sends about its decisions."""
