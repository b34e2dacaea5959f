"""The sync log: one entry per attempt outcome, newest first, kept 90 days."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr, Key

from ledgerbridge.jobs import SyncJob
from ledgerbridge.state import keys
from ledgerbridge.state.table import get, live, query, state, ttl_in

# "recovered": the sweep queued a change whose webhook never arrived (the job's own outcome follows).
Outcome = Literal["created", "updated", "skipped", "failed", "retrying", "recorded", "queued", "recovered"]
RETENTION_S = 90 * 24 * 3600


@dataclass(frozen=True)
class LogEntry:
    tenant_id: str
    target: str
    entity: str
    source_id: str
    outcome: Outcome
    message: str = ""
    target_id: str = ""
    at: str = ""


def _item(entry: LogEntry) -> dict[str, Any]:
    at = entry.at or datetime.now(UTC).isoformat()
    return {
        **keys.log_entry(entry.tenant_id, at, uuid.uuid4().hex[:8]),
        **asdict(entry),
        "at": at,
        "ttl": ttl_in(RETENTION_S),
    }


def write(entry: LogEntry) -> LogEntry:
    item = _item(entry)
    state().put_item(Item=item)
    return LogEntry(**{**asdict(entry), "at": item["at"]})


def write_many(entries: Iterable[LogEntry]) -> int:
    """Write entries in batches (25 a request); returns how many."""
    count = 0
    with state().batch_writer() as batch:
        for entry in entries:
            batch.put_item(Item=_item(entry))
            count += 1
    return count


def for_job(job: SyncJob, outcome: Outcome, message: str, target_id: str = "") -> LogEntry:
    """Write the entry for one sync job."""
    return write(
        LogEntry(
            tenant_id=job.tenant_id,
            target=job.target,
            entity=job.entity,
            source_id=job.source_id,
            outcome=outcome,
            message=message,
            target_id=target_id,
        )
    )


def recent(tenant_id: str, limit: int = 50) -> list[LogEntry]:
    return [_entry(item) for item in query(keys.log_pk(tenant_id), newest_first=True, limit=limit)]


@dataclass(frozen=True)
class Filters:
    outcome: str = ""
    target: str = ""
    entity: str = ""
    since: str = ""  # ISO-8601 UTC: entries at or after it (a key condition, not a filter)


def _entry(item: dict[str, Any]) -> LogEntry:
    fields = LogEntry.__dataclass_fields__
    return LogEntry(**{k: v for k, v in item.items() if k in fields})


def page(tenant_id: str, filters: Filters, after: str = "", size: int = 25) -> tuple[list[tuple[str, LogEntry]], str]:
    """One page of (sort key, entry), newest first, and the sort key to continue after ("" at the end).

    A query on the tenant's log partition (never a scan); outcome/target/entity are filter expressions, so
    the loop reads on until the page is full. `after` is a sort key of this partition only: the partition
    key always comes from the caller's tenant, so a cursor cannot reach another tenant's log."""
    pk = keys.log_pk(tenant_id)
    cond: Any = Key("pk").eq(pk)
    if filters.since:
        cond = cond & Key("sk").gte(filters.since)
    kwargs: dict[str, Any] = {"KeyConditionExpression": cond, "ScanIndexForward": False}
    matches: Any = None
    for name in ("outcome", "target", "entity"):
        if value := getattr(filters, name):
            matches = Attr(name).eq(value) if matches is None else matches & Attr(name).eq(value)
    if matches is not None:
        kwargs["FilterExpression"] = matches
    if after:
        kwargs["ExclusiveStartKey"] = {"pk": pk, "sk": after}
    found: list[tuple[str, LogEntry]] = []
    while True:
        resp = state().query(Limit=max(size * 4, 50), **kwargs)
        for item in resp.get("Items", []):
            if live(item) is not None:
                found.append((str(item["sk"]), _entry(item)))
                if len(found) == size:
                    return found, found[-1][0]
        if "LastEvaluatedKey" not in resp:
            return found, ""
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def find(tenant_id: str, sort_key: str) -> LogEntry | None:
    item = get(keys.log_pk(tenant_id), sort_key)
    return None if item is None else _entry(item)
