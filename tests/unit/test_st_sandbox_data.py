"""The sandbox's data: the demo company, the benchmark generator, the clock block, JWTs, faults."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sandbox.servicetrade import DEMO_NOW, PAYROLL_SYSTEM, demo_dataset, generate
from sandbox.servicetrade.auth import decode_jwt, encode_jwt
from sandbox.servicetrade.faults import Faults
from sandbox.servicetrade.store import INVOICE_STATUSES, item_total


def test_the_demo_company_is_deterministic() -> None:
    a, b = demo_dataset(), demo_dataset()
    assert a.invoices == b.invoices and a.clock_events == b.clock_events and a.users == b.users
    assert a.next_id == b.next_id


def test_demo_customers_locations_and_tax() -> None:
    s = demo_dataset()
    customers = [c for c in s.companies.values() if c["isCustomer"]]
    assert len(customers) == 8
    per_customer = [sum(1 for loc in s.locations.values() if loc["companyId"] == c["id"]) for c in customers]
    assert all(1 <= n <= 3 for n in per_customer) and 3 in per_customer and 1 in per_customer
    taxable = [loc for loc in s.locations.values() if loc["taxable"]]
    exempt = [loc for loc in s.locations.values() if not loc["taxable"]]
    assert taxable and exempt
    assert all(s.tax_groups[loc["taxGroupId"]]["combinedRate"] > 0 for loc in taxable)
    assert all(loc["taxGroupId"] is None for loc in exempt)


def test_demo_technicians_and_employee_numbers() -> None:
    s = demo_dataset()
    techs = [u for u in s.users.values() if u["isTech"]]
    numbers = {u["name"]: s.external("user", u["id"]).get(PAYROLL_SYSTEM) for u in techs}
    assert len(techs) == 6 and [name for name, number in numbers.items() if number is None] == ["Jordan Hale"]
    assert len({n for n in numbers.values() if n}) == 5


def test_demo_jobs_invoices_and_items() -> None:
    s = demo_dataset()
    assert len(s.jobs) == 25
    assert {"inspection", "repair", "preventative_maintenance", "service_call"} <= {j["type"] for j in s.jobs.values()}
    statuses = [i["status"] for i in s.invoices.values()]
    assert set(statuses) == set(INVOICE_STATUSES) and statuses.count("pending_accounting") == 6
    lines = [item for inv in s.invoices.values() for item in inv["items"]]
    assert any(i["taxable"] for i in lines) and any(not i["taxable"] for i in lines)
    for inv in s.invoices.values():
        totals = s.totals(inv)
        assert totals["subtotal"] == sum(item_total(i) for i in inv["items"])
        assert totals["totalPrice"] == totals["subtotal"] + totals["tax"]
        assert all(isinstance(i["price"], Decimal) for i in inv["items"])
    paid = [i for i in s.invoices.values() if i["status"] == "paid"]
    assert paid and all(s.totals(i)["balance"] == 0 for i in paid)
    with_po = [i for i in s.job_items.values() if i["source"]]
    assert with_po and all(i["source"]["value"].startswith("PO ") and i["vendorId"] for i in with_po)
    assert any(not i["source"] for i in s.job_items.values())


def test_demo_clock_events_cover_two_weeks_with_one_open() -> None:
    s = demo_dataset()
    ins = [datetime.fromtimestamp(e["clockIn"], UTC) for e in s.clock_events.values()]
    assert min(ins) >= DEMO_NOW - timedelta(days=14) and max(ins) <= DEMO_NOW
    open_events = [e for e in s.clock_events.values() if e["clockOut"] is None]
    assert len(open_events) == 1 and s.users[open_events[0]["userId"]]["name"] == "Luis Ortega"
    closed = [e for e in s.clock_events.values() if e["clockOut"] is not None]
    assert all(e["clockOut"] > e["clockIn"] for e in closed)
    assert {e["activity"] for e in s.clock_events.values()} == {"onsite", "enroute", "jobprep"}


def test_generate_a_million_rows_compactly() -> None:
    began = time.monotonic()
    s = generate(labor_rows=1_000_000)
    elapsed = time.monotonic() - began
    block = s.clock_block
    assert block is not None and len(block) == 1_000_000 and s.clock_events == {}
    columns = (block.clock_in, block.duration, block.user_idx, block.job_idx, block.activity)
    assert sum(c.itemsize * len(c) for c in columns) == 19_000_000  # 19 bytes a row
    assert all(a <= b for a, b in zip(block.clock_in, block.clock_in[1:], strict=False))  # sorted by clock-in
    first, last = block.row(0), block.row(999_999)
    assert (
        first["clockIn"] >= int((DEMO_NOW - timedelta(days=14)).timestamp()) and last["clockIn"] < DEMO_NOW.timestamp()
    )
    assert last["id"] - first["id"] == 999_999 and last["userId"] in s.users and last["jobId"] in s.jobs
    print(f"generate(1M rows): {elapsed:.2f} s")


def test_generated_technicians_some_without_employee_numbers() -> None:
    s = generate(labor_rows=10, technicians=50, jobs=5, invoices=20)
    generated = [u for u in s.users.values() if u["email"].startswith("tech")]
    missing = [u for u in generated if PAYROLL_SYSTEM not in s.external("user", u["id"])]
    assert len(generated) == 50 and len(missing) == 2
    assert sum(1 for i in s.invoices.values() if i["invoiceNumber"].startswith("G-")) == 20


def test_clock_block_selection() -> None:
    s = generate(labor_rows=10_000, technicians=4, jobs=7)
    block = s.clock_block
    assert block is not None
    start, end = block.clock_in[100], block.clock_in[199]
    window = block.select(start, end, None, None, None)
    assert isinstance(window, range) and window[0] <= 100 and window[-1] >= 199
    assert all(start <= block.clock_in[i] <= end for i in window)
    user = block.user_ids[1]
    mine = block.select(None, None, {user}, None, None)
    assert len(mine) == len(range(1, 10_000, 10)) and all(block.user_ids[block.user_idx[i]] == user for i in mine)
    assert block.select(None, None, {user}, None, None) is mine  # cached: one scan, many pages
    enroute = block.select(None, None, None, None, {"enroute"})
    assert len(enroute) == len(range(0, 10_000, 3))


def test_jwt_round_trip_and_tampering() -> None:
    token = encode_jwt({"sub": "1", "exp": 2_000_000_000}, b"k" * 32)
    assert decode_jwt(token, b"k" * 32) == {"sub": "1", "exp": 2_000_000_000}
    assert decode_jwt(token, b"x" * 32) is None
    header, payload, signature = token.split(".")
    assert decode_jwt(f"{header}.{payload}x.{signature}", b"k" * 32) is None
    assert decode_jwt("not-a-jwt", b"k" * 32) is None


def test_fault_rules_are_consumed_in_order() -> None:
    faults = Faults()
    faults.fail_next(2, 503, path_prefix="/api/invoice")
    faults.fail_next(1, 429, retry_after=3)
    faults.add_latency(0.5, 1)
    first = faults.take("GET", "/api/job")
    assert (first.status, first.retry_after, first.latency) == (429, 3, 0.5)
    assert [faults.take("GET", "/api/invoice").status for _ in range(3)] == [503, 503, None]
    assert faults.take("GET", "/_sandbox/health").status is None and faults.injected == 3
    with pytest.raises(ValueError):
        faults.fail_next(1, 400)
