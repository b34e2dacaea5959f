"""Webhook events already routed, per tenant: a conditional put with a TTL (docs/architecture.md, Idempotency)."""

from __future__ import annotations

from botocore.exceptions import ClientError

from ledgerbridge.state import keys
from ledgerbridge.state.table import is_conditional_failure, state, ttl_in

KEEP_S = 7 * 24 * 3600  # longer than any platform retry or replay window


def claim(tenant_id: str, key: str) -> bool:
    """True the first time `key` is seen for this tenant (an expired marker counts as unseen)."""
    try:
        state().put_item(
            Item={**keys.event_claim(tenant_id, key), "ttl": ttl_in(KEEP_S)},
            ConditionExpression="attribute_not_exists(pk) OR #ttl < :now",
            ExpressionAttributeNames={"#ttl": "ttl"},
            ExpressionAttributeValues={":now": ttl_in(0)},
        )
    except ClientError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True


def release(tenant_id: str, key: str) -> None:
    state().delete_item(Key=keys.event_claim(tenant_id, key))
