"""The QuickBooks Desktop ledger for the console's reconciliation: a query queued for the next session.

QuickBooks Desktop cannot be called; it is read only while its Web Connector runs a session. So the console
asks (`request`: one outstanding period per tenant, the latest wins), the next session sends an InvoiceQuery
for that period after its writes and payments (session.py), and its answer is kept here as a reading with the
time QuickBooks gave it. The reconciliation shows the latest reading of the period "as of" that session and
asks for a fresh one when it is older than REFRESH_AFTER_S: a bookkeeper sees the books as QuickBooks reported
them, never LedgerBridge's own memory of what it wrote.

Voided invoices: QuickBooks zeroes their amounts and starts the memo with "VOID:".
"""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from ledgerbridge.state import keys
from ledgerbridge.state.table import get, is_conditional_failure, state
from ledgerbridge.targets.base import LedgerDocument, LedgerReading
from ledgerbridge.targets.qbd import tickets
from ledgerbridge.tenants import Tenant

REFRESH_AFTER_S = 3600
KEEP_S = 40 * 24 * 3600  # a reading outlives a month's close


def _request_key(tenant_id: str) -> dict[str, str]:
    return keys.ledger_request(tenant_id, "qbd")


def _pk(tenant_id: str, first: str, last: str) -> str:
    return keys.ledger_pk(tenant_id, "qbd", first, last)


def request(tenant_id: str, first: date, last: date) -> None:
    state().put_item(
        Item={**_request_key(tenant_id), "first": first.isoformat(), "last": last.isoformat(), "at": _now()}
    )


def requested(tenant_id: str) -> tuple[str, str] | None:
    """The period the console is waiting for, if any (a session's authenticate asks)."""
    item = get(*_request_key(tenant_id).values())
    return (str(item["first"]), str(item["last"])) if item is not None else None


def _row(ret: dict[str, Any]) -> dict[str, str]:
    return {
        "id": str(ret.get("TxnID", "")),
        "number": str(ret.get("RefNumber", "")),
        "customer": str((ret.get("CustomerRef") or {}).get("FullName", "")),
        "subtotal": str(ret.get("Subtotal") or "0"),
        "tax": str(ret.get("SalesTaxTotal") or "0"),
        "balance": str(ret.get("BalanceRemaining") or "0"),
        "memo": str(ret.get("Memo") or ""),
        "version": str(ret.get("EditSequence", "")),
    }


def store(tenant_id: str, span: dict[str, Any], rets: list[dict[str, Any]], final: bool) -> None:
    """One page of a session's answer; the last page makes the reading current and ends the request."""
    pk, reading = _pk(tenant_id, span["first"], span["last"]), str(span["id"])
    expires = int(time.time() + KEEP_S)
    rows = json.dumps([_row(r) for r in rets])
    state().put_item(Item={"pk": pk, "sk": f"PAGE#{reading}#{span['page']:05d}", "rows": rows, "ttl": expires})
    if not final:
        return
    state().put_item(Item={"pk": pk, "sk": "READING", "id": reading, "pages": span["page"], "at": _now(),
                           "ttl": expires})  # fmt: skip
    try:
        state().delete_item(
            Key=_request_key(tenant_id),
            ConditionExpression="#f = :f AND #l = :l",
            ExpressionAttributeNames={"#f": "first", "#l": "last"},
            ExpressionAttributeValues={":f": span["first"], ":l": span["last"]},
        )
    except ClientError as exc:
        if not is_conditional_failure(exc):  # another period was asked for meanwhile: it stays asked
            raise


def document(row: dict[str, str]) -> LedgerDocument:
    tax = Decimal(row["tax"])
    return LedgerDocument(
        target_id=row["id"],
        number=row["number"],
        customer=row["customer"],
        total=Decimal(row["subtotal"]) + tax,  # QuickBooks' Subtotal is before sales tax
        tax=tax,
        balance=Decimal(row["balance"]),
        voided=row["memo"].upper().startswith("VOID:"),
        version=row["version"],
    )


def reading(tenant_id: str, first: date, last: date) -> tuple[str, list[LedgerDocument]] | None:
    """(when QuickBooks answered, its invoices) of the latest reading of the period; None if none yet."""
    pk = _pk(tenant_id, first.isoformat(), last.isoformat())
    head = get(pk, "READING")
    if head is None:
        return None
    documents = []
    for page in range(1, int(head["pages"]) + 1):
        item = get(pk, f"PAGE#{head['id']}#{page:05d}")
        documents += [document(row) for row in json.loads(str(item["rows"]))] if item is not None else []
    return str(head["at"]), documents


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _next_session(tenant_id: str) -> str:
    last = tickets.last(tenant_id)
    when = f" (its last session started {last.started[:16]}Z)" if last is not None and last.started else ""
    return f"the next time the Web Connector runs{when}"


class QbdLedger:
    def invoices(self, tenant: Tenant, first: date, last: date) -> LedgerReading:
        found = reading(tenant.tenant_id, first, last)
        if found is None:
            request(tenant.tenant_id, first, last)
            return LedgerReading(
                [],
                pending=True,
                note="QuickBooks Desktop is read only while its Web Connector runs: the invoices of this period "
                f"were requested and arrive {_next_session(tenant.tenant_id)}. Reload this page after that.",
            )
        at, documents = found
        note = "As QuickBooks Desktop reported them in a Web Connector session."
        age = datetime.now(UTC) - datetime.fromisoformat(at)
        if age.total_seconds() > REFRESH_AFTER_S:
            request(tenant.tenant_id, first, last)
            note += f" A fresh copy was requested for {_next_session(tenant.tenant_id)}."
        return LedgerReading(documents, as_of=at, note=note)
