"""Webhook intake through the real handler, against moto built from template.yaml."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import boto3
import pytest

from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.tenants import secret_name
from tests.helpers import call_api, drain, make_tenant


def delivery(
    entity_id: int = 4711, action: str = "updated", ts: int | None = None, etype: str = "invoice"
) -> dict[str, Any]:
    now = int(time.time()) if ts is None else ts
    return {
        "messageId": f"msg-{entity_id}-{now}",
        "timestamp": str(now),
        "data": [
            {
                "action": action,
                "timestamp": now,
                "userId": 12,
                "entity": {
                    "type": etype,
                    "id": entity_id,
                    "uri": f"https://api.servicetrade.com/api/{etype}/{entity_id}",
                },
            }
        ],
    }


@pytest.fixture
def hook(aws: Any) -> tuple[str, Any]:
    make_tenant()
    token = tenant_store.issue_credential("acme-fire", "webhook")
    return token, aws


def post(token: str, body: Any, tenant: str = "acme-fire", headers: dict[str, str] | None = None) -> tuple[int, Any]:
    status, _, parsed = call_api("POST", f"/webhooks/{tenant}", body=body, query={"token": token}, headers=headers)
    return status, parsed


def test_delivery_is_routed_to_the_target_queue_with_record_ordering(hook: tuple[str, Any]) -> None:
    token, stack = hook
    status, body = post(token, delivery())
    assert status == 202
    assert body == {"accepted": 1, "duplicates": 0, "ignored": 0}
    msgs = drain(stack.queue_url("QboSyncQueue"))
    assert len(msgs) == 1
    job = json.loads(msgs[0]["Body"])
    assert (job["tenant_id"], job["target"], job["entity"], job["source_id"]) == (
        "acme-fire",
        "qbo",
        "invoice",
        "4711",
    )
    assert msgs[0]["Attributes"]["MessageGroupId"] == "acme-fire#invoice#4711"
    assert drain(stack.queue_url("IntacctSyncQueue")) == []


def test_a_delivery_repeated_five_times_enqueues_one_job(hook: tuple[str, Any]) -> None:
    token, stack = hook
    body = delivery()
    results = [post(token, {**body, "messageId": f"retry-{i}"}) for i in range(5)]
    assert [r[0] for r in results] == [202] * 5
    assert sum(r[1]["accepted"] for r in results) == 1
    assert sum(r[1]["duplicates"] for r in results) == 4
    assert len(drain(stack.queue_url("QboSyncQueue"))) == 1


def test_entities_no_integration_wants_are_acknowledged_and_ignored(hook: tuple[str, Any]) -> None:
    token, stack = hook
    status, body = post(token, delivery(etype="appointment"))
    assert (status, body["ignored"], body["accepted"]) == (202, 1, 0)
    assert drain(stack.queue_url("QboSyncQueue")) == []


@pytest.mark.parametrize(
    ("mutate", "status", "field"),
    [
        (lambda b: "{not json", 400, "body"),
        (lambda b: "", 400, "body"),
        (lambda b: {**b, "data": []}, 400, "data"),
        (lambda b: {**b, "data": [{**b["data"][0], "entity": {"type": "invoice"}}]}, 400, "data.0.entity.id"),
        (lambda b: {**b, "timestamp": "yesterday"}, 400, "timestamp"),
        (lambda b: {**b, "timestamp": str(int(time.time()) - 10 * 24 * 3600)}, 400, "timestamp"),
    ],
)
def test_bad_deliveries_get_a_400_naming_the_field_and_enqueue_nothing(
    hook: tuple[str, Any], mutate: Any, status: int, field: str
) -> None:
    token, stack = hook
    got, body = post(token, mutate(delivery()))
    assert got == status
    assert body["error"]["field"] == field
    assert "Traceback" not in json.dumps(body)
    assert drain(stack.queue_url("QboSyncQueue")) == []


def test_wrong_token_is_401_unknown_tenant_404_oversized_413(hook: tuple[str, Any]) -> None:
    token, stack = hook
    assert post("lbk_acme-fire_0000_bad", delivery())[0] == 401
    assert post("", delivery())[0] == 401
    other = make_tenant("other-co")
    other_token = tenant_store.issue_credential(other.tenant_id, "webhook")
    assert post(other_token, delivery())[0] == 401  # another tenant's token
    assert post(token, delivery(), tenant="no-such-tenant")[0] == 404
    huge = delivery()
    huge["padding"] = "x" * 300_000
    status, body = post(token, huge)
    assert status == 413 and "limit" in body["error"]["message"]
    assert drain(stack.queue_url("QboSyncQueue")) == []


def test_signature_is_required_when_the_tenant_sets_an_hmac_secret(hook: tuple[str, Any]) -> None:
    token, stack = hook
    make_tenant(webhook_signature_required=True)
    boto3.client("secretsmanager").create_secret(Name=secret_name("acme-fire", "webhook_hmac"), SecretString="s3cret")
    raw = json.dumps(delivery())
    assert post(token, raw)[0] == 401
    assert post(token, raw, headers={"X-LedgerBridge-Signature": "sha256=" + "0" * 64})[0] == 401
    good = "sha256=" + hmac.new(b"s3cret", raw.encode(), hashlib.sha256).hexdigest()
    assert post(token, raw, headers={"X-LedgerBridge-Signature": good})[0] == 202
    assert len(drain(stack.queue_url("QboSyncQueue"))) == 1
