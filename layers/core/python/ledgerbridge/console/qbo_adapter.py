"""The console's view of QuickBooks Online (ledgerbridge.console.targets.ConsoleTarget)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ledgerbridge.console.targets import ConnectionView, LedgerDocument
from ledgerbridge.sync.engine import plan_report
from ledgerbridge.targets.qbo import connect
from ledgerbridge.targets.qbo import connection as qbo_connection
from ledgerbridge.targets.qbo.plugin import PLUGIN
from ledgerbridge.targets.qbo.target import QboTarget
from ledgerbridge.tenants import Tenant
from ledgerbridge.wiring import engine_for


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


class QboConsole:
    name = "qbo"
    label = "QuickBooks Online"

    def connection(self, tenant: Tenant) -> ConnectionView:
        found = qbo_connection.load(tenant.tenant_id)
        if found is None or found.status == "disconnected":
            return ConnectionView(self.name, self.label, "not_connected", "not connected", "Connect")
        if found.status == "reconnect_required":
            why = f": {found.reason}" if found.reason else ""
            return ConnectionView(self.name, self.label, "attention", f"reconnect needed{why}", "Reconnect")
        return ConnectionView(
            self.name,
            self.label,
            "connected",
            f"connected to company {found.realm_id} since {found.connected_at[:10]}",
        )

    def connect_url(self, tenant: Tenant, origin: str) -> str:
        return connect.begin(tenant.tenant_id, origin + connect.CALLBACK_PATH)

    def ledger_invoices(self, tenant: Tenant, first: date, last: date) -> list[LedgerDocument]:
        client = QboTarget.for_tenant(tenant).client
        # Dates are date objects rendered by isoformat(): nothing user-typed reaches the query text.
        between = f"TxnDate >= '{first.isoformat()}' and TxnDate <= '{last.isoformat()}'"
        rows = client.query("select * from Invoice where " + between)  # noqa: S608
        return [ledger_document(row) for row in rows]

    def dry_run(self, tenant: Tenant, invoice_ids: list[str]) -> list[dict[str, Any]]:
        return plan_report(engine_for(tenant, PLUGIN), "invoice", invoice_ids)
