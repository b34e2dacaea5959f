"""Payments back: Intacct AR payments (ARPYMT) applied to invoices LedgerBridge pushed -> payments on the
platform invoices, since a cursor.

An ARPYMT is a header plus ARPYMTDETAIL lines naming the invoice (RECORDKEY) and the amount applied
(TRX_PAYMENTAMOUNT) (https://developer.intacct.com/api/accounts-receivable/ar-payments). A run reads the
payments modified since the tenant's cursor (readByQuery on WHENMODIFIED, paged with readMore), oldest
first, and makes the platform agree with each payment as it is now:

  applied now, not recorded      -> platform.record_payment (the platform marks the invoice paid when it is;
                                    a smaller amount leaves it partly paid)
  recorded, no longer applied    -> platform.reverse_payment (a reversed payment, STATE V, applies nothing)
  recorded with another amount   -> reverse, then record the new amount

What was recorded lives beside the mappings (TENANT#{t}#MAP#intacct | payment#{ARPYMT}#{ARINVOICE}), so a
rerun records nothing twice, and record_payment is itself idempotent by its reference. The cursor moves to a
payment's WHENMODIFIED only after the platform agrees with it: a crash re-reads that payment, never skips it.
The condition is `>=` the cursor, so a payment changed in the cursor's own second is read again, harmlessly.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.errors import NotFound, PermanentError
from ledgerbridge.source import Platform
from ledgerbridge.state import cursors, mappings, synclog
from ledgerbridge.state.table import query, state
from ledgerbridge.targets.base import Pulled
from ledgerbridge.targets.intacct import functions as fn
from ledgerbridge.targets.intacct.target import IntacctTarget

TARGET = "intacct"
CURSOR = "intacct-payments"  # IntacctTarget.cursor_name
REVERSED = "V"  # ARPYMT STATE of a reversed (voided) payment
CENT = Decimal("0.01")
METHODS = (("check", "check"), ("cheque", "check"), ("credit", "credit_card"), ("card", "credit_card"),
           ("eft", "ach"), ("ach", "ach"), ("cash", "cash"))  # fmt: skip
FIRST_RUN = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Applied:
    invoice_key: str  # ARINVOICE RECORDNO
    platform_invoice_id: str
    platform_payment_id: str
    amount: Decimal


@dataclass
class Outcome:
    recorded: list[Applied] = field(default_factory=list)
    reversed: list[Applied] = field(default_factory=list)
    unmapped: list[str] = field(default_factory=list)


@dataclass
class RunResult:
    payments: int = 0
    recorded: int = 0
    reversed: int = 0
    failed: int = 0
    cursor: str = ""


def _pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#MAP#{TARGET}"


def recorded(tenant_id: str, payment_key: str) -> dict[str, Applied]:
    return {
        str(i["invoice_key"]): Applied(
            str(i["invoice_key"]), str(i["platform_invoice_id"]), str(i["platform_payment_id"]), Decimal(i["amount"])
        )
        for i in query(_pk(tenant_id), f"payment#{payment_key}#")
    }


def _remember(tenant_id: str, payment_key: str, applied: Applied) -> None:
    state().put_item(
        Item={
            "pk": _pk(tenant_id),
            "sk": f"payment#{payment_key}#{applied.invoice_key}",
            "invoice_key": applied.invoice_key,
            "platform_invoice_id": applied.platform_invoice_id,
            "platform_payment_id": applied.platform_payment_id,
            "amount": str(applied.amount),
        }
    )


def _forget(tenant_id: str, payment_key: str, invoice_key: str) -> None:
    state().delete_item(Key={"pk": _pk(tenant_id), "sk": f"payment#{payment_key}#{invoice_key}"})


def applications(payment: dict[str, Any], details: list[dict[str, Any]]) -> dict[str, Decimal]:
    """ARINVOICE RECORDNO -> amount the payment applies to it now (nothing once reversed)."""
    if payment.get("STATE") == REVERSED:
        return {}
    out: dict[str, Decimal] = defaultdict(Decimal)
    for detail in details:
        if detail.get("RECORDKEY"):
            out[str(detail["RECORDKEY"])] += Decimal(str(detail.get("TRX_PAYMENTAMOUNT") or "0"))
    return {k: v.quantize(CENT) for k, v in out.items() if v > 0}


def method_of(payment: dict[str, Any]) -> str:
    name = str(payment.get("PAYMENTMETHOD") or "").casefold()
    return next((method for word, method in METHODS if word in name), "check")


def reconcile(tenant_id: str, payment: dict[str, Any], details: list[dict[str, Any]], platform: Platform) -> Outcome:
    """Make the platform agree with one Intacct payment. Reversals first, so an amount moving between
    invoices never trips the platform's balance check."""
    key = str(payment["RECORDNO"])
    now, before, outcome = applications(payment, details), recorded(tenant_id, key), Outcome()
    for invoice_key, applied in before.items():
        if now.get(invoice_key) == applied.amount:
            continue
        with contextlib.suppress(NotFound):  # already reversed by an earlier attempt, or on the platform
            platform.reverse_payment(applied.platform_payment_id)
        _forget(tenant_id, key, invoice_key)
        outcome.reversed.append(applied)
    received = str(payment.get("RECEIPTDATE") or "")
    paid_on = datetime.strptime(received, "%m/%d/%Y").date() if received else date.today()
    for invoice_key, amount in now.items():
        if invoice_key in before and before[invoice_key].amount == amount:
            continue
        platform_invoice = mappings.find_by_target(tenant_id, TARGET, "invoice", invoice_key)
        if platform_invoice is None:
            outcome.unmapped.append(invoice_key)
            continue
        platform_payment = platform.record_payment(
            platform_invoice, amount, paid_on, f"Intacct payment {key}", method_of(payment)
        )
        applied = Applied(invoice_key, platform_invoice, platform_payment, amount)
        _remember(tenant_id, key, applied)
        outcome.recorded.append(applied)
    return outcome


