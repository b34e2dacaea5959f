"""python-quickbooks (the community's widely used QBO client) pointed at the QBO double, and the few objects
the tests of the double build with it.

python-quickbooks talks to Intuit's fixed URLs; here its api_url points at the sandbox, and its auth client is
a stand-in holding a sandbox-issued access token (the real one fetches Intuit's discovery document)."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from quickbooks import QuickBooks
from quickbooks.objects.account import Account
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item

from sandbox.qbo import QboSandboxServer


def community_client(server: QboSandboxServer, monkeypatch: pytest.MonkeyPatch) -> QuickBooks:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # its session insists on https; the sandbox is loopback
    tokens = server.issue_tokens()
    auth = SimpleNamespace(
        client_id="sandbox-client-id",
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        environment="sandbox",
    )

    class SandboxQuickBooks(QuickBooks):  # type: ignore[misc]
        @property
        def api_url(self) -> str:
            return f"{server.url}/v3"

    return SandboxQuickBooks(auth_client=auth, company_id=server.realm_id, minorversion=75)


def income_account(qb: QuickBooks) -> Account:
    account = Account()
    account.Name = f"Services income {uuid.uuid4().hex[:6]}"
    account.AccountType = "Income"
    return account.save(qb=qb)


def service_item(qb: QuickBooks, account: Account, name: str = "Hydrant flow test") -> Item:
    item = Item()
    item.Name, item.Type, item.Sku = name, "Service", f"SKU-{name}"
    item.IncomeAccountRef = account.to_ref()
    return item.save(qb=qb)


def new_customer(qb: QuickBooks, name: str) -> Customer:
    customer = Customer()
    customer.DisplayName = name
    return customer.save(qb=qb)


def invoice_with_line(
    qb: QuickBooks, item: Item, qty: Any, price: Any, amount: Any, email: str = "", customer: Customer | None = None
) -> Invoice:
    customer = customer or new_customer(qb, f"Customer {qty}-{price}-{amount}")
    line = SalesItemLine()
    line.Amount = amount
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = qty
    line.SalesItemLineDetail.UnitPrice = price
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.Line = [line]
    if email:
        invoice.BillEmail = SimpleNamespace(Address=email, to_dict=lambda: {"Address": email})  # type: ignore[assignment]
        invoice.AllowOnlineCreditCardPayment = True
    return invoice.save(qb=qb)
