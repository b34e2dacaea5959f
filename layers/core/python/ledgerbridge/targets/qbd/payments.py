"""Payments flowing back from QuickBooks Desktop: ReceivePayment -> payments on platform invoices.

Each Web Connector session asks for the payments modified since the cursor (ReceivePaymentQuery with
ModifiedDateRangeFilter) and the ones deleted since it (TxnDeletedQuery, TxnDelType ReceivePayment), and
makes the platform agree with what each payment applies now (AppliedToTxnRet per invoice), as QuickBooks
Online payments do: applied and not recorded -> record; recorded and no longer applied (edited, voided to
zero, deleted) -> reverse; another amount -> reverse then record. What was recorded lives beside the
mappings (TENANT#{t}#MAP#qbd | payment#{TxnID}#{invoice TxnID}), so a payment seen twice (the cursor
overlaps on purpose) records nothing twice.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from ledgerbridge.errors import NotFound
from ledgerbridge.state import mappings
from ledgerbridge.state.table import query, state
from ledgerbridge.targets.qbd.qbxml import as_list

CENT = Decimal("0.01")
TARGET = "qbd"
METHOD_WORDS = (("card", "credit_card"), ("visa", "credit_card"), ("master", "credit_card"),
                ("amex", "credit_card"), ("discover", "credit_card"), ("ach", "ach"), ("e-check", "ach"),
                ("transfer", "ach"), ("cash", "cash"))  # fmt: skip


class PaymentPlatform(Protocol):
    def record_payment(self, invoice_id: str, amount: Decimal, paid_on: date, reference: str, method: str) -> str: ...
    def reverse_payment(self, payment_id: str) -> None: ...


@dataclass
class Outcome:
    recorded: list[str] = field(default_factory=list)  # "<amount> on invoice <id>"
    reversed: list[str] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # QuickBooks invoices LedgerBridge never sent


def _pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#MAP#{TARGET}"


def applied_now(payment: dict[str, Any] | None) -> dict[str, Decimal]:
    """Invoice TxnID -> amount the payment applies to it (nothing for a deleted or zeroed payment)."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for link in as_list((payment or {}).get("AppliedToTxnRet")):
        if link.get("TxnType", "Invoice") == "Invoice" and link.get("TxnID"):
            out[str(link["TxnID"])] += Decimal(str(link.get("Amount") or "0"))
    return {k: v.quantize(CENT) for k, v in out.items() if v > 0}


def _method(payment: dict[str, Any]) -> str:
    name = str((payment.get("PaymentMethodRef") or {}).get("FullName") or "").casefold()
    return next((method for word, method in METHOD_WORDS if word in name), "check")


def reconcile(tenant_id: str, txn_id: str, payment: dict[str, Any] | None, platform: PaymentPlatform) -> Outcome:
    """Make the platform agree with one ReceivePayment (None = deleted). Reversals go first, so an amount
    moving between invoices never trips the platform's balance check."""
    now = applied_now(payment)
    before = {str(i["invoice_txn"]): i for i in query(_pk(tenant_id), f"payment#{txn_id}#")}
    outcome = Outcome()
    for invoice_txn, item in before.items():
        if now.get(invoice_txn) == Decimal(item["amount"]):
            continue
        with contextlib.suppress(NotFound):  # already reversed on the platform
            platform.reverse_payment(str(item["platform_payment"]))
        state().delete_item(Key={"pk": _pk(tenant_id), "sk": item["sk"]})
        outcome.reversed.append(f"{item['amount']} on invoice {item['platform_invoice']}")
    if payment is None:
        return outcome
    paid_on = date.fromisoformat(str(payment.get("TxnDate") or date.today().isoformat())[:10])
    for invoice_txn, amount in now.items():
        if invoice_txn in before and Decimal(before[invoice_txn]["amount"]) == amount:
            continue
        platform_invoice = mappings.find_by_target(tenant_id, TARGET, "invoice", invoice_txn)
        if platform_invoice is None:
            outcome.unmapped.append(invoice_txn)
            continue
        reference = f"QuickBooks Desktop payment {txn_id}"
        platform_payment = platform.record_payment(platform_invoice, amount, paid_on, reference, _method(payment))
        state().put_item(
            Item={
                "pk": _pk(tenant_id),
                "sk": f"payment#{txn_id}#{invoice_txn}",
                "invoice_txn": invoice_txn,
                "platform_invoice": platform_invoice,
                "platform_payment": platform_payment,
                "amount": str(amount),
            }
        )
        outcome.recorded.append(f"{amount} on invoice {platform_invoice}")
    return outcome


def describe(txn_id: str, deleted: bool, outcome: Outcome) -> str:
    parts = [f"QuickBooks Desktop payment {txn_id}" + (" was deleted" if deleted else "")]
    parts += [f"recorded {r}" for r in outcome.recorded] + [f"reversed {r}" for r in outcome.reversed]
    if outcome.unmapped:
        parts.append(f"invoices not synced by LedgerBridge: {', '.join(outcome.unmapped)}")
    return "; ".join(parts)
