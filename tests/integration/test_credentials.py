"""Tenant credentials: scoped, optionally expiring, listed without their values, revoked at once; the hook
token may travel in a header instead of the URL."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from ledgerbridge.cli import main
from ledgerbridge.state import tenants as tenant_store
from tests.helpers import call_api, make_tenant

LAYOUT = {
    "name": "Mine",
    "connector": "custom",
    "connection": "ar_invoices",
    "records": [{"name": "H", "fields": [{"name": "number", "source": "invoice.number"}]}],
}


def bearer(credential: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {credential}"}


@pytest.fixture
def tenant(aws: Any) -> str:
    make_tenant("acme-fire")
    return "acme-fire"


def test_scopes_open_only_their_routes(tenant: str) -> None:
    status, _, body = call_api(
        "POST", f"/admin/tenants/{tenant}/credentials", body={"purpose": "files", "scopes": ["files"]}
    )
    assert status == 201
    downloads_only = body["credential"]
    assert call_api("GET", f"/tenants/{tenant}/exports", headers=bearer(downloads_only))[0] == 200
    status, _, refused = call_api("PUT", f"/tenants/{tenant}/layouts/mine", body=LAYOUT, headers=bearer(downloads_only))
    assert (status, refused["error"]["message"]) == (403, "this credential does not have the 'layouts' scope")
    assert call_api("GET", f"/tenants/{tenant}/qbo/status", headers=bearer(downloads_only))[0] == 403

    layouts_only = tenant_store.issue_credential(tenant, "files", ["layouts"])
    assert call_api("PUT", f"/tenants/{tenant}/layouts/mine", body=LAYOUT, headers=bearer(layouts_only))[0] == 200
    assert call_api("GET", f"/tenants/{tenant}/exports", headers=bearer(layouts_only))[0] == 403

    connect_only = tenant_store.issue_credential(tenant, "files", ["connect"])
    assert call_api("GET", f"/tenants/{tenant}/qbo/status", headers=bearer(connect_only))[0] == 200


def test_scopes_belong_to_api_credentials_only(tenant: str) -> None:
    status, _, body = call_api(
        "POST", f"/admin/tenants/{tenant}/credentials", body={"purpose": "webhook", "scopes": ["files"]}
    )
    assert (status, body["error"]["field"]) == (400, "scopes")
    status, _, body = call_api("POST", f"/admin/tenants/{tenant}/credentials", body={"purpose": "root"})
    assert status == 400 and body["error"]["field"] == "purpose"


def test_an_expired_credential_is_refused(tenant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    status, _, body = call_api(
        "POST", f"/admin/tenants/{tenant}/credentials", body={"purpose": "files", "expires_in_days": 1}
    )
    assert status == 201
    value = body["credential"]
    assert call_api("GET", f"/tenants/{tenant}/exports", headers=bearer(value))[0] == 200
    listed = call_api("GET", f"/admin/tenants/{tenant}/credentials")[2]["credentials"]
    assert [c["expires_at"] != "" for c in listed].count(True) == 1
    later = time.time() + 86_400 + 60
    monkeypatch.setattr("ledgerbridge.state.table.time.time", lambda: later)
    assert call_api("GET", f"/tenants/{tenant}/exports", headers=bearer(value))[0] == 401


def test_list_shows_no_values_and_revoke_takes_effect_at_once(tenant: str) -> None:
    value = tenant_store.issue_credential(tenant, "files")
    key_id = value.split("_")[-2]
    status, _, body = call_api("GET", f"/admin/tenants/{tenant}/credentials")
    assert status == 200
    listed = {c["key_id"]: c for c in body["credentials"]}
    assert listed[key_id]["purpose"] == "files"
    assert listed[key_id]["scopes"] == ["connect", "files", "layouts"]
    assert value.split("_")[-1] not in json.dumps(body)
    assert "digest" not in json.dumps(body)

    assert call_api("DELETE", f"/admin/tenants/{tenant}/credentials/{key_id}")[0] == 204
    assert call_api("GET", f"/tenants/{tenant}/exports", headers=bearer(value))[0] == 401
    assert call_api("DELETE", f"/admin/tenants/{tenant}/credentials/{key_id}")[0] == 404
    assert call_api("GET", "/admin/tenants/nobody/credentials")[0] == 404


def test_the_cli_issues_lists_and_revokes(tenant: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["credential", "issue", "--tenant", tenant, "--scope", "files", "--expires-in-days", "30"]) == 0
    value = json.loads(capsys.readouterr().out)["credential"]
    key_id = value.split("_")[-2]
    assert main(["credential", "list", "--tenant", tenant]) == 0
    listed = {c["key_id"]: c for c in json.loads(capsys.readouterr().out)}
    assert listed[key_id]["scopes"] == ["files"] and listed[key_id]["expires_at"]
    assert main(["credential", "revoke", "--tenant", tenant, "--key-id", key_id]) == 0
    assert not tenant_store.check_credential(tenant, value, "files")
    assert main(["credential", "revoke", "--tenant", tenant, "--key-id", key_id]) == 2


def test_the_hook_token_is_accepted_in_a_header(tenant: str) -> None:
    token = tenant_store.issue_credential(tenant, "webhook")
    body = {"messageId": "m1", "timestamp": int(time.time()), "data": [
        {"action": "updated", "timestamp": int(time.time()), "entity": {"type": "invoice", "id": "7"}}
    ]}  # fmt: skip
    status, _, _ = call_api("POST", f"/webhooks/{tenant}", body=body, headers={"X-LedgerBridge-Token": token})
    assert status == 202
    status, _, _ = call_api("POST", f"/webhooks/{tenant}", body=body, headers={"X-LedgerBridge-Token": "lbk_x_1_2"})
    assert status == 401


def test_warm_webhook_acks_reuse_config_and_token_for_the_stated_ttl(
    tenant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerbridge.state import table

    reads: list[tuple[str, str]] = []
    real_get = table.get
    monkeypatch.setattr(table, "get", lambda pk, sk, **kw: reads.append((pk, sk)) or real_get(pk, sk, **kw))
    token = tenant_store.issue_credential(tenant, "webhook")

    def deliver(n: int) -> int:
        now = int(time.time())
        event = {"action": "updated", "timestamp": now, "entity": {"type": "invoice", "id": str(n)}}
        body = {"messageId": f"m{n}", "timestamp": now, "data": [event]}
        return call_api("POST", f"/webhooks/{tenant}", body=body, headers={"x-ledgerbridge-token": token})[0]

    assert deliver(1) == 202 and len(reads) == 2  # the config and the token's digest
    assert deliver(2) == 202 and len(reads) == 2  # warm: neither is read again
    later = time.monotonic() + tenant_store.WARM_S + 1
    monkeypatch.setattr(table.time, "monotonic", lambda: later)
    assert deliver(3) == 202 and len(reads) == 4  # past WARM_S both are read afresh
    tenant_store.revoke_credential(tenant, token.split("_")[-2])
    assert deliver(4) == 401  # a revocation in this container takes effect at once
