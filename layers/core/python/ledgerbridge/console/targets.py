"""The tenant's accounting targets as the console sees them: through the registry's plug-ins only.

Each plug-in may offer what the console shows (targets/base.py): `summary` for the Overview card, `ledger` for
the reconciliation, `connection` for a Connect button. A target without a summary still shows on the Overview,
from its latest sync log entry; one without a ledger reader says reconciliation is not available."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ledgerbridge.errors import LedgerBridgeError
from ledgerbridge.state import synclog
from ledgerbridge.sync.engine import plan_report
from ledgerbridge.targets import registry
from ledgerbridge.targets.base import LedgerReading, Plugin, TargetSummary
from ledgerbridge.tenants import Tenant
from ledgerbridge.wiring import engine_for


@dataclass(frozen=True)
class ConnectionView:
    target: str
    label: str
    summary: TargetSummary


def from_log(tenant: Tenant, name: str) -> TargetSummary:
    """A target that has no summary of its own: its latest sync log entry."""
    page, _ = synclog.page(tenant.tenant_id, synclog.Filters(target=name), size=1)
    if not page:
        return TargetSummary("unknown", "no activity yet")
    entry = page[0][1]
    return TargetSummary(
        "attention" if entry.outcome == "failed" else "connected", f"last activity {entry.at[:16]}Z: {entry.message}"
    )


@dataclass(frozen=True)
class ConsoleTarget:
    """One of the tenant's integrations: its plug-in, or only its name while the target is not built."""

    name: str
    label: str
    plugin: Plugin | None

    def connection(self, tenant: Tenant) -> ConnectionView:
        """The target's card; a target that cannot say now gets an "unknown" card, never a broken Overview."""
        own = self.plugin.summary if self.plugin is not None else None
        try:
            summary = own(tenant) if own is not None else from_log(tenant, self.name)
        except LedgerBridgeError as exc:
            summary = TargetSummary("unknown", f"the connection could not be checked just now: {exc}")
        return ConnectionView(self.name, self.label, summary)

    def connect_url(self, tenant: Tenant, origin: str, return_to: str) -> str:
        """Where the Connect button sends the browser (the target's consent screen). `origin` is this API's
        base URL, for the target's callback route; `return_to` the console page the callback comes back to."""
        flow = self.plugin.connection if self.plugin is not None else None
        if flow is None:
            raise LookupError(f"{self.label} is not connected through the console")
        return flow.begin(tenant.tenant_id, f"{origin}/oauth/{self.name}/callback", return_to)

    def ledger_invoices(self, tenant: Tenant, first: date, last: date) -> LedgerReading:
        reader = self.plugin.ledger if self.plugin is not None else None
        if reader is None:
            raise LookupError(f"reconciliation with {self.label} is not available yet")
        return reader.invoices(tenant, first, last)

    def dry_run(self, tenant: Tenant, invoice_ids: list[str]) -> list[dict[str, Any]]:
        """What a sync of these invoices would do now, with a field diff; writes nothing."""
        if self.plugin is None:
            raise LookupError(f"dry runs for {self.label} are not available yet")
        return plan_report(engine_for(tenant, self.plugin), "invoice", invoice_ids)


def adapter(name: str) -> ConsoleTarget:
    plugin = registry.get(name)
    return ConsoleTarget(name, plugin.label if plugin is not None else name, plugin)


def for_tenant(tenant: Tenant) -> list[ConsoleTarget]:
    """The tenant's enabled integrations, in its configured order."""
    return [adapter(i.target) for i in tenant.integrations if i.enabled]


def find(tenant: Tenant, name: str) -> ConsoleTarget:
    """One of the tenant's targets by name; LookupError for any other (never another tenant's choice)."""
    for target in for_tenant(tenant):
        if target.name == name:
            return target
    raise LookupError(f"no {name!r} integration is set up for this account")
