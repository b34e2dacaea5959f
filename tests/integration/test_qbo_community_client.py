"""The QBO double, driven by python-quickbooks (the community's widely used client, as a generic client of
Intuit's API would drive it): what it sends must get what real QuickBooks Online answers. Every operation on
every entity the product uses: test_qbo_community_operations.py."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
import requests
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.account import Account

from sandbox.qbo import QboSandboxServer, start
from tests.integration.qbo_community import community_client, income_account, invoice_with_line, service_item


@pytest.fixture
def server() -> Iterator[QboSandboxServer]:
    with start() as running:
        yield running


@pytest.fixture
def qb(server: QboSandboxServer, monkeypatch: pytest.MonkeyPatch) -> QuickBooks:
    return community_client(server, monkeypatch)


def test_a_projection_with_star_is_accepted(qb: QuickBooks) -> None:
    service_item(qb, income_account(qb))
    found = qb.query("SELECT *, Sku FROM Item")["QueryResponse"]["Item"]
    mine = next(i for i in found if i.get("Sku") == "SKU-Hydrant flow test")
    assert mine["Type"] == "Service"
    named = qb.query("SELECT Id, Name FROM Item")["QueryResponse"]["Item"]
    assert all(set(i) <= {"Id", "Name", "domain", "sparse"} for i in named)
    assert "Hydrant flow test" in {i["Name"] for i in named}


def test_account_subtype_gets_a_default_and_is_filterable(qb: QuickBooks) -> None:
    account = income_account(qb)
    assert account.AccountSubType == "ServiceFeeIncome"
    assert account.Classification == "Revenue"
    found = Account.where("AccountSubType = 'ServiceFeeIncome'", qb=qb)
    assert account.Id in {a.Id for a in found}
    assert {a.AccountSubType for a in found} == {"ServiceFeeIncome"}
    assert not Account.where("AccountSubType = 'Checking' AND Id = '%s'" % account.Id, qb=qb)  # noqa: UP031
    bank = Account()
    bank.Name, bank.AccountType, bank.AccountSubType = "Operating", "Bank", "Checking"
    bank = bank.save(qb=qb)
    assert (bank.AccountSubType, bank.Classification) == ("Checking", "Asset")


def test_a_line_with_zero_qty_and_price_and_an_amount_is_accepted(qb: QuickBooks) -> None:
    item = service_item(qb, income_account(qb))
    invoice = invoice_with_line(qb, item, 0, 0, 150)
    assert Decimal(str(invoice.TotalAmt)) == Decimal("150")
    with pytest.raises(QuickbooksException, match="Amount is not equal to UnitPrice \\* Qty"):
        invoice_with_line(qb, item, 2, 10, 150)


def test_include_invoice_link_returns_the_link_when_online_payment_and_an_email_are_set(
    qb: QuickBooks, server: QboSandboxServer
) -> None:
    item = service_item(qb, income_account(qb))
    with_email = invoice_with_line(qb, item, 1, 100, 100, email="ap@example.com")
    without = invoice_with_line(qb, item, 1, 50, 50)
    url = f"{server.url}/v3/company/{server.realm_id}/invoice"
    linked = qb.get(f"{url}/{with_email.Id}", params={"include": "invoiceLink"})["Invoice"]
    assert linked["InvoiceLink"].startswith("https://")
    plain = qb.get(f"{url}/{without.Id}", params={"include": "invoiceLink"})["Invoice"]
    assert "InvoiceLink" not in plain, plain.get("BillEmail")
    assert "InvoiceLink" not in qb.get(f"{url}/{with_email.Id}")["Invoice"]


@pytest.mark.parametrize(
    ("method", "path", "accept"),
    [
        ("GET", "/v3/company/{realm}/nosuchthing/1/extra", "application/json"),
        ("DELETE", "/v3/company/{realm}/invoice/1", "application/json"),
        ("GET", "/nowhere", "application/xml"),
        ("PUT", "/v3/company/{realm}/query", "application/xml"),
    ],
)
def test_unknown_routes_and_methods_answer_a_qbo_fault_never_html(
    server: QboSandboxServer, method: str, path: str, accept: str
) -> None:
    url = server.url + path.format(realm=server.realm_id)
    response = requests.request(method, url, headers={"Accept": accept}, timeout=5)
    assert 400 <= response.status_code < 500
    if accept == "application/json":
        assert response.headers["Content-Type"].startswith("application/json")
        assert response.json()["Fault"]["Error"][0]["code"]
    else:
        assert response.headers["Content-Type"].startswith("application/xml")
        assert "<Fault" in response.text and "<html" not in response.text.lower()
