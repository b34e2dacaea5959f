"""What the console needs from one accounting target, and where to find the adapter of each.

Generic console code speaks only this interface; each target implements it in one adapter module. The
table below is the console's only list of targets, and moves onto the target registry (targets/registry.py)
when that exists. A target without an adapter still shows on the Overview, from its sync log."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal, Protocol

from ledgerbridge.state import synclog
from ledgerbridge.tenants import Tenant

State = Literal["connected", "attention", "not_connected", "unknown"]
ADAPTERS = {"qbo": "ledgerbridge.console.qbo_adapter:QboConsole"}
LABELS = {"qbo": "QuickBooks Online", "qbd": "QuickBooks Desktop", "intacct": "Sage Intacct"}


@dataclass(frozen=True)
class ConnectionView:
    target: str
    label: str
    state: State
    detail: str
    connect_label: str = ""  # "Connect" / "Reconnect" when the target connects through the console


@dataclass(frozen=True)
class LedgerDocument:
    """An invoice as the ledger holds it."""

    target_id: str
    number: str
    customer: str
    total: Decimal
    tax: Decimal
    balance: Decimal
    voided: bool = False
    version: str = ""  # the target's concurrency token (QBO SyncToken): changes on every edit


class ConsoleTarget(Protocol):
    name: str
    label: str

    def connection(self, tenant: Tenant) -> ConnectionView: ...

    def connect_url(self, tenant: Tenant, origin: str) -> str:
        """Where the Connect button sends the browser (the target's consent screen); `origin` is this API's
        base URL (scheme, host and stage), for the target's callback route."""
        ...

    def ledger_invoices(self, tenant: Tenant, first: date, last: date) -> list[LedgerDocument]:
        """Every invoice the ledger dates first..last (inclusive)."""
        ...

    def dry_run(self, tenant: Tenant, invoice_ids: list[str]) -> list[dict[str, Any]]:
        """What a sync of these invoices would do now, with a field diff; writes nothing."""
        ...


class LogOnly:
    """A target the console has no adapter for yet: its state is its latest sync log entry."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.label = LABELS.get(name, name)

    def connection(self, tenant: Tenant) -> ConnectionView:
        page, _ = synclog.page(tenant.tenant_id, synclog.Filters(target=self.name), size=1)
        if not page:
            return ConnectionView(self.name, self.label, "unknown", "no activity yet")
        entry = page[0][1]
        state: State = "attention" if entry.outcome == "failed" else "connected"
        return ConnectionView(self.name, self.label, state, f"last activity {entry.at[:16]}Z: {entry.message}")

    def connect_url(self, tenant: Tenant, origin: str) -> str:
        raise LookupError(f"{self.label} is not connected through the console")

    def ledger_invoices(self, tenant: Tenant, first: date, last: date) -> list[LedgerDocument]:
        raise LookupError(f"reconciliation with {self.label} is not available yet")

    def dry_run(self, tenant: Tenant, invoice_ids: list[str]) -> list[dict[str, Any]]:
        raise LookupError(f"dry runs for {self.label} are not available yet")


def adapter(name: str) -> ConsoleTarget:
    path = ADAPTERS.get(name)
    if path is None:
        return LogOnly(name)
    module, _, attr = path.partition(":")
    built: ConsoleTarget = getattr(importlib.import_module(module), attr)()
    return built


def for_tenant(tenant: Tenant) -> list[ConsoleTarget]:
    """The adapters of the tenant's enabled integrations, in its configured order."""
    return [adapter(i.target) for i in tenant.integrations if i.enabled]


def find(tenant: Tenant, name: str) -> ConsoleTarget:
    """One of the tenant's targets by name; LookupError for any other (never another tenant's choice)."""
    for target in for_tenant(tenant):
        if target.name == name:
            return target
    raise LookupError(f"no {name!r} integration is set up for this account")
