"""Constant-time comparison of secrets that arrive as text (headers, query strings, OAuth state)."""

from __future__ import annotations

import hmac


def same(expected: str, presented: str) -> bool:
    """True when both texts are equal, in time independent of where they differ. Compared as UTF-8 bytes:
    `hmac.compare_digest` refuses non-ASCII str with a TypeError, and a caller's header may hold anything."""
    return hmac.compare_digest(expected.encode("utf-8", "surrogatepass"), presented.encode("utf-8", "surrogatepass"))
