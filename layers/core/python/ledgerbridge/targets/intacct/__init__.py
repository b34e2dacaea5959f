"""Sage Intacct (XML API)."""
