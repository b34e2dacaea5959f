"""The hourly sync plan: every built target's scheduled jobs (catch-ups, batch pushes) for every tenant. The
targets' consumers run them, because they hold what the jobs need (secrets, rate budgets)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from ledgerbridge.jobs import JobKind, SyncJob
from ledgerbridge.targets import registry
from ledgerbridge.tenants import Tenant


def scheduled_jobs(tenants: Iterable[Tenant], scheduled_time: datetime) -> list[SyncJob]:
    jobs: list[SyncJob] = []
    plugins = [p for p in registry.plugins() if p.scheduled_jobs is not None]
    for tenant in tenants:
        for plugin in plugins:
            if plugin.scheduled_jobs is not None and tenant.integration(plugin.name) is not None:
                jobs.extend(plugin.scheduled_jobs(tenant, scheduled_time))
    return jobs


def counts(jobs: Iterable[SyncJob]) -> Counter[JobKind]:
    return Counter(job.kind for job in jobs)
