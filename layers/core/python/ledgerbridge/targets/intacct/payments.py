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

What was recorded lives beside the mappings (ledgerbridge.sync.payments, shared with every target), so a
rerun records nothing twice, and record_payment is itself idempotent by its reference. The cursor moves to a
payment's WHENMODIFIED only after the platform agrees with it: a crash re-reads that payment, never skips it.
The condition is `>=` the cursor, so a payment changed in the cursor's own second is read again, harmlessly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge.errors import PermanentError
from ledgerbridge.source import Platform
from ledgerbridge.state import cursors, synclog
from ledgerbridge.sync import payments as ledger
from ledgerbridge.sync.payments import Outcome
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


@dataclass
class RunResult:
    payments: int = 0
    recorded: int = 0
    reversed: int = 0
    failed: int = 0
    cursor: str = ""


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
    """Make the platform agree with one Intacct payment (ledgerbridge.sync.payments)."""
    key = str(payment["RECORDNO"])
    received = str(payment.get("RECEIPTDATE") or "")
    return ledger.reconcile(
        tenant_id,
        TARGET,
        key,
        applications(payment, details),
        paid_on=datetime.strptime(received, "%m/%d/%Y").date() if received else date.today(),
        reference=f"Intacct payment {key}",
        method=method_of(payment),
        platform=platform,
    )


def _when(payment: dict[str, Any]) -> datetime:
    return datetime.strptime(str(payment["WHENMODIFIED"]), "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC)


def _describe(key: str, payment: dict[str, Any], outcome: Outcome) -> str:
    title = f"Intacct payment {key}" + (" was reversed" if payment.get("STATE") == REVERSED else "")
    return ledger.describe(title, outcome, "Intacct")


def _log(tenant_id: str, key: str, outcome: synclog.Outcome, message: str, target_id: str = "") -> None:
    synclog.write(synclog.LogEntry(tenant_id, TARGET, "payment", key, outcome, message, target_id))


def pull(tenant_id: str, target: IntacctTarget, key: str, platform: Platform) -> Pulled:
    """One payment (its ARPYMT RECORDNO), whatever the cursor says: a manual or replayed pull job."""
    found = target.query("ARPYMT", f"RECORDNO = {fn.quoted(key)}")
    if not found:
        return Pulled("skipped", f"Intacct has no payment {key}")
    details = target.query("ARPYMTDETAIL", f"PAYMENTKEY = {fn.quoted(key)}")
    outcome = reconcile(tenant_id, found[0], details, platform)
    ids = ",".join(a.platform_payment_id for a in outcome.recorded)
    return Pulled("recorded" if outcome.changed else "skipped", _describe(key, found[0], outcome), ids)


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
            if outcome.changed or outcome.unmapped:
                ids = ",".join(a.platform_payment_id for a in outcome.recorded)
                _log(
                    tenant_id, key, "recorded" if outcome.changed else "skipped", _describe(key, payment, outcome), ids
                )
            result.recorded += len(outcome.recorded)
            result.reversed += len(outcome.reversed)
        result.payments += 1
        result.cursor = _when(payment).isoformat()
        cursors.advance(tenant_id, CURSOR, result.cursor)
    return result
