"""Produce the HTTP API's OpenAPI document from the code: every HTTP function's Powertools resolver
describes its own routes, and this merges them. `make openapi` writes it; a test checks it is current;
the files function serves the copy shipped in the layer (ledgerbridge/openapi.json)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from ledgerbridge import __version__
from sandbox.stack.functions import handler
from sandbox.stack.template import load

SHIPPED = Path(__file__).resolve().parents[1] / "layers/core/python/ledgerbridge/openapi.json"


def document() -> dict[str, Any]:
    t = load()
    functions = sorted({route.function for route in t.api_routes()})
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "LedgerBridge API",
            "version": __version__,
            "description": "Webhook intake, the file drop, QuickBooks Online connect, the Web Connector "
            "endpoint, the console (HTML pages under /console, session cookie) and tenant administration "
            "(IAM-authorized /admin routes).",
        },
        "paths": {},
        "components": {"schemas": {}},
    }
    for function in functions:
        # Handlers check their environment at import (config.check); describing routes needs none of its values.
        props = t.functions[function]["Properties"]
        names = {**t.raw.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})}
        names.update(props.get("Environment", {}).get("Variables", {}))
        for name, value in names.items():
            os.environ.setdefault(name, str(value) if isinstance(value, str | int) else "openapi-placeholder")
        handler(function)
        module = sys.modules[f"lb_function_{t.code_dir(function).name}"]
        schema = json.loads(module.app.get_openapi_json_schema(title="LedgerBridge", version=__version__))
        merged["paths"].update(schema.get("paths", {}))
        merged["components"]["schemas"].update(schema.get("components", {}).get("schemas", {}))
    merged["paths"] = dict(sorted(merged["paths"].items()))
    merged["components"]["schemas"] = dict(sorted(merged["components"]["schemas"].items()))
    return merged


def render() -> str:
    return json.dumps(document(), indent=1, sort_keys=False) + "\n"


if __name__ == "__main__":
    SHIPPED.write_text(render())
    print(f"wrote {SHIPPED}")
