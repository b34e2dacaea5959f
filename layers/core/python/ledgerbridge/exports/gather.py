"""Read one period's records from the platform, validate them, and stage what the file will hold.

One function per connection fills the run's Spool and returns a `Gathered`: the problems to report, how
many records they hold back, and a factory of the renderer's rows (records without problems, never
records already confirmed as imported). Memory holds one page of records, or one technician's entries.

Labor is read from the start of the workweek that holds the period's first day (minus a day, for shifts
that cross midnight), so weekly overtime counts the days before the period; problems are reported only
for entries that touch the period (an entry before it was reported by its own period's run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from ledgerbridge.connectors import (
    Layout,
    Mappings,
    Problem,
    Row,
    RunInfo,
    build_labor,
    check_invoices,
    check_labor,
    check_purchase_orders,
    decide,
    direct_cost_rows,
    invoice_rows,
    labor_rows,
    purchase_order_rows,
)
from ledgerbridge.connectors.labor import week_start_of
from ledgerbridge.connectors.rows import LaborRow
from ledgerbridge.connectors.validation import problem
from ledgerbridge.errors import NotFound
from ledgerbridge.exports.periods import Period, local_midnight
from ledgerbridge.exports.spool import Spool
from ledgerbridge.records import Customer, DirectCost, Invoice, Job, LaborEntry, PurchaseOrder
from ledgerbridge.tenants import ConnectorSettings, Tenant

T = TypeVar("T")
D = TypeVar("D", Invoice, PurchaseOrder, DirectCost)
Progress = Callable[[str, int, int | None], None]  # (phase, done, total or None)
TARGETS = {"sage300cre": "Sage 300 CRE", "computerease": "ComputerEase"}


class Platform(Protocol):
    """What a run reads from the field-service platform (ServiceTradeSource, or a test double)."""

    def invoices(
        self,
        *,
        status: str | None = None,
        transaction_after: date | None = None,
        transaction_before: date | None = None,
    ) -> Iterator[Invoice]: ...
    def labor_entries(self, start: datetime, end: datetime) -> Iterator[LaborEntry]: ...
    def purchase_orders(self, start: date, end: date) -> Iterator[PurchaseOrder]: ...
    def direct_costs(self, start: date, end: date) -> Iterator[DirectCost]: ...
    def customer(self, company_id: str) -> Customer: ...
    def job(self, job_id: str) -> Job: ...


@dataclass(frozen=True)
class Context:
    tenant: Tenant
    settings: ConnectorSettings
    connection: str
    period: Period
    layout: Layout
    run: RunInfo
    imported: Mapping[str, set[str]]  # day -> ids confirmed as imported
    progress: Progress

    @property
    def timezone(self) -> str:
        return self.tenant.timezone

    def external_ids(self, ids: Iterable[str], fetch: Callable[[str], Customer | Job]) -> dict[str, str]:
        """Platform id -> the accounting id stored as an External ID (system `mapping.external_system`)."""
        system, found = self.tenant.mapping.external_system, {}
        for rid in sorted(set(ids)):
            try:
                value = fetch(rid).external_ids.get(system, "")
            except NotFound:
                continue
            if value:
                found[rid] = value
        return found


@dataclass
class Gathered:
    problems: list[Problem]
    held: int  # records left out by those problems
    rows: Callable[[], Iterator[Row]]


def lead_in_start(period: Period) -> date:
    """The first local day a labor run reads: the workweek's start, minus one day for overnight shifts."""
    return week_start_of(period.first, 0) - timedelta(days=1)


def counted(items: Iterable[T], phase: str, progress: Progress, every: int = 1000) -> Iterator[T]:
    n = 0
    progress(phase, 0, None)
    for n, item in enumerate(items, start=1):
        if n % every == 0:
            progress(phase, n, None)
        yield item
    progress(phase, n, n)


def requires(layout: Layout, path: str) -> bool:
    """Does a required field of the layout read `path` (e.g. customer.number)?"""
    return any(f.required and f.source and path in f.source for r in layout.records for f in r.fields)


def _fresh(records: Iterable[T], ctx: Context, day: Callable[[T], date], ident: Callable[[T], str]) -> Iterator[T]:
    for record in records:
        if ident(record) not in ctx.imported.get(day(record).isoformat(), ()):
            yield record


def _documents(
    ctx: Context,
    spool: Spool[D],
    problems: list[Problem],
    day: Callable[[D], date],
    rows: Callable[[Iterable[D]], Iterator[Row]],
) -> Gathered:
    """Shared tail of the document connections: decide, stage the delivered ids, build the rows factory."""
    decision = decide(problems, ctx.settings.on_problem)
    spool.add_delivered((day(r).isoformat(), r.source_id) for r in decision.keep(spool.docs()))
    held = len({p.source_id for p in problems})
    if decision.run_held:
        held = spool.doc_count()
    return Gathered(problems, held, lambda: rows(decision.keep(spool.docs())))


def invoices(ctx: Context, source: Platform, spool: Spool[Invoice]) -> Gathered:
    period, settings = ctx.period, ctx.settings
    read = source.invoices(
        status=settings.invoice_status, transaction_after=period.first, transaction_before=period.last
    )
    fresh = _fresh(read, ctx, lambda i: i.transaction_date, lambda i: i.source_id)
    customers: set[str] = set()
    jobs: set[str] = set()

    def note(inv: Invoice) -> Invoice:
        customers.add(inv.customer.id)
        if inv.job is not None:
            jobs.add(inv.job.id)
        return inv

    spool.add_docs(map(note, counted(fresh, "reading invoices", ctx.progress, 100)))
    maps = Mappings(
        customers=ctx.external_ids(customers, source.customer),
        jobs=ctx.external_ids(jobs, source.job),
        tax_codes=ctx.tenant.mapping.tax_codes,
    )
    problems = check_invoices(
        spool.docs(),
        customer_ids=maps.customers if requires(ctx.layout, "customer.number") else None,
        tax_codes=maps.tax_codes,
        target=TARGETS.get(settings.connector, "the accounting system"),
    )
    return _documents(
        ctx, spool, problems, lambda i: i.transaction_date, lambda kept: invoice_rows(kept, maps, ctx.run)
    )


