"""Every qbXML request the outbox can generate is valid against Intuit's published qbXML schema.

The schema is Intuit's qbXML 12.0 (qbxmlops120.xsd and the files it includes, from the QuickBooks SDK's
validator folder), kept unchanged in tests/qbd/xsd/ as test data; tests/qbd/xsd/README.md says where it comes
from and under which terms. It is never shipped (the layer and the functions do not include tests/).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from ledgerbridge.targets.qbd import qbxml
from tests.qbd.world import make_world

XSD_DIR = Path(__file__).parent / "xsd"

FULL_INVOICE = {
    "customer": "Acme Hospital:Main Campus",
    "class": "Fire",
    "txn_date": "2026-11-02",
    "ref_number": "INV-1234567",
    "bill_address": {"Addr1": "1 Main St", "City": "Durham", "State": "NC", "PostalCode": "27701", "Country": "US"},
    "ship_address": {"Addr1": "2 Side St", "City": "Durham"},
    "po_number": "PO-77 & <co>",
    "terms": "Net 30",
    "due_date": "2026-12-02",
    "sales_tax_item": "Durham County",
    "memo": "Job 9001 · annual inspection",
    "external_guid": "{6B29FC40-CA47-1067-B31D-00DD010662DA}",
    "lines": [
        {"item": "Sprinkler Inspection", "desc": "Inspect", "quantity": "2", "rate": "62.75", "class": "Fire",
         "amount": "125.50", "tax_code": "Tax"},
        {"item": "Services", "quantity": "1.5", "amount": Decimal("10"), "tax_code": "Non"},
    ],
}  # fmt: skip


def every_request() -> list[qbxml.Request]:
    customer = {"name": "Main Campus", "parent": "Acme Hospital", "company_name": "Acme", "phone": "919-555-0100",
                "email": "ap@acme.test", "bill_address": FULL_INVOICE["bill_address"],
                "ship_address": FULL_INVOICE["ship_address"]}  # fmt: skip
    return [
        qbxml.list_query("Customer", "1", ["Acme Hospital", "Acme Hospital:Main Campus"]),
        qbxml.list_query("ItemService", "2", ["Services"]),
        qbxml.customer_add("3", customer),
        qbxml.customer_add("4", {"name": "Acme Hospital"}),
        qbxml.item_service_add("5", "Sprinkler Inspection", "Services"),
        qbxml.invoice_query("6", ref_numbers=["INV-1", "INV-2"]),
        qbxml.invoice_query("7", txn_ids=["1A-123"]),
        qbxml.invoice_add("8", FULL_INVOICE),
        qbxml.invoice_mod("9", "1A-123", "1700000000", FULL_INVOICE),
        qbxml.receive_payment_query("10", "2026-11-01T00:00:00+00:00"),
        qbxml.receive_payment_query("11", "2026-11-01T00:00:00+00:00", iterator_id="{abc}"),
        qbxml.txn_deleted_query("12", "2026-11-01T00:00:00+00:00"),
        qbxml.invoice_period_query("13", "2026-11-01", "2026-11-30"),
        qbxml.invoice_period_query("14", "2026-11-01", "2026-11-30", iterator_id="{abc}"),
    ]


@pytest.fixture(scope="module")
def schema() -> Any:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / "qbxmlops120.xsd")))


def assert_valid(schema: Any, document: str) -> None:
    root = etree.fromstring(document.encode())
    assert schema.validate(root), [str(e) for e in schema.error_log][:5]


@pytest.mark.parametrize("version", qbxml.VERSIONS)
def test_every_request_builder_makes_schema_valid_qbxml(schema: Any, version: str) -> None:
    for request in every_request():
        assert_valid(schema, qbxml.document(version, [request]))


def test_every_document_a_full_session_sends_is_schema_valid(aws: Any, schema: Any) -> None:
    world = make_world(items={"SPR": "Sprinkler Inspection"}, customer_naming="customer_location")
    sent: list[str] = []
    process = world.company.process
    world.company.process = lambda doc: (sent.append(doc), process(doc))[1]  # type: ignore[method-assign]
    invoices = [world.platform.add_invoice(n, item="SPR" if n % 2 else "") for n in range(1, 8)]
    world.enqueue(*invoices)
    world.web_connector().run_session()
    txn = next(iter(world.company.invoices))
    world.company.receive_payment(txn, Decimal("5.00"))
    world.platform.statuses["1"] = "pending_accounting"
    world.platform.invoices["1"] = invoices[0].model_copy(update={"memo": "changed"})
    world.enqueue(invoices[0])
    world.web_connector().run_session()
    kinds = {el.tag for doc in sent for el in etree.fromstring(doc.encode()).find("QBXMLMsgsRq")}
    assert {"CustomerQueryRq", "CustomerAddRq", "ItemServiceQueryRq", "ItemServiceAddRq", "InvoiceQueryRq",
            "InvoiceAddRq", "InvoiceModRq", "ReceivePaymentQueryRq", "TxnDeletedQueryRq"} <= kinds  # fmt: skip
    for document in sent:
        assert_valid(schema, document)


def test_the_schema_refuses_what_quickbooks_would(schema: Any) -> None:
    """The check can fail: elements out of Intuit's order, or a RefNumber over its 11 characters."""
    document = qbxml.document(qbxml.VERSIONS[-1], [qbxml.invoice_add("1", FULL_INVOICE)])
    root = etree.fromstring(document.encode())
    add = root.find(".//InvoiceAdd")
    customer, txn_date = add.find("CustomerRef"), add.find("TxnDate")
    add.remove(txn_date)
    add.insert(list(add).index(customer), txn_date)
    assert not schema.validate(root)
    too_long = document.replace("<RefNumber>INV-1234567</RefNumber>", "<RefNumber>INV-123456789</RefNumber>")
    assert too_long != document
    assert not schema.validate(etree.fromstring(too_long.encode()))
