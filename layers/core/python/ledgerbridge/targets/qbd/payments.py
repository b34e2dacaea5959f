"""Payments flowing back from QuickBooks Desktop: ReceivePayment -> payments on platform invoices.

Each Web Connector session asks for the payments modified since the cursor (ReceivePaymentQuery with
ModifiedDateRangeFilter) and the ones deleted since it (TxnDeletedQuery, TxnDelType ReceivePayment), and
makes the platform agree with what each payment applies now (AppliedToTxnRet per invoice), as QuickBooks
Online payments do: applied and not recorded -> record; recorded and no longer applied (edited, voided to
zero, deleted) -> reverse; another amount -> reverse then record, through the one reconcile every target
uses (ledgerbridge.sync.payments). What was recorded lives beside the mappings (state.keys.payment_applied),
so a payment seen twice (the cursor overlaps on purpose) records nothing twice.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.sync import payments as ledger
from ledgerbridge.sync.payments import Outcome, PaymentPlatform
from ledgerbridge.targets.qbd.qbxml import as_list

CENT = Decimal("0.01")
TARGET = "qbd"
LABEL = "QuickBooks Desktop"
METHOD_WORDS = (("card", "credit_card"), ("visa", "credit_card"), ("master", "credit_card"),
                ("amex", "credit_card"), ("discover", "credit_card"), ("ach", "ach"), ("e-check", "ach"),
                ("transfer", "ach"), ("cash", "cash"))  # fmt: skip


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
    """Make the platform agree with one ReceivePayment (None = deleted), as every target's payments do
    (ledgerbridge.sync.payments: reversals first, what was recorded kept beside the mappings)."""
    paid_on = date.fromisoformat(str((payment or {}).get("TxnDate") or date.today().isoformat())[:10])
    return ledger.reconcile(
        tenant_id,
        TARGET,
        txn_id,
        applied_now(payment),
        paid_on=paid_on,
        reference=f"{LABEL} payment {txn_id}",
        method=_method(payment or {}),
        platform=platform,
    )


def describe(txn_id: str, deleted: bool, outcome: Outcome) -> str:
    return ledger.describe(f"{LABEL} payment {txn_id}" + (" was deleted" if deleted else ""), outcome, LABEL)
