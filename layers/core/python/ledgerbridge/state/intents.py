"""Create intents: written before a create, removed once the mapping is stored.

An intent that is still there when a job runs means an earlier attempt may have created the record and
died (or lost the response) before recording it: the engine must look the record up by its natural key
before creating anything again. The request id is stable for the intent's life, so a resent create also
carries the same idempotency handle (the target's own, see targets.base.Target.create)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from ledgerbridge.state import keys
from ledgerbridge.state.table import get, is_conditional_failure, state


@dataclass(frozen=True)
class Intent:
    request_id: str
    natural_key: str
    resumed: bool  # True when an earlier attempt left this intent behind


def begin(tenant_id: str, target: str, entity: str, source_id: str, natural_key: str) -> Intent:
    key = keys.intent(tenant_id, target, entity, source_id)
    request_id = str(uuid.uuid4())
    try:
        state().put_item(
            Item={
                **key,
                "request_id": request_id,
                "natural_key": natural_key,
                "created": datetime.now(UTC).isoformat(),
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
    except ClientError as exc:
        if not is_conditional_failure(exc):
            raise
        existing = get(key["pk"], key["sk"])
        if existing is None:  # finished between our put and get
            return begin(tenant_id, target, entity, source_id, natural_key)
        return Intent(existing["request_id"], existing.get("natural_key", natural_key), resumed=True)
    return Intent(request_id, natural_key, resumed=False)


def finish(tenant_id: str, target: str, entity: str, source_id: str) -> None:
    state().delete_item(Key=keys.intent(tenant_id, target, entity, source_id))
