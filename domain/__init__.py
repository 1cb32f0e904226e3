"""The invoicing domain: aggregates, events, value objects and rules (pure Python)."""
