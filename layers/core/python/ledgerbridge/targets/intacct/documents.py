"""Canonical records -> Intacct documents (pure). Customers are the generic CUSTOMER object; invoices are the
fields of the AR invoice functions (create_invoice/update_invoice in api.xsd), kept as plain data so the
engine can hash and diff them; targets.intacct.functions renders them as XML.

Shapes: github.com/intacct/intacct-sdk-php test/Intacct/Functions/AccountsReceivable/CustomerCreateTest.php,
InvoiceCreateTest.php and InvoiceLineCreateTest.php (Apache-2.0)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.errors import InvalidInput, PermanentError
from ledgerbridge.records import Customer, Invoice, InvoiceLine, Location
from ledgerbridge.targets.intacct.settings import IntacctSettings
from ledgerbridge.tenants import MappingSettings

CENT = Decimal("0.01")
CUSTOMERID_MAX = 20  # the CUSTOMERID field of the customer object
INVOICENO_MAX = 45  # RECORDID of ARINVOICE


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


class IntacctDocuments:
    """Intacct's documents as the sync engine builds them (ledgerbridge.targets.base.Documents)."""

    def __init__(self, settings: IntacctSettings | None = None) -> None:
        self.settings = settings or IntacctSettings()

    def customer_id(self, platform_id: str) -> str:
        value = f"{self.settings.customer_id_prefix}{platform_id}"
        if len(value) > CUSTOMERID_MAX:
            raise InvalidInput(f"CUSTOMERID {value!r} is longer than Intacct's {CUSTOMERID_MAX}", field="id")
        return value

    def customer(self, customer: Customer, settings: MappingSettings) -> dict[str, Any]:
        address = customer.address
        contact: dict[str, Any] = {"PRINTAS": customer.name[:80], "EMAIL1": customer.email, "PHONE1": customer.phone}
        mail = {
            "ADDRESS1": address.street,
            "CITY": address.city,
            "STATE": address.state,
            "ZIP": address.postal_code,
            "COUNTRY": address.country,
        }
        if any(mail.values()):
            contact["MAILADDRESS"] = {k: v for k, v in mail.items() if v}
        return {
            "CUSTOMERID": self.customer_id(customer.source_id),
            "NAME": customer.name[:100],
            "DISPLAYCONTACT": {k: v for k, v in contact.items() if v},
        }

    def sub_customer(
        self, customer: Customer, location: Location, parent_id: str, settings: MappingSettings
    ) -> dict[str, Any]:
        name = f"{customer.name}: {location.name}"[:100]
        return {
            "CUSTOMERID": self.customer_id(f"{customer.source_id}-{location.source_id}"),
            "NAME": name,
            "PARENTID": parent_id,
            "DISPLAYCONTACT": {"PRINTAS": name[:80]},
        }

    def invoice(self, invoice: Invoice, customer_id: str, settings: MappingSettings) -> dict[str, Any]:
        if len(invoice.number) > INVOICENO_MAX:
            raise InvalidInput(f"invoice number {invoice.number!r} is longer than Intacct's {INVOICENO_MAX}", "number")
        lines = [self._line(line, invoice, settings) for line in invoice.lines]
        if invoice.tax_amount:
            if not self.settings.tax_gl_account:
                raise PermanentError(
                    f"invoice {invoice.number} has {invoice.tax_amount} sales tax and no Intacct tax account is mapped",
                    code="unmapped_tax",
                    hint="set the GL account for sales tax (tax_gl_account) in the tenant's Intacct settings",
                )
            lines.append(
                {
                    "glaccountno": self.settings.tax_gl_account,
                    "amount": _money(invoice.tax_amount),
                    "memo": f"Sales tax {invoice.tax_group}".strip(),
                    **self._dimensions(invoice, ""),
                }
            )
        doc: dict[str, Any] = {
            "customerid": customer_id,
            "datecreated": invoice.transaction_date.isoformat(),
            "datedue": invoice.due_date.isoformat() if invoice.due_date else "",
            "termname": "" if invoice.due_date else (invoice.terms or self.settings.terms),
            "invoiceno": invoice.number,
            "ponumber": invoice.customer_po,
            "description": invoice.memo or (f"Job {invoice.job.name or invoice.job.id}" if invoice.job else ""),
            "lines": lines,
        }
        if not doc["datedue"] and not doc["termname"]:
            raise PermanentError(
                f"invoice {invoice.number} has no due date and no terms",
                code="no_terms",
                hint="give the invoice a due date in the platform, or set the tenant's Intacct terms",
            )
        return {k: v for k, v in doc.items() if v != ""}

    def _line(self, line: InvoiceLine, invoice: Invoice, settings: MappingSettings) -> dict[str, Any]:
        accounts = {**settings.gl_accounts, **self.settings.gl_accounts}
        account = accounts.get(line.item_code) or accounts.get(line.item_name)
        if account is None:
            if self.settings.unknown_item == "fail":
                raise PermanentError(
                    f"no Intacct GL account is mapped for item {line.item_code or line.item_name!r}",
                    code="unmapped_item",
                    hint="map the item to a GL account in the tenant's Intacct settings",
                )
            account = self.settings.default_gl_account
        memo = line.description or line.item_name
        return {
            "glaccountno": account,
            "amount": _money(line.amount),
            "memo": memo[:1000],
            **self._dimensions(invoice, line.service_line),
        }

    def _dimensions(self, invoice: Invoice, service_line: str) -> dict[str, Any]:
        dims = self.settings.dimensions
        out: dict[str, Any] = {
            "locationid": dims.locations.get(service_line, dims.location_id),
            "departmentid": dims.departments.get(service_line, dims.department_id),
            "classid": dims.classes.get(service_line, dims.class_id),
        }
        if dims.project_from_job and invoice.job is not None:
            out["projectid"] = invoice.job.name or invoice.job.id
        if dims.custom:
            out["customfields"] = dict(sorted(dims.custom.items()))
        return {k: v for k, v in out.items() if v}

    def diff(self, current: dict[str, Any], new: dict[str, Any]) -> list[Any]:
        return diff(current, new)


class FieldChange:
    __slots__ = ("new", "old", "path")

    def __init__(self, path: str, old: Any, new: Any) -> None:
        self.path, self.old, self.new = path, old, new

    def __repr__(self) -> str:
        return f"FieldChange({self.path!r}, {self.old!r} -> {self.new!r})"


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(_flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for i, child in enumerate(value):
            out.update(_flatten(child, f"{prefix}[{i}]"))
        return out
    return {prefix: "" if value is None else str(value)}


def diff(current: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """Field changes a write of `new` would make: fields `new` sets that `current` lacks or holds otherwise."""
    before, after = _flatten(current), _flatten(new)
    return [FieldChange(path, before.get(path), value) for path, value in after.items() if before.get(path) != value]
