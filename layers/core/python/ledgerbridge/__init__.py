"""LedgerBridge: field-service platform to accounting systems (file exports and automated sync)."""

__version__ = "0.1.0"
