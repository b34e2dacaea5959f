"""A QuickBooks Desktop world for tests and the bench: a tenant with the qbd integration, an in-memory
field-service platform, the company-file double and a Web Connector wired to the SOAP service."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.errors import NotFound
from ledgerbridge.jobs import SyncJob
from ledgerbridge.records import Customer, Invoice, InvoiceLine, Location, Ref
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.qbd import jobs, soap
from ledgerbridge.targets.qbd.service import Service
from ledgerbridge.targets.qbd.settings import QbdSettings
from ledgerbridge.tenants import MappingSettings, Tenant
from sandbox.qbd.company import Company
from sandbox.qbd.webconnector import WebConnector

TENANT = "summit-fire"


@dataclass
class Platform:
    """The field-service side: invoices with statuses and comments, payments recorded and reversed."""

    invoices: dict[str, Invoice] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    payments: dict[str, tuple[str, Decimal, str]] = field(default_factory=dict)  # id -> (invoice, amount, ref)
    calls: Counter[str] = field(default_factory=Counter)

    def invoice(self, invoice_id: str) -> Invoice:
        inv = self.invoices[invoice_id]
        return inv.model_copy(update={"status": self.statuses[invoice_id]})

    def customer(self, company_id: str) -> Customer:
        return self.customers[company_id]

    def location(self, location_id: str) -> Location:
        return Location(source_id=location_id, name=f"Site {location_id}", customer=Ref(id="c1"))

    def set_invoice_status(self, invoice_id: str, status: str, comment: str | None = None) -> None:
        self.calls["set_invoice_status"] += 1
        self.statuses[invoice_id] = status
        if comment:
            self.comments[invoice_id] = comment

    def record_payment(self, invoice_id: str, amount: Decimal, paid_on: date, reference: str, method: str) -> str:
        payment_id = f"p{len(self.payments) + 1}"
        self.payments[payment_id] = (invoice_id, amount, reference)
        return payment_id

    def reverse_payment(self, payment_id: str) -> None:
        if payment_id not in self.payments:
            raise NotFound(payment_id)
        del self.payments[payment_id]

    def add_invoice(
        self, n: int, customer: str = "Acme Hospital", amount: str = "125.50", item: str = "", taxable: bool = False
    ) -> Invoice:
        company_id = f"c{abs(hash(customer)) % 10_000}"
        self.customers[company_id] = Customer(source_id=company_id, name=customer)
        line = InvoiceLine(source_id=f"l{n}", description="Sprinkler inspection & test <annual>",
                           item_code=item, quantity=Decimal("2"), unit_price=Decimal(amount) / 2,
                           amount=Decimal(amount), taxable=taxable)  # fmt: skip
        invoice = Invoice(
            source_id=str(n), number=f"INV-{n}", status="pending_accounting", transaction_date=date(2026, 11, 2),
            customer=Ref(id=company_id, name=customer), location=Ref(id=f"loc{n}"), lines=(line,),
            subtotal=Decimal(amount), tax_amount=Decimal("0"), total=Decimal(amount), updated_at=datetime.now(UTC),
        )  # fmt: skip
        self.invoices[invoice.source_id] = invoice
        self.statuses[invoice.source_id] = "pending_accounting"
        return invoice


@dataclass
class QbdWorld:
    tenant: Tenant
    password: str
    platform: Platform
    company: Company
    soap_calls: Counter[str] = field(default_factory=Counter)

    def transport(self, action: str, body: str) -> tuple[int, str]:
        operation, params = soap.parse(body)
        self.soap_calls[operation] += 1
        return 200, Service(self.tenant, lambda: self.platform).call(operation, params)

    def web_connector(self, **options: Any) -> WebConnector:
        return WebConnector(self.transport, self.company, TENANT, self.password, sleep=lambda s: None, **options)

    def enqueue(self, *invoices: Invoice, entity: str = "invoice") -> None:
        for invoice in invoices:
            job = SyncJob(tenant_id=TENANT, target="qbd", entity=entity, source_id=invoice.source_id,  # type: ignore[arg-type]
                          event_id=f"e-{invoice.source_id}-{datetime.now(UTC).timestamp()}",
                          occurred_at=datetime.now(UTC))  # fmt: skip
            jobs.enqueue(self.tenant, job, self.platform)


def make_world(**mapping: Any) -> QbdWorld:
    tenant = Tenant(
        tenant_id=TENANT,
        name="Summit Fire & Mechanical",
        integrations=[QbdSettings(entities=["invoice", "customer", "payment"])],
        mapping=MappingSettings(**mapping),
    )
    tenant_store.save(tenant)
    password = tenant_store.issue_credential(TENANT, "connector")
    return QbdWorld(tenant, password, Platform(), Company())


def time_passes() -> None:
    """The scheduler's interval goes by: every Web Connector session of the tenant has gone quiet."""
    from ledgerbridge.state import keys
    from ledgerbridge.state.table import state

    state().update_item(Key=keys.connector_session(TENANT, "qbd"), UpdateExpression="SET expires = :z",
                        ExpressionAttributeValues={":z": 0})  # fmt: skip
