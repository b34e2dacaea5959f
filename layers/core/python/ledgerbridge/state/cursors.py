"""Cursors: how far a tenant's export or catch-up has got. Advanced only forward, under a condition."""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import ClientError

from ledgerbridge.state import keys
from ledgerbridge.state.table import get, is_conditional_failure, state


def read(tenant_id: str, name: str) -> str | None:
    key = keys.cursor(tenant_id, name)
    item = get(key["pk"], key["sk"])
    return None if item is None else str(item["value"])


def advance(tenant_id: str, name: str, value: str) -> bool:
    """Move the cursor to `value` if that is later than where it is (ISO-8601 strings compare in time
    order). Returns False when another run already moved it as far or further."""
    try:
        state().put_item(
            Item={
                **keys.cursor(tenant_id, name),
                "value": value,
                "updated": datetime.now(UTC).isoformat(),
            },
            ConditionExpression="attribute_not_exists(#v) OR #v < :v",
            ExpressionAttributeNames={"#v": "value"},
            ExpressionAttributeValues={":v": value},
        )
    except ClientError as exc:
        if is_conditional_failure(exc):
            return False
        raise
    return True
