"""Logs and traces keep secrets and one request's context to themselves."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools import Tracer

from ledgerbridge.observability import logger
from ledgerbridge.state import tenants as tenant_store
from tests.helpers import call_api, make_tenant


def test_log_keys_of_one_invocation_do_not_reach_the_next(aws: Any) -> None:
    make_tenant("acme-fire")
    files = tenant_store.issue_credential("acme-fire", "files")
    status, _, _ = call_api("GET", "/tenants/acme-fire/exports", headers={"Authorization": f"Bearer {files}"})
    assert status == 200
    assert logger.get_current_keys().get("tenant_id") == "acme-fire"
    call_api("GET", "/openapi.json")  # the same function, another request that names no tenant
    assert "tenant_id" not in logger.get_current_keys()


@pytest.mark.parametrize(
    ("method", "path", "secret_holder"),
    [
        ("POST", "/admin/tenants/acme-fire/credentials", "a new credential"),
        ("GET", "/tenants/acme-fire/exports", "presigned download links"),
        ("GET", "/tenants/acme-fire/qbo/status", "the QuickBooks connection"),
        ("POST", "/qbwc/acme-fire", "Web Connector session tickets"),
    ],
)
def test_traces_do_not_record_responses_that_carry_secrets(
    aws: Any, monkeypatch: pytest.MonkeyPatch, method: str, path: str, secret_holder: str
) -> None:
    recorded: list[Any] = []
    monkeypatch.setattr(Tracer, "_add_response_as_metadata", lambda self, **kw: recorded.append(kw))
    make_tenant("acme-fire")
    call_api(method, path, body={"purpose": "files"} if "credentials" in path else None)
    assert recorded, "the handler is traced"
    assert all(not kw["capture_response"] for kw in recorded), secret_holder
