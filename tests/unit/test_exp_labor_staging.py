"""The run stages labor per technician on disk (flat memory) and merges the rows back: the result must be
exactly the whole-period computation of the connectors package, row for row and byte for byte."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ledgerbridge.connectors import (
    RunInfo,
    build_labor,
    check_labor,
    decide,
    labor_rows,
    load_builtin,
    render_bytes,
)
from ledgerbridge.connectors.rows import LaborRow
from ledgerbridge.exports import gather, periods
from ledgerbridge.exports.gather import Context
from ledgerbridge.exports.spool import Spool
from ledgerbridge.records import Customer, Job, LaborEntry, Ref
from ledgerbridge.tenants import ConnectorSettings, Tenant

TZ = "America/Chicago"


def entries(n: int, seed: int) -> list[LaborEntry]:
    """n entries of 12 technicians over three weeks around the DST change of 2026-11-01: each technician's
    entries follow one another (gaps of 0-6 h), with a few overlaps, open clock-ins and one technician
    without an employee number, so every check and both overtime rules have something to find."""
    rnd = random.Random(seed)
    start = datetime(2026, 10, 25, tzinfo=UTC)
    clocks = {tech: start + timedelta(minutes=rnd.randrange(600)) for tech in range(12)}
    out = []
    for i in range(n):
        tech, job = rnd.randrange(12), rnd.randrange(4)
        clock_in = clocks[tech] + timedelta(minutes=rnd.randrange(0, 360))
        if rnd.random() < 0.02:
            clock_in = clocks[tech] - timedelta(minutes=30)  # overlaps the technician's previous entry
        clock_out = clock_in + timedelta(minutes=rnd.randrange(10, 600))
        clocks[tech] = clock_out
        out.append(
            LaborEntry(
                source_id=str(1000 + i),
                technician=Ref(id=f"t{tech:02d}", name=f"Tech {tech}"),
                employee_number="" if tech == 7 else f"E{tech:03d}",
                job=Ref(id=f"j{job}", name=f"J-{job}"),  # one name per job, as on the platform
                clock_in=clock_in,
                clock_out=None if rnd.random() < 0.005 else clock_out,
            )
        )
    return out


class FakePlatform:
    def __init__(self, data: list[LaborEntry]) -> None:
        self.data = data

    def labor_entries(self, start: datetime, end: datetime) -> Iterator[LaborEntry]:
        return iter(sorted((e for e in self.data if start <= e.clock_in < end), key=lambda e: e.clock_in))

    def job(self, job_id: str) -> Job:
        return Job(
            source_id=job_id,
            number=job_id,
            customer=Ref(id="c"),
            location=Ref(id="l"),
            external_ids={"ledgerbridge": f"ACC-{job_id}"} if job_id in ("j1", "j2") else {},
        )

    def customer(self, company_id: str) -> Customer:
        return Customer(source_id=company_id, name="x")

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"labor reads no {name}")


def staged(data: list[LaborEntry], period: str, imported: dict[str, set[str]] | None = None) -> tuple[Any, list[Any]]:
    p = periods.parse(period)
    settings = ConnectorSettings(connector="csv", connections=["labor_hours"])
    tenant = Tenant(tenant_id="acme-fire", name="Acme", timezone=TZ, connectors=[settings])
    ctx = Context(
        tenant=tenant,
        settings=settings,
        connection="labor_hours",
        period=p,
        layout=load_builtin("csv", "labor_hours"),
        run=RunInfo("acme-fire", "csv", "labor_hours", "r", p.first, p.last),
        imported=imported or {},
        progress=lambda *_: None,
    )
    with Spool() as spool:
        found = gather.labor(ctx, FakePlatform(data), spool)
        rows = [r.labor for r in found.rows()]
        delivered = list(spool.delivered())
    return (found, rows, delivered), []


def whole_period(data: list[LaborEntry], period: str) -> tuple[list[LaborRow], set[tuple[str, str]]]:
    p = periods.parse(period)
    start = periods.local_midnight(gather.lead_in_start(p), TZ)
    first, end = p.utc_bounds(TZ)
    window = [e for e in data if start <= e.clock_in < end]
    problems = check_labor(window, timezone=TZ)
    kept = decide(problems, "hold_row").keep(window)
    rows = build_labor(
        kept, timezone=TZ, period_start=p.first, period_end=p.last, job_numbers={"j1": "ACC-j1", "j2": "ACC-j2"}
    )
    by_id = {e.source_id: e for e in window}
    shown = {
        (x.code, x.source_id)
        for x in problems
        if ((e := by_id[x.source_id]).clock_out is None and first <= e.clock_in)
        or (e.clock_out is not None and e.clock_out > first and e.clock_in < end)
    }
    return rows, shown


def test_staged_rows_equal_the_whole_period_computation() -> None:
    data = entries(900, seed=3)
    codes: set[str] = set()
    for period in ("2026-11-01", "2026-W44", "2026-11"):
        (found, rows, delivered), _ = staged(data, period)
        want, shown = whole_period(data, period)
        assert rows == want, period
        assert {(p.code, p.source_id) for p in found.problems} == shown
        codes |= {p.code for p in found.problems}
        assert any(r.pay_type == "overtime" for r in rows)
        assert {(r.work_date.isoformat(), i) for r in want for i in r.entry_ids} == set(delivered)
        layout = load_builtin("sage300cre", "labor_hours")
        assert render_bytes(layout, labor_rows(rows)) == render_bytes(layout, labor_rows(want))
    assert codes == {"no_employee_number", "overlap", "open_clock_in", "over_24_hours"}


def test_imported_entry_days_are_left_out_and_mixed_rows_reported() -> None:
    data = entries(1500, seed=5)
    (_, rows, _), _ = staged(data, "2026-W45")
    day = rows[0].work_date.isoformat()
    whole = [r for r in rows if r.work_date.isoformat() == day]
    imported = {day: {i for r in whole for i in r.entry_ids}}
    (found, again, delivered), _ = staged(data, "2026-W45", imported)
    assert not any(r.work_date.isoformat() == day for r in again)
    assert not any(d == day for d, _ in delivered)
    assert len(again) == len(rows) - len(whole)
    # One entry of a multi-entry row is new: the row cannot be split, so it is reported, not exported.
    multi = next(r for r in rows if len(r.entry_ids) > 1)
    partial = {multi.work_date.isoformat(): set(multi.entry_ids[1:])}
    (found, again, _), _ = staged(data, "2026-W45", partial)
    assert multi not in again
    assert [p.code for p in found.problems if p.code == "partly_imported"] == ["partly_imported"]


def test_no_entries_no_rows() -> None:
    (found, rows, delivered), _ = staged([], "2026-11-02")
    assert rows == [] and delivered == [] and found.problems == [] and found.held == 0
    assert gather.lead_in_start(periods.parse("2026-11-04")) == date(2026, 11, 1)  # Monday 11-02, minus a day
