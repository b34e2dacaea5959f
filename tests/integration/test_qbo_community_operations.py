"""Every operation python-quickbooks can send to the entities LedgerBridge reads or writes (Customer, Item,
Account, Invoice, Payment, CompanyInfo, query, batch, CDC), answered by the QBO double as Intuit's reference
answers it. docs/qbo.md "Audit of the double" lists entity x operation with the source of each answer."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from quickbooks import QuickBooks
from quickbooks.batch import batch_create, batch_delete
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException, UnsupportedException
from quickbooks.objects.base import LinkedTxn
from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.customer import Customer
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.vendor import Vendor

from sandbox.qbo import ManualClock, QboSandboxServer, start
from tests.integration.qbo_community import (
    community_client,
    income_account,
    invoice_with_line,
    new_customer,
    service_item,
)

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START.timestamp())


@pytest.fixture
def server(clock: ManualClock) -> Iterator[QboSandboxServer]:
    with start(clock=clock, per_second=10_000, per_minute=100_000, batch_per_minute=1_000) as running:
        yield running


@pytest.fixture
def qb(server: QboSandboxServer, monkeypatch: pytest.MonkeyPatch) -> QuickBooks:
    return community_client(server, monkeypatch)


@pytest.fixture
def item(qb: QuickBooks) -> Item:
    return service_item(qb, income_account(qb))


def refused(call: object) -> QuickbooksException:
    """The exception python-quickbooks raised for the Fault the double answered."""
    assert callable(call)
    with pytest.raises(QuickbooksException) as caught:
        call()
    return caught.value


def raw(qb: QuickBooks, entity: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
    """A write python-quickbooks' objects don't offer (sparse bodies, deletes of list entities)."""
    url = f"{qb.api_url}/company/{qb.company_id}/{entity}"
    return dict(qb.post(url, json.dumps(body), params=params))


# ---- Customer (and the people lists it shares names with) ---------------------------------------------------


def test_customer_create_read_full_and_sparse_update(qb: QuickBooks) -> None:
    created = new_customer(qb, "Hydrant Co")
    assert (created.SyncToken, created.Active, created.FullyQualifiedName) == ("0", True, "Hydrant Co")
    assert Decimal(str(created.Balance)) == 0
    read = Customer.get(created.Id, qb=qb)
    read.CompanyName = "Hydrant Company LLC"
    saved = read.save(qb=qb)  # a full update carrying every field read (read-only ones included)
    assert (saved.SyncToken, saved.DisplayName, saved.CompanyName) == ("1", "Hydrant Co", "Hydrant Company LLC")
    sparse = raw(qb, "customer", {"Id": created.Id, "SyncToken": "1", "sparse": True, "Notes": "gate code 42"})
    assert sparse["Customer"]["CompanyName"] == "Hydrant Company LLC"
    full = raw(qb, "customer", {"Id": created.Id, "SyncToken": "2", "DisplayName": "Hydrant Co"})
    assert "CompanyName" not in full["Customer"] and "Notes" not in full["Customer"]
    stale = refused(lambda: read.save(qb=qb))  # still SyncToken "0"
    assert stale.error_code == 5010 and "working on this at the same time" in stale.detail


def test_customer_is_inactivated_not_deleted_and_keeps_its_name(qb: QuickBooks) -> None:
    customer = new_customer(qb, "Retired Client")
    raw(qb, "customer", {"Id": customer.Id, "SyncToken": "0", "sparse": True, "Active": False})
    assert Customer.filter(DisplayName="Retired Client", qb=qb) == []  # queries hide inactive names
    assert [c.Id for c in Customer.where("Active = false AND DisplayName = 'Retired Client'", qb=qb)] == [customer.Id]
    again = refused(lambda: new_customer(qb, "retired client"))
    assert again.error_code == 6240
    deleted = refused(lambda: raw(qb, "customer", {"Id": customer.Id, "SyncToken": "1"}, operation="delete"))
    assert isinstance(deleted, UnsupportedException)  # python-quickbooks#294: customers cannot be deleted
    answer = batch_delete([Customer.get(customer.Id, qb=qb)], qb=qb)
    assert not answer.successes and answer.faults[0].Error[0].code == "500"


def test_display_name_is_unique_across_customers_vendors_and_employees(qb: QuickBooks) -> None:
    assert refused(lambda: new_customer(qb, "Acme Supply Co")).error_code == 6240  # the seeded vendor
    vendor = Vendor()
    vendor.DisplayName = "Amy's Bird Sanctuary"  # the seeded customer
    assert refused(lambda: vendor.save(qb=qb)).error_code == 6240


# ---- Item, Account, CompanyInfo -----------------------------------------------------------------------------


def test_list_entities_refuse_delete_and_inactivate_instead(qb: QuickBooks, item: Item) -> None:
    account = income_account(qb)
    for entity, obj in (("item", item), ("account", account)):
        gone = refused(lambda e=entity, o=obj: raw(qb, e, {"Id": o.Id, "SyncToken": o.SyncToken}, operation="delete"))
        assert (gone.error_code, gone.message) == (500, "Unsupported Operation")
    raw(qb, "item", {"Id": item.Id, "SyncToken": item.SyncToken, "sparse": True, "Active": False})
    assert Item.filter(Name=item.Name, qb=qb) == []
    assert Item.where(f"Name = '{item.Name}' AND Active IN (true, false)", qb=qb)[0].Active is False


def test_company_info_is_read_by_the_realm_id(qb: QuickBooks, server: QboSandboxServer) -> None:
    info = CompanyInfo.get(server.realm_id, qb=qb)
    assert info.Id == server.realm_id and info.CompanyName


# ---- Invoice ------------------------------------------------------------------------------------------------


def test_invoice_totals_come_from_the_lines_and_decimals_travel_as_strings(qb: QuickBooks, item: Item) -> None:
    invoice = invoice_with_line(qb, item, Decimal("1.5"), Decimal("80.00"), Decimal("120.00"))
    assert (Decimal(str(invoice.TotalAmt)), Decimal(str(invoice.Balance))) == (Decimal("120.00"), Decimal("120.00"))
    assert invoice.TxnDate == "2026-03-02" and invoice.DueDate == invoice.TxnDate  # "" sent = not given
    assert invoice.Line[-1].DetailType == "SubTotalLineDetail"
    read = Invoice.get(invoice.Id, qb=qb)
    read.TotalAmt = 1  # read-only: recomputed from the lines
    assert Decimal(str(read.save(qb=qb).TotalAmt)) == Decimal("120.00")


@pytest.mark.parametrize("missing", ["Line", "CustomerRef"])
def test_an_invoice_without_its_required_properties_is_2020(qb: QuickBooks, item: Item, missing: str) -> None:
    good = invoice_with_line(qb, item, 1, 10, 10)
    body = json.loads(good.to_json())  # everything python-quickbooks would send, but one property
    for key in ("Id", "SyncToken", "MetaData", missing):
        body.pop(key, None)
    error = refused(lambda: raw(qb, "invoice", body))
    assert error.error_code == 2020
    assert error.message == "Required param missing, need to supply the required value for the API"
    assert error.detail == f"Required parameter {missing} is missing in the request"


def test_duplicate_doc_number_is_6140_while_the_company_checks(
    qb: QuickBooks, item: Item, server: QboSandboxServer
) -> None:
    first = invoice_with_line(qb, item, 1, 10, 10)
    raw(qb, "invoice", {"Id": first.Id, "SyncToken": "0", "sparse": True, "DocNumber": "INV-7"})
    second = invoice_with_line(qb, item, 1, 20, 20)
    renumber = {"Id": second.Id, "SyncToken": "0", "sparse": True, "DocNumber": "INV-7"}
    clash = refused(lambda: raw(qb, "invoice", renumber))
    assert clash.error_code == 6140 and f"TxnId={first.Id}" in clash.detail
    server.state.realm().settings.duplicate_doc_number_check = False
    assert raw(qb, "invoice", renumber)


def test_void_then_delete_an_invoice(qb: QuickBooks, item: Item) -> None:
    invoice = invoice_with_line(qb, item, 2, 25, 50)
    invoice.PrivateNote = "job 12"
    invoice = invoice.save(qb=qb)
    assert (
        refused(lambda: raw(qb, "invoice", {"Id": invoice.Id, "SyncToken": "0"}, operation="void")).error_code == 5010
    )
    answer = invoice.void(qb=qb)["Invoice"]
    voided = Invoice.from_json(answer)
    assert (voided.SyncToken, Decimal(str(voided.TotalAmt)), Decimal(str(voided.Balance))) == ("2", 0, 0)
    assert voided.PrivateNote == "Voided job 12"  # "Voided" prepended (Intuit blog, Voiding Invoice Objects)
    assert answer["Line"][0]["Amount"] == 0 and not {"Qty", "UnitPrice"} & set(answer["Line"][0]["SalesItemLineDetail"])
    assert Invoice.get(invoice.Id, qb=qb).PrivateNote == "Voided job 12"  # a voided invoice is still read
    stale = refused(lambda: invoice.delete(qb=qb))  # SyncToken 1: the void moved it on
    assert stale.error_code == 5010
    assert refused(lambda: raw(qb, "invoice", {"Id": invoice.Id}, operation="delete")).error_code == 2020
    gone = voided.delete(qb=qb)["Invoice"]
    assert gone == {"status": "Deleted", "domain": "QBO", "Id": invoice.Id}
    assert isinstance(refused(lambda: Invoice.get(invoice.Id, qb=qb)), ObjectNotFoundException)


# ---- Payment ------------------------------------------------------------------------------------------------


def payment_for(qb: QuickBooks, invoice: Invoice, total: Decimal, applied: Decimal) -> Payment:
    link = LinkedTxn()
    link.TxnId, link.TxnType = invoice.Id, "Invoice"
    line = PaymentLine()
    line.Amount, line.LinkedTxn = applied, [link]
    payment = Payment()
    payment.CustomerRef, payment.TotalAmt, payment.Line = invoice.CustomerRef, total, [line]
    return payment.save(qb=qb)


def customer_balance(qb: QuickBooks, invoice: Invoice) -> Decimal:
    return Decimal(str(Customer.get(invoice.CustomerRef.value, qb=qb).Balance))


def test_payments_apply_to_invoices_and_the_rest_is_unapplied(qb: QuickBooks, item: Item) -> None:
    invoice = invoice_with_line(qb, item, 1, 120, 120)
    part = payment_for(qb, invoice, Decimal("50.00"), Decimal("50.00"))
    after = Invoice.get(invoice.Id, qb=qb)
    assert Decimal(str(after.Balance)) == Decimal("70.00") and after.SyncToken == "1"
    assert [(t.TxnId, t.TxnType) for t in after.LinkedTxn] == [(part.Id, "Payment")]
    assert customer_balance(qb, invoice) == Decimal("70.00")  # the customer's open balance
    over = payment_for(qb, invoice, Decimal("100.00"), Decimal("70.00"))
    assert Decimal(str(over.UnappliedAmt)) == Decimal("30.00")
    assert Decimal(str(Invoice.get(invoice.Id, qb=qb).Balance)) == 0
    assert customer_balance(qb, invoice) == Decimal("-30.00")  # a credit
    assert refused(lambda: payment_for(qb, invoice, Decimal("5.00"), Decimal("5.00"))).error_code == 6000  # paid
    assert refused(lambda: raw(qb, "payment", {"CustomerRef": {"value": invoice.CustomerRef.value}})).error_code == 2020


def test_void_and_delete_a_payment_give_the_invoice_its_balance_back(qb: QuickBooks, item: Item) -> None:
    invoice = invoice_with_line(qb, item, 1, 120, 120)
    first = payment_for(qb, invoice, Decimal("50.00"), Decimal("50.00"))
    second = payment_for(qb, invoice, Decimal("20.00"), Decimal("20.00"))
    assert refused(lambda: Invoice.get(invoice.Id, qb=qb).void(qb=qb)).error_code == 6000  # payments applied
    voided = Payment.from_json(first.void(qb=qb)["Payment"])  # operation=update&include=void, sparse
    assert (Decimal(str(voided.TotalAmt)), voided.Line, voided.PrivateNote) == (0, [], "Voided")
    assert Decimal(str(Invoice.get(invoice.Id, qb=qb).Balance)) == Decimal("100.00")
    assert second.delete(qb=qb)["Payment"]["status"] == "Deleted"
    assert Decimal(str(Invoice.get(invoice.Id, qb=qb).Balance)) == Decimal("120.00")
    assert customer_balance(qb, invoice) == Decimal("120.00")
    assert isinstance(refused(lambda: Payment.get(second.Id, qb=qb)), ObjectNotFoundException)


# ---- query, batch, CDC, minorversion -------------------------------------------------------------------------


def test_query_operators_paging_count_and_case(qb: QuickBooks, item: Item, clock: ManualClock) -> None:
    assert Item.count("Type = 'Service'", qb=qb) == 5
    assert [i.Name for i in Item.choose(["Labor", "Parts", "Nope"], field="Name", qb=qb)] == ["Labor", "Parts"]
    page = Item.all(order_by="Name DESC", start_position=2, max_results=2, qb=qb)  # "ORDER BY" as it writes it
    assert [i.Name for i in page] == ["Parts", "Labor"]
    assert [i.Name for i in Item.where("name like 'insp%'", qb=qb)] == ["Inspection"]  # names ignore case
    too_many = refused(lambda: Item.where("", max_results=1001, qb=qb))
    assert too_many.error_code == 4001 and "Max allowed value is 1000" in too_many.detail
    clock.advance(1800)
    invoice = invoice_with_line(qb, item, 1, 10, 10)  # 15:30 UTC; everything else was made at 15:00 UTC
    # instants, not text: 07:15 in California is 15:15 UTC, 07:45 is 15:45 UTC
    assert [i.Id for i in Invoice.where("MetaData.LastUpdatedTime > '2026-03-02T07:15:00-08:00'", qb=qb)] == [
        invoice.Id
    ]
    assert Invoice.where("MetaData.LastUpdatedTime > '2026-03-02T07:45:00-08:00'", qb=qb) == []


def test_batch_items_answer_one_by_one(qb: QuickBooks) -> None:
    fresh, taken = Customer(), Customer()
    fresh.DisplayName, taken.DisplayName = "Batch One", "Amy's Bird Sanctuary"
    answer = batch_create([fresh, taken], qb=qb)
    assert [c.DisplayName for c in answer.successes] == ["Batch One"]
    assert [f.Error[0].code for f in answer.faults] == ["6240"]


def test_cdc_reports_changes_and_deletions_since_a_time_without_offset(
    qb: QuickBooks, item: Item, clock: ManualClock
) -> None:
    kept = invoice_with_line(qb, item, 1, 10, 10)
    dropped = invoice_with_line(qb, item, 1, 20, 20, customer=Customer.get(kept.CustomerRef.value, qb=qb))
    dropped.delete(qb=qb)
    clock.advance(60)
    changes = change_data_capture([Invoice, Customer], START.replace(tzinfo=None), qb=qb)  # naive: read as UTC
    rows = {i.Id: getattr(i, "status", "") for i in changes.Invoice}
    assert rows == {kept.Id: "", dropped.Id: "Deleted"}
    assert kept.CustomerRef.value in {c.Id for c in changes.Customer}
    later = change_data_capture([Invoice], (START + timedelta(minutes=5)).replace(tzinfo=None), qb=qb)
    assert not getattr(later, "Invoice", [])


@pytest.mark.parametrize("minorversion", ["4", "75", "99"])
def test_any_minorversion_is_served(server: QboSandboxServer, minorversion: str) -> None:
    token = server.issue_tokens()["access_token"]
    answer = requests.get(
        f"{server.url}/v3/company/{server.realm_id}/item/6",
        params={"minorversion": minorversion},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        timeout=5,
    )
    assert answer.status_code == 200 and answer.json()["Item"]["Id"] == "6"
