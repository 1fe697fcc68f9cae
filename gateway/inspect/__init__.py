"""Pure inspectors: (document, context) → findings and facts. No clock, no network, no MTA."""
