"""The hourly catch-up for QuickBooks Online: payments whose webhooks were lost still arrive (Intuit: change
data capture: Intuit recommends a CDC call back to the last processed change), and scheduled pushes go out.

The hourly dispatch only plans (`scheduled_jobs`): per connected tenant one catch-up job (kind `catchup`)
and, for tenants whose qbo integration has the "schedule" trigger, one batch push job (kind `batch`). The QBO
consumer runs them: it holds the tenant's secrets and the realm's budget (the dispatcher has neither),
tenants run in parallel, and one slow company delays nobody else.

The catch-up job reads CDC for Payment since the tenant's cursor (`qbo_cdc`), clamped into CDC's 30-day
window (first run: from the connect time), and enqueues a pull job for each payment whose current version
(SyncToken, or deleted) is not the one the platform already agrees with (targets.qbo.payments records it
after every pull): a change the webhook path already applied is not enqueued again. The job's event id names
that version (`qbo:{realm}:Payment:{id}:v{SyncToken}` / `:deleted`), so overlapping catch-ups claim it once.
The engine claims and enqueues them as it does webhook jobs (ledgerbridge.sync.intake); only then does
the cursor advance, to QuickBooks' own time of the answer minus an overlap (a change committed
while CDC answered is seen again, and skipped, rather than missed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledgerbridge.jobs import SyncJob
from ledgerbridge.targets.base import Changes
from ledgerbridge.targets.qbo import connection, payments
from ledgerbridge.targets.qbo.client import QboClient, parse_time
from ledgerbridge.targets.qbo.settings import qbo_settings
from ledgerbridge.targets.qbo.webhook import Change, payment_job
from ledgerbridge.tenants import Tenant

CURSOR = "qbo_cdc"
CDC_WINDOW = timedelta(days=30)  # Intuit: change data capture
WINDOW_MARGIN = timedelta(minutes=10)  # stay clear of the window's edge (clock skew, the call's own time)
OVERLAP = timedelta(minutes=2)
CDC_MAX_OBJECTS = 1000


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()  # one format: cursors compare as strings


def since(tenant_id: str, cursor: str | None, now: datetime) -> datetime:
    """Where this run's CDC starts: the cursor, else the connect time, never outside CDC's window."""
    floor = now - CDC_WINDOW + WINDOW_MARGIN
    start = parse_time(cursor) if cursor else None
    if start is None:
        current = connection.load(tenant_id)
        connected = parse_time(current.connected_at) if current and current.connected_at else None
        start = connected - OVERLAP if connected else floor
    return max(start, floor)


def changes(tenant_id: str, client: QboClient, cursor: str | None, now: datetime) -> Changes:
    """Pull jobs for the payments CDC reports whose current version the platform does not agree with yet."""
    start = since(tenant_id, cursor, now)
    found, server_time = client.cdc_at(["Payment"], start)
    rows = found.get("Payment", [])
    jobs: list[SyncJob] = []
    latest = start
    for row in rows:
        updated = parse_time((row.get("MetaData") or {}).get("LastUpdatedTime")) or now
        latest = max(latest, updated)
        payment_id, version = str(row["Id"]), payments.version_of(row)
        if payments.reconciled_version(tenant_id, payment_id) == version:
            continue  # the webhook path got there first
        operation = "Delete" if version == "deleted" else "Update"
        change = Change(client.realm_id, "Payment", payment_id, operation, updated)
        event = f"qbo:{client.realm_id}:Payment:{payment_id}:" + ("deleted" if version == "deleted" else f"v{version}")
        jobs.append(payment_job(tenant_id, change, "catchup", event))
    # A full page may have left changes out: continue from the newest one seen instead of "now".
    upto = latest - timedelta(seconds=1) if len(rows) >= CDC_MAX_OBJECTS else (server_time or now) - OVERLAP
    return Changes(jobs, _iso(max(upto, start)), seen=len(rows))


def scheduled_jobs(tenant: Tenant, scheduled_time: datetime) -> list[SyncJob]:
    """The hourly plan of one tenant: a catch-up job when it takes payments back, and a batch push job when its
    qbo integration is triggered by the schedule. Event ids name the hour, so a retried schedule enqueues
    nothing twice (FIFO dedupe, then the consumer's idempotency)."""
    integration = qbo_settings(tenant)
    if integration is None or not integration.realm_id:
        return []
    current = connection.load(tenant.tenant_id)
    if current is None or current.status != "connected":
        return []
    hour = scheduled_time.astimezone(UTC).strftime("%Y%m%dT%H%M")
    common = {"tenant_id": tenant.tenant_id, "target": "qbo", "occurred_at": scheduled_time}
    jobs: list[SyncJob] = []
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
