"""What the people around QuickBooks do, for tests, the bench and the demo:

- `consent(url)`: a user clicking "Connect" on Intuit's consent screen (the sandbox auto-approves);
- `Bookkeeper`: someone in QuickBooks receiving, voiding and deleting payments (over the real API, so the
  sandbox's webhooks and CDC see the changes);
- `SyntheticPlatform`: an in-memory field-service platform with many invoices waiting for accounting (bulk
  loads without a platform server in the way).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from ledgerbridge.records import Customer, Invoice, InvoiceLine, Location, Ref
from ledgerbridge.targets.qbo.budget import Budget
from ledgerbridge.targets.qbo.client import QboClient


def consent(authorize_url: str, realm_id: str = "") -> dict[str, str]:
    """Follow Intuit's authorize URL as a consenting user: the query the callback receives (code, state,
    realmId). `realm_id` picks the company (the sandbox's first realm by default)."""
    url = authorize_url + (f"&realmId={realm_id}" if realm_id else "")
    resp = requests.get(url, allow_redirects=False, timeout=10)
    if resp.status_code != 302:
        raise AssertionError(f"consent refused: HTTP {resp.status_code} {resp.text[:200]}")
    query = parse_qs(urlparse(resp.headers["Location"]).query)
    return {k: v[0] for k, v in query.items()}


@dataclass
class _StaticTokens:
    token: str

    def access_token(self) -> str:
        return self.token

    def refresh_after_unauthorized(self, rejected: str) -> str:
        raise AssertionError("the bookkeeper's token expired; make a new Bookkeeper")


class Bookkeeper:
    """A person working in the company's QuickBooks (their own grant, not LedgerBridge's). The sandbox counts
    limits per realm, not per app (docs/qbo.md), so give the realm's budget when LedgerBridge is busy too."""

    def __init__(self, server: Any, realm_id: str = "", budget: Budget | None = None) -> None:
        realm = realm_id or server.realm_id
        grant = server.issue_tokens(realm)
        tokens = _StaticTokens(grant["access_token"])
        self.client = QboClient(realm, server.url, tokens, sleep=lambda _s: None, budget=budget)

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        return self.client.read("Invoice", invoice_id)

    def receive_payment(self, invoice_id: str, amount: Decimal | str, method: str = "") -> dict[str, Any]:
        invoice = self.invoice(invoice_id)
        value = Decimal(str(amount))
        body: dict[str, Any] = {
            "CustomerRef": {"value": invoice["CustomerRef"]["value"]},
            "TotalAmt": value,
            "Line": [{"Amount": value, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
        }
        if method:
            body["PaymentMethodRef"] = {"value": "1", "name": method}
        return self.client.create("payment", body, uuid.uuid4().hex)

    def void_payment(self, payment: dict[str, Any]) -> dict[str, Any]:
        current = self.client.read("Payment", payment["Id"])
        return self.client.void("payment", current["Id"], current["SyncToken"], uuid.uuid4().hex)

    def delete_payment(self, payment: dict[str, Any]) -> dict[str, Any]:
        current = self.client.read("Payment", payment["Id"])
        return self.client.delete("payment", current["Id"], current["SyncToken"], uuid.uuid4().hex)

    def create_invoice(self, doc_number: str, amount: Decimal | str = "10.00") -> dict[str, Any]:
        """An invoice made in QuickBooks by hand (e.g. to take a DocNumber the platform will also use)."""
        customer = self.client.query("select * from Customer where DisplayName = 'Amy\\'s Bird Sanctuary'")[0]
        item = self.client.query("select * from Item where Name = 'Services'")[0]
        line = {"Amount": Decimal(str(amount)), "DetailType": "SalesItemLineDetail"}
        line["SalesItemLineDetail"] = {"ItemRef": {"value": item["Id"]}}
        body = {"DocNumber": doc_number, "CustomerRef": {"value": customer["Id"]}, "Line": [line]}
        return self.client.create("invoice", body, uuid.uuid4().hex)


@dataclass
class SyntheticPlatform:
    """Invoices waiting for accounting, spread over a few customers; records what the sync writes back."""

    count: int
    customers: int = 25
    lines: int = 2
    statuses: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    external_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    _invoices: dict[str, Invoice] = field(default_factory=dict)

    def __post_init__(self) -> None:
        now = datetime(2026, 1, 5, 12, tzinfo=UTC)
        for n in range(self.count):
            c = n % self.customers
            lines = tuple(
                InvoiceLine(
                    source_id=f"{n}-{k}",
                    description=f"Service visit {k + 1}",
                    quantity=Decimal(k + 1),
                    unit_price=Decimal("42.50"),
                    amount=Decimal("42.50") * (k + 1),
                )
                for k in range(self.lines)
            )
            subtotal = sum((line.amount for line in lines), Decimal("0"))
            invoice = Invoice(
                source_id=str(700000 + n),
                number=f"B-{n:06d}",
                status="pending_accounting",
                transaction_date=date(2026, 1, 5),
                customer=Ref(id=str(900 + c), name=f"Bulk Customer {c:03d}"),
                location=Ref(id=str(5000 + c), name=f"Site {c:03d}"),
                lines=lines,
                subtotal=subtotal,
                tax_amount=Decimal("0"),
                total=subtotal,
                updated_at=now,
            )
            self._invoices[invoice.source_id] = invoice
            self.statuses[invoice.source_id] = invoice.status

    # -- the sync engine's Platform protocol ----------------------------------------------------------------

    def invoices(self, status: str | None = None) -> Iterator[Invoice]:
        for invoice in list(self._invoices.values()):
            current = self.invoice(invoice.source_id)
            if status is None or current.status == status:
                yield current

    def invoice(self, invoice_id: str) -> Invoice:
        invoice = self._invoices[invoice_id]
        return invoice.model_copy(update={"status": self.statuses[invoice_id]})

    def customer(self, company_id: str) -> Customer:
        return Customer(source_id=company_id, name=f"Bulk Customer {int(company_id) - 900:03d}")

    def location(self, location_id: str) -> Location:
        c = int(location_id) - 5000
        return Location(source_id=location_id, name=f"Site {c:03d}", customer=Ref(id=str(900 + c)))

    def set_invoice_status(self, invoice_id: str, status: str, comment: str | None = None) -> None:
        self.statuses[invoice_id] = status
        if comment:
            self.comments[invoice_id] = comment

    def set_external_id(self, entity_type: str, entity_id: str, system: str, value: str) -> None:
        self.external_ids[(entity_type, entity_id)] = value
