"""Payments flowing back: a QBO Payment -> payments on the platform invoices it pays.

A pull job names a QBO Payment; it says nothing about what changed. So the job reconciles state instead of
replaying events: it reads the Payment as it is now (gone = deleted; a voided one has no lines and a zero
amount), works out what it applies to each QBO invoice (LinkedTxn), maps those invoices back to platform
invoices (the mapping's reverse lookup), and makes the platform agree with what it recorded before:

  applied now, not recorded      -> source.record_payment (the platform marks an invoice paid when it is)
  recorded, no longer applied    -> source.reverse_payment
  recorded with another amount   -> reverse, then record the new amount

What was recorded lives beside the mappings (ledgerbridge.sync.payments, shared with every target), so running
a job twice, or a webhook and a CDC job for the same change, records nothing twice; state.keys.payment_version
holds the version (SyncToken, or "deleted") the platform now agrees with, which the CDC catch-up compares
before enqueueing anything. record_payment is itself idempotent by (reference, amount) and the reference is
`QBO payment {id}`, so a crash between the platform's write and ours is healed on the retry.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.errors import PermanentError
from ledgerbridge.state import keys
from ledgerbridge.state.table import get, state
from ledgerbridge.sync import payments as ledger
from ledgerbridge.sync.payments import Outcome, PaymentPlatform
from ledgerbridge.targets.base import Pulled
from ledgerbridge.targets.qbo.client import QboClient
from ledgerbridge.targets.qbo.faults import QboPermanentError

CENT = Decimal("0.01")
TARGET = "qbo"
# The platform accepts a few fixed payment methods (ServiceTrade API: /payment; docs/servicetrade-double.md);
# QBO's are the company's own list, so they are matched by name. Anything else is recorded as a check
# (assumption; docs/qbo.md).
METHODS = (("visa", "credit_card"), ("master", "credit_card"), ("amex", "credit_card"), ("credit", "credit_card"),
           ("discover", "credit_card"), ("card", "credit_card"), ("ach", "ach"), ("eft", "ach"), ("bank", "ach"),
           ("transfer", "ach"), ("cash", "cash"), ("check", "check"), ("cheque", "check"))  # fmt: skip


def version_of(payment: dict[str, Any] | None) -> str:
    """Which state of a QBO payment a reconcile saw: its SyncToken (moves on every change), or "deleted"."""
    return (
        "deleted"
        if payment is None or str(payment.get("status", "")).lower() == "deleted"
        else str(payment.get("SyncToken", ""))
    )


def reconciled_version(tenant_id: str, payment_id: str) -> str | None:
    """The version the last pull job made the platform agree with (the catch-up skips payments already there)."""
    key = keys.payment_version(tenant_id, TARGET, payment_id)
    item = get(key["pk"], key["sk"])
    return None if item is None else str(item["version"])


def _mark(tenant_id: str, payment_id: str, version: str) -> None:
    state().put_item(Item={**keys.payment_version(tenant_id, TARGET, payment_id), "version": version})


def read_payment(client: QboClient, payment_id: str) -> dict[str, Any] | None:
    """The Payment as QBO has it now; None when it was deleted (QBO answers 610 Object Not Found)."""
    try:
        return client.read("Payment", payment_id)
    except QboPermanentError as exc:
        if exc.code == "610":
            return None
        raise


def applications(payment: dict[str, Any] | None) -> dict[str, Decimal]:
    """QBO invoice id -> amount this payment applies to it now (nothing when deleted or voided)."""
    out: dict[str, Decimal] = defaultdict(Decimal)
    for line in (payment or {}).get("Line") or []:
        for link in line.get("LinkedTxn") or []:
            if link.get("TxnType") == "Invoice" and link.get("TxnId"):
                out[str(link["TxnId"])] += Decimal(str(line.get("Amount", "0")))
    return {k: v.quantize(CENT) for k, v in out.items() if v > 0}


def method_of(payment: dict[str, Any]) -> str:
    name = str((payment.get("PaymentMethodRef") or {}).get("name") or "").casefold()
    return next((method for word, method in METHODS if word in name), "check")


def reconcile(tenant_id: str, payment_id: str, payment: dict[str, Any] | None, platform: PaymentPlatform) -> Outcome:
    """Make the platform agree with the QBO payment (ledgerbridge.sync.payments)."""
    paid_on = date.fromisoformat(str((payment or {}).get("TxnDate") or date.today().isoformat())[:10])
    return ledger.reconcile(
        tenant_id,
        TARGET,
        payment_id,
        applications(payment),
        paid_on=paid_on,
        reference=f"QBO payment {payment_id}",
        method=method_of(payment or {}),
        platform=platform,
    )


def pull(tenant_id: str, payment_id: str, client: QboClient, platform: PaymentPlatform) -> Pulled:
    """One pull job. TransientError propagates (SQS retries); a PermanentError is raised with the payment named,
    after marking this version as seen (it can't be applied; a newer one is tried)."""
    payment: dict[str, Any] | None = None
    try:
        payment = read_payment(client, payment_id)
        outcome = reconcile(tenant_id, payment_id, payment, platform)
    except PermanentError as exc:
        _mark(tenant_id, payment_id, version_of(payment))
        raise PermanentError(f"QBO payment {payment_id}: {exc}", code=exc.code, hint=exc.hint) from exc
    _mark(tenant_id, payment_id, version_of(payment))
    return Pulled(
        "recorded" if outcome.changed else "skipped",
        ledger.describe(f"QBO payment {payment_id}" + (" was deleted" if payment is None else ""), outcome, "QBO"),
        ",".join(a.platform_payment_id for a in outcome.recorded),
    )
