"""Webhook intake from the field-service platform: authenticate, validate, deduplicate, route.

The platform's deliveries carry IDs only (ServiceTrade API: /webhook; docs/servicetrade-double.md): `messageId`,
a string `timestamp` and `data[]` of {action, timestamp, userId, entity {type, id, uri}, changeset?}. The
platform does not sign them and retries up to 3 times, and may duplicate or reorder; so each tenant's hook URL
carries an unguessable token, each event is deduplicated on what it says (not on the messageId, which differs
between a change's separate deliveries), and the answer comes well inside the platform's ~5 s budget because the
work itself is only enqueued.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ledgerbridge.errors import InvalidInput
from ledgerbridge.jobs import SyncEntity, SyncJob
from ledgerbridge.secure import same
from ledgerbridge.sync.intake import IntakeResult, claim_key, enqueue_once
from ledgerbridge.tenants import Tenant

# Platform entity type -> the sync entity it feeds. Types not listed are accepted and ignored; payments
# among them: they flow from the accounting system to the platform, never the other way.
ENTITY_TYPES: dict[str, SyncEntity] = {"invoice": "invoice", "company": "customer"}
SIGNATURE_HEADER = "x-ledgerbridge-signature"
TOKEN_HEADER = "x-ledgerbridge-token"  # noqa: S105  # a header name, not a secret


def _unix(value: Any) -> Any:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


LAST_SECOND = 253_402_300_799  # 9999-12-31T23:59:59Z, the last moment a datetime can hold
UnixSeconds = Annotated[int, BeforeValidator(_unix), Field(ge=0, le=LAST_SECOND)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WebhookEntity(_Model):
    type: str = Field(min_length=1, max_length=40)
    id: Annotated[str, BeforeValidator(lambda v: str(v) if isinstance(v, int) else v)] = Field(
        min_length=1, max_length=40, pattern=r"^[0-9A-Za-z_-]+$"
    )
    uri: str = ""


class WebhookEvent(_Model):
    action: str = Field(min_length=1, max_length=40)
    timestamp: UnixSeconds
    userId: int | None = None
    entity: WebhookEntity


class Delivery(_Model):
    messageId: str = Field(min_length=1, max_length=128)
    timestamp: UnixSeconds
    data: list[WebhookEvent] = Field(min_length=1, max_length=500)


def verify_signature(secret: str, raw_body: bytes, presented: str) -> bool:
    """`sha256=<hex>` HMAC of the raw body, compared in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()
    return same(expected, presented.strip())


def change_id(entity_type: str, entity_id: str, timestamp: int, action: str = "updated") -> str:
    """One id per version of a platform record: its type, id and the time it changed (a deletion is its own
    version). Whoever sees that version first claims it: a webhook delivery, a retry of it, or the sweep
    (ledgerbridge.sweep) listing the record with that `updated` time."""
    basis = f"{entity_type}:{entity_id}:{timestamp}" + (":deleted" if action == "deleted" else "")
    return hashlib.sha256(basis.encode()).hexdigest()[:40]


def event_id(event: WebhookEvent) -> str:
    """Same change -> same id, whichever delivery carried it."""
    return change_id(event.entity.type, event.entity.id, event.timestamp, event.action)


def targets_for(tenant: Tenant, entity: SyncEntity) -> list[str]:
    """The targets that take a platform change of `entity`: the tenant's enabled, webhook-triggered
    integrations for it. The one routing rule of every platform-side intake (webhooks and the sweep)."""
    return [i.target for i in tenant.integrations if i.enabled and "webhook" in i.triggers and entity in i.entities]


def plan_jobs(tenant: Tenant, delivery: Delivery, now: datetime, replay_window_s: int) -> tuple[list[SyncJob], int]:
    """The jobs a delivery asks for, per enabled webhook-triggered integration; and how many events no
    integration wants. Raises InvalidInput for a delivery older than the replay window."""
    age = now.timestamp() - delivery.timestamp
    if age > replay_window_s:
        raise InvalidInput(
            f"delivery timestamp {delivery.timestamp} is {int(age)} s old; older than the {replay_window_s} s "
            "replay window",
            "timestamp",
        )
    jobs: list[SyncJob] = []
    ignored = 0
    for ev in delivery.data:
        entity = ENTITY_TYPES.get(ev.entity.type)
        targets = targets_for(tenant, entity) if entity is not None else []
        if not targets or entity is None:
            ignored += 1
            continue
        for target in targets:
            jobs.append(
                SyncJob(
                    tenant_id=tenant.tenant_id,
                    target=target,
                    entity=entity,
                    source_id=ev.entity.id,
                    event_id=event_id(ev),
                    action=ev.action,
                    trigger="webhook",
                    occurred_at=datetime.fromtimestamp(ev.timestamp, UTC),
                )
            )
    return jobs, ignored


def accept(
    tenant: Tenant,
    delivery: Delivery,
    *,
    now: datetime,
    replay_window_s: int,
    claim: Callable[[str], bool],
    release: Callable[[str], None],
    publish: Callable[[Sequence[SyncJob]], None],
) -> IntakeResult:
    """Route a delivery. `claim(key)` marks a job as seen and returns False if it already was; if
    publishing fails the claims are released so the platform's retry is not swallowed as a duplicate."""
    jobs, ignored = plan_jobs(tenant, delivery, now, replay_window_s)
    return enqueue_once(
        jobs,
        ignored,
        claim=lambda job: claim(claim_key(job)),
        release=lambda job: release(claim_key(job)),
        publish=publish,
    )
