"""Admin routes (IAM-authorized in the template) and the tenant CLI, against moto."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from ledgerbridge.cli import main
from ledgerbridge.state import tenants as tenant_store
from tests.helpers import call_api

TENANT = {
    "tenant_id": "acme-fire",
    "name": "Acme Fire",
    "timezone": "America/Chicago",
    "integrations": [{"target": "qbo"}],
}


def test_create_show_update_a_tenant_and_its_secrets(aws: Any) -> None:
    status, _, body = call_api(
        "POST",
        "/admin/tenants",
        body={"tenant": TENANT, "secrets": {"servicetrade": {"client_id": "a", "client_secret": "b"}}},
    )
    assert status == 201
    assert body["tenant"]["source_secret_name"] == "ledgerbridge/dev/tenants/acme-fire/servicetrade"  # stage dev
    assert tenant_store.check_credential("acme-fire", body["files_credential"], "files")
    assert tenant_store.check_credential("acme-fire", body["webhook_token"], "webhook")
    assert not tenant_store.check_credential("acme-fire", body["webhook_token"], "files")
    stored = boto3.client("secretsmanager").get_secret_value(SecretId=body["tenant"]["source_secret_name"])
    assert json.loads(stored["SecretString"]) == {"client_id": "a", "client_secret": "b"}

    status, _, shown = call_api("GET", "/admin/tenants/acme-fire")
    assert status == 200 and shown["timezone"] == "America/Chicago"

    status, _, updated = call_api("PUT", "/admin/tenants/acme-fire", body={"changes": {"timezone": "America/Denver"}})
    assert status == 200 and updated["timezone"] == "America/Denver"
    assert tenant_store.load("acme-fire").timezone == "America/Denver"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [
        ("POST", "/admin/tenants", {"tenant": {**TENANT, "timezone": "Mars/Base"}}, 400, "tenant.timezone"),
        ("POST", "/admin/tenants", {"tenant": {**TENANT, "tenant_id": "Bad Id"}}, 400, "tenant.tenant_id"),
        ("POST", "/admin/tenants", "{oops", 400, ""),
        ("GET", "/admin/tenants/nobody", None, 404, ""),
        ("PUT", "/admin/tenants/nobody", {"changes": {}}, 404, ""),
        ("POST", "/admin/tenants/nobody/credentials", {"purpose": "files"}, 404, ""),
    ],
)
def test_bad_admin_requests_get_clear_4xx(aws: Any, method: str, path: str, body: Any, status: int, field: str) -> None:
    got, _, parsed = call_api(method, path, body=body)
    assert got == status, parsed
    assert "Traceback" not in json.dumps(parsed)
    if field:
        assert parsed["error"]["field"] == field


def test_creating_an_existing_tenant_is_refused(aws: Any) -> None:
    assert call_api("POST", "/admin/tenants", body={"tenant": TENANT})[0] == 201
    status, _, body = call_api("POST", "/admin/tenants", body={"tenant": TENANT})
    assert status == 400 and body["error"]["field"] == "tenant_id"


def test_cli_creates_shows_and_updates_against_the_same_store(
    aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "tenant.json"
    config.write_text(json.dumps({"name": "Acme Fire", "timezone": "America/Chicago"}))
    assert main(["tenant", "create", "--id", "acme-fire", "--config", str(config)]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["tenant"]["tenant_id"] == "acme-fire"
    assert main(["tenant", "update", "--id", "acme-fire", "--set", 'mapping={"default_item": "Labor"}']) == 0
    capsys.readouterr()
    assert main(["tenant", "show", "--id", "acme-fire"]) == 0
    assert json.loads(capsys.readouterr().out)["mapping"]["default_item"] == "Labor"
    assert main(["tenant", "show", "--id", "nobody"]) == 2
    assert "unknown tenant" in capsys.readouterr().err