def _when(payment: dict[str, Any]) -> datetime:
    return datetime.strptime(str(payment["WHENMODIFIED"]), "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)


def _describe(key: str, payment: dict[str, Any], outcome: Outcome) -> str:
    parts = [f"Intacct payment {key}" + (" was reversed" if payment.get("STATE") == REVERSED else "")]
    parts += [f"recorded {a.amount} on invoice {a.platform_invoice_id}" for a in outcome.recorded]
    parts += [f"reversed {a.amount} on invoice {a.platform_invoice_id}" for a in outcome.reversed]
    if outcome.unmapped:
        parts.append(f"Intacct invoices not synced by LedgerBridge: {', '.join(outcome.unmapped)}")
    if not (outcome.recorded or outcome.reversed or outcome.unmapped):
        parts.append("nothing to change")
    return "; ".join(parts)


def _log(tenant_id: str, key: str, outcome: synclog.Outcome, message: str, target_id: str = "") -> None:
    synclog.write(synclog.LogEntry(tenant_id, TARGET, "payment", key, outcome, message, target_id))


def pull(tenant_id: str, target: IntacctTarget, key: str, platform: Platform) -> Pulled:
    """One payment (its ARPYMT RECORDNO), whatever the cursor says: a manual or replayed pull job."""
    found = target.query("ARPYMT", f"RECORDNO = {fn.quoted(key)}")
    if not found:
        return Pulled("skipped", f"Intacct has no payment {key}")
    details = target.query("ARPYMTDETAIL", f"PAYMENTKEY = {fn.quoted(key)}")
    outcome = reconcile(tenant_id, found[0], details, platform)
    changed = bool(outcome.recorded or outcome.reversed)
    ids = ",".join(a.platform_payment_id for a in outcome.recorded)
    return Pulled("recorded" if changed else "skipped", _describe(key, found[0], outcome), ids)


def sync_payments(tenant_id: str, target: IntacctTarget, platform: Platform, since: str | None) -> RunResult:
    """One scheduled run: every payment modified since the cursor, oldest first (see the module docstring)."""
    start = datetime.fromisoformat(since) if since else FIRST_RUN
    condition = f"WHENMODIFIED >= {fn.quoted(start.strftime('%m/%d/%Y %H:%M:%S'))}"
    payments = sorted(target.query("ARPYMT", condition), key=lambda p: (_when(p), int(p["RECORDNO"])))
    details: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for chunk in range(0, len(payments), 100):
        keys = [str(p["RECORDNO"]) for p in payments[chunk : chunk + 100]]
        for detail in target.query("ARPYMTDETAIL", f"PAYMENTKEY IN ({', '.join(fn.quoted(k) for k in keys)})"):
            details[str(detail["PAYMENTKEY"])].append(detail)
    result = RunResult(cursor=since or "")
    for payment in payments:
        key = str(payment["RECORDNO"])
        try:
            outcome = reconcile(tenant_id, payment, details[key], platform)
        except PermanentError as exc:  # recorded once, not retried forever: the cursor moves past it
            result.failed += 1
            _log(
                tenant_id, key, "failed", f"Intacct payment {key}: {exc}" + (f" (code {exc.code})" if exc.code else "")
            )
        else:
            changed = bool(outcome.recorded or outcome.reversed)
            if changed or outcome.unmapped:
                ids = ",".join(a.platform_payment_id for a in outcome.recorded)
                _log(tenant_id, key, "recorded" if changed else "skipped", _describe(key, payment, outcome), ids)
            result.recorded += len(outcome.recorded)
            result.reversed += len(outcome.reversed)
        result.payments += 1
        result.cursor = _when(payment).isoformat()
        cursors.advance(tenant_id, CURSOR, result.cursor)
    return result
