"""The hourly catch-up for QuickBooks Online: payments whose webhooks were lost still arrive (research 1.9:
Intuit recommends a CDC call back to the last processed change), and scheduled pushes go out.

The hourly SyncDispatchFunction only plans: per connected tenant it enqueues one catch-up job (job kind
`catchup`) and, for tenants whose qbo integration has the "schedule" trigger, one bulk push job (kind
`batch`). The QBO consumer runs them: it holds the tenant's secrets and the realm's
budget (the dispatcher has neither), tenants run in parallel, and one slow company delays nobody else.

The catch-up job reads CDC for Payment since the tenant's cursor (`qbo_cdc`), clamped into CDC's 30-day
window (first run: from the connect time), and enqueues a pull job for each payment whose current version
(SyncToken, or deleted) is not the one the platform already agrees with (ledgerbridge.payments records it
after every pull): a change the webhook path already applied is not enqueued again. The job's event id names
that version (`qbo:{realm}:Payment:{id}:v{SyncToken}` / `:deleted`), so overlapping catch-ups claim it once.
Only then does the cursor advance, to QuickBooks' own time of the answer minus an overlap (a change committed
while CDC answered is seen again, and skipped, rather than missed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ledgerbridge import payments
from ledgerbridge.jobs import SyncJob
from ledgerbridge.qbo_webhook import Change, payment_job
from ledgerbridge.state import cursors
from ledgerbridge.targets.qbo import connection
from ledgerbridge.targets.qbo.client import QboClient, parse_time
from ledgerbridge.targets.qbo.settings import qbo_settings
from ledgerbridge.tenants import Tenant
from ledgerbridge.webhook import claim_key

CURSOR = "qbo_cdc"
CDC_WINDOW = timedelta(days=30)  # research 1.9
WINDOW_MARGIN = timedelta(minutes=10)  # stay clear of the window's edge (clock skew, the call's own time)
OVERLAP = timedelta(minutes=2)
CDC_MAX_OBJECTS = 1000


@dataclass(frozen=True)
class CatchupResult:
    since: datetime
    changes: int
    enqueued: int
    duplicates: int
    cursor: str


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()  # one format: cursors compare as strings


def since(tenant_id: str, now: datetime) -> datetime:
    """Where this run's CDC starts: the cursor, else the connect time, never outside CDC's window."""
    floor = now - CDC_WINDOW + WINDOW_MARGIN
    cursor = cursors.read(tenant_id, CURSOR)
    start = parse_time(cursor) if cursor else None
    if start is None:
        current = connection.load(tenant_id)
        connected = parse_time(current.connected_at) if current and current.connected_at else None
        start = connected - OVERLAP if connected else floor
    return max(start, floor)


def run(
    tenant: Tenant,
    client: QboClient,
    *,
    now: datetime,
    claim: Callable[[str, str], bool],
    release: Callable[[str, str], None],
    publish: Callable[[Sequence[SyncJob]], None],
) -> CatchupResult:
    start = since(tenant.tenant_id, now)
    changes, server_time = client.cdc_at(["Payment"], start)
    rows = changes.get("Payment", [])
    fresh: list[SyncJob] = []
    duplicates = 0
    latest = start
    for row in rows:
        updated = parse_time((row.get("MetaData") or {}).get("LastUpdatedTime")) or now
        latest = max(latest, updated)
        payment_id, version = str(row["Id"]), payments.version_of(row)
        if payments.reconciled_version(tenant.tenant_id, payment_id) == version:
            duplicates += 1  # the webhook path got there first
            continue
        operation = "Delete" if version == "deleted" else "Update"
        change = Change(client.realm_id, "Payment", payment_id, operation, updated)
        event = f"qbo:{client.realm_id}:Payment:{payment_id}:" + ("deleted" if version == "deleted" else f"v{version}")
        job = payment_job(tenant.tenant_id, change, "catchup", event)
        if claim(tenant.tenant_id, claim_key(job)):
            fresh.append(job)
        else:
            duplicates += 1
    try:
        if fresh:
            publish(fresh)
    except Exception:
        for job in fresh:
            release(tenant.tenant_id, claim_key(job))
        raise
    # A full page may have left changes out: continue from the newest one seen instead of "now".
    upto = latest - timedelta(seconds=1) if len(rows) >= CDC_MAX_OBJECTS else (server_time or now) - OVERLAP
    cursor = _iso(max(upto, start))
    cursors.advance(tenant.tenant_id, CURSOR, cursor)
    return CatchupResult(start, len(rows), len(fresh), duplicates, cursor)


def scheduled_jobs(tenants: Iterable[Tenant], scheduled_time: datetime) -> list[SyncJob]:
    """The hourly plan: a catch-up job per connected tenant that takes payments back, and a bulk push job
    per tenant whose qbo integration is triggered by the schedule. Event ids name the hour, so a retried
    schedule enqueues nothing twice (FIFO dedupe, then the consumer's idempotency)."""
    hour = scheduled_time.astimezone(UTC).strftime("%Y%m%dT%H%M")
    jobs: list[SyncJob] = []
    for tenant in tenants:
        integration = qbo_settings(tenant)
        if integration is None or not integration.realm_id:
            continue
        current = connection.load(tenant.tenant_id)
        if current is None or current.status != "connected":
            continue
        common = {"tenant_id": tenant.tenant_id, "target": "qbo", "occurred_at": scheduled_time}
        if "payment" in integration.entities:
            jobs.append(
                SyncJob(
                    **common,
                    kind="catchup",
                    entity="payment",
                    event_id=f"cdc:{tenant.tenant_id}:{hour}",
                    action="catchup",
                    trigger="catchup",
                )
            )
        if "schedule" in integration.triggers and "invoice" in integration.entities:
            jobs.append(
                SyncJob(
                    **common,
                    kind="batch",
                    entity="invoice",
                    event_id=f"bulk:{tenant.tenant_id}:{hour}",
                    action="bulk",
                    trigger="schedule",
                )
            )
    return jobs
