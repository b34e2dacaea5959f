"""Reconciliation: every platform invoice of a period against its ledger document, differences explained.

`reconcile` is pure: the platform's invoices, the ledger's documents and the sync mappings in; rows out. A row with no
differences is a match. The explanations are the ones a bookkeeper acts on:

  missing in the ledger              no mapping and no ledger invoice with that number
  amount differs by rounding         totals differ by at most a cent per line
  tax differs                        the ledger computed another tax (its tax code or rate)
  edited in the ledger               the ledger document changed since LedgerBridge last wrote it
  voided in the ledger               the ledger voided it, the platform did not
  paid in the ledger, open here      the ledger's balance is 0, the platform invoice is not paid
  only in the ledger                 a ledger invoice of the period that no platform invoice maps to
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from ledgerbridge.console.targets import ConsoleTarget
from ledgerbridge.exports import periods
from ledgerbridge.exports.periods import Period
from ledgerbridge.records import Invoice
from ledgerbridge.state import mappings
from ledgerbridge.state.mappings import Mapping as SyncMapping
from ledgerbridge.targets.base import LedgerDocument, LedgerReading
from ledgerbridge.tenants import Tenant

CENT = Decimal("0.01")
# Platform states of an invoice handed to accounting that has not gone through yet (the platform's own states).
SENT_OR_WAITING = frozenset({"pending_accounting", "failed"})


@dataclass(frozen=True)
class Row:
    invoice_id: str
    number: str
    customer: str
    platform_total: Decimal | None
    platform_tax: Decimal | None
    platform_status: str
    ledger: LedgerDocument | None
    differences: tuple[str, ...] = field(default=())

    @property
    def matched(self) -> bool:
        return not self.differences


def _money(value: Decimal) -> str:
    return f"{value.quantize(CENT)}"


def compare(invoice: Invoice, ledger: LedgerDocument | None, mapping: SyncMapping | None) -> tuple[str, ...]:
    if ledger is None:
        return ("missing in the ledger",)
    found: list[str] = []
    if ledger.voided and invoice.status != "void":
        return ("voided in the ledger, open in the platform",)
    if invoice.status == "void" and not ledger.voided:
        found.append("void in the platform, still open in the ledger")
    if ledger.number != invoice.number:
        found.append(f"number differs: ledger {ledger.number!r}")
    total_gap = ledger.total - invoice.total
    tax_gap = ledger.tax - invoice.tax_amount
    if total_gap:
        if abs(total_gap) <= CENT * len(invoice.lines) and abs(tax_gap) <= CENT:
            found.append(f"amount differs by rounding ({_money(total_gap)})")
        elif tax_gap and abs(total_gap - tax_gap) <= CENT:
            found.append(f"tax differs: platform {_money(invoice.tax_amount)}, ledger {_money(ledger.tax)}")
        else:
            found.append(f"total differs: platform {_money(invoice.total)}, ledger {_money(ledger.total)}")
    edited = mapping is not None and mapping.sync_token and ledger.version and ledger.version != mapping.sync_token
    if edited and (total_gap or ledger.number != invoice.number):
        found.append("edited in the ledger since LedgerBridge wrote it")
    if ledger.total > 0 and ledger.balance == 0 and not ledger.voided and invoice.status not in ("paid", "void"):
        found.append("paid in the ledger, open in the platform")
    return tuple(found)


def reconcile(
    invoices: Iterable[Invoice], ledger: Iterable[LedgerDocument], mappings: Mapping[str, SyncMapping]
) -> list[Row]:
    """Rows in invoice-number order, then the ledger's unmatched invoices.

    A platform invoice belongs to this target's report when LedgerBridge wrote it there (a mapping), when
    it waits for or failed its sync (pending_accounting, failed), or when the ledger holds its number.
    Others of the period were never sent through this integration (closed before it existed, or delivered
    by a file export) and are left out rather than reported missing."""
    documents = list(ledger)
    by_id = {d.target_id: d for d in documents}
    by_number = {d.number: d for d in documents if d.number}
    used: set[str] = set()
    rows: list[Row] = []
    for invoice in sorted(invoices, key=lambda i: (i.number, i.source_id)):
        mapping = mappings.get(invoice.source_id)
        doc = by_id.get(mapping.target_id) if mapping else None
        doc = doc or by_number.get(invoice.number)
        if mapping is None and doc is None and invoice.status not in SENT_OR_WAITING:
            continue
        if doc is not None:
            used.add(doc.target_id)
        rows.append(
            Row(
                invoice.source_id,
                invoice.number,
                invoice.customer.name,
                invoice.total,
                invoice.tax_amount,
                invoice.status,
                doc,
                compare(invoice, doc, mapping),
            )
        )
    for doc in documents:
        if doc.target_id not in used and not doc.voided:
            rows.append(Row("", doc.number, doc.customer, None, None, "", doc, ("only in the ledger",)))
    return rows


CSV_HEADER = [
    "platform invoice id", "number", "customer", "platform status", "platform total", "platform tax",
    "ledger id", "ledger number", "ledger customer", "ledger total", "ledger tax", "ledger balance",
    "ledger voided", "result", "differences",
]  # fmt: skip


def _cell(value: object) -> str:
    """No cell starts a formula when the CSV is opened in a spreadsheet (OWASP, CSV Injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def to_csv(rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        d = r.ledger
        writer.writerow(
            _cell(v)
            for v in (
                r.invoice_id, r.number, r.customer, r.platform_status, r.platform_total, r.platform_tax,
                d.target_id if d else "", d.number if d else "", d.customer if d else "",
                d.total if d else "", d.tax if d else "", d.balance if d else "", (d.voided if d else ""),
                "match" if r.matched else "differs", "; ".join(r.differences),
            )
        )  # fmt: skip
    return out.getvalue()


class InvoiceSource(Protocol):
    def invoices(self, *, transaction_after: date, transaction_before: date) -> Iterable[Invoice]: ...


@dataclass(frozen=True)
class Report:
    period: Period
    rows: list[Row]
    reading: LedgerReading  # the ledger side: when it was read, and any note (rows are empty while pending)


def run(tenant: Tenant, target: ConsoleTarget, platform: InvoiceSource, period: str) -> Report:
    """The report of one period ('2025-11', '2025-W47' or a day) for one target."""
    span = periods.parse(period)
    reading = target.ledger_invoices(tenant, span.first, span.last)
    if reading.pending:
        return Report(span, [], reading)
    invoices = list(platform.invoices(transaction_after=span.first, transaction_before=span.last))
    found = {i.source_id: mappings.find(tenant.tenant_id, target.name, "invoice", i.source_id) for i in invoices}
    known = {source_id: m for source_id, m in found.items() if m is not None}
    return Report(span, reconcile(invoices, reading.documents, known), reading)
