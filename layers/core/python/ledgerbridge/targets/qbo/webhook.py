"""Intuit's webhooks (Intuit: webhooks): verify, read both payload shapes, turn Payment changes into pull jobs.

One app-level endpoint serves every connected company: each notification names its realm, and the realm
index (targets.qbo.connection) names the tenant. Intuit wants a 2xx within 3 s and re-sends the whole POST
otherwise, so the route only verifies, deduplicates and enqueues; the consumer reads the Payment itself.

What is used: Payment Create/Update/Delete/Void (and Emailed, which changes nothing we record, but a job is
cheap and idempotent). Everything else is acknowledged and ignored, Invoice deletes and voids included: the
platform invoice stays as it is (a person decides what a deleted QuickBooks invoice means), and a later push
of that invoice fails with QuickBooks' own "Object Not Found" on the invoice's sync log.

The event id of a notified change is `qbo:{realm}:Payment:{id}:{epoch seconds of the change}:{operation}`:
Intuit's retries of a delivery carry the same change and are dropped as duplicates. The operation is part of
it because QBO's times have one-second resolution, and a payment created and voided within one second is two
changes. (The CDC catch-up does not need to guess these ids: it skips payments whose current SyncToken the
platform already agrees with; see targets.qbo.catchup.)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ledgerbridge import secrets
from ledgerbridge.errors import InvalidInput, NotFound
from ledgerbridge.jobs import SyncJob
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.base import WebhookIntake
from ledgerbridge.targets.qbo import connection
from ledgerbridge.targets.qbo.client import parse_time
from ledgerbridge.targets.qbo.settings import qbo_environment, qbo_settings
from ledgerbridge.tenants import Tenant

SIGNATURE_HEADER = "intuit-signature"
WANTED_ENTITIES = frozenset({"Payment"})


@dataclass(frozen=True)
class Change:
    """One entity change a notification reports."""

    realm_id: str
    entity: str  # "Payment", "Invoice", ...
    entity_id: str
    operation: str  # Create | Update | Delete | Void | Merge | Emailed
    updated_at: datetime  # the change's own time (lastUpdated / CloudEvents time)


def verify_signature(verifier_token: str, raw_body: bytes, presented: str) -> bool:
    """intuit-signature = base64(HMAC-SHA256(verifier token, raw body)), compared in constant time."""
    if not verifier_token or not presented:
        return False
    expected = base64.b64encode(hmac.new(verifier_token.encode(), raw_body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected, presented.strip())


def event_id(realm_id: str, entity: str, entity_id: str, updated_at: datetime, operation: str) -> str:
    return f"qbo:{realm_id}:{entity}:{entity_id}:{int(updated_at.timestamp())}:{operation.lower()}"


_VERBS = {"created": "Create", "updated": "Update", "deleted": "Delete", "voided": "Void", "merged": "Merge"}


def _time(value: Any, where: str) -> datetime:
    moment = parse_time(value)
    if moment is None:
        raise InvalidInput(f"{where} is not a date-time: {value!r}", where)
    return moment


def parse(body: Any) -> list[Change]:
    """Both shapes: legacy `{"eventNotifications": [...]}` and CloudEvents (an array, or one event)."""
    if isinstance(body, dict) and "eventNotifications" in body:
        return list(_legacy(body["eventNotifications"]))
    events = body if isinstance(body, list) else [body]
    if not all(isinstance(e, dict) and str(e.get("type", "")).startswith("qbo.") for e in events):
        raise InvalidInput("not an Intuit webhook: expected eventNotifications or CloudEvents", "body")
    return [_cloudevent(e, i) for i, e in enumerate(events)]


def _legacy(notifications: Any) -> Iterable[Change]:
    if not isinstance(notifications, list):
        raise InvalidInput("eventNotifications must be a list", "eventNotifications")
    for n, note in enumerate(notifications):
        note = note if isinstance(note, dict) else {}
        realm, change = str(note.get("realmId") or ""), note.get("dataChangeEvent")
        entities = change.get("entities") if isinstance(change, dict) else None
        if not realm or not isinstance(entities, list):
            raise InvalidInput("a notification needs realmId and dataChangeEvent.entities", f"eventNotifications.{n}")
        for k, ent in enumerate(entities):
            where = f"eventNotifications.{n}.dataChangeEvent.entities.{k}"
            if not isinstance(ent, dict) or not ent.get("name") or not ent.get("id"):
                raise InvalidInput("an entity needs name and id", where)
            updated = _time(ent.get("lastUpdated"), f"{where}.lastUpdated")
            yield Change(realm, str(ent["name"]), str(ent["id"]), str(ent.get("operation") or "Update"), updated)


def _cloudevent(event: dict[str, Any], index: int) -> Change:
    where = f"{index}"
    parts = str(event["type"]).split(".")  # qbo.{entity}.{verb}.v1
    realm, entity_id = str(event.get("intuitaccountid") or ""), str(event.get("intuitentityid") or "")
    if len(parts) < 3 or not realm or not entity_id:
        raise InvalidInput("a CloudEvent needs type qbo.{entity}.{verb}.v1, intuitaccountid, intuitentityid", where)
    entity = parts[1][:1].upper() + parts[1][1:]
    operation = _VERBS.get(parts[2], parts[2][:1].upper() + parts[2][1:])
    return Change(realm, entity, entity_id, operation, _time(event.get("time"), f"{where}.time"))


def payment_job(
    tenant_id: str, change: Change, trigger: Literal["webhook", "catchup"] = "webhook", event: str = ""
) -> SyncJob:
    return SyncJob(
        tenant_id=tenant_id,
        target="qbo",
        entity="payment",
        kind="pull",
        source_id=change.entity_id,
        event_id=event
        or event_id(change.realm_id, change.entity, change.entity_id, change.updated_at, change.operation),
        action=change.operation.lower(),
        trigger=trigger,
        occurred_at=change.updated_at,
    )


def wants_payments(tenant: Tenant) -> bool:
    integration = qbo_settings(tenant)
    return integration is not None and bool(integration.realm_id) and "payment" in integration.entities


def route(changes: Sequence[Change], tenant_for_realm: Callable[[str], Tenant | None]) -> tuple[list[SyncJob], int]:
    """Changes -> pull jobs of the tenants that take payments back, and how many changes nobody wants."""
    jobs: list[SyncJob] = []
    ignored = 0
    tenants: dict[str, Tenant | None] = {}
    for change in changes:
        if change.entity not in WANTED_ENTITIES:
            ignored += 1
            continue
        if change.realm_id not in tenants:
            tenants[change.realm_id] = tenant_for_realm(change.realm_id)
        tenant = tenants[change.realm_id]
        if tenant is None or not wants_payments(tenant):
            ignored += 1
            continue
        jobs.append(payment_job(tenant.tenant_id, change))
    return jobs, ignored


def tenant_for_realm(realm_id: str) -> Tenant | None:
    """The tenant connected to a QuickBooks company (the realm index), if it still exists."""
    tenant_id = connection.tenant_for_realm(realm_id)
    if tenant_id is None:
        return None
    try:
        return tenant_store.load(tenant_id)
    except NotFound:
        return None


class QboWebhook:
    """Intuit's notifications as the plug-in's WebhookIntake (POST /webhooks/qbo)."""

    signature_header = SIGNATURE_HEADER

    def verify(self, raw_body: bytes, headers: Mapping[str, str]) -> bool:
        verifier = str(secrets.read_json(qbo_environment().qbo_app_secret_name).get("verifier_token") or "")
        return verify_signature(verifier, raw_body, headers.get(SIGNATURE_HEADER, ""))

    def jobs(self, body: Any) -> tuple[list[SyncJob], int]:
        return route(parse(body), tenant_for_realm)


def _conforms(intake: QboWebhook) -> WebhookIntake:
    return intake  # mypy checks here that QboWebhook satisfies the WebhookIntake protocol
