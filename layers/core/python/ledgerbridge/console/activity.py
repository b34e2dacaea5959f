"""Retry from the sync log: a failed record is sent again as a new job for the same record.

The job's event id is derived from the failed log entry, so pressing Retry twice (or a double-submitted
form) is one message: SQS FIFO drops the second as a duplicate within its 5-minute window, and the sync
function's idempotency drops it after that. The record's own idempotency handles (its intent's request id,
its mapping, the target's natural key) are unchanged, so a retry can never create the record twice."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from ledgerbridge import wiring
from ledgerbridge.errors import InvalidInput, NotFound
from ledgerbridge.jobs import SyncJob
from ledgerbridge.state import synclog
from ledgerbridge.tenants import Tenant

HINT_MARK = "What to fix:"
MAX_BULK = 500

# Sends a platform invoice back to "send to accounting" when it is failed (the engine syncs only those).
Reopen = Callable[[str], None]
Publish = Callable[[Sequence[SyncJob]], None]


def reopen_failed(tenant: Tenant) -> Reopen:
    """The Reopen of a tenant's platform account: a `failed` invoice goes back to `pending_accounting`
    (the platform's "send to accounting"), with a comment saying why; any other status is left alone."""
    platform: list[Any] = []

    def reopen(invoice_id: str) -> None:
        if not platform:
            platform.append(wiring.platform_for(tenant))
        if platform[0].invoice(invoice_id).status == "failed":
            platform[0].set_invoice_status(invoice_id, "pending_accounting", "Sent again from LedgerBridge")

    return reopen


def split_hint(message: str) -> tuple[str, str]:
    """(the accounting system's message, the "what to fix" hint) of a sync log message."""
    head, mark, hint = message.partition(HINT_MARK)
    return (head.strip().rstrip("."), hint.strip()) if mark else (message, "")


def job_for(entry: synclog.LogEntry, sort_key: str) -> SyncJob:
    digest = hashlib.sha256(f"{entry.tenant_id}/{sort_key}".encode()).hexdigest()[:40]
    return SyncJob.model_validate(
        {
            "tenant_id": entry.tenant_id,
            "target": entry.target,
            "entity": entry.entity,
            "source_id": entry.source_id,
            "kind": "pull" if entry.entity == "payment" else "record",  # payments flow back (jobs.py)
            "event_id": f"retry-{digest}",
            "trigger": "manual",
            "occurred_at": datetime.now(UTC),
        }
    )


def retry(tenant_id: str, sort_key: str, reopen: Reopen, publish: Publish) -> SyncJob:
    """Re-drive one failed entry of this tenant's log."""
    entry = synclog.find(tenant_id, sort_key)
    if entry is None:
        raise NotFound("no such sync log entry for this account")
    if entry.outcome != "failed":
        raise InvalidInput(f"only a failed record can be retried; this one was {entry.outcome}", "entry")
    job = job_for(entry, sort_key)
    _send([job], reopen, publish)
    return job


def retry_failed_since(tenant_id: str, since: datetime, reopen: Reopen, publish: Publish) -> list[SyncJob]:
    """Re-drive every record whose latest entry since `since` is a failure (one job per record)."""
    latest: dict[tuple[str, str, str], tuple[str, synclog.LogEntry]] = {}
    after = ""
    filters = synclog.Filters(since=since.astimezone(UTC).isoformat())
    while True:
        page, after = synclog.page(tenant_id, filters, after, size=200)
        for sort_key, entry in page:  # newest first: the first entry seen of a record is its latest
            latest.setdefault((entry.target, entry.entity, entry.source_id), (sort_key, entry))
        if not after or len(latest) >= MAX_BULK:
            break
    jobs = [job_for(entry, key) for key, entry in latest.values() if entry.outcome == "failed"]
    _send(jobs, reopen, publish)
    return jobs


def _send(jobs: list[SyncJob], reopen: Reopen, publish: Publish) -> None:
    for job in jobs:
        if job.entity == "invoice" and job.direction == "push":
            reopen(job.source_id)
    publish(jobs)
    for job in jobs:
        synclog.for_job(job, "retrying", "retry requested from the console")
