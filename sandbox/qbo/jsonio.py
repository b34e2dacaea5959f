"""JSON with exact money: Decimal in, Decimal out, never through a float."""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any


def plain(value: Decimal) -> str:
    """A Decimal as a JSON number literal without an exponent (Decimal('1E+2') -> '100')."""
    if not value.is_finite():
        raise ValueError(f"{value} is not a JSON number")
    return format(value, "f")


def dumps(obj: Any) -> str:
    """json.dumps that writes each Decimal exactly as its digits (json alone would refuse or round it)."""
    numbers: list[str] = []
    marker = secrets.token_hex(8)

    def swap(value: Any) -> Any:
        if isinstance(value, Decimal):
            numbers.append(plain(value))
            return f"{marker}#{len(numbers) - 1}"
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [swap(v) for v in value]
        return value

    text = json.dumps(swap(obj), separators=(",", ":"))
    return re.sub(rf'"{marker}#(\d+)"', lambda m: numbers[int(m.group(1))], text)


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)
