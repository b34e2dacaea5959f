"""The sync engine's view of QBO mapping (ledgerbridge.sync.Documents)."""

from __future__ import annotations

from typing import Any

from ledgerbridge.records import Customer, Invoice, Location
from ledgerbridge.targets.qbo import mapping
from ledgerbridge.tenants import MappingSettings


class QboDocuments:
    def customer(self, customer: Customer, settings: MappingSettings) -> dict[str, Any]:
        return mapping.customer_document(customer)

    def sub_customer(
        self, customer: Customer, location: Location, parent_id: str, settings: MappingSettings
    ) -> dict[str, Any]:
        return mapping.location_document(location, customer.name, parent_id)

    def invoice(self, invoice: Invoice, customer_id: str, settings: MappingSettings) -> dict[str, Any]:
        return mapping.invoice_document(invoice, settings, {"value": customer_id})

    def diff(self, current: dict[str, Any], new: dict[str, Any]) -> list[Any]:
        return list(mapping.diff(current, new))
