"""Sage Intacct as a plug-in (ledgerbridge.targets.base.Plugin): the registry's "intacct". The console's
Overview card and reconciliation read through console.py."""

from __future__ import annotations

from datetime import datetime

from ledgerbridge.jobs import JobKind, SyncEntity, SyncJob
from ledgerbridge.targets.base import Plugin
from ledgerbridge.targets.intacct.connection import IntacctConnection, open_target, settings_of
from ledgerbridge.targets.intacct.console import IntacctLedger, summary
from ledgerbridge.targets.intacct.documents import IntacctDocuments
from ledgerbridge.targets.intacct.settings import IntacctSettings
from ledgerbridge.tenants import Tenant


def scheduled_jobs(tenant: Tenant, now: datetime) -> list[SyncJob]:
    """Each hour: the payments catch-up (payments back since the cursor) and, where the tenant syncs on a
    schedule, a batch push of every invoice waiting for accounting. Event ids name the hour, so a repeated
    dispatch of the same hour enqueues nothing new."""
    settings = settings_of(tenant)
    wanted: list[tuple[JobKind, SyncEntity]] = []
    if "payment" in settings.entities:
        wanted.append(("catchup", "payment"))
    if "schedule" in settings.triggers:
        wanted.append(("batch", "invoice"))
    return [
        SyncJob(
            tenant_id=tenant.tenant_id,
            target="intacct",
            kind=kind,
            entity=entity,
            event_id=f"intacct-{kind}-{entity}-{now:%Y%m%dT%H}",
            trigger="schedule",
            occurred_at=now,
        )
        for kind, entity in wanted
    ]


PLUGIN = Plugin(
    name="intacct",
    label="Sage Intacct",
    settings=IntacctSettings,
    documents=IntacctDocuments(),
    documents_for=lambda tenant: IntacctDocuments(settings_of(tenant)),
    open=open_target,
    scheduled_jobs=scheduled_jobs,
    connection=IntacctConnection(),
    summary=summary,
    ledger=IntacctLedger(),
)
