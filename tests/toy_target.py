"""A tiny accounting system, for tests only: the plug-in contract (ledgerbridge.targets.base) implemented in one
module, in memory, the way docs/adding-a-target.md says. Tests register it in the registry and drive it through
the generic code (runner, engine, batch path, pulls) without any of that code knowing it exists."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Literal

from ledgerbridge.errors import PermanentError, TransientError
from ledgerbridge.jobs import SyncJob
from ledgerbridge.records import Customer, Invoice, Location
from ledgerbridge.source import Platform
from ledgerbridge.targets.base import BatchTarget, Plugin, Pulled, Puller, TargetRecord, Write
from ledgerbridge.targets.settings import TargetSettings
from ledgerbridge.tenants import MappingSettings, Tenant


class ToySettings(TargetSettings):
    target: Literal["toy"] = "toy"


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any


class ToyDocuments:
    def customer(self, customer: Customer, settings: MappingSettings) -> dict[str, Any]:
        return {"name": customer.name}

    def sub_customer(
        self, customer: Customer, location: Location, parent_id: str, settings: MappingSettings
    ) -> dict[str, Any]:
        return {"name": f"{customer.name}: {location.name}", "parent": parent_id}

    def invoice(self, invoice: Invoice, customer_id: str, settings: MappingSettings) -> dict[str, Any]:
        return {"number": invoice.number, "customer": customer_id, "total": str(invoice.total), "memo": invoice.memo}

    def diff(self, current: dict[str, Any], new: dict[str, Any]) -> list[Any]:
        return [Change(k, current.get(k), v) for k, v in new.items() if current.get(k) != v]


@dataclass
class Ledger:
    """The toy system's books, with a little fault injection."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {entity, doc, version}
    seen_requests: dict[str, str] = field(default_factory=dict)  # request id -> id (its idempotency handle)
    lose_next_answers: int = 0  # writes that happen but whose answer is lost
    refuse_numbers: set[str] = field(default_factory=set)
    batches: int = 0
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)  # payment id -> {invoice id, amount}

    def of(self, entity: str) -> list[dict[str, Any]]:
        return [r["doc"] for r in self.records.values() if r["entity"] == entity]


LEDGER = Ledger()
KEYS = {"invoice": "number", "customer": "name"}


def _record(target_id: str) -> TargetRecord:
    stored = LEDGER.records[target_id]
    return TargetRecord(target_id, str(stored["version"]), dict(stored["doc"]))


class ToyTarget:
    name = "toy"
    batch_max = 3
    batch_workers = 1

    def natural_key(self, entity: str, document: dict[str, Any]) -> str:
        return str(document[KEYS[entity]])

    def find(self, entity: str, natural_key: str) -> TargetRecord | None:
        return self.find_many(entity, [natural_key]).get(natural_key.casefold())

    def read(self, entity: str, target_id: str) -> TargetRecord:
        return _record(target_id)

    def create(self, entity: str, document: dict[str, Any], request_id: str) -> TargetRecord:
        if request_id in LEDGER.seen_requests:
            return _record(LEDGER.seen_requests[request_id])
        if document.get("number") in LEDGER.refuse_numbers:
            raise PermanentError(f"number {document['number']} is closed", code="T-7", hint="reopen the period")
        target_id = f"T{len(LEDGER.records) + 1}"
        LEDGER.records[target_id] = {"entity": entity, "doc": dict(document), "version": 0}
        LEDGER.seen_requests[request_id] = target_id
        if LEDGER.lose_next_answers:
            LEDGER.lose_next_answers -= 1
            raise TransientError("the toy ledger's answer was lost")
        return _record(target_id)

    def update(self, entity: str, current: TargetRecord, document: dict[str, Any], request_id: str) -> TargetRecord:
        stored = LEDGER.records[current.target_id]
        stored["doc"], stored["version"] = dict(document), stored["version"] + 1
        return _record(current.target_id)

    # BatchWriter
    def batch_ready(self) -> bool:
        return True

    def find_many(self, entity: str, natural_keys: Sequence[str]) -> dict[str, TargetRecord]:
        wanted = {k.casefold() for k in natural_keys}
        field_name = KEYS[entity]
        return {
            str(r["doc"][field_name]).casefold(): _record(i)
            for i, r in LEDGER.records.items()
            if r["entity"] == entity and str(r["doc"][field_name]).casefold() in wanted
        }

    def write_batch(self, writes: Sequence[Write], request_id: str) -> list[TargetRecord | Exception]:
        LEDGER.batches += 1
        answers: list[TargetRecord | Exception] = []
        for write in writes:
            try:
                if write.action == "create":
                    answers.append(self.create(write.entity, write.document, write.request_id))
                else:
                    answers.append(self.update(write.entity, write.current, write.document, write.request_id))
            except (PermanentError, TransientError) as exc:
                answers.append(exc)
        return answers

    def worker(self) -> ToyTarget:
        return self

    # Puller: a toy payment -> a payment on the platform invoice it pays
    def pull(self, job: SyncJob, platform: Platform) -> Pulled:
        from ledgerbridge.state import mappings

        payment = LEDGER.payments[job.source_id]
        invoice_id = mappings.find_by_target(job.tenant_id, "toy", "invoice", payment["invoice"])
        if invoice_id is None:
            return Pulled("skipped", f"toy payment {job.source_id}: its invoice was not synced by LedgerBridge")
        paid = platform.record_payment(invoice_id, payment["amount"], date(2026, 1, 5), f"toy {job.source_id}", "check")
        return Pulled("recorded", f"toy payment {job.source_id}: {payment['amount']} on invoice {invoice_id}", paid)


