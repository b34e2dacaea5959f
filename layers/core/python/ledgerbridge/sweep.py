"""The platform-side sweep: invoices sent to accounting whose webhooks never arrived.

The platform counts any 2xx-4xx answer as delivered and gives up after a few retries of a 5xx or a timeout
(ServiceTrade's webhook API, https://api.servicetrade.com/api/docs; docs/servicetrade-double.md). So a
429 from API Gateway's throttle under a burst, a webhook disabled or mistyped on the platform, or an outage
longer than the platform's retries leaves an invoice in "send to accounting" (`pending_accounting`, the
status an accounting integration polls: ServiceTrade's "Technical Guide to Invoicing Integrations") and
nobody is told.

Per tenant whose integrations take invoices from webhooks (webhook.targets_for, the intake's own routing),
every `SweepSettings.interval_minutes`:

1. Window: from the cursor minus OVERLAP (first run: FIRST_LOOKBACK back) to now minus SETTLE. A change
   younger than SETTLE is left to its webhook, which is normally on its way: "recovered" counts lost
   webhooks, not slow ones. The overlap covers clock skew and changes committed late on the platform.
2. List the invoices in `pending_accounting` updated within the window (`GET /invoice?status=&updatedAfter=
   &updatedBefore=`, inclusive, paged). One tenant's pages go one after another, so the sweep adds one
   request per page to the tenant's account; a 429 or 5xx stops that tenant's sweep until the next run.
3. Per invoice and target, the job its webhook would have made. The event id is webhook.change_id of the
   invoice's id and `updated` time, so whichever of the sweep and a (late) webhook claims that version
   first enqueues it and the other is a duplicate (sync.intake.enqueue_once, the intake's claim-publish-
   release path). A claim lives 7 days, longer than any window's overlap, so a version already queued, in
   flight, done or dead-lettered is never queued again: the claim is the record of "this version has a job".
4. Publish the fresh jobs, log each as "recovered" in the sync log, and only then advance the cursor to
   the window's end. A failed listing keeps the cursor (what it found is still queued; the next run covers
   the window again and its claims make the repeat cheap).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from ledgerbridge.errors import TransientError
from ledgerbridge.jobs import SyncJob
from ledgerbridge.records import RecordVersion
from ledgerbridge.state import cursors, synclog
from ledgerbridge.sync.engine import SYNCABLE_STATUS
from ledgerbridge.sync.intake import claim_key, enqueue_once
from ledgerbridge.targets.registry import TargetName
from ledgerbridge.tenants import Tenant
from ledgerbridge.webhook import change_id, targets_for

CURSOR = "sweep"
PLATFORM_TYPE = "invoice"  # the platform's entity type, as its webhooks name it (webhook.ENTITY_TYPES)
OVERLAP = timedelta(minutes=5)
SETTLE = timedelta(minutes=2)
FIRST_LOOKBACK = timedelta(hours=24)
TICK = timedelta(minutes=5)  # template.yaml SweepFunction schedule: the finest interval a tenant can choose


class PendingSource(Protocol):
    """What the sweep needs from the platform (ledgerbridge.source.servicetrade)."""

    def invoice_versions(
        self, status: str, updated_after: datetime, updated_before: datetime
    ) -> Iterator[RecordVersion]: ...


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime


@dataclass
class TenantSweep:
    tenant_id: str
    window: Window
    listed: int = 0
    recovered: list[SyncJob] = field(default_factory=list)
    duplicates: int = 0
    cursor: str = ""  # where the cursor moved to; "" when it stayed
    error: str = ""


@dataclass
class SweepReport:
    tenants: list[TenantSweep] = field(default_factory=list)
    not_due: int = 0
    deferred: int = 0  # due, but left for the next run by the deadline

    @property
    def recovered(self) -> int:
        return sum(len(t.recovered) for t in self.tenants)

    @property
    def failed(self) -> int:
        return sum(1 for t in self.tenants if t.error)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()  # one format: cursors compare as strings


def window(cursor: str | None, now: datetime) -> Window:
    until = now - SETTLE
    since = datetime.fromisoformat(cursor) - OVERLAP if cursor else until - FIRST_LOOKBACK
    return Window(min(since, until), until)


def due(tenant: Tenant, cursor: str | None, now: datetime) -> bool:
    """Swept at all (enabled, with a webhook-triggered integration taking invoices), and its interval has
    passed since the last window ended (half a tick early counts: schedules fire a little late)."""
    if not tenant.sweep.enabled or not targets_for(tenant, "invoice"):
        return False
    if cursor is None:
        return True
    waited = window(cursor, now).until - datetime.fromisoformat(cursor)
    return waited >= timedelta(minutes=tenant.sweep.interval_minutes) - TICK / 2


def jobs_for(tenant_id: str, targets: Sequence[TargetName], version: RecordVersion) -> list[SyncJob]:
    """The jobs a webhook for this version would have made, one per target, with the webhook's event id."""
    stamp = int(version.updated_at.timestamp())
    return [
        SyncJob(
            tenant_id=tenant_id,
            target=target,
            entity="invoice",
            source_id=version.source_id,
            event_id=change_id(PLATFORM_TYPE, version.source_id, stamp),
            action="updated",
            trigger="sweep",
            occurred_at=version.updated_at,
        )
        for target in targets
    ]


