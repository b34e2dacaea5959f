"""Sync jobs for QuickBooks Desktop: a platform record -> the engine's Write, in the outbox.

QuickBooks Desktop is reached only when the customer's Web Connector calls (service.py), so a job builds the
documents (customer, job, items, invoice) and the sync engine prepares the write as for any target
(ledgerbridge.sync.engine: the content-hash skip of a version QuickBooks already has, the create intent);
the Write waits in the outbox for the next session, which settles it with the engine's finish / reject.
Payments need no job: every session asks QuickBooks for the payments modified since the last one.
"""

from __future__ import annotations

from typing import Any

from ledgerbridge.errors import InvalidInput, PermanentError
from ledgerbridge.jobs import SyncJob
from ledgerbridge.source import Platform
from ledgerbridge.state import synclog
from ledgerbridge.sync.engine import SYNCABLE_STATUS, Engine, Step
from ledgerbridge.targets.qbd import documents, outbox
from ledgerbridge.targets.qbd.outbox import Entry
from ledgerbridge.targets.qbd.plugin import PLUGIN, engine_for
from ledgerbridge.tenants import Tenant


def _customers(engine: Engine, company_id: str, location_id: str | None) -> list[dict[str, Any]]:
    record = engine.platform.customer(company_id)
    docs = [{**documents.customer(record), "source_id": company_id}]
    if engine.tenant.mapping.customer_naming == "customer_location" and location_id:
        job = documents.job(record, engine.platform.location(location_id))
        docs.append({**job, "source_id": f"{company_id}@{location_id}"})
    return docs


def prepare(engine: Engine, job: SyncJob) -> Entry | Step:
    """The outbox entry of a job (its Write prepared by the engine), or the Step that says why none is needed."""
    if job.entity == "customer":
        customers = _customers(engine, job.source_id, None)
        name = str(customers[0]["name"])
        write = engine.prepare("customer", job.source_id, f"customer {name}", customers[0])
        return write if isinstance(write, Step) else Entry(write, name, tuple(customers))
    invoice = engine.platform.invoice(job.source_id)
    if invoice.status != SYNCABLE_STATUS:
        return Step("invoice", invoice.source_id, "skip", reason=f"invoice status is {invoice.status!r}")
    customers = _customers(engine, invoice.customer.id, invoice.location.id)
    document = engine.documents.invoice(invoice, documents.full_name(customers[-1]), engine.tenant.mapping)
    items = tuple(dict.fromkeys(line["item"] for line in document["lines"]))
    write = engine.prepare("invoice", invoice.source_id, f"invoice {invoice.number}", document)
    return write if isinstance(write, Step) else Entry(write, invoice.number, tuple(customers), items)


def enqueue(tenant: Tenant, job: SyncJob, platform: Platform) -> synclog.Outcome:
    """Run one push job: the record waits in the outbox (or is skipped, or fails with the reason)."""
    engine = engine_for(tenant, platform)
    if job.direction == "pull":
        why = f"{PLUGIN.label} payments are read by every Web Connector session; no job needed"
        engine.log(job.entity, job.source_id, "skipped", why)
        return "skipped"
    try:
        built = prepare(engine, job)
    except (PermanentError, InvalidInput) as exc:
        return engine.fail(job.entity, job.source_id, exc).outcome
    if isinstance(built, Step):
        engine.log(built.entity, built.source_id, "skipped", built.reason, built.target_id)
        return "skipped"
    outbox.put(tenant.tenant_id, built)
    engine.log(built.entity, built.source_id, "queued", f"{built.write.title} waits for the next Web Connector session")
    return "queued"
