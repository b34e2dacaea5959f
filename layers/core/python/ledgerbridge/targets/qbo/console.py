"""QuickBooks Online as the console shows it: the connection card and the ledger's invoices of a period."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.targets.base import LedgerDocument, LedgerReading, TargetSummary
from ledgerbridge.targets.qbo import connect
from ledgerbridge.targets.qbo.target import QboTarget
from ledgerbridge.tenants import Tenant


def summary(tenant: Tenant) -> TargetSummary:
    """Connected to which company, or what to do: Connect, or Reconnect with the reason (a revoked grant, an
    expired refresh token)."""
    found = connect.status(tenant.tenant_id)
    if found.status == "disconnected":
        why = f" ({found.reason})" if found.reason else ""
        return TargetSummary("not_connected", f"not connected{why}", connect_label="Connect")
    if found.status == "reconnect_required":
        why = f": {found.reason}" if found.reason else ""
        return TargetSummary("attention", f"reconnect needed{why}", connect_label="Reconnect")
    facts = [("Company (realm)", found.realm_id), ("Connected since", found.connected_at[:16] + "Z")]
    if found.refresh_token_expires_at:
        facts.append(("Consent lasts until", found.refresh_token_expires_at[:10]))
    return TargetSummary("connected", f"connected to company {found.realm_id}", tuple(facts))


def _money(value: Any) -> Decimal:
    return Decimal(str(value if value not in (None, "") else "0"))


def ledger_document(doc: dict[str, Any]) -> LedgerDocument:
    """A QBO Invoice as the console compares it. A voided invoice keeps its number with amounts zeroed and
    "Voided" in PrivateNote (Intuit, Invoice: void an invoice)."""
    return LedgerDocument(
        target_id=str(doc["Id"]),
        number=str(doc.get("DocNumber") or ""),
        customer=str((doc.get("CustomerRef") or {}).get("name") or ""),
        total=_money(doc.get("TotalAmt")),
        tax=_money((doc.get("TxnTaxDetail") or {}).get("TotalTax")),
        balance=_money(doc.get("Balance")),
        voided=str(doc.get("PrivateNote") or "").startswith("Voided"),
        version=str(doc.get("SyncToken") or ""),
    )


class QboLedger:
    """One query `select * from Invoice where TxnDate >= ... and TxnDate <= ...`, paged by the client."""

    def invoices(self, tenant: Tenant, first: date, last: date) -> LedgerReading:
        client = QboTarget.for_tenant(tenant).client
        # Dates are date objects rendered by isoformat(): nothing user-typed reaches the query text.
        between = f"TxnDate >= '{first.isoformat()}' and TxnDate <= '{last.isoformat()}'"
        rows = client.query("select * from Invoice where " + between)  # noqa: S608
        return LedgerReading([ledger_document(row) for row in rows])
