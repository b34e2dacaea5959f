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


def test_every_operation_declares_its_security_and_its_error_answers() -> None:
    document = json.loads(SHIPPED.read_text())
    schemes = document["components"]["securitySchemes"]
    assert {"bearerCredential", "webhookToken", "webhookTokenHeader", "intuitSignature", "sigv4"} <= set(schemes)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert "security" in operation, where
            assert all(name in schemes for req in operation["security"] for name in req), where
            assert "422" not in operation["responses"], where
            if path.startswith("/console"):  # HTML pages and redirects for a person, not the JSON error contract
                continue
            for status in ("400", "404"):
                content = operation["responses"][status]["content"]["application/json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}, where
            if path.startswith("/tenants/"):
                assert operation["security"] == [{"bearerCredential": []}], where
                assert {"401", "403"} <= set(operation["responses"]), where
            if path.startswith("/admin/"):
                assert operation["security"] == [{"sigv4": []}], where


def test_the_callback_requires_what_the_code_requires() -> None:
    callback = json.loads(SHIPPED.read_text())["paths"]["/oauth/qbo/callback"]["get"]
    required = {p["name"] for p in callback["parameters"] if p.get("required")}
    assert required == {"state", "code", "realmId"}
