"""The Overview's numbers: each target's connection, the next scheduled export, the last 24 hours."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from ledgerbridge.console import targets
from ledgerbridge.console.targets import ConnectionView
from ledgerbridge.exports import periods
from ledgerbridge.state import synclog
from ledgerbridge.tenants import Tenant

HORIZON = timedelta(days=32)  # a monthly schedule is due within a month
RECENT = timedelta(days=30)  # how far back the Overview looks for a target's last push and pull
DIRECTIONS = (("Last sent", ("invoice", "customer")), ("Last payment back", ("payment",)))


@dataclass(frozen=True)
class NextExport:
    connector: str
    connections: tuple[str, ...]
    at: datetime | None  # UTC; None when no tick in the horizon is due
    period: str


@dataclass(frozen=True)
class Overview:
    connections: list[ConnectionView]
    exports: list[NextExport]
    last_day: dict[str, int]  # outcome -> count


def next_exports(tenant: Tenant, now: datetime) -> list[NextExport]:
    """When each enabled connector next runs: the first hourly tick the dispatcher itself would find due."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + periods.TICK
    found = []
    for settings in tenant.connectors:
        if not settings.enabled:
            continue
        tick, due = start, None
        while tick - start < HORIZON and (due := periods.due(settings, tenant.timezone, tick)) is None:
            tick += periods.TICK
        found.append(
            NextExport(settings.connector, tuple(settings.connections), tick if due else None, due.label if due else "")
        )
    return found


def last_day_counts(tenant_id: str, now: datetime) -> dict[str, int]:
    counts: Counter[str] = Counter()
    filters = synclog.Filters(since=(now - timedelta(days=1)).astimezone(UTC).isoformat())
    after = ""
    for _ in range(50):  # at most 10,000 entries counted; the Activity page has the rest
        page, after = synclog.page(tenant_id, filters, after, size=200)
        counts.update(entry.outcome for _, entry in page)
        if not after:
            break
    return dict(counts)


def last_moves(tenant_id: str, target: str, now: datetime) -> tuple[tuple[str, str], ...]:
    """When the target last took a record and last gave a payment back (the sync log of the last 30 days)."""
    since = (now - RECENT).astimezone(UTC).isoformat()
    facts = []
    for label, entities in DIRECTIONS:
        latest: synclog.LogEntry | None = None
        for entity in entities:
            page, _ = synclog.page(tenant_id, synclog.Filters(target=target, entity=entity, since=since), size=1)
            if page and (latest is None or page[0][1].at > latest.at):
                latest = page[0][1]
        if latest is not None:
            facts.append((label, f"{latest.at[:16]}Z, {latest.outcome}: {latest.message}"))
    return tuple(facts)


def connection(tenant: Tenant, target: targets.ConsoleTarget, now: datetime) -> ConnectionView:
    view = target.connection(tenant)
    summary = replace(view.summary, facts=view.summary.facts + last_moves(tenant.tenant_id, target.name, now))
    return replace(view, summary=summary)


def build(tenant: Tenant, now: datetime) -> Overview:
    return Overview(
        connections=[connection(tenant, t, now) for t in targets.for_tenant(tenant)],
        exports=next_exports(tenant, now),
        last_day=last_day_counts(tenant.tenant_id, now),
    )
