"""The API description is produced by the code, checked in, and served."""

from __future__ import annotations

import json
from typing import Any

from sandbox.openapi import SHIPPED, render
from sandbox.stack.template import load
from tests.helpers import call_api


def test_checked_in_openapi_document_is_current() -> None:
    assert SHIPPED.read_text() == render(), "run `make openapi` and commit layers/core/python/ledgerbridge/openapi.json"


def test_it_describes_every_route_of_the_template() -> None:
    paths = json.loads(SHIPPED.read_text())["paths"]
    for route in load().api_routes():
        assert route.method.lower() in paths[route.path], f"{route.method} {route.path} is not described"


def test_the_files_function_serves_it(aws: Any) -> None:
    status, _, body = call_api("GET", "/openapi.json")
    assert status == 200
    assert body == json.loads(SHIPPED.read_text())
