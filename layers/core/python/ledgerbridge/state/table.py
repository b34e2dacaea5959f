"""The state table and the helpers every repository shares."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from boto3.dynamodb.conditions import Key

from ledgerbridge import aws
from ledgerbridge.config import get_config


def state() -> Any:
    return aws.table(get_config().state_table)


def ttl_in(seconds: int) -> int:
    return int(time.time()) + seconds


def live(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """DynamoDB deletes expired items lazily (up to 48 h later, and moto never): treat them as gone."""
    if item is None:
        return None
    ttl = item.get("ttl")
    if ttl is not None and int(ttl) < time.time():
        return None
    return item


def get(pk: str, sk: str, *, consistent: bool = True) -> dict[str, Any] | None:
    resp = state().get_item(Key={"pk": pk, "sk": sk}, ConsistentRead=consistent)
    return live(resp.get("Item"))


_warm: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}


def get_warm(pk: str, sk: str, max_age_s: float) -> dict[str, Any] | None:
    """get(), trusted for `max_age_s` by this container (a warm Lambda keeps it between invocations). For
    reads on a latency budget whose item rarely changes; a write through this module's callers forgets
    the entry here, other containers see it after `max_age_s`. Absent items are not kept."""
    now = time.monotonic()
    hit = _warm.get((pk, sk))
    if hit is not None and now - hit[0] < max_age_s:
        return live(hit[1])
    item = get(pk, sk)
    if item is None:
        _warm.pop((pk, sk), None)
    else:
        _warm[(pk, sk)] = (now, item)
    return item


def forget(pk: str, sk: str) -> None:
    _warm.pop((pk, sk), None)


def forget_all() -> None:
    _warm.clear()


def query(
    pk: str, sk_prefix: str = "", newest_first: bool = False, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    cond: Any = Key("pk").eq(pk)
    if sk_prefix:
        cond = cond & Key("sk").begins_with(sk_prefix)
    kwargs: dict[str, Any] = {"KeyConditionExpression": cond, "ScanIndexForward": not newest_first}
    seen = 0
    while True:
        if limit is not None:
            kwargs["Limit"] = limit - seen
        resp = state().query(**kwargs)
        for item in resp.get("Items", []):
            if live(item) is not None:
                seen += 1
                yield item
        if "LastEvaluatedKey" not in resp or (limit is not None and seen >= limit):
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def is_conditional_failure(exc: Exception) -> bool:
    response = getattr(exc, "response", None) or {}
    return bool(response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")
