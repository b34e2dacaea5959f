"""ServiceTradeSource (ledgerbridge.source.servicetrade) against the sandbox: records, writes, error mapping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any

import pytest
import requests

from ledgerbridge.errors import AuthorizationRevoked, InvalidInput, NotFound, PermanentError, TransientError
from ledgerbridge.records import Invoice
from ledgerbridge.source.servicetrade import ServiceTradeSource
from ledgerbridge.source.st_records import cents
from sandbox.servicetrade import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_NOW,
    SandboxServer,
    billing,
    generate,
    start,
)
from sandbox.servicetrade.http import paged

WINDOW = (DEMO_NOW - timedelta(days=14), DEMO_NOW)
MONTH = (date(2025, 10, 15), date(2025, 11, 14))


@pytest.fixture
def st() -> Iterator[SandboxServer]:
    with start(delivery_mode="manual") as server:
        yield server


@pytest.fixture
def source(st: SandboxServer) -> ServiceTradeSource:
    return ServiceTradeSource(
        st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, page_size=2, retry_backoff=0
    )


def invoice_id(st: SandboxServer, number: str) -> str:
    return str(next(i["id"] for i in st.state.invoices.values() if i["invoiceNumber"] == number))


def user_id(st: SandboxServer, name: str) -> str:
    return str(next(u["id"] for u in st.state.users.values() if u["name"] == name))


# -- invoices -------------------------------------------------------------------------------------------------
def assert_exact(invoice: Invoice) -> None:
    for line in invoice.lines:
        assert isinstance(line.amount, Decimal) and line.amount == cents(line.quantity * line.unit_price)
    assert invoice.lines_total() == invoice.subtotal
    assert invoice.subtotal + invoice.tax_amount == invoice.total
    taxable = sum((line.amount for line in invoice.lines if line.taxable), Decimal("0"))
    assert invoice.tax_amount == cents(taxable * invoice.tax_rate)


def test_pending_invoices_are_exact_records(source: ServiceTradeSource, st: SandboxServer) -> None:
    invoices = list(source.invoices(status="pending_accounting"))
    assert [i.number for i in invoices] == [
        "INV-24107",
        "INV-24109",
        "INV-24110",
        "INV-24111",
        "INV-24114",
        "INV-24115",
    ]
    for invoice in invoices:
        assert_exact(invoice)
        assert invoice.status == "pending_accounting" and invoice.updated_at.tzinfo == UTC
    cooler = invoices[0]
    assert (cooler.subtotal, cooler.tax_amount, cooler.total) == (
        Decimal("1450.40"),
        Decimal("33.41"),
        Decimal("1483.81"),
    )
    assert (
        str(cooler.total) == "1483.81" and cooler.tax_rate == Decimal("0.075") and cooler.tax_group == "Orange County"
    )
    refrigerant = cooler.lines[3]
    assert (refrigerant.item_code, refrigerant.quantity, refrigerant.amount) == (
        "R410A-LB",
        Decimal("3.5"),
        Decimal("133.00"),
    )
    assert refrigerant.taxable and not cooler.lines[1].taxable and refrigerant.service_line == "HVAC"
    assert cooler.customer.name == "Ironworks Brewing Co." and cooler.job is not None and cooler.job.name == "24107"
    assert cooler.transaction_date == date(2025, 11, 5) and cooler.due_date == date(2025, 11, 20)
    assert cooler.terms == "Net 15" and cooler.location.name == "Ironworks Brewing Taproom"
    exempt = invoices[-1]
    assert exempt.tax_amount == Decimal("0.00") and exempt.customer_po == "RMC-PO-88201" and exempt.tax_group == ""
    # pages of 2: 6 invoices took 3 list requests and no per-invoice reads (items come with the list)
    assert len(st.requests_to("/api/invoice", "GET")) == 3


def test_every_demo_invoice_maps_exactly(source: ServiceTradeSource) -> None:
    invoices = list(source.invoices())
    assert len(invoices) == 17
    assert {i.status for i in invoices} == {
        "paid", "sent", "processed", "pending_accounting", "failed", "ok", "internal_review", "void", "draft"
    }  # fmt: skip
    for invoice in invoices:
        assert_exact(invoice)


def test_invoice_filters(source: ServiceTradeSource, st: SandboxServer) -> None:
    fifth = date(2025, 11, 5)
    assert [i.number for i in source.invoices(transaction_after=fifth, transaction_before=fifth)] == [
        "INV-24107",
        "INV-24108",
    ]
    pivot = st.state.invoices[int(invoice_id(st, "INV-24110"))]["updated"]
    after = {i.number for i in source.invoices(updated_after=datetime.fromtimestamp(pivot, UTC))}
    before = {i.number for i in source.invoices(updated_before=datetime.fromtimestamp(pivot, UTC))}
    assert "INV-24110" in after and "INV-24110" in before and len(after | before) == 17
    with pytest.raises(InvalidInput):
        list(source.invoices(updated_after=datetime(2025, 11, 1)))  # naive


def test_invoice_when_a_list_leaves_out_items(
    source: ServiceTradeSource, st: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The real list shape is undocumented: when a listed invoice has no `items`, the adapter reads it.
    def lean_list(rows: Any, params: Any, key: str, render: Any, default: int, maximum: int) -> dict[str, Any]:
        body = paged(rows, params, key, render, default, maximum)
        for row in body[key]:
            row.pop("items")
        return body

    monkeypatch.setattr(billing, "paged", lean_list)
    invoices = list(source.invoices(status="pending_accounting"))
    assert [i.number for i in invoices][:2] == ["INV-24107", "INV-24109"] and len(invoices) == 6
    assert [len(i.lines) for i in invoices] == [4, 3, 5, 1, 3, 5]
    reads = [r.path for r in st.requests if r.path.startswith("/api/invoice/")]
    assert reads == [f"/api/invoice/{i.source_id}" for i in invoices]


def test_one_invoice_customer_location_and_job(source: ServiceTradeSource, st: SandboxServer) -> None:
    invoice = source.invoice(invoice_id(st, "INV-24109"))
    assert invoice.number == "INV-24109" and invoice.tax_amount == Decimal("4.08")  # 56.25 x 7.25 % = 4.078
    customer = source.customer(invoice.customer.id)
    assert customer.name == "Pinecrest Logistics, LLC" and customer.ref_number == "CUST-1008"
    assert customer.address.city == "Garner" and customer.email == "ap@pinecrestlogistics.example"
    location = source.location(invoice.location.id)
    assert location.taxable and location.tax_rate == Decimal("0.0725") and location.customer.id == customer.source_id
    assert invoice.job is not None
    job = source.job(invoice.job.id)
    assert (job.number, job.type, job.status, job.customer_po) == ("24109", "inspection", "completed", "PL-45521")
    assert job.completed_on is not None and job.completed_on.tzinfo == UTC
    synced = source.customer(source.invoice(invoice_id(st, "INV-24101")).customer.id)
    assert synced.external_ids == {"qbo": "58"}


# -- labor, purchase orders, direct costs ---------------------------------------------------------------------
def test_labor_entries_over_two_weeks(source: ServiceTradeSource, st: SandboxServer) -> None:
    entries = list(source.labor_entries(*WINDOW))
    assert len(entries) == 53
    open_entries = [e for e in entries if e.clock_out is None]
    assert [(e.technician.name, e.employee_number, e.job.name) for e in open_entries] == [
        ("Luis Ortega", "E1003", "24120")
    ]
    numbers = {e.technician.name: e.employee_number for e in entries}
    assert numbers == {
        "Marcus Reyes": "E1001", "Tanya Brooks": "E1002", "Luis Ortega": "E1003",
        "Kevin O'Neil": "E1004", "Priya Natarajan": "E1005", "Jordan Hale": "",
    }  # fmt: skip
    assert {e.activity for e in entries} == {"onsite", "enroute", "jobprep"}
    assert all(e.clock_in.tzinfo == UTC and (e.clock_out is None or e.clock_out >= e.clock_in) for e in entries)
    assert (
        len(st.requests_to("/api/user")) == 0 and len([r for r in st.requests if r.path.startswith("/api/user/")]) == 6
    )


def test_labor_window_is_half_open(source: ServiceTradeSource, st: SandboxServer) -> None:
    ins = sorted(e["clockIn"] for e in st.state.clock_events.values())
    start, end = datetime.fromtimestamp(ins[5], UTC), datetime.fromtimestamp(ins[9], UTC)
    got = sorted(int(e.clock_in.timestamp()) for e in source.labor_entries(start, end))
    assert got == ins[5:9]


def test_labor_entries_stream_page_by_page() -> None:
    with start(generate(labor_rows=3_000, technicians=4, jobs=6)) as st:
        source = ServiceTradeSource(st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, page_size=250)
        entries = source.labor_entries(*WINDOW)
        first = list(islice(entries, 10))
        assert len(first) == 10 and len(st.requests_to("/api/clock")) == 1  # one page fetched so far
        rest = sum(1 for _ in entries)
        assert len(first) + rest == 3_000 and len(st.requests_to("/api/clock")) == 12
        without_number = {e.technician.id for e in first if not e.employee_number}
    assert not without_number or without_number == {user_id(st, "Jordan Hale")}


def test_purchase_orders_group_job_items_by_po(source: ServiceTradeSource) -> None:
    orders = {po.number: po for po in source.purchase_orders(*MONTH)}
    assert sorted(orders) == [f"{n}-01" for n in (24103, 24105, 24107, 24109, 24110, 24114, 24115, 24118)]
    coupling = orders["24110-01"]
    assert (coupling.vendor.name, coupling.job.name, coupling.order_date) == (
        "Piedmont Fire Supply",
        "24110",
        date(2025, 11, 7),
    )
    assert [(line.quantity, line.unit_cost, line.amount) for line in coupling.lines] == [
        (Decimal("1"), Decimal("61.35"), Decimal("61.35")),
        (Decimal("2"), Decimal("6.40"), Decimal("12.80")),
    ]
    assert coupling.total == Decimal("74.15") and coupling.lines[1].item_code == "HEAD-155P"
    assert orders["24105-01"].total == Decimal("117.40")  # 16 x 5.10 + 4 x 8.95
    assert all(po.total == sum(line.amount for line in po.lines) for po in orders.values())
    assert [po.number for po in source.purchase_orders(date(2025, 11, 12), date(2025, 11, 12))] == ["24118-01"]


def test_direct_costs_are_the_items_without_a_po(source: ServiceTradeSource, st: SandboxServer) -> None:
    costs = list(source.direct_costs(*MONTH))
    assert len(costs) == 7 and len(costs) + 10 == len(st.state.job_items)
    by_name = {c.description: c for c in costs}
    refrigerant = by_name["Refrigerant R-410A (per lb)"]
    assert (refrigerant.quantity, refrigerant.unit_cost, refrigerant.amount) == (
        Decimal("3.5"),
        Decimal("14.60"),
        Decimal("51.10"),
    )
    assert refrigerant.vendor is None and refrigerant.cost_type == "M" and refrigerant.cost_code == "HVAC"
    lift = by_name["Scissor lift rental (daily)"]
    assert lift.vendor is not None and lift.vendor.name == "Triangle Equipment Rental" and lift.cost_type == "E"
    assert by_name["City of Durham fire permit"].cost_type == "O"
    assert sum(c.amount for c in costs) == Decimal("655.60")


# -- writes ---------------------------------------------------------------------------------------------------
def test_set_invoice_status_with_a_comment(source: ServiceTradeSource, st: SandboxServer) -> None:
    target = invoice_id(st, "INV-24114")
    source.set_invoice_status(target, "failed", comment="QBO: Customer is inactive")
    assert st.state.invoices[int(target)]["status"] == "failed"
    (comment,) = [c for c in st.state.comments.values() if c["entityId"] == int(target)]
    assert (comment["entityType"], comment["content"]) == ("invoice", "QBO: Customer is inactive")
    source.set_invoice_status(target, "processed")
    assert st.state.invoices[int(target)]["status"] == "processed"
    assert len([c for c in st.state.comments.values() if c["entityId"] == int(target)]) == 1
    with pytest.raises(InvalidInput):
        source.set_invoice_status(target, "finished")
    with pytest.raises(InvalidInput):
        source.invoice("../company/1")


def test_set_external_id_and_add_comment(source: ServiceTradeSource, st: SandboxServer) -> None:
    company = next(c for c in st.state.companies.values() if c["refNumber"] == "CUST-1006")
    source.set_external_id("company", str(company["id"]), "qbo", "77")
    source.set_external_id("customer", str(company["id"]), "intacct", "C-0006")
    assert st.state.external_ids[("company", company["id"])] == {"qbo": "77", "intacct": "C-0006"}
    assert source.customer(str(company["id"])).external_ids == {"qbo": "77", "intacct": "C-0006"}
    job = next(iter(st.state.jobs))
    comment_id = source.add_comment("job", str(job), "Exported to Sage 300 CRE")
    assert st.state.comments[int(comment_id)]["content"] == "Exported to Sage 300 CRE"


def test_record_and_reverse_a_payment(source: ServiceTradeSource, st: SandboxServer) -> None:
    target = invoice_id(st, "INV-24109")
    invoice = st.state.invoices[int(target)]
    total = source.invoice(target).total
    payment = source.record_payment(target, total, date(2025, 11, 13), "QBO-PMT-501", "check")
    stored = st.state.payments[int(payment)]
    assert stored["amount"] == total == Decimal("1635.33") and stored["referenceNumber"] == "QBO-PMT-501"
    assert datetime.fromtimestamp(stored["date"], UTC).date() == date(2025, 11, 13)
    assert invoice["status"] == "paid"
    again = source.record_payment(target, total, date(2025, 11, 13), "QBO-PMT-501", "check")
    assert again == payment and len(st.state.payments) == 4  # a retry finds the payment it made
    source.reverse_payment(payment)
    assert invoice["status"] == "pending_accounting" and int(payment) not in st.state.payments
    with pytest.raises(NotFound):
        source.reverse_payment(payment)
    with pytest.raises(InvalidInput):
        source.record_payment(target, Decimal("10.001"), date(2025, 11, 13), "X", "check")
    with pytest.raises(InvalidInput):
        source.record_payment(target, 10.5, date(2025, 11, 13), "X", "check")  # type: ignore[arg-type]
    with pytest.raises(PermanentError) as err:
        source.record_payment(target, Decimal("99999.00"), date(2025, 11, 13), "X", "check")
    assert str(err.value) == "Payment amount exceeds the invoice balance" and err.value.code == "HTTP 400"


# -- error mapping --------------------------------------------------------------------------------------------
def test_not_found_permanent_and_platform_messages(source: ServiceTradeSource, st: SandboxServer) -> None:
    with pytest.raises(NotFound) as missing:
        source.invoice("12345")
    assert "Invoice 12345 not found" in str(missing.value)
    void = invoice_id(st, "INV-24116")
    with pytest.raises(PermanentError) as refused:
        source.set_invoice_status(void, "processed")
    assert str(refused.value) == "Invalid status transition from void to processed"
    assert not isinstance(refused.value, AuthorizationRevoked)


def test_429_is_transient_with_retry_after(source: ServiceTradeSource, st: SandboxServer) -> None:
    source.customer(str(next(iter(st.state.companies))))
    st.fail_next(1, 429, retry_after=30)
    began = datetime.now(UTC)
    with pytest.raises(TransientError) as err:
        source.invoice(invoice_id(st, "INV-24111"))
    assert err.value.retry_after == 30.0 and "HTTP 429" in str(err.value)
    assert datetime.now(UTC) - began < timedelta(seconds=5)  # not slept through


def test_5xx_is_retried_then_transient(source: ServiceTradeSource, st: SandboxServer) -> None:
    target = invoice_id(st, "INV-24111")
    source.invoice(target)
    st.fail_next(2, 502)
    assert source.invoice(target).number == "INV-24111"  # the transport's retries absorb two
    st.fail_next(4, 503)
    with pytest.raises(TransientError):
        source.invoice(target)
    st.fail_next(1, 500, method="POST")
    with pytest.raises(TransientError) as err:
        source.add_comment("invoice", target, "x")
    assert "HTTP 500" in str(err.value)


def test_timeouts_and_refused_connections_are_transient(st: SandboxServer) -> None:
    source = ServiceTradeSource(
        st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET, timeout=0.2, retries=0
    )
    source.customer(str(next(iter(st.state.companies))))
    st.add_latency(0.5, 1)
    with pytest.raises(TransientError) as slow:
        source.customer(str(next(iter(st.state.companies))))
    assert "Timeout" in str(slow.value)
    dead = ServiceTradeSource("http://127.0.0.1:9", client_id="a", client_secret="b", retries=0)
    with pytest.raises(TransientError):
        dead.invoice("1")


def test_bad_credentials_and_revoked_refresh_tokens(st: SandboxServer) -> None:
    with pytest.raises(AuthorizationRevoked) as err:
        ServiceTradeSource(st.url, client_id=DEMO_CLIENT_ID, client_secret="wrong").invoice("1")
    assert err.value.code == "HTTP 401"
    with pytest.raises(AuthorizationRevoked):
        ServiceTradeSource(st.url, refresh_token="revoked-or-unknown").invoice("1")
    with pytest.raises(InvalidInput):
        ServiceTradeSource(st.url)


def test_refresh_token_mode_exposes_the_rotated_token() -> None:
    with start(token_lifetime=60) as st:
        form = {"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
        first = requests.post(f"{st.url}/api/oauth2/token", data=form, timeout=5).json()["refresh_token"]
        source = ServiceTradeSource(st.url, refresh_token=first)
        source.invoice(invoice_id(st, "INV-24111"))
        rotated = source.refresh_token
        source.invoice(invoice_id(st, "INV-24111"))
        assert rotated not in (None, first) and source.refresh_token not in (None, rotated)
        assert [g.grant_type for g in st.grants][-2:] == ["refresh_token", "refresh_token"]


def test_money_never_goes_through_float(source: ServiceTradeSource, st: SandboxServer) -> None:
    # 0.1 + 0.2 style traps: an amount whose float arithmetic would drift must come out exact.
    inv = st.state.invoices[int(invoice_id(st, "INV-24111"))]
    inv["items"][0].update(quantity=Decimal("3"), price=Decimal("0.10"))
    invoice = source.invoice(str(inv["id"]))
    assert invoice.lines[0].amount == Decimal("0.30") and invoice.total == Decimal("0.30")
    assert json.dumps(float(Decimal("0.1")) * 3) != "0.3"  # what float arithmetic would have produced
