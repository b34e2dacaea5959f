"""Canonical records -> QBO documents, pure (no I/O). References to list objects are written by name
({"name": "Services"}); QboTarget resolves names to Ids before a write, so a document can be shown in a dry run
without calling QuickBooks. Field rules: Intuit: entities, DocNumber; settings: ledgerbridge.tenants.MappingSettings."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ledgerbridge.errors import InvalidInput, PermanentError
from ledgerbridge.records import Address, Customer, Invoice, InvoiceLine, Location, Payment
from ledgerbridge.tenants import MappingSettings

CENT = Decimal("0.01")
DOC_NUMBER_MAX = 21  # Intuit: DocNumber
DISPLAY_NAME_MAX = 500
MEMO_MAX = 1000
PRIVATE_NOTE_MAX = 4000
TAXABLE, NON_TAXABLE = "TAX", "NON"  # US line tax codes (Intuit: entities)


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


def display_name(name: str) -> str:
    """QBO display names: no colon (it separates parent and child in FullyQualifiedName), single spaces."""
    cleaned = re.sub(r"\s+", " ", name.replace(":", "-")).strip()
    return cleaned[:DISPLAY_NAME_MAX]


def location_display_name(customer_name: str, location_name: str) -> str:
    """A location's sub-customer: "Customer - Location" (unique across customers, readable in lists)."""
    customer, location = display_name(customer_name), display_name(location_name)
    if location.casefold().startswith(customer.casefold()):
        return location
    return display_name(f"{customer} - {location}")


def _address(address: Address) -> dict[str, str]:
    fields = {
        "Line1": address.street,
        "City": address.city,
        "CountrySubDivisionCode": address.state,
        "PostalCode": address.postal_code,
        "Country": address.country,
    }
    return {k: v for k, v in fields.items() if v}


def customer_document(customer: Customer) -> dict[str, Any]:
    doc: dict[str, Any] = {"DisplayName": display_name(customer.name), "CompanyName": customer.name[:100]}
    if customer.email:
        doc["PrimaryEmailAddr"] = {"Address": customer.email}
    if customer.phone:
        doc["PrimaryPhone"] = {"FreeFormNumber": customer.phone}
    if address := _address(customer.address):
        doc["BillAddr"] = address
    return doc


def location_document(location: Location, customer_name: str, parent_id: str) -> dict[str, Any]:
    """A location as a sub-customer (a "job" in QBO) of its customer (customer_naming == "customer_location")."""
    doc: dict[str, Any] = {
        "DisplayName": location_display_name(customer_name, location.name),
        "ParentRef": {"value": parent_id},
        "Job": True,
        "BillWithParent": True,
        "Taxable": location.taxable,
    }
    if address := _address(location.address):
        doc["ShipAddr"] = address
    return doc


def item_name(line: InvoiceLine, settings: MappingSettings) -> str:
    """The QBO item of a line: settings.items by item code, then by item name, else the default item."""
    for key in (line.item_code, line.item_name):
        if key and key in settings.items:
            return settings.items[key]
    return settings.default_item


def _plain(value: Decimal) -> Decimal:
    """Drop trailing zeros without going to an exponent (Decimal('2.500000') -> Decimal('2.5'))."""
    normal = value.normalize()
    return normal.quantize(Decimal(1)) if normal == normal.to_integral_value() else normal


