"""Intake: jobs claimed before they are published, so each change is enqueued once whichever way it comes
(the platform's webhooks, a target's webhooks, a target's catch-up), and released if publishing fails so the
sender's retry is not swallowed as a duplicate. Claims live in ledgerbridge.state.events (TTL)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from ledgerbridge.jobs import SyncJob
from ledgerbridge.observability import tracer
from ledgerbridge.state import cursors
from ledgerbridge.targets.base import CatchUp


@dataclass
class IntakeResult:
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0
    jobs: list[SyncJob] = field(default_factory=list)


def claim_key(job: SyncJob) -> str:
    """The key a job's event is claimed under, within its tenant (one per target and event)."""
    return f"{job.target}#{job.event_id}"


def enqueue_once(
    jobs: Sequence[SyncJob],
    ignored: int,
    *,
    claim: Callable[[SyncJob], bool],
    release: Callable[[SyncJob], None],
    publish: Callable[[Sequence[SyncJob]], None],
) -> IntakeResult:
    """Publish the jobs whose events were not seen before; on a failed publish, release their claims so
    the sender's retry is not swallowed as a duplicate. Shared by every webhook intake."""
    result = IntakeResult(ignored=ignored)
    fresh: list[SyncJob] = []
    for job in jobs:
        if claim(job):
            fresh.append(job)
        else:
            result.duplicates += 1
    try:
        if fresh:
            publish(fresh)
    except Exception:
        for job in fresh:
            release(job)
        raise
    result.accepted = len(fresh)
    result.jobs = fresh
    return result


@dataclass(frozen=True)
class CatchupResult:
    since: str
    changes: int
    enqueued: int
    duplicates: int
    cursor: str


@tracer.capture_method(capture_response=False)
def catch_up(
    tenant_id: str,
    target: CatchUp,
    *,
    now: datetime,
    claim: Callable[[str, str], bool],
    release: Callable[[str, str], None],
    publish: Callable[[Sequence[SyncJob]], None],
) -> CatchupResult:
    """One catch-up job: the target's changes since the tenant's cursor, claimed and published like webhook
    jobs; the cursor moves on only once they are safely enqueued."""
    since = cursors.read(tenant_id, target.cursor_name)
    found = target.changes(since, now)
    result = enqueue_once(
        found.jobs,
        0,
        claim=lambda job: claim(tenant_id, claim_key(job)),
        release=lambda job: release(tenant_id, claim_key(job)),
        publish=publish,
    )
    cursors.advance(tenant_id, target.cursor_name, found.cursor)
    skipped = found.seen - result.accepted
    return CatchupResult(since or "", found.seen, result.accepted, skipped, found.cursor)
