"""The sync log: one entry per attempt outcome, newest first, kept 90 days."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal

from ledgerbridge.jobs import SyncJob
from ledgerbridge.state import keys
from ledgerbridge.state.table import query, state, ttl_in

Outcome = Literal["created", "updated", "skipped", "failed", "retrying", "recorded"]
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


def write(entry: LogEntry) -> LogEntry:
    at = entry.at or datetime.now(UTC).isoformat()
    stored = LogEntry(**{**asdict(entry), "at": at})
    state().put_item(
        Item={
            **keys.log_entry(entry.tenant_id, at, uuid.uuid4().hex[:8]),
            **asdict(stored),
            "ttl": ttl_in(RETENTION_S),
        }
    )
    return stored


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
        for item in query(keys.log_pk(tenant_id), newest_first=True, limit=limit)
    ]