def line_document(line: InvoiceLine, settings: MappingSettings) -> dict[str, Any]:
    amount = line.amount.quantize(CENT, rounding=ROUND_HALF_UP)
    detail: dict[str, Any] = {
        "ItemRef": {"name": item_name(line, settings)},
        "TaxCodeRef": {
            "value": settings.tax_codes.get("taxable", TAXABLE)
            if line.taxable
            else settings.tax_codes.get("non_taxable", NON_TAXABLE)
        },
    }
    # QBO checks Amount == Qty x UnitPrice; when the platform's figures don't multiply out, send the amount only.
    if (line.quantity * line.unit_price).quantize(CENT, rounding=ROUND_HALF_UP) == amount:
        detail["Qty"] = _plain(line.quantity)
        detail["UnitPrice"] = _plain(line.unit_price)
    class_name = settings.classes.get(line.service_line) or settings.classes.get("*")
    if class_name:
        detail["ClassRef"] = {"name": class_name}
    doc: dict[str, Any] = {"Amount": amount, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": detail}
    if line.description:
        doc["Description"] = line.description[:4000]
    return doc


def invoice_document(invoice: Invoice, settings: MappingSettings, customer_ref: Mapping[str, str]) -> dict[str, Any]:
    """The QBO Invoice for a platform invoice; `customer_ref` is the QBO customer ({"value": id}).

    DocNumber is the invoice number (the natural key); the job number and customer PO go to the customer-facing
    memo and the private note."""
    if len(invoice.number) > DOC_NUMBER_MAX:
        raise InvalidInput(
            f"invoice number {invoice.number!r} is longer than QuickBooks' {DOC_NUMBER_MAX} characters", "number"
        )
    job = invoice.job.name or invoice.job.id if invoice.job else ""
    memo_parts = [f"Job {job}" if job else "", f"PO {invoice.customer_po}" if invoice.customer_po else "", invoice.memo]
    note_parts = [
        f"Invoice {invoice.number} (source id {invoice.source_id})",
        f"job {job}" if job else "",
        f"customer PO {invoice.customer_po}" if invoice.customer_po else "",
        f"location {invoice.location.name or invoice.location.id}",
    ]
    doc: dict[str, Any] = {
        "DocNumber": invoice.number,
        "TxnDate": invoice.transaction_date.isoformat(),
        "CustomerRef": dict(customer_ref),
        "Line": [line_document(line, settings) for line in invoice.lines],
        "PrivateNote": "; ".join(p for p in note_parts if p)[:PRIVATE_NOTE_MAX],
    }
    memo = " · ".join(p for p in memo_parts if p)
    if memo:
        doc["CustomerMemo"] = {"value": memo[:MEMO_MAX]}
    if invoice.due_date:
        doc["DueDate"] = invoice.due_date.isoformat()
    department = next(
        (
            settings.departments[k]
            for k in (invoice.location.id, invoice.location.name, "*")
            if k in settings.departments
        ),
        None,
    )
    if department:
        doc["DepartmentRef"] = {"name": department}
    tax_code = settings.tax_codes.get(invoice.tax_group) if invoice.tax_group else None
    if tax_code:
        doc["TxnTaxDetail"] = {"TxnTaxCodeRef": {"name": tax_code}, "TotalTax": invoice.tax_amount}
    elif invoice.tax_amount:
        # Never drop tax silently: QuickBooks would hold a total the customer was not billed.
        raise PermanentError(
            f"the invoice carries {invoice.tax_amount} of sales tax for tax group {invoice.tax_group!r}, which has "
            "no QuickBooks tax code",
            code="unmapped_tax",
            hint=f"map tax group {invoice.tax_group!r} to a QuickBooks sales tax code in the mapping settings "
            "(tax_codes)",
        )
    return doc


def payment_document(payment: Payment, customer_ref: Mapping[str, str], invoice_id: str) -> dict[str, Any]:
    amount = payment.amount.quantize(CENT, rounding=ROUND_HALF_UP)
    doc: dict[str, Any] = {
        "CustomerRef": dict(customer_ref),
        "TotalAmt": amount,
        "TxnDate": payment.paid_on.isoformat(),
        "Line": [{"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
    }
    if payment.reference:
        doc["PaymentRefNum"] = payment.reference[:21]
    return doc


# ---- diff (dry runs) -----------------------------------------------------------------------------------------

_LINE_FIELDS = ("DetailType", "Amount", "Description")
_DETAIL_FIELDS = ("ItemRef", "Qty", "UnitPrice", "TaxCodeRef", "ClassRef")


def _is_ref(value: Any) -> bool:
    return (
        isinstance(value, dict) and bool(value.keys() & {"value", "name"}) and value.keys() <= {"value", "name", "type"}
    )


def _same(old: Any, new: Any) -> bool:
    if _is_ref(new):
        if not isinstance(old, dict):
            return False
        if new.get("value"):
            return str(old.get("value")) == str(new["value"])
        return str(old.get("name", "")).casefold() == str(new.get("name", "")).casefold()
    if isinstance(new, Decimal | int) and not isinstance(new, bool):
        try:
            return old is not None and not isinstance(old, bool) and Decimal(str(old)) == Decimal(new)
        except ArithmeticError:
            return False
    return bool(old == new)


def _show(value: Any) -> Any:
    if _is_ref(value):
        return value.get("name") or value.get("value")
    return value


def _line_summary(line: dict[str, Any] | None) -> str | None:
    if line is None:
        return None
    return f"{_show((line.get('SalesItemLineDetail') or {}).get('ItemRef'))} {line.get('Amount')}"


def _diff_line(path: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[FieldChange]:
    if old is None or new is None:
        return [FieldChange(path, _line_summary(old), _line_summary(new))]
    changes = [
        FieldChange(f"{path}.{k}", old.get(k), new.get(k))
        for k in _LINE_FIELDS
        if k in new and not _same(old.get(k), new.get(k))
    ]
    old_detail, new_detail = old.get("SalesItemLineDetail") or {}, new.get("SalesItemLineDetail") or {}
    for key in _DETAIL_FIELDS:
        if key in new_detail and not _same(old_detail.get(key), new_detail[key]):
            changes.append(
                FieldChange(f"{path}.SalesItemLineDetail.{key}", _show(old_detail.get(key)), _show(new_detail[key]))
            )
        elif key not in new_detail and key in old_detail and key in ("Qty", "UnitPrice", "ClassRef"):
            changes.append(FieldChange(f"{path}.SalesItemLineDetail.{key}", _show(old_detail[key]), None))
    return changes


def diff(current: Mapping[str, Any], new: Mapping[str, Any], path: str = "") -> list[FieldChange]:
    """What writing `new` (sparse: only its fields) over the QBO document `current` would change. Lines are
    compared in order, ignoring what QBO adds (Ids, LineNum, the SubTotalLineDetail line)."""
    changes: list[FieldChange] = []
    for key, value in new.items():
        where = f"{path}{key}"
        old = current.get(key)
        if key == "Line" and isinstance(value, list):
            old_lines = [ln for ln in old or [] if ln.get("DetailType") != "SubTotalLineDetail"]
            for i in range(max(len(old_lines), len(value))):
                changes += _diff_line(
                    f"Line[{i}]", old_lines[i] if i < len(old_lines) else None, value[i] if i < len(value) else None
                )
        elif isinstance(value, dict) and not _is_ref(value):
            changes += diff(old if isinstance(old, dict) else {}, value, f"{where}.")
        elif not _same(old, value):
            changes.append(FieldChange(where, _show(old), _show(value)))
    return changes


class QboDocuments:
    """The sync engine's view of this module (ledgerbridge.targets.base.Documents)."""

    def customer(self, customer: Customer, settings: MappingSettings) -> dict[str, Any]:
        return customer_document(customer)

    def sub_customer(
        self, customer: Customer, location: Location, parent_id: str, settings: MappingSettings
    ) -> dict[str, Any]:
        return location_document(location, customer.name, parent_id)

    def invoice(self, invoice: Invoice, customer_id: str, settings: MappingSettings) -> dict[str, Any]:
        return invoice_document(invoice, settings, {"value": customer_id})

    def diff(self, current: dict[str, Any], new: dict[str, Any]) -> list[Any]:
        return list(diff(current, new))
