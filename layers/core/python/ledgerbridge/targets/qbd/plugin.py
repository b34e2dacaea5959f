"""QuickBooks Desktop as a plug-in (ledgerbridge.targets.base.Plugin): the registry's "qbd".

QuickBooks Desktop is written only inside a Web Connector session (service.py), never from a sync consumer,
so this target's record-level Target answers from what LedgerBridge knows (its mappings) for dry runs, and
refuses synchronous writes: the qbd consumer puts each job's Write, prepared by the sync engine, in the outbox
instead (jobs.py), and the session settles it through the same engine (Engine.finish / Engine.reject). The
console's Overview card reads the last Web Connector session (console.py); its reconciliation asks the next
session for the period's invoices (ledger.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledgerbridge.errors import PermanentError
from ledgerbridge.records import Customer, Invoice, Location
from ledgerbridge.source import Platform
from ledgerbridge.sync.engine import Engine
from ledgerbridge.targets.base import Plugin, TargetRecord
from ledgerbridge.targets.qbd import documents
from ledgerbridge.targets.qbd.console import summary
from ledgerbridge.targets.qbd.ledger import QbdLedger
from ledgerbridge.targets.qbd.qwc import WebConnectorFile
from ledgerbridge.targets.qbd.settings import QbdSettings
from ledgerbridge.tenants import MappingSettings, Tenant


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


def _flat(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _flat(item, f"{path}.{key}" if path else key).items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _flat(item, f"{path}[{i}]").items()}
    return {path: value}


class QbdDocuments:
    """Canonical records -> qbXML-ready documents (documents.py); references are FullNames."""

    def customer(self, customer: Customer, settings: MappingSettings) -> dict[str, Any]:
        return documents.customer(customer)

    def sub_customer(
        self, customer: Customer, location: Location, parent_id: str, settings: MappingSettings
    ) -> dict[str, Any]:
        return documents.job(customer, location)

    def invoice(self, invoice: Invoice, customer_id: str, settings: MappingSettings) -> dict[str, Any]:
        return documents.invoice(invoice, customer_id, settings)

    def diff(self, current: dict[str, Any], new: dict[str, Any]) -> list[Any]:
        old, now = _flat(current), _flat(new)
        return [
            FieldChange(p, old.get(p), now.get(p)) for p in sorted(old.keys() | now.keys()) if old.get(p) != now.get(p)
        ]


@dataclass
class QbdTarget:
    tenant_id: str
    name: str = "qbd"

    @classmethod
    def for_tenant(cls, tenant: Tenant) -> QbdTarget:
        return cls(tenant.tenant_id)

    def natural_key(self, entity: str, document: dict[str, Any]) -> str:
        return str(document["ref_number"]) if entity == "invoice" else documents.full_name(document)

    def find(self, entity: str, natural_key: str) -> TargetRecord | None:
        return None  # looked up by the session itself, by RefNumber and ExternalGUID, before any add

    def read(self, entity: str, target_id: str) -> TargetRecord:
        return TargetRecord(target_id)

    def create(self, entity: str, document: dict[str, Any], request_id: str) -> TargetRecord:
        raise self._deferred()

    def update(self, entity: str, current: TargetRecord, document: dict[str, Any], request_id: str) -> TargetRecord:
        raise self._deferred()

    def _deferred(self) -> PermanentError:
        return PermanentError(
            "QuickBooks Desktop is written only by its Web Connector session", code="deferred",
            hint="send qbd jobs to the qbd sync queue, whose consumer fills the outbox",
        )  # fmt: skip


PLUGIN = Plugin(
    name="qbd",
    label="QuickBooks Desktop",
    settings=QbdSettings,
    documents=QbdDocuments(),
    open=QbdTarget.for_tenant,
    downloads=(WebConnectorFile(),),
    summary=summary,
    ledger=QbdLedger(),
)


def engine_for(tenant: Tenant, platform: Platform) -> Engine:
    """The sync engine over this target: the qbd consumer prepares writes with it, and a Web Connector session
    settles them with it (finish / reject), so QuickBooks Desktop has the exactly-once bookkeeping of every target."""
    return Engine(tenant, platform, PLUGIN.open(tenant), PLUGIN.documents, PLUGIN.label)
