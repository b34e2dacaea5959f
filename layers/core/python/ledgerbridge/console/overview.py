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
MOVES_READ = 1000  # sync log entries the Overview reads at most for them


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


def last_moves(tenant_id: str, names: list[str], now: datetime) -> dict[str, tuple[tuple[str, str], ...]]:
    """Per target: when it last took a record and last gave a payment back, from the newest MOVES_READ entries
    of the sync log of the last 30 days (one pass, newest first, so a busy log costs a bounded read)."""
    since = (now - RECENT).astimezone(UTC).isoformat()
    wanted = {(name, label): entities for name in names for label, entities in DIRECTIONS}
    found: dict[tuple[str, str], synclog.LogEntry] = {}
    after = ""
    for _ in range(MOVES_READ // 200):
        page, after = synclog.page(tenant_id, synclog.Filters(since=since), after, size=200)
        for _, entry in page:
            for key, entities in wanted.items():
                if key not in found and entry.target == key[0] and entry.entity in entities:
                    found[key] = entry
        if not after or len(found) == len(wanted):
            break
    return {
        name: tuple(
            (label, f"{e.at[:16]}Z, {e.outcome}: {e.message}")
            for label, _ in DIRECTIONS
            if (e := found.get((name, label))) is not None
        )
        for name in names
    }


def build(tenant: Tenant, now: datetime) -> Overview:
    chosen = targets.for_tenant(tenant)
    moves = last_moves(tenant.tenant_id, [t.name for t in chosen], now)
    views = [t.connection(tenant) for t in chosen]
    return Overview(
        connections=[replace(v, summary=replace(v.summary, facts=v.summary.facts + moves[v.target])) for v in views],
        exports=next_exports(tenant, now),
        last_day=last_day_counts(tenant.tenant_id, now),
    )
