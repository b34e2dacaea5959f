"""Schemathesis, the OpenAPI fuzzer, against the local stack's API front (moto, both sandboxes, a connected
tenant): every operation of the checked-in document, called with a valid credential of the kind its security
declares. Zero failures of not_a_server_error, status_code_conformance, content_type_conformance and
response_schema_conformance. A short run (12 examples per operation) is part of `make test`; FUZZ_EXAMPLES raises it:
`FUZZ_EXAMPLES=200 pytest tests/e2e/test_schemathesis.py`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from ledgerbridge.state import tenants as tenant_store
from sandbox import fixtures
from sandbox.openapi import SHIPPED
from sandbox.stack.front import LOCAL_ACCESS_KEY, ApiFront
from sandbox.stack.functions import invoke
from tests.e2e.conftest import World, world_with

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SIGV4 = f"AWS4-HMAC-SHA256 Credential={LOCAL_ACCESS_KEY}/20260101/us-east-1/execute-api/aws4_request, Signature=0"


@pytest.fixture
def fuzz_world(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from world_with(aws, monkeypatch, invoices=3)


# The checked-in document (test_openapi.py proves it is what /openapi.json serves), sent to the front as WSGI.
# The console's HTML pages (cookie sessions, form posts, redirects) are fuzzed by test_fuzz_routes.py and driven by
# the browser tests; this contract run is for the JSON and SOAP API.
schema = schemathesis.openapi.from_dict(json.loads(SHIPPED.read_text())).exclude(path_regex="^/console")
schema.app = ApiFront(invoke)


def credentials_for(case: Any, world: World) -> dict[str, str]:
    """A valid credential of the kind the operation's security declares."""
    tenant = world.tenant.tenant.tenant_id
    security = case.operation.definition.raw.get("security", [])
    names = {name for requirement in security for name in requirement}
    if "sigv4" in names:
        return {"Authorization": SIGV4}
    if "bearerCredential" in names:
        return {"Authorization": f"Bearer {tenant_store.issue_credential(tenant, 'files')}"}
    if "webhookTokenHeader" in names:
        return {"x-ledgerbridge-token": tenant_store.issue_credential(tenant, "webhook")}
    if "intuitSignature" in names:  # no declared body: the signature of the empty body it will send
        verifier = fixtures.qbo_app_secret(world.qbo)["verifier_token"]
        digest = hmac.new(verifier.encode(), b"", hashlib.sha256).digest()
        return {"intuit-signature": base64.b64encode(digest).decode()}
    return {}


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_contract(case: Any, fuzz_world: World) -> None:
    tenant = fuzz_world.tenant.tenant.tenant_id
    if "tenant_id" in (case.path_parameters or {}) and hash(str(case.path_parameters)) % 2:
        case.path_parameters["tenant_id"] = tenant  # half the calls reach the real tenant
    headers = credentials_for(case, fuzz_world)
    if case.path.startswith("/qbwc/"):
        # SOAP 1.1 answers a fault with 500 (declared as such): a 500 must be a SOAP fault, never a crash.
        response = case.call_and_validate(headers=headers, checks=CHECKS, excluded_checks=[not_a_server_error])
        assert response.status_code != 500 or b"Fault>" in response.content
        return
    case.call_and_validate(headers=headers, checks=CHECKS)
