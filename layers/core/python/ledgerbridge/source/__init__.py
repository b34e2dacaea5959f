"""The field-service platform, seen through the canonical records (ledgerbridge.records)."""
