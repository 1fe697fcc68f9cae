"""hople-gateway: legal-validity checks for e-mailed documents (Decision 12/2012/QĐ-UBND)."""

__version__ = "0.1.0"
