"""Connector runs: which tenants are due, one export run end to end, and the file drop's manifests."""
