"""Pure parts of the QBO target: records -> documents, the dry-run diff, JSON money, Fault parsing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledgerbridge.errors import AuthorizationRevoked, InvalidInput, TransientError
from ledgerbridge.records import Address, Customer, Invoice, InvoiceLine, Location, Ref
from ledgerbridge.targets.qbo import documents as mapping
from ledgerbridge.targets.qbo.faults import (
    DuplicateDocNumberError,
    QboPermanentError,
    StaleObjectError,
    dumps,
    error_for,
    loads,
    parse_fault,
)
from ledgerbridge.tenants import MappingSettings


def line(n: int, **overrides: Any) -> InvoiceLine:
    data: dict[str, Any] = {
        "source_id": f"l{n}",
        "quantity": Decimal("2"),
        "unit_price": Decimal("37.50"),
        "amount": Decimal("75.00"),
    }
    data.update(overrides)
    return InvoiceLine(**data)


def invoice(*lines: InvoiceLine, **overrides: Any) -> Invoice:
    data: dict[str, Any] = {
        "source_id": "st-9",
        "number": "10442",
        "status": "pending_accounting",
        "transaction_date": date(2026, 3, 2),
        "due_date": date(2026, 4, 1),
        "customer": Ref(id="c1", name="Acme"),
        "location": Ref(id="loc7", name="Plant 2"),
        "job": Ref(id="j1", name="J-5521"),
        "customer_po": "PO-77",
        "lines": lines or (line(1),),
        "subtotal": Decimal("75.00"),
        "tax_amount": Decimal("0"),
        "total": Decimal("75.00"),
        "updated_at": datetime(2026, 3, 2, tzinfo=UTC),
    }
    data.update(overrides)
    return Invoice(**data)


SETTINGS = MappingSettings(
    items={"SVC-INSP": "Inspection", "Labor - Overtime": "Labor"},
    default_item="Services",
    classes={"sprinkler": "Service", "*": "Installation"},
    departments={"loc7": "North"},
    tax_codes={"CA": "California"},
)
REF = {"value": "58"}


def test_invoice_document_fields() -> None:
    inv = invoice(
        line(1, item_code="SVC-INSP", service_line="sprinkler", taxable=True, description="Annual inspection"),
        line(
            2, item_name="Labor - Overtime", quantity=Decimal("1.5"), unit_price=Decimal("95"), amount=Decimal("142.50")
        ),
        line(3, item_code="UNKNOWN", quantity=Decimal("3"), unit_price=Decimal("3.30"), amount=Decimal("10.00")),
        tax_group="CA",
        tax_amount=Decimal("6.19"),
    )
    doc = mapping.invoice_document(inv, SETTINGS, REF)
    assert doc["DocNumber"] == "10442" and doc["CustomerRef"] == REF
    assert (doc["TxnDate"], doc["DueDate"]) == ("2026-03-02", "2026-04-01")
    details = [ln["SalesItemLineDetail"] for ln in doc["Line"]]
    assert [d["ItemRef"] for d in details] == [{"name": "Inspection"}, {"name": "Labor"}, {"name": "Services"}]
    assert [d["TaxCodeRef"]["value"] for d in details] == ["TAX", "NON", "NON"]
    assert [d["ClassRef"]["name"] for d in details] == ["Service", "Installation", "Installation"]
    assert (details[1]["Qty"], details[1]["UnitPrice"]) == (Decimal("1.5"), Decimal("95"))
    assert "Qty" not in details[2]  # 3 x 3.30 is not 10.00: QBO would refuse the line, send the amount only
    assert [ln["Amount"] for ln in doc["Line"]] == [Decimal("75.00"), Decimal("142.50"), Decimal("10.00")]
    assert doc["Line"][0]["Description"] == "Annual inspection"
    assert doc["DepartmentRef"] == {"name": "North"}
    assert doc["TxnTaxDetail"] == {"TxnTaxCodeRef": {"name": "California"}, "TotalTax": Decimal("6.19")}
    assert doc["CustomerMemo"] == {"value": "Job J-5521 · PO PO-77"}
    assert doc["PrivateNote"] == ("Invoice 10442 (source id st-9); job J-5521; customer PO PO-77; location Plant 2")


def test_amounts_are_rounded_to_cents_and_serialised_exactly() -> None:
    doc = mapping.invoice_document(
        invoice(line(1, quantity=Decimal("1"), unit_price=Decimal("10.125"), amount=Decimal("10.125"))), SETTINGS, REF
    )
    assert doc["Line"][0]["Amount"] == Decimal("10.13")
    assert '"Amount":10.13' in dumps(doc) and '"UnitPrice":10.125' in dumps(doc)


def test_doc_number_longer_than_qbo_allows_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        mapping.invoice_document(invoice(number="X" * 22), SETTINGS, REF)
    assert caught.value.field == "number"


def test_customer_and_location_documents() -> None:
    customer = Customer(
        source_id="c1",
        name="Acme:  Fire",
        email="ap@acme.example",
        address=Address(street="1 Main", city="Austin", state="TX", postal_code="78701"),
    )
    doc = mapping.customer_document(customer)
    assert doc["DisplayName"] == "Acme- Fire"  # no colon: QBO uses it between parent and child
    assert doc["BillAddr"] == {
        "Line1": "1 Main",
        "City": "Austin",
        "CountrySubDivisionCode": "TX",
        "PostalCode": "78701",
    }
    loc = mapping.location_document(
        Location(source_id="l1", name="Plant 2", customer=Ref(id="c1"), taxable=True), customer.name, "58"
    )
    assert loc == {
        "DisplayName": "Acme- Fire - Plant 2",
        "ParentRef": {"value": "58"},
        "Job": True,
        "BillWithParent": True,
        "Taxable": True,
    }
    assert mapping.location_display_name("Acme", "Acme Plant 2") == "Acme Plant 2"


def qbo_copy(doc: dict[str, Any]) -> dict[str, Any]:
    """What QBO hands back for a document it stored: Ids, names and values on refs, a subtotal line."""
    lines = []
    for n, ln in enumerate(doc["Line"], start=1):
        detail = {
            k: ({"value": str(n * 10), **v} if k.endswith("Ref") and "value" not in v else v)
            for k, v in ln["SalesItemLineDetail"].items()
        }
        lines.append({**ln, "Id": str(n), "LineNum": n, "SalesItemLineDetail": detail})
    lines.append({"Amount": Decimal("75.00"), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}})
    return {
        **doc,
        "Line": lines,
        "Id": "7",
        "SyncToken": "3",
        "TotalAmt": Decimal("75.00"),
        "CustomerRef": {"value": "58", "name": "Acme"},
        "DepartmentRef": {"value": "2", "name": "North"},
    }


def test_diff_of_an_unchanged_invoice_is_empty_and_changes_are_named() -> None:
    new = mapping.invoice_document(invoice(), SETTINGS, REF)
    current = qbo_copy(new)
    assert mapping.diff(current, new) == []
    changed = mapping.invoice_document(
        invoice(line(1, amount=Decimal("80.00"), unit_price=Decimal("40")), line(2), customer_po="PO-78"), SETTINGS, REF
    )
    changes = {c.path: (c.old, c.new) for c in mapping.diff(current, changed)}
    assert changes["Line[0].Amount"] == (Decimal("75.00"), Decimal("80.00"))
    assert changes["Line[0].SalesItemLineDetail.UnitPrice"] == (Decimal("37.5"), Decimal("40"))
    assert changes["Line[1]"] == (None, "Services 75.00")
    assert changes["CustomerMemo"] == ("Job J-5521 · PO PO-77", "Job J-5521 · PO PO-78")
    assert len(changes) == 5  # plus the private note, which carries the PO too
    assert {c.path for c in mapping.diff({}, new)} >= {"DocNumber", "CustomerRef", "Line[0]"}


@given(st.decimals(min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=6, allow_nan=False))
def test_dumps_writes_decimals_exactly(value: Decimal) -> None:
    text = dumps({"Amount": value, "Line": [{"x": value}]})
    assert loads(text) == {"Amount": value, "Line": [{"x": value}]}
    assert format(value, "f") in text


def test_dumps_refuses_floats() -> None:
    with pytest.raises(TypeError):
        dumps({"Amount": 1.1})


XML_THROTTLE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><IntuitResponse xmlns="http://schema.intuit.com/finance/v3"'
    ' time="2026-01-01T00:00:00.000-08:00"><Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded;'
    " errorCode=003001; statusCode=429</Message><Detail>The request limit was reached.  Try again later</Detail>"
    "</Error></Fault></IntuitResponse>"
)


def fault_json(code: str, message: str = "m", detail: str = "d", kind: str = "ValidationFault") -> bytes:
    return dumps(
        {"Fault": {"Error": [{"Message": message, "Detail": detail, "code": code, "element": ""}], "type": kind}}
    ).encode()


def test_fault_bodies_parse_from_xml_and_both_json_spellings() -> None:
    xml = parse_fault(XML_THROTTLE.encode(), "application/xml")
    assert xml is not None and (xml.type, xml.code) == ("SERVICE", "3001")
    assert (
        xml.text() == "message=ThrottleExceeded; errorCode=003001; statusCode=429: The request limit was reached."
        "  Try again later"
    )
    lower = parse_fault(
        b'{"fault":{"error":[{"message":"AuthenticationFailed","detail":"Token expired","code":"3200"}],'
        b'"type":"AUTHENTICATION"}}',
        "application/json",
    )
    assert lower is not None and (lower.code, lower.text()) == ("3200", "AuthenticationFailed: Token expired")
    assert parse_fault(b"<html>504 Gateway Time-out</html>", "text/html") is None
    assert parse_fault(b"", "application/json") is None


@pytest.mark.parametrize(
    ("status", "body", "expected", "code"),
    [
        (429, XML_THROTTLE.encode(), TransientError, None),
        (403, fault_json("3001"), TransientError, None),  # older throttles used 403
        (503, b"", TransientError, None),
        (500, fault_json("10000", kind="SystemFault"), TransientError, None),
        (400, fault_json("600"), TransientError, None),
        (401, fault_json("3200"), AuthorizationRevoked, "3200"),
        (403, fault_json("3100"), AuthorizationRevoked, "3100"),
        (400, fault_json("5010"), StaleObjectError, "5010"),
        (400, fault_json("6140"), DuplicateDocNumberError, "6140"),
        (400, fault_json("6210", "Duplicate Document Number Error"), DuplicateDocNumberError, "6210"),
        (400, fault_json("6000", "A business validation error", "You must add a line"), QboPermanentError, "6000"),
        (404, b"not found", QboPermanentError, "404"),
    ],
)
def test_error_mapping(status: int, body: bytes, expected: type[Exception], code: str | None) -> None:
    err = error_for(status, parse_fault(body, ""), retry_after=None)
    assert type(err) is expected
    if code is not None:
        assert getattr(err, "code", None) == code
    if isinstance(err, TransientError) and status == 429:
        assert err.retry_after == 60.0


def test_tax_without_a_mapped_tax_code_is_refused_not_dropped() -> None:
    import pytest

    from ledgerbridge.errors import PermanentError

    taxed = invoice(tax_group="Unmapped County", tax_amount=Decimal("6.19"), total=Decimal("81.19"))
    with pytest.raises(PermanentError, match="no QuickBooks tax code") as caught:
        mapping.invoice_document(taxed, MappingSettings(), {"value": "7"})
    assert caught.value.code == "unmapped_tax"
