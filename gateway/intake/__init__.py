"""Intake: spool the message, walk its MIME tree and archives, identify each part by content."""
