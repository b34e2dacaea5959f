"""Sync jobs for QuickBooks Desktop: a platform record -> its documents in the outbox.

QuickBooks Desktop is reached only when the customer's Web Connector calls (service.py), so a job builds the
documents (customer, job, items, invoice), skips a version QuickBooks already has (same content hash as the
mapping), and leaves the rest in the outbox for the next session. Payments need no job: every session
asks QuickBooks for the payments modified since the last one.
"""

from __future__ import annotations

from typing import Any, Protocol

from ledgerbridge.errors import InvalidInput, PermanentError
from ledgerbridge.jobs import SyncJob
from ledgerbridge.records import Customer, Invoice, Location
from ledgerbridge.state import mappings, synclog
from ledgerbridge.sync.engine import SYNCABLE_STATUS, content_hash
from ledgerbridge.targets.qbd import documents, outbox
from ledgerbridge.targets.qbd.outbox import Entry
from ledgerbridge.tenants import Tenant

TARGET = "qbd"
LABEL = "QuickBooks Desktop"


class Platform(Protocol):
    def invoice(self, invoice_id: str) -> Invoice: ...
    def customer(self, company_id: str) -> Customer: ...
    def location(self, location_id: str) -> Location: ...
    def set_invoice_status(self, invoice_id: str, status: str, comment: str | None = None) -> None: ...


def _customers(tenant: Tenant, platform: Platform, company_id: str, location_id: str | None) -> list[dict[str, Any]]:
    record = platform.customer(company_id)
    docs = [{**documents.customer(record), "source_id": company_id}]
    if tenant.mapping.customer_naming == "customer_location" and location_id:
        job = documents.job(record, platform.location(location_id))
        docs.append({**job, "source_id": f"{company_id}@{location_id}"})
    return docs


def entry_for(tenant: Tenant, job: SyncJob, platform: Platform) -> Entry | str:
    """The outbox entry of a job, or why there is nothing to send."""
    if job.entity == "customer":
        customers = _customers(tenant, platform, job.source_id, None)
        return Entry("customer", job.source_id, customers[0]["name"], tuple(customers))
    invoice = platform.invoice(job.source_id)
    if invoice.status != SYNCABLE_STATUS:
        return f"invoice status is {invoice.status!r}"
    customers = _customers(tenant, platform, invoice.customer.id, invoice.location.id)
    document = documents.invoice(invoice, documents.full_name(customers[-1]), tenant.mapping)
    items = tuple(dict.fromkeys(line["item"] for line in document["lines"]))
    return Entry("invoice", invoice.source_id, invoice.number, tuple(customers), items, document)


def enqueue(tenant: Tenant, job: SyncJob, platform: Platform) -> synclog.Outcome:
    """Run one push job: the record waits in the outbox (or is skipped, or fails with the reason)."""
    if job.direction == "pull":
        synclog.for_job(job, "skipped", f"{LABEL} payments are read by every Web Connector session; no job needed")
        return "skipped"
    try:
        built = entry_for(tenant, job, platform)
    except (PermanentError, InvalidInput) as exc:
        hint = getattr(exc, "hint", "") or (f"correct the record's {exc.field} in the platform"
                                            if isinstance(exc, InvalidInput) else "")  # fmt: skip
        if job.entity == "invoice":
            platform.set_invoice_status(job.source_id, "failed", f"{LABEL} cannot take this invoice: {exc}. {hint}")
        synclog.for_job(job, "failed", f"{exc}" + (f" What to fix: {hint}" if hint else ""))
        return "failed"
    if isinstance(built, str):
        synclog.for_job(job, "skipped", built)
        return "skipped"
    digest = content_hash({"customers": built.customers, "items": built.items, "document": built.document})
    entry = Entry(built.entity, built.source_id, built.label, built.customers, built.items, built.document, digest)
    mapping = mappings.find(tenant.tenant_id, TARGET, entry.entity, entry.source_id)
    if mapping is not None and mapping.content_hash == digest:
        synclog.for_job(job, "skipped", f"no change since the last sync ({LABEL} {mapping.target_id})")
        return "skipped"
    outbox.put(tenant.tenant_id, entry)
    synclog.for_job(job, "queued", f"{entry.entity} {entry.label} waits for the next Web Connector session")
    return "queued"
