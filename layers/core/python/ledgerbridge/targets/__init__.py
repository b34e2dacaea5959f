"""Accounting systems. One package per target; each exposes a `Target` (see base.py) to the sync engine."""
