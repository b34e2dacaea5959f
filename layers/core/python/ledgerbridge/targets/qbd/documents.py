"""Canonical records -> QuickBooks Desktop documents, pure (no I/O).

Documents are plain JSON-able dicts (they wait in the outbox) that qbxml.py turns into requests. References
to lists are by FullName ("Customer:Job" for a job), which QuickBooks resolves itself, so nothing has to be
looked up before a request is built. Field lengths are the qbXML schema's (qbxml120.xsd): a name that is
too long is shortened, an invoice number that is too long is refused (it is the natural key).
"""

from __future__ import annotations

import re
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerbridge.errors import InvalidInput, PermanentError
from ledgerbridge.records import Address, Customer, Invoice, InvoiceLine, Location
from ledgerbridge.tenants import MappingSettings

CENT = Decimal("0.01")
NAME_MAX = 41  # CustomerAdd/Name, CompanyName
ITEM_NAME_MAX = 31  # ItemServiceAdd/Name
REF_NUMBER_MAX = 11  # InvoiceAdd/RefNumber
ADDR_MAX = 41
PO_MAX = 25
PHONE_MAX = 21
MEMO_MAX = 4095
TAXABLE, NON_TAXABLE = "Tax", "Non"  # QuickBooks' default sales tax codes (US)
GUID_NAMESPACE = uuid.UUID("4b0ad9a4-6f5d-4b0b-9a43-7c1a3bd0d6a1")  # LedgerBridge's, for ExternalGUIDs


def list_name(name: str, limit: int = NAME_MAX) -> str:
    """A list entry name: no colon (it separates parent and job in FullName), single spaces, within limit."""
    return re.sub(r"\s+", " ", name.replace(":", "-")).strip()[:limit].rstrip()


def external_guid(invoice_id: str) -> str:
    """The invoice's ExternalGUID: stable per platform invoice (a company file belongs to one tenant), so a
    lookup by RefNumber can tell the invoice we created from another with the same number."""
    return "{" + str(uuid.uuid5(GUID_NAMESPACE, f"invoice/{invoice_id}")).upper() + "}"


def _address(address: Address) -> dict[str, str]:
    fields = {
        "Addr1": address.street[:ADDR_MAX],
        "City": address.city[:31],
        "State": address.state[:21],
        "PostalCode": address.postal_code[:13],
        "Country": address.country[:31],
    }
    return {k: v for k, v in fields.items() if v}


def customer(record: Customer) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": list_name(record.name), "company_name": record.name[:NAME_MAX]}
    if address := _address(record.address):
        doc["bill_address"] = address
    if record.phone:
        doc["phone"] = record.phone[:PHONE_MAX]
    if record.email:
        doc["email"] = record.email[:1023]
    return doc


def job(record: Customer, location: Location) -> dict[str, Any]:
    """A location as a job (sub-customer) of its customer."""
    doc: dict[str, Any] = {"name": list_name(location.name), "parent": list_name(record.name)}
    if address := _address(location.address):
        doc["ship_address"] = address
    return doc


def full_name(doc: dict[str, Any]) -> str:
    return f"{doc['parent']}:{doc['name']}" if doc.get("parent") else str(doc["name"])


def item_name(line: InvoiceLine, settings: MappingSettings) -> str:
    """settings.items by the line's item code or name, else the default item."""
    mapped = next((settings.items[k] for k in (line.item_code, line.item_name) if k and k in settings.items), None)
    return list_name(mapped or settings.default_item, ITEM_NAME_MAX)


def _line(line: InvoiceLine, settings: MappingSettings) -> dict[str, Any]:
    amount = line.amount.quantize(CENT, rounding=ROUND_HALF_UP)
    doc: dict[str, Any] = {
        "item": item_name(line, settings),
        "quantity": str(line.quantity),
        "amount": str(amount),
        "tax_code": settings.tax_codes.get("taxable", TAXABLE)
        if line.taxable
        else settings.tax_codes.get("non_taxable", NON_TAXABLE),
    }
    # QuickBooks computes Amount from Quantity x Rate when both are given: send the rate only when they agree.
    if (line.quantity * line.unit_price).quantize(CENT, rounding=ROUND_HALF_UP) == amount:
        doc["rate"] = str(line.unit_price)
    if line.description:
        doc["desc"] = line.description[:MEMO_MAX]
    if class_name := settings.classes.get(line.service_line) or settings.classes.get("*"):
        doc["class"] = class_name
    return doc


def invoice(record: Invoice, customer_full_name: str, settings: MappingSettings) -> dict[str, Any]:
    """The InvoiceAdd/InvoiceMod document of a platform invoice. RefNumber is the invoice number."""
    if len(record.number) > REF_NUMBER_MAX:
        raise InvalidInput(
            f"invoice number {record.number!r} is longer than QuickBooks Desktop's {REF_NUMBER_MAX} characters",
            "number",
        )
    job_name = record.job.name or record.job.id if record.job else ""
    memo = " · ".join(p for p in (f"Job {job_name}" if job_name else "", record.memo) if p)
    doc: dict[str, Any] = {
        "customer": customer_full_name,
        "txn_date": record.transaction_date.isoformat(),
        "ref_number": record.number,
        "external_guid": external_guid(record.source_id),
        "lines": [_line(line, settings) for line in record.lines],
        "total": str(record.total.quantize(CENT, rounding=ROUND_HALF_UP)),
    }
    if record.customer_po:
        doc["po_number"] = record.customer_po[:PO_MAX]
    if record.terms:
        doc["terms"] = record.terms[:31]
    if record.due_date:
        doc["due_date"] = record.due_date.isoformat()
    if memo:
        doc["memo"] = memo[:MEMO_MAX]
    tax_item = settings.tax_codes.get(record.tax_group) if record.tax_group else None
    if tax_item:
        doc["sales_tax_item"] = tax_item
    elif record.tax_amount:
        raise PermanentError(
            f"the invoice carries {record.tax_amount} of sales tax for tax group {record.tax_group!r}, which has "
            "no QuickBooks sales tax item",
            code="unmapped_tax",
            hint=f"map tax group {record.tax_group!r} to a QuickBooks sales tax item in the mapping settings "
            "(tax_codes)",
        )
    return doc
