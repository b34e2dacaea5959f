"""Payments flowing back, for every target alike: make the platform agree with what one payment of the
accounting system applies to its invoices now.

A target works out, from its own payment record, the amount applied to each of its invoices now (nothing when
the payment was deleted, voided or reversed); reconcile compares that with what this payment put on the
platform before and changes only the difference:

  applied now, not recorded      -> platform.record_payment (the platform marks an invoice paid when it is)
  recorded, no longer applied    -> platform.reverse_payment
  recorded with another amount   -> reverse, then record the new amount

Reversals go first, so an amount that moves between invoices never trips the platform's balance check. What
was recorded lives beside the mappings (state.keys.payment_applied: per target payment and target invoice,
the platform invoice, platform payment and amount), so running it twice records nothing twice; the platform's
record_payment is itself idempotent by (reference, amount), which heals a crash between its write and ours.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Protocol

from ledgerbridge.errors import NotFound
from ledgerbridge.state import keys, mappings
from ledgerbridge.state.table import query, state


class PaymentPlatform(Protocol):
    """What payments need from the field-service platform (ledgerbridge.source.servicetrade)."""

    def record_payment(self, invoice_id: str, amount: Decimal, paid_on: date, reference: str, method: str) -> str: ...
    def reverse_payment(self, payment_id: str) -> None: ...


@dataclass(frozen=True)
class Applied:
    target_invoice_id: str
    platform_invoice_id: str
    platform_payment_id: str
    amount: Decimal


@dataclass
class Outcome:
    recorded: list[Applied] = field(default_factory=list)
    reversed: list[Applied] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)  # target invoices LedgerBridge never pushed

    @property
    def changed(self) -> bool:
        return bool(self.recorded or self.reversed)


def recorded(tenant_id: str, target: str, payment_id: str) -> dict[str, Applied]:
    """Target invoice id -> what this target payment has put on the platform so far."""
    return {
        str(i["target_invoice_id"]): Applied(
            str(i["target_invoice_id"]),
            str(i["platform_invoice_id"]),
            str(i["platform_payment_id"]),
            Decimal(i["amount"]),
        )
        for i in query(keys.payments_pk(tenant_id, target), keys.applied_prefix(payment_id))
    }


def reconcile(
    tenant_id: str,
    target: str,
    payment_id: str,
    applied_now: dict[str, Decimal],
    *,
    paid_on: date,
    reference: str,
    method: str,
    platform: PaymentPlatform,
) -> Outcome:
    """Make the platform agree with `applied_now` (target invoice id -> amount) for one target payment."""
    before = recorded(tenant_id, target, payment_id)
    outcome = Outcome()
    for invoice_id, applied in before.items():
        if applied_now.get(invoice_id) == applied.amount:
            continue
        with contextlib.suppress(NotFound):  # already reversed (by an earlier attempt, or on the platform)
            platform.reverse_payment(applied.platform_payment_id)
        state().delete_item(Key=keys.payment_applied(tenant_id, target, payment_id, invoice_id))
        outcome.reversed.append(applied)
    for invoice_id, amount in applied_now.items():
        if invoice_id in before and before[invoice_id].amount == amount:
            continue
        platform_invoice = mappings.find_by_target(tenant_id, target, "invoice", invoice_id)
        if platform_invoice is None:
            outcome.unmapped.append(invoice_id)
            continue
        platform_payment = platform.record_payment(platform_invoice, amount, paid_on, reference, method)
        applied = Applied(invoice_id, platform_invoice, platform_payment, amount)
        state().put_item(
            Item={
                **keys.payment_applied(tenant_id, target, payment_id, invoice_id),
                "target_invoice_id": invoice_id,
                "platform_invoice_id": platform_invoice,
                "platform_payment_id": platform_payment,
                "amount": str(amount),
            }
        )
        outcome.recorded.append(applied)
    return outcome


def describe(title: str, outcome: Outcome, label: str) -> str:
    """The sync log's line for one reconciled payment; `label` is the target's (its plug-in's label)."""
    parts = [title]
    parts += [
        f"recorded {a.amount} on invoice {a.platform_invoice_id} ({a.platform_payment_id})" for a in outcome.recorded
    ]
    parts += [
        f"reversed {a.amount} on invoice {a.platform_invoice_id} ({a.platform_payment_id})" for a in outcome.reversed
    ]
    if outcome.unmapped:
        parts.append(f"{label} invoices not synced by LedgerBridge: {', '.join(outcome.unmapped)}")
    if not (outcome.recorded or outcome.reversed or outcome.unmapped):
        parts.append("nothing to change")
    return "; ".join(parts)
