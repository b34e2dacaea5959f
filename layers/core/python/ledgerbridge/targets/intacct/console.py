"""Sage Intacct as the console shows it: the connection card and the ledger's invoices of a period.

Connection. Intacct has no consent screen: a tenant is connected when its stored credentials sign in. The card
says whether credentials are stored, and the outcome of the last sign-in check (getAPISession) with its time.
The check is recorded here and redone when it is older than CHECK_EVERY_S, so opening the Overview does not
cost an API transaction each time (Intacct counts them per company).

Ledger. The period's invoices are found with readByQuery (WHENCREATED within the period, record numbers only),
then read by record number (`read`, which returns the lines): the sales-tax line is the one posted to the
tenant's `tax_gl_account`. An invoice voided in Intacct is reversed: its STATE is "Reversed".
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ledgerbridge import secrets
from ledgerbridge.errors import NotFound
from ledgerbridge.state import keys
from ledgerbridge.state.table import get, state
from ledgerbridge.targets.base import LedgerDocument, LedgerReading, TargetSummary
from ledgerbridge.targets.intacct import functions as fn
from ledgerbridge.targets.intacct.client import IntacctError
from ledgerbridge.targets.intacct.connection import REQUIRED, check, client_for, secret_of, settings_of
from ledgerbridge.targets.intacct.wire import mdy
from ledgerbridge.tenants import Tenant

CHECK_EVERY_S = 3600
READ_KEYS = 100  # record numbers per `read`
VOIDED_STATES = frozenset({"Reversed"})


def _check_key(tenant_id: str) -> dict[str, str]:
    return keys.connection_check(tenant_id, "intacct")


def last_check(tenant: Tenant, now: datetime) -> dict[str, Any]:
    """The latest sign-in check (ok, problem, message, correction, company, at), redone when stale."""
    key = _check_key(tenant.tenant_id)
    found = get(key["pk"], key["sk"])
    if found is not None and now.timestamp() - float(found.get("epoch", 0)) < CHECK_EVERY_S:
        return found
    result = check(tenant)
    item = {
        **key,
        "ok": result.ok,
        "problem": result.problem,
        "message": result.message,
        "correction": result.correction,
        "company": settings_of(tenant).company_id,
        "at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "epoch": int(now.timestamp()),
    }
    state().put_item(Item=item)
    return item


def _stored(tenant: Tenant) -> list[str]:
    """The credential fields missing from the tenant's secret (all of them when there is no secret)."""
    try:
        values = secrets.read_json(secret_of(tenant))
    except NotFound:
        return list(REQUIRED)
    return [k for k in REQUIRED if not str(values.get(k) or "").strip()]


def summary(tenant: Tenant, now: datetime | None = None) -> TargetSummary:
    missing = _stored(tenant)
    if missing:
        return TargetSummary(
            "not_connected",
            f"no Intacct credentials stored (missing {', '.join(missing)})",
            (("What to fix", f"store {', '.join(REQUIRED)} in the secret {secret_of(tenant)}"),),
        )
    checked = last_check(tenant, now or datetime.now(UTC))
    company = str(client_for(tenant).credentials.company_id)
    facts = [("Company", company), ("Credentials", "stored"), ("Sign-in checked", f"{str(checked['at'])[:16]}Z")]
    if checked["ok"]:
        return TargetSummary("connected", f"signed in to Intacct company {company}", tuple(facts))
    facts.append(("What to fix", str(checked["correction"])))
    return TargetSummary("attention", f"sign-in refused ({checked['problem']}): {checked['message']}", tuple(facts))


def _money(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0"))


def ledger_document(record: dict[str, Any], tax_account: str) -> LedgerDocument:
    lines = fn.invoice_lines(record)
    tax = sum((_money(i.get("AMOUNT")) for i in lines if tax_account and i.get("ACCOUNTNO") == tax_account), Decimal(0))
    return LedgerDocument(
        target_id=str(record.get("RECORDNO", "")),
        number=str(record.get("RECORDID") or ""),
        customer=str(record.get("CUSTOMERNAME") or record.get("CUSTOMERID") or ""),
        total=_money(record.get("TOTALENTERED")),
        tax=tax,
        balance=_money(record.get("TOTALDUE")),
        voided=str(record.get("STATE") or "") in VOIDED_STATES,
    )


class IntacctLedger:
    def invoices(self, tenant: Tenant, first: date, last: date) -> LedgerReading:
        client = client_for(tenant)
        # Dates are date objects in Intacct's MM/DD/YYYY: nothing user-typed reaches the query text.
        query = f"WHENCREATED >= '{mdy(first)}' AND WHENCREATED <= '{mdy(last)}'"
        result = client.call_one(fn.read_by_query("ARINVOICE", query, "period", "RECORDNO"), unique=False)
        numbers: list[str] = []
        while True:
            if not result.ok:
                raise IntacctError("reading ARINVOICE", result.errors)
            numbers += [str(r["RECORDNO"]) for r in result.records if r.get("RECORDNO")]
            if result.numremaining <= 0 or not result.result_id:
                break
            result = client.call_one(fn.read_more(result.result_id, "more"), unique=False)
        tax_account = settings_of(tenant).tax_gl_account
        documents = []
        for start in range(0, len(numbers), READ_KEYS):
            chunk = numbers[start : start + READ_KEYS]
            read = client.call_one(fn.read("ARINVOICE", chunk, "read"), unique=False)
            if not read.ok:
                raise IntacctError("reading ARINVOICE by record number", read.errors)
            documents += [ledger_document(r, tax_account) for r in read.records]
        return LedgerReading(documents)