def purchase_orders(ctx: Context, source: Platform, spool: Spool[PurchaseOrder]) -> Gathered:
    read = source.purchase_orders(ctx.period.first, ctx.period.last)
    fresh = _fresh(read, ctx, lambda po: po.order_date, lambda po: po.source_id)
    vendors: set[str] = set()
    jobs: set[str] = set()

    def note(po: PurchaseOrder) -> PurchaseOrder:
        vendors.add(po.vendor.id)
        jobs.add(po.job.id)
        return po

    spool.add_docs(map(note, counted(fresh, "reading purchase orders", ctx.progress, 100)))
    maps = Mappings(vendors=ctx.external_ids(vendors, source.customer), jobs=ctx.external_ids(jobs, source.job))
    problems = check_purchase_orders(spool.docs())
    return _documents(
        ctx, spool, problems, lambda po: po.order_date, lambda kept: purchase_order_rows(kept, maps, ctx.run)
    )


def direct_costs(ctx: Context, source: Platform, spool: Spool[DirectCost]) -> Gathered:
    read = source.direct_costs(ctx.period.first, ctx.period.last)
    fresh = _fresh(read, ctx, lambda c: c.used_on, lambda c: c.source_id)
    vendors: set[str] = set()
    jobs: set[str] = set()

    def note(cost: DirectCost) -> DirectCost:
        jobs.add(cost.job.id)
        if cost.vendor is not None:
            vendors.add(cost.vendor.id)
        return cost

    spool.add_docs(map(note, counted(fresh, "reading direct costs", ctx.progress, 100)))
    maps = Mappings(vendors=ctx.external_ids(vendors, source.customer), jobs=ctx.external_ids(jobs, source.job))
    return _documents(ctx, spool, [], lambda c: c.used_on, lambda kept: direct_cost_rows(kept, maps, ctx.run))


def labor(ctx: Context, source: Platform, spool: Spool[Any]) -> Gathered:
    """Per technician (overlaps, daily limits and overtime are each technician's own): check, drop entries
    with problems, build hours, and stage the rows; the file is their merge in build_labor's order."""
    period, tz = ctx.period, ctx.timezone
    start, end = local_midnight(lead_in_start(period), tz), period.utc_bounds(tz)[1]
    first = period.utc_bounds(tz)[0]
    spool.add_entries(counted(source.labor_entries(start, end), "reading labor entries", ctx.progress, 5000))
    jobs = spool.job_ids()
    ctx.progress("reading job numbers", 0, len(jobs))
    job_numbers = ctx.external_ids(jobs, source.job)
    technicians = spool.technicians()
    problems: list[Problem] = []
    for n, technician in enumerate(technicians, start=1):
        entries = spool.entries_of(technician)
        by_id = {e.source_id: e for e in entries}
        found = check_labor(entries, timezone=tz)
        problems.extend(p for p in found if _touches(by_id[p.source_id], first, end))
        kept = decide(found, "hold_row").keep(entries)
        rows = build_labor(
            kept,
            timezone=tz,
            period_start=period.first,
            period_end=period.last,
            overtime=ctx.settings.overtime,
            job_numbers=job_numbers,
        )
        spool.add_rows(_not_imported(rows, ctx, problems, spool))
        ctx.progress("checking labor", n, len(technicians))
    held = len({p.source_id for p in problems})
    if ctx.settings.on_problem == "hold_run" and problems:
        held = spool.row_count()
    return Gathered(problems, held, lambda: labor_rows(spool.rows(), ctx.run))


def _touches(entry: LaborEntry, start: datetime, end: datetime) -> bool:
    if entry.clock_out is None:
        return start <= entry.clock_in < end
    return entry.clock_out > start and entry.clock_in < end


def _not_imported(rows: list[LaborRow], ctx: Context, problems: list[Problem], spool: Spool[Any]) -> Iterator[LaborRow]:
    """Rows none of whose entry-days were confirmed as imported; a row mixing imported and new entries
    cannot be split (its hours are a sum) and is reported instead of being exported twice."""
    for row in rows:
        day = row.work_date.isoformat()
        done = ctx.imported.get(day, set())
        already = [i for i in row.entry_ids if i in done]
        if not already:
            spool.add_delivered((day, i) for i in row.entry_ids)
            yield row
        elif len(already) < len(row.entry_ids):
            new = ", ".join(i for i in row.entry_ids if i not in done)
            problems.append(
                problem(
                    row,
                    "partly_imported",
                    f"entries {', '.join(already)} of these hours were already imported; {new} are new",
                    "Enter the new entries' hours in the accounting system by hand",
                    "hours",
                    ctx.timezone,
                )
            )


GATHER: dict[str, Callable[[Context, Platform, Spool[Any]], Gathered]] = {
    "ar_invoices": invoices,
    "labor_hours": labor,
    "purchase_orders": purchase_orders,
    "direct_costs": direct_costs,
}
MODELS: dict[str, type[Invoice | PurchaseOrder | DirectCost] | None] = {
    "ar_invoices": Invoice,
    "labor_hours": None,
    "purchase_orders": PurchaseOrder,
    "direct_costs": DirectCost,
}
