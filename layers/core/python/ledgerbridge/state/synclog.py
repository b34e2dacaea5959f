"""The sync log: one entry per attempt outcome, newest first, kept 90 days."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from ledgerbridge.jobs import SyncJob
from ledgerbridge.state.table import query, state, ttl_in

# "recovered": the sweep queued a change whose webhook never arrived (the job's own outcome follows).
Outcome = Literal["created", "updated", "skipped", "failed", "retrying", "recorded", "recovered"]
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
        "pk": f"TENANT#{entry.tenant_id}#LOG",
        "sk": f"{at}#{uuid.uuid4().hex[:8]}",
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
    fields = LogEntry.__dataclass_fields__
    return [
        LogEntry(**{k: v for k, v in item.items() if k in fields})
        for item in query(f"TENANT#{tenant_id}#LOG", newest_first=True, limit=limit)
    ]