def sweep_tenant(
    tenant: Tenant,
    source: PendingSource,
    *,
    now: datetime,
    claim: Callable[[str, str], bool],
    release: Callable[[str, str], None],
    publish: Callable[[Sequence[SyncJob]], None],
) -> TenantSweep:
    tenant_id = tenant.tenant_id
    win = window(cursors.read(tenant_id, CURSOR), now)
    result = TenantSweep(tenant_id, win)
    targets = targets_for(tenant, "invoice")
    jobs: list[SyncJob] = []
    try:
        for version in source.invoice_versions(SYNCABLE_STATUS, win.since, win.until):
            result.listed += 1
            jobs.extend(jobs_for(tenant_id, targets, version))
    except TransientError as exc:  # the platform's 429/5xx: queue what was found, keep the cursor
        result.error = str(exc)
    queued = enqueue_once(
        jobs,
        0,
        claim=lambda job: claim(tenant_id, claim_key(job)),
        release=lambda job: release(tenant_id, claim_key(job)),
        publish=publish,
    )
    result.recovered, result.duplicates = queued.jobs, queued.duplicates
    synclog.write_many(
        synclog.LogEntry(
            tenant_id=tenant_id,
            target=job.target,
            entity=job.entity,
            source_id=job.source_id,
            outcome="recovered",
            message=f"no webhook arrived for its change at {_iso(job.occurred_at)}; the sweep queued it",
        )
        for job in queued.jobs
    )
    if not result.error:
        cursor = _iso(win.until)
        cursors.advance(tenant_id, CURSOR, cursor)
        result.cursor = cursor
    return result


def sweep_all(
    tenants: Iterable[Tenant],
    *,
    now: datetime,
    deadline: float,
    source_for: Callable[[Tenant], PendingSource],
    claim: Callable[[str, str], bool],
    release: Callable[[str, str], None],
    publish: Callable[[Sequence[SyncJob]], None],
) -> SweepReport:
    """Sweep every due tenant, the longest-waiting first, until `deadline` (time.monotonic()): a tenant
    left over keeps its cursor and is first in line next run. One tenant's failure (credentials refused,
    a record that cannot be read) is reported and never stops the others."""
    report = SweepReport()
    queue: list[tuple[str, Tenant]] = []
    for tenant in tenants:
        cursor = cursors.read(tenant.tenant_id, CURSOR)
        if due(tenant, cursor, now):
            queue.append((cursor or "", tenant))
        else:
            report.not_due += 1
    queue.sort(key=lambda pair: pair[0])
    for n, (cursor, tenant) in enumerate(queue):
        if time.monotonic() > deadline:
            report.deferred = len(queue) - n
            break
        try:
            swept = sweep_tenant(tenant, source_for(tenant), now=now, claim=claim, release=release, publish=publish)
        except Exception as exc:  # e.g. credentials refused, or a bug one tenant's data trips: reported
            swept = TenantSweep(tenant.tenant_id, window(cursor or None, now), error=f"{type(exc).__name__}: {exc}")
        report.tenants.append(swept)
    return report