def _conforms(target: ToyTarget) -> tuple[BatchTarget, Puller]:
    return target, target


def open_target(tenant: Tenant) -> ToyTarget:
    return ToyTarget()


def scheduled_jobs(tenant: Tenant, scheduled_time: datetime) -> list[SyncJob]:
    stamp = scheduled_time.astimezone(UTC).strftime("%Y%m%dT%H")
    return [
        SyncJob(
            tenant_id=tenant.tenant_id,
            target="toy",
            kind="batch",
            entity="invoice",
            event_id=f"toy-batch:{stamp}",
            trigger="schedule",
            occurred_at=scheduled_time,
        )
    ]


class SetupFile:
    """A setup file the customer downloads (base.Download), as a desktop target's connector file is."""

    name = "setup"
    media_type = "text/plain"

    def filename(self, tenant_id: str) -> str:
        return f"toy-{tenant_id}.txt"

    def render(self, tenant: Tenant, api_base: str) -> str:
        return f"connect {tenant.tenant_id} to {api_base}/toy"


PLUGIN = Plugin(
    name="toy",
    label="Toy Ledger",
    settings=ToySettings,
    documents=ToyDocuments(),
    open=open_target,
    scheduled_jobs=scheduled_jobs,
    downloads=(SetupFile(),),
)


@dataclass
class ToyPlatform:
    """The field-service platform in memory (the Platform protocol)."""

    invoices_by_id: dict[str, Invoice]
    statuses: dict[str, str] = field(default_factory=dict)
    comments: dict[str, str] = field(default_factory=dict)
    payments: list[tuple[str, Decimal]] = field(default_factory=list)

    def invoice(self, invoice_id: str) -> Invoice:
        found = self.invoices_by_id[invoice_id]
        return found.model_copy(update={"status": self.statuses.get(invoice_id, found.status)})

    def invoices(self, status: str | None = None) -> Any:
        return iter([self.invoice(i) for i in self.invoices_by_id if status in (None, self.invoice(i).status)])

    def customer(self, company_id: str) -> Customer:
        ref = next(i.customer for i in self.invoices_by_id.values() if i.customer.id == company_id)
        return Customer(source_id=ref.id, name=ref.name)

    def location(self, location_id: str) -> Location:
        invoice = next(i for i in self.invoices_by_id.values() if i.location.id == location_id)
        return Location(source_id=location_id, name=invoice.location.name, customer=invoice.customer)

    def set_invoice_status(self, invoice_id: str, status: str, comment: str | None = None) -> None:
        self.statuses[invoice_id] = status
        if comment:
            self.comments[invoice_id] = comment

    def set_external_id(self, entity_type: str, entity_id: str, system: str, value: str) -> None:
        pass

    def record_payment(self, invoice_id: str, amount: Decimal, paid_on: date, reference: str, method: str) -> str:
        self.payments.append((invoice_id, amount))
        return f"P{len(self.payments)}"

    def reverse_payment(self, payment_id: str) -> None:
        pass
