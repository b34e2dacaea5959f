"""The built-in layouts: JSON data files in `layouts/`, named `<connector>.<connection>[.<variant>].json`."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from ledgerbridge.connectors.compiler import validate_layout
from ledgerbridge.connectors.layout import Layout
from ledgerbridge.errors import NotFound

_PACKAGE = "ledgerbridge.connectors"


def _files() -> list[str]:
    folder = resources.files(_PACKAGE).joinpath("layouts")
    return sorted(entry.name for entry in folder.iterdir() if entry.name.endswith(".json"))


def builtin_names() -> list[tuple[str, str, str]]:
    """(connector, connection, variant) of every built-in layout; variant "" is the connection's default."""
    names = []
    for name in _files():
        connector, connection, *variant = name.removesuffix(".json").split(".")
        names.append((connector, connection, variant[0] if variant else ""))
    return names


@lru_cache(maxsize=64)
def _load(file_name: str) -> Layout:
    text = resources.files(_PACKAGE).joinpath("layouts", file_name).read_text(encoding="utf-8")
    return validate_layout(json.loads(text))


def load_builtin(connector: str, connection: str, variant: str = "") -> Layout:
    """The built-in layout of a connector's connection (validated; a copy the caller may keep)."""
    file_name = ".".join(p for p in (connector, connection, variant) if p) + ".json"
    if file_name not in _files():
        known = ", ".join(".".join(p for p in n if p) for n in builtin_names())
        raise NotFound(f"no built-in layout {connector}/{connection}{'/' + variant if variant else ''} ({known})")
    return _load(file_name).model_copy(deep=True)
