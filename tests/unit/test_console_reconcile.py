"""Reconciliation (pure): each difference a bookkeeper acts on, explained; the CSV safe in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.console.html import Markup, h, tag
from ledgerbridge.console.reconcile import reconcile, to_csv
from ledgerbridge.records import Invoice
from ledgerbridge.state.mappings import Mapping
from ledgerbridge.targets.base import LedgerDocument


def invoice(number: str, total: str = "108.00", tax: str = "8.00", status: str = "processed", **kw: Any) -> Invoice:
    subtotal = Decimal(total) - Decimal(tax)
    line = {"source_id": f"{number}-1", "quantity": "1", "unit_price": subtotal, "amount": subtotal}
    return Invoice.model_validate(
        {"source_id": f"id-{number}", "number": number, "status": status, "transaction_date": date(2025, 11, 3),
         "customer": {"id": "c1", "name": kw.get("customer", "Acme")}, "location": {"id": "l1"}, "lines": [line],
         "subtotal": subtotal, "tax_amount": tax, "total": total, "updated_at": datetime(2025, 11, 3, tzinfo=UTC)}
    )  # fmt: skip


def doc(number: str, total: str = "108.00", tax: str = "8.00", balance: str | None = None, **kw: Any) -> LedgerDocument:
    return LedgerDocument(
        target_id=f"q-{number}", number=number, customer="Acme", total=Decimal(total), tax=Decimal(tax),
        balance=Decimal(balance if balance is not None else total), voided=kw.get("voided", False),
        version=kw.get("version", "0"),
    )  # fmt: skip


def synced(*numbers: str) -> dict[str, Mapping]:
    """Mappings as the engine leaves them: the ledger id and the SyncToken it last wrote ("0")."""
    return {f"id-{n}": Mapping(f"q-{n}", "0") for n in numbers}


def differences(
    invoices: list[Invoice], docs: list[LedgerDocument], maps: dict[str, Mapping]
) -> dict[str, tuple[str, ...]]:
    return {r.number: r.differences for r in reconcile(invoices, docs, maps)}


def test_a_match_has_no_differences() -> None:
    assert differences([invoice("1")], [doc("1")], synced("1")) == {"1": ()}


def test_each_kind_of_difference_is_explained() -> None:
    found = differences(
        [
            invoice("miss", status="pending_accounting"),
            invoice("round"),
            invoice("tax"),
            invoice("void"),
            invoice("paid"),
            invoice("edit"),
        ],
        [
            doc("round", total="108.01"),
            doc("tax", total="109.50", tax="9.50"),
            doc("void", total="0", tax="0", balance="0", voided=True),
            doc("paid", balance="0"),
            doc("edit", total="150.00", version="3"),
            doc("extra"),
        ],
        synced("round", "tax", "void", "paid", "edit"),
    )
    assert found["miss"] == ("missing in the ledger",)
    assert found["round"] == ("amount differs by rounding (0.01)",)
    assert found["tax"] == ("tax differs: platform 8.00, ledger 9.50",)
    assert found["void"] == ("voided in the ledger, open in the platform",)
    assert found["paid"] == ("paid in the ledger, open in the platform",)
    assert found["edit"] == (
        "total differs: platform 108.00, ledger 150.00",
        "edited in the ledger since LedgerBridge wrote it",
    )
    assert found["extra"] == ("only in the ledger",)


def test_invoices_never_sent_through_the_integration_are_left_out() -> None:
    assert differences([invoice("old", status="processed"), invoice("draft", status="draft")], [], {}) == {}


def test_csv_cells_never_start_a_formula() -> None:
    rows = reconcile([invoice("=HYPERLINK(1)", customer="@evil", status="failed")], [], {})
    parsed = list(csv.reader(io.StringIO(to_csv(rows))))
    assert parsed[1][1] == "'=HYPERLINK(1)" and parsed[1][2] == "'@evil"
    assert parsed[1][4] == "108.00"  # numbers stay numbers


def test_markup_escapes_everything_it_did_not_build() -> None:
    assert h('<script>&"') == "&lt;script&gt;&amp;&quot;"
    built = tag("td", "<b>", tag("i", "x"), title='"q"')
    assert built == '<td title="&quot;q&quot;">&lt;b&gt;<i>x</i></td>' and isinstance(built, Markup)
