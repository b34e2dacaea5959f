"""Intuit webhook intake (ledgerbridge.targets.qbo.webhook), pure: signatures, both payload shapes, routing, dedupe."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pytest

from ledgerbridge.errors import InvalidInput
from ledgerbridge.jobs import SyncJob
from ledgerbridge.sync.intake import claim_key, enqueue_once
from ledgerbridge.targets.qbo.settings import QboSettings
from ledgerbridge.targets.qbo.webhook import Change, event_id, parse, route, verify_signature
from ledgerbridge.tenants import Tenant
from sandbox.qbo import sign
from sandbox.qbo.store import Change as SandboxChange
from sandbox.qbo.webhooks import cloudevents_body, legacy_body

REALM = "9341455000000001"
AT = datetime(2026, 1, 5, 17, 0, 3, tzinfo=UTC)


def tenant(entities: list[str] | None = None) -> Tenant:
    integration = QboSettings(realm_id=REALM, entities=entities or ["invoice", "payment"])
    return Tenant(tenant_id="acme-fire", name="Acme", integrations=[integration])


def changes() -> list[SandboxChange]:
    return [
        SandboxChange("Payment", "41", "Create", AT.timestamp()),
        SandboxChange("Invoice", "12", "Update", AT.timestamp()),
        SandboxChange("Payment", "42", "Void", AT.timestamp()),
    ]


def test_the_signature_is_base64_hmac_sha256_of_the_raw_body() -> None:
    body = json.dumps(legacy_body(REALM, changes())).encode()
    signature = sign("verifier", body)
    assert verify_signature("verifier", body, signature)
    assert not verify_signature("verifier", body + b" ", signature)
    assert not verify_signature("other", body, signature)
    assert not verify_signature("verifier", body, "")
    assert not verify_signature("", body, signature)


@pytest.mark.parametrize("shape", ["legacy", "cloudevents"])
def test_both_payload_shapes_read_the_same(shape: str) -> None:
    body = legacy_body(REALM, changes()) if shape == "legacy" else cloudevents_body(REALM, changes())
    read = parse(json.loads(json.dumps(body)))
    assert [(c.realm_id, c.entity, c.entity_id, c.operation, c.updated_at) for c in read] == [
        (REALM, "Payment", "41", "Create", AT),
        (REALM, "Invoice", "12", "Update", AT),
        (REALM, "Payment", "42", "Void", AT),
    ]


def test_one_change_has_one_id_whatever_the_time_format() -> None:
    """lastUpdated in UTC with milliseconds, or the same instant in Pacific time: one event id."""
    entity = {"name": "Payment", "id": "41", "operation": "Update", "lastUpdated": "2026-01-05T17:00:03.000Z"}
    webhook = parse({"eventNotifications": [{"realmId": REALM, "dataChangeEvent": {"entities": [entity]}}]})
    pacific = datetime.fromisoformat("2026-01-05T09:00:03-08:00")
    assert webhook[0].updated_at == AT
    assert event_id(REALM, "Payment", "41", webhook[0].updated_at, "Update") == event_id(
        REALM, "Payment", "41", pacific, "Update"
    )


def test_a_create_and_a_void_in_the_same_second_are_two_events() -> None:
    """QBO's times have one-second resolution: the operation keeps two changes of one second apart."""
    same_second = [
        SandboxChange("Payment", "41", "Create", AT.timestamp()),
        SandboxChange("Payment", "41", "Void", AT.timestamp()),
    ]
    accepted, duplicates, _, jobs = deliver(parse(legacy_body(REALM, same_second)), set(), {REALM: tenant()})
    assert (accepted, duplicates) == (2, 0) and jobs[0].event_id != jobs[1].event_id


@pytest.mark.parametrize(
    "body",
    [{"eventNotifications": "x"}, {"eventNotifications": [{"realmId": REALM}]}, [{"type": "other"}], {"a": 1}, 7],
)
def test_what_is_not_an_intuit_notification_is_refused(body: object) -> None:
    with pytest.raises(InvalidInput):
        parse(body)


def deliver(
    items: Sequence[Change], seen: set[str], tenants: dict[str, Tenant | None], fail: bool = False
) -> tuple[int, int, int, list[SyncJob]]:
    published: list[SyncJob] = []

    def claim(tenant_id: str, key: str) -> bool:
        if key in seen:
            return False
        seen.add(key)
        return True

    def publish(jobs: Sequence[SyncJob]) -> None:
        if fail:
            raise RuntimeError("SQS is down")
        published.extend(jobs)

    jobs, ignored = route(items, tenants.get)
    result = enqueue_once(
        jobs,
        ignored,
        claim=lambda job: claim(job.tenant_id, claim_key(job)),
        release=lambda job: seen.discard(claim_key(job)),
        publish=publish,
    )
    return result.accepted, result.duplicates, result.ignored, published


def test_payments_become_pull_jobs_once_and_the_rest_is_ignored() -> None:
    read = parse(legacy_body(REALM, changes()))
    seen: set[str] = set()
    accepted, duplicates, ignored, jobs = deliver(read, seen, {REALM: tenant()})
    assert (accepted, duplicates, ignored) == (2, 0, 1)
    assert [(j.direction, j.entity, j.source_id, j.action, j.target) for j in jobs] == [
        ("pull", "payment", "41", "create", "qbo"),
        ("pull", "payment", "42", "void", "qbo"),
    ]
    assert jobs[0].event_id == f"qbo:{REALM}:Payment:41:{int(AT.timestamp())}:create"
    assert deliver(read, seen, {REALM: tenant()})[:3] == (0, 2, 1)


def test_unknown_realms_and_tenants_without_payments_are_ignored() -> None:
    read = parse(legacy_body(REALM, changes()))
    assert deliver(read, set(), {})[:3] == (0, 0, 3)
    assert deliver(read, set(), {REALM: tenant(["invoice"])})[:3] == (0, 0, 3)


def test_claims_are_released_when_enqueueing_fails() -> None:
    read = parse(legacy_body(REALM, changes()))
    seen: set[str] = set()
    with pytest.raises(RuntimeError):
        deliver(read, seen, {REALM: tenant()}, fail=True)
    assert seen == set()  # Intuit's retry will be taken, not dropped as a duplicate
