"""Modules loaded on first use (importlib.util.LazyLoader): a module that imports one this way pays for it
only when one of its names is first read, so a function whose paths never call it never loads it (make bench,
coldstart). Type checkers see an ordinary import: write

    if TYPE_CHECKING:
        import requests
    else:
        requests = lazy("requests")
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy(name: str) -> ModuleType:
    """The module `name`, executed when an attribute of it is first read (at once if it is loaded already)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module
