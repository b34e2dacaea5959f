"""ServiceTrade JSON -> canonical records (ledgerbridge.source.st_records), without HTTP."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st

from ledgerbridge.errors import PermanentError
from ledgerbridge.source import st_records as conv
from ledgerbridge.source.servicetrade import _decimal_json

NOON_NOV_5 = int(datetime(2025, 11, 5, 12, tzinfo=UTC).timestamp())


def invoice_json(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": 41,
        "invoiceNumber": "INV-41",
        "status": "pending_accounting",
        "transactionDate": NOON_NOV_5,
        "dueDate": NOON_NOV_5 + 30 * 86400,
        "customer": {"id": 5, "name": "Ironworks Brewing Co."},
        "location": {"id": 6, "name": "Taproom"},
        "job": {"id": 7, "number": 24107, "name": "Repair Job #24107"},
        "taxGroup": {"id": 8, "name": "Orange County", "combinedRate": Decimal("0.075")},
        "terms": {"id": 15, "name": "Net 15"},
        "items": [
            {"id": 1, "description": "Labor", "quantity": 8, "price": Decimal("115.0"), "totalPrice": Decimal("920.0")},
            {
                "id": 2,
                "quantity": Decimal("3.5"),
                "price": Decimal("38.0"),
                "totalPrice": Decimal("133.0"),
                "taxable": True,
                "libItem": {"id": 9, "code": "R410A-LB", "name": "Refrigerant"},
                "serviceLine": {"id": 3, "name": "HVAC", "abbr": "HVAC"},
            },
        ],
        "subtotal": Decimal("1053.0"),
        "tax": Decimal("9.98"),
        "totalPrice": Decimal("1062.98"),
        "notes": "Thanks",
        "updated": NOON_NOV_5 + 3600,
    }
    body.update(overrides)
    return body


# -- scalars --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (Decimal("1450.4"), "1450.40"),
        (1450, "1450.00"),
        ("0.1", "0.10"),
        (0.1, "0.10"),  # a float, defensively: through its repr, never its binary value
        (1062.98, "1062.98"),
        (Decimal("0.123456"), "0.123456"),
        (None, "0.00"),
    ],
)
def test_money_is_exact(raw: object, expected: str) -> None:
    assert str(conv.money(raw)) == expected


@pytest.mark.parametrize("raw", [True, "abc", float("nan"), "Infinity"])
def test_money_refuses_non_numbers(raw: object) -> None:
    with pytest.raises(ValueError):
        conv.money(raw)


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=2, allow_nan=False))
def test_any_cent_amount_survives_the_json_round_trip(amount: Decimal) -> None:
    text = json.dumps(float(amount))  # what the sandbox (and any PHP server) writes
    assert conv.money(json.loads(text, parse_float=Decimal)) == amount
    assert conv.money(json.loads(text)) == amount  # even when a float slipped through


def test_response_hook_parses_numbers_as_decimal() -> None:
    response = requests.Response()
    response._content = b'{"data": {"totalPrice": 1483.81, "quantity": 3, "rate": 0.0725}}'
    data = _decimal_json(response).json()["data"]
    assert data == {"totalPrice": Decimal("1483.81"), "quantity": 3, "rate": Decimal("0.0725")}
    assert isinstance(data["totalPrice"], Decimal) and isinstance(data["quantity"], int)


def test_times_and_dates() -> None:
    assert conv.when(NOON_NOV_5) == datetime(2025, 11, 5, 12, tzinfo=UTC)
    assert conv.when(None) is None and conv.when(0) is None
    assert conv.day(NOON_NOV_5, UTC) == date(2025, 11, 5)
    late = int(datetime(2025, 11, 6, 3, tzinfo=UTC).timestamp())  # 22:00 on the 5th in New York
    assert conv.day(late, timezone(timedelta(hours=-5))) == date(2025, 11, 5)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("PO 24103-01", "24103-01"),
        ("PO CC-654", "CC-654"),
        ("PO# 7781", "7781"),
        ("po:  A-1", "A-1"),
        ("P.O. 123", "123"),
        ("POLE-5", "POLE-5"),  # not a "PO " prefix
        ("4471", "4471"),
        ("  ", None),
    ],
)
def test_po_reference(value: str, number: str | None) -> None:
    assert conv.po_reference({"source": {"type": "refnumber", "value": value}}) == number


def test_only_refnumber_sources_are_po_references() -> None:
    assert conv.po_reference({"source": {"type": "quote", "value": "PO 1"}}) is None
    assert conv.po_reference({"source": None}) is None and conv.po_reference({}) is None


# -- records --------------------------------------------------------------------------------------------------
def test_invoice_mapping() -> None:
    invoice = conv.invoice(invoice_json(), UTC)
    assert (invoice.source_id, invoice.number, invoice.status) == ("41", "INV-41", "pending_accounting")
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (
        Decimal("1053.00"),
        Decimal("9.98"),
        Decimal("1062.98"),
    )
    assert invoice.lines_total() == invoice.subtotal
    labor, refrigerant = invoice.lines
    assert (labor.quantity, labor.unit_price, labor.amount, labor.taxable) == (
        8,
        Decimal("115.00"),
        Decimal("920.00"),
        False,
    )
    assert (refrigerant.item_code, refrigerant.item_name, refrigerant.service_line) == (
        "R410A-LB",
        "Refrigerant",
        "HVAC",
    )
    assert refrigerant.description == "Refrigerant" and refrigerant.taxable
    assert invoice.job is not None and (invoice.job.id, invoice.job.name) == ("7", "24107")
    assert (invoice.terms, invoice.tax_group, invoice.tax_rate, invoice.memo) == (
        "Net 15",
        "Orange County",
        Decimal("0.075"),
        "Thanks",
    )
    assert invoice.transaction_date == date(2025, 11, 5) and invoice.due_date == date(2025, 12, 5)
    assert invoice.updated_at == datetime(2025, 11, 5, 13, tzinfo=UTC)


def test_invoice_totals_fall_back_to_the_lines() -> None:
    body = invoice_json()
    for key in ("subtotal", "tax", "totalPrice", "taxGroup", "job", "dueDate", "invoiceNumber"):
        body.pop(key)
    body["items"][0].pop("totalPrice")
    invoice = conv.invoice(body, UTC)
    assert (invoice.subtotal, invoice.tax_amount, invoice.total) == (
        Decimal("1053.00"),
        Decimal("0.00"),
        Decimal("1053.00"),
    )
    assert invoice.number == "41" and invoice.job is None and invoice.due_date is None and invoice.tax_rate == 0


@pytest.mark.parametrize(
    "change",
    [{"customer": None}, {"items": []}, {"status": "archived"}, {"transactionDate": None}, {"updated": None}],
)
def test_unreadable_invoices_are_permanent_errors(change: dict[str, Any]) -> None:
    with pytest.raises(PermanentError) as err:
        conv.invoice(invoice_json(**change), UTC)
    assert err.value.code == "bad_record" and "invoice 41" in str(err.value)


def test_labor_entry_mapping() -> None:
    event = {
        "id": 90,
        "activity": "job_prep",
        "user": {"id": 3, "name": "Marcus Reyes"},
        "job": {"id": 7, "number": 24107},
        "clockIn": NOON_NOV_5,
        "clockOut": None,
    }
    entry = conv.labor_entry(event, "E1001", "Marcus Reyes")
    assert (entry.activity, entry.clock_out, entry.employee_number, entry.job.name) == (
        "jobprep",
        None,
        "E1001",
        "24107",
    )
    with pytest.raises(PermanentError):
        conv.labor_entry({**event, "activity": "lunch"}, "", "")
    with pytest.raises(PermanentError):
        conv.labor_entry({**event, "clockOut": NOON_NOV_5 - 60}, "", "")  # out before in
    with pytest.raises(PermanentError):
        conv.labor_entry({**event, "job": None}, "", "")


def test_purchase_order_and_direct_cost_mapping() -> None:
    vendor = {"id": 11, "name": "Piedmont Fire Supply"}
    job = {"id": 7, "number": 24110}
    items = [
        {
            "id": 1,
            "name": "Coupling",
            "quantity": 1,
            "cost": Decimal("61.35"),
            "usedOn": NOON_NOV_5,
            "vendor": vendor,
            "job": job,
        },
        {
            "id": 2,
            "name": "Head",
            "quantity": 2,
            "cost": Decimal("6.4"),
            "usedOn": NOON_NOV_5 - 86400,
            "job": job,
            "libItem": {"code": "HEAD-155P", "type": "part"},
            "serviceLine": {"abbr": "SPR"},
        },
    ]
    po = conv.purchase_order("24110-01", items, UTC)
    assert (po.number, po.vendor.name, po.job.name, po.order_date) == (
        "24110-01",
        "Piedmont Fire Supply",
        "24110",
        date(2025, 11, 4),
    )
    assert [line.amount for line in po.lines] == [Decimal("61.35"), Decimal("12.80")] and po.total == Decimal("74.15")
    assert po.lines[1].cost_code == "SPR" and po.lines[1].item_code == "HEAD-155P"
    with pytest.raises(PermanentError):
        conv.purchase_order("X", [items[1]], UTC)  # no vendor anywhere on the PO

    rental = {**items[0], "libItem": {"type": "equipment"}, "quantity": Decimal("1.5"), "cost": Decimal("175.33")}
    cost = conv.direct_cost(rental, UTC)
    assert (cost.cost_type, cost.amount, cost.used_on) == ("E", Decimal("263.00"), date(2025, 11, 5))  # 262.995 -> .00
    assert conv.direct_cost({**rental, "libItem": None}, UTC).cost_type == "M"
    assert conv.direct_cost({**rental, "libItem": {"type": "service"}}, UTC).cost_type == "O"


def test_customer_and_location_mapping() -> None:
    customer = conv.customer(
        {
            "id": 5,
            "name": "St. Anne's Parish",
            "refNumber": "CUST-1007",
            "primaryEmail": "office@stannes.example",
            "phoneNumber": "919-555-0170",
            "address": {"street": "19 Chapel Ln", "city": "Durham", "state": "NC", "postalCode": "27705"},
            "externalIds": {"qbo": "61", "empty": None},
        }
    )
    assert customer.name == "St. Anne's Parish" and customer.address.postal_code == "27705"
    assert customer.external_ids == {"qbo": "61"}
    location = conv.location(
        {"id": 6, "name": "Hall", "company": {"id": 5, "name": "St. Anne's Parish"}, "taxable": False}
    )
    assert (location.customer.id, location.taxable, location.tax_rate, location.tax_group) == ("5", False, 0, "")
    with pytest.raises(PermanentError):
        conv.location({"id": 6, "name": "Orphan"})
