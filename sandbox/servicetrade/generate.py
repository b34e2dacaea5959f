"""Benchmark data sets of any size, on top of the demo company.

`generate(labor_rows=1_000_000)` adds technicians and completed jobs and puts the clock events in a
columnar ClockBlock (about 19 bytes a row, so a million rows take about 19 MB and build in about a second),
spread evenly over the `days` before `end`. Rows are derived from their index (deterministic for a given
seed), so a benchmark can page through them over HTTP and check counts and sums exactly.
"""

from __future__ import annotations

from array import array
from datetime import date, datetime, timedelta
from decimal import Decimal

from sandbox.servicetrade.demo import DEMO_NOW, PAYROLL_SYSTEM, demo_dataset, local
from sandbox.servicetrade.store import ClockBlock, Row, Store, day_stamp

FIRST_NAMES = ("Alex", "Blair", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indy", "Jules", "Kai", "Logan")
LAST_NAMES = ("Adams", "Baker", "Chen", "Diaz", "Evans", "Foster", "Garcia", "Hughes", "Ito", "Jones", "Khan", "Lopez")
MIN_SHIFT, SHIFT_SPREAD = 900, 27_000  # 15 minutes to 7.75 hours


def generate(
    labor_rows: int = 1_000_000,
    *,
    technicians: int = 60,
    jobs: int = 800,
    invoices: int = 0,
    lines_per_invoice: int = 4,
    days: int = 14,
    end: datetime = DEMO_NOW,
    seed: int = 7,
    keep_demo_clock: bool = False,
) -> Store:
    """The demo company plus `technicians` technicians (every 25th without an employee number), `jobs`
    completed jobs, `labor_rows` clock events and `invoices` pending_accounting invoices."""
    store = demo_dataset()
    if not keep_demo_clock:
        store.clock_events.clear()
    tech_ids = [u["id"] for u in store.users.values() if u.get("isTech")] + _technicians(store, technicians)
    job_ids = _jobs(store, jobs, end)
    if labor_rows:
        store.clock_block = clock_block(store, labor_rows, tech_ids, job_ids, end, days, seed)
    _invoices(store, invoices, lines_per_invoice, job_ids, end)
    return store


def clock_block(
    store: Store, rows: int, user_ids: list[int], job_ids: list[int], end: datetime, days: int, seed: int
) -> ClockBlock:
    span = days * 86_400
    start = int(end.timestamp()) - span
    users, job_count = len(user_ids), len(job_ids)
    return ClockBlock(
        first_id=store.reserve_ids(rows),
        user_ids=tuple(user_ids),
        job_ids=tuple(job_ids),
        clock_in=array("q", (start + (i * span) // rows for i in range(rows))),
        duration=array("I", (MIN_SHIFT + (i * 2_654_435_761 + seed) % SHIFT_SPREAD for i in range(rows))),
        user_idx=array("H", (i % users for i in range(rows))),
        job_idx=array("I", ((i * 7_919 + i // users + seed) % job_count for i in range(rows))),
        activity=array("B", (2 if i % 3 == 0 else 0 for i in range(rows))),  # every third row is en route
    )


def _technicians(store: Store, count: int) -> list[int]:
    ids: list[int] = []
    for n in range(count):
        first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]
        uid = store.new_id()
        email = f"tech{n + 1:04d}@summitfire.example"
        row: Row = {"id": uid, "firstName": first, "lastName": f"{last} {n + 1}", "name": f"{first} {last} {n + 1}"}
        row.update(email=email, username=email, phone="", status="active", role="technician", isTech=True)
        row.update(companyId=store.account["id"], created=0, updated=0)
        store.users[uid] = row
        if n % 25 != 24:
            store.external_ids[("user", uid)] = {PAYROLL_SYSTEM: f"E{2001 + n}"}
        ids.append(uid)
    return ids


def _jobs(store: Store, count: int, end: datetime) -> list[int]:
    locations = list(store.locations.values())
    finished = int(end.timestamp()) - 3600
    ids: list[int] = []
    for n in range(count):
        loc = locations[n % len(locations)]
        jid = store.new_id()
        number = 30_001 + n
        row: Row = {"id": jid, "number": number, "name": f"Repair Job #{number}", "customName": None, "type": "repair"}
        row.update(status="completed", description=f"Generated job {number}", customerPo="", techIds=[], tags=[])
        row.update(vendorId=store.account["id"], customerId=loc["companyId"], locationId=loc["id"])
        row.update(scheduledDate=finished - 86_400, completedOn=finished, created=finished - 86_400, updated=finished)
        store.jobs[jid] = row
        ids.append(jid)
    return ids


def _invoices(store: Store, count: int, lines: int, job_ids: list[int], end: datetime) -> None:
    lib = [item for item in store.lib_items.values() if item["type"] in ("part", "labor", "service")]
    today = end.date()
    for n in range(count):
        job = store.jobs[job_ids[n % len(job_ids)]]
        loc = store.locations[job["locationId"]]
        issued: date = today - timedelta(days=n % 30)
        items = []
        for k in range(lines):
            item = lib[(n + k) % len(lib)]
            items.append({
                "id": store.new_id(), "description": item["name"], "quantity": Decimal(1 + (n + k) % 5),
                "price": item["price"], "taxable": loc["taxable"] and item["type"] == "part",
                "libItemId": item["id"], "serviceLineId": item["serviceLineId"],
            })  # fmt: skip
        iid = store.new_id()
        row: Row = {"id": iid, "invoiceNumber": f"G-{n + 1:07d}", "name": f"Invoice G-{n + 1:07d}", "type": "invoice"}
        row.update(status="pending_accounting", transactionDate=day_stamp(issued), dueDate=None)
        row.update(customerId=job["customerId"], locationId=loc["id"], jobId=job["id"], vendorId=store.account["id"])
        row.update(terms=None, customerPo="", partial=False, tags=[], notes="", assignedUserId=None, contractId=None)
        row.update(taxGroupId=loc.get("taxGroupId"), items=items, created=local(0, 8), updated=local(0, 8))
        store.invoices[iid] = row
