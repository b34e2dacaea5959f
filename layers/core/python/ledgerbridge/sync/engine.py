"""The sync engine: one record job -> load the platform record -> its document -> write in the target -> mapping + log.

Exactly-once effect (docs/architecture.md, Idempotency), in one place for every way a write is carried out (one
record here, many in ledgerbridge.sync.batch, and writes a target carries out later, such as an outbox its
desktop connector drains, which settle with `finish` / `reject` when the answer comes):
  prepare   the mapping decides create vs update and the content hash skips what has not changed; before a
            create the engine writes an intent holding the request id every resend of that create reuses
            (the target's own idempotency handle). An intent left by a crash or a lost answer makes the Write
            `resumed`: the record is looked up by its natural key before anything is created again.
  complete  the mapping (both ways) is saved and the intent removed; `finish` = complete, then an invoice is
            marked processed on the platform and the sync log says what happened.
  reject    the target refused: the intent is removed (nothing exists to recover), the invoice is marked
            failed with the target's own words and a "what to fix" hint, and the sync log records it.

Errors: a PermanentError is recorded and not raised, so SQS never retries it; a TransientError propagates
for SQS to retry.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ledgerbridge.errors import InvalidInput, PermanentError
from ledgerbridge.jobs import SyncJob
from ledgerbridge.observability import tracer
from ledgerbridge.source import Platform
from ledgerbridge.state import intents, mappings, synclog
from ledgerbridge.targets.base import Documents, Target, TargetRecord, Write
from ledgerbridge.tenants import Tenant

SYNCABLE_STATUS = "pending_accounting"  # the platform's "Send to accounting" state (docs/servicetrade-double.md)

Action = Literal["create", "update", "skip"]


@dataclass(frozen=True)
class Step:
    """What happened (or, in a dry run, would happen) to one record."""

    entity: str
    source_id: str
    action: Action
    target_id: str = ""
    reason: str = ""
    changes: tuple[Any, ...] = ()


@dataclass
class Result:
    outcome: synclog.Outcome
    steps: list[Step] = field(default_factory=list)
    message: str = ""


def content_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, default=str).encode()).hexdigest()


def _outcome(action: Action) -> synclog.Outcome:
    return {"create": "created", "update": "updated", "skip": "skipped"}[action]  # type: ignore[return-value]


@dataclass
class Engine:
    tenant: Tenant
    platform: Platform
    target: Target
    documents: Documents
    target_label: str

    # ------------------------------------------------------------------ jobs
    @tracer.capture_method(capture_response=False)
    def run(self, job: SyncJob) -> Result:
        """Apply one record job. Raises TransientError (retry); records PermanentError and returns."""
        try:
            if job.entity == "invoice":
                result = self._invoice(job.source_id, dry_run=False)
            elif job.entity == "customer":
                result = Result("updated", [self.customer_step(job.source_id, None, dry_run=False)])
            else:
                raise PermanentError(f"{job.entity} jobs flow the other way; nothing to push")
        except (PermanentError, InvalidInput) as exc:
            return self.fail(job.entity, job.source_id, exc)
        last = result.steps[-1] if result.steps else Step(job.entity, job.source_id, "skip")
        if job.entity != "invoice":  # an invoice's outcome was logged with its write-back
            self.log(job.entity, job.source_id, result.outcome, result.message, last.target_id)
        return result

    def plan(self, entity: str, source_id: str) -> Result:
        """The dry run: what run() would do, with a field-level diff, writing nothing anywhere."""
        if entity == "invoice":
            return self._invoice(source_id, dry_run=True)
        return Result("skipped", [self.customer_step(source_id, None, dry_run=True)])

    # ------------------------------------------------------------------ records
    def _invoice(self, invoice_id: str, dry_run: bool) -> Result:
        invoice = self.platform.invoice(invoice_id)
        if invoice.status != SYNCABLE_STATUS:
            step = Step("invoice", invoice_id, "skip", reason=f"invoice status is {invoice.status!r}")
            if not dry_run:
                self.log("invoice", invoice_id, "skipped", step.reason)
            return Result("skipped", [step], step.reason)
        customer_step = self.customer_step(invoice.customer.id, invoice.location.id, dry_run=dry_run)
        customer_id = customer_step.target_id or "(new customer)"
        document = self.documents.invoice(invoice, customer_id, self.tenant.mapping)
        if dry_run:
            step = self._plan("invoice", invoice_id, document, find_first=False)
            return Result("skipped", [customer_step, step], "dry run")
        step = self.upsert("invoice", invoice_id, f"invoice {invoice.number}", document, find_first=False)
        message = self.written(f"invoice {invoice.number}", step)
        return Result(_outcome(step.action), [customer_step, step], message)

    def customer_step(self, company_id: str, location_id: str | None, dry_run: bool) -> Step:
        """Make sure the target's customer of a platform customer (and location) exists; its step carries the id."""
        customer = self.platform.customer(company_id)
        document = self.documents.customer(customer, self.tenant.mapping)
        parent = self._customer("company", company_id, document, dry_run)
        if self.tenant.mapping.customer_naming != "customer_location" or location_id is None:
            return parent
        location = self.platform.location(location_id)
        doc = self.documents.sub_customer(customer, location, parent.target_id, self.tenant.mapping)
        return self._customer("location", location_id, doc, dry_run, source_id=f"{company_id}@{location_id}")

    def _customer(
        self, platform_type: str, platform_id: str, document: dict[str, Any], dry_run: bool, source_id: str = ""
    ) -> Step:
        source_id = source_id or platform_id
        if dry_run:
            return self._plan("customer", source_id, document, find_first=True)
        step = self.upsert("customer", source_id, f"customer {source_id}", document, find_first=True)
        if step.action == "create":  # the platform shows which accounting record its own one became
            system = self.tenant.mapping.external_system
            self.platform.set_external_id(platform_type, platform_id, system, step.target_id)
        return step

    # ------------------------------------------------------------------ the exactly-once core
    def prepare(self, entity: str, source_id: str, title: str, document: dict[str, Any]) -> Write | Step:
        """The Write a record needs (a create begins its intent), or a skip Step when nothing changed."""
        tenant_id, target = self.tenant.tenant_id, self.target.name
        digest = content_hash(document)
        mapping = mappings.find(tenant_id, target, entity, source_id)
        common = {"entity": entity, "source_id": source_id, "title": title, "document": document}
        if mapping is not None:
            if mapping.content_hash == digest:
                return Step(entity, source_id, "skip", mapping.target_id, "no change since the last sync")
            request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{target}/{entity}/{source_id}/{digest}"))
            return Write(
                **common,
                content_hash=digest,
                natural_key=mapping.natural_key,
                request_id=request_id,
                target_id=mapping.target_id,
                sync_token=mapping.sync_token,
            )
        natural_key = self.target.natural_key(entity, document)
        intent = intents.begin(tenant_id, target, entity, source_id, natural_key)
        return Write(
            **common,
            content_hash=digest,
            natural_key=natural_key,
            request_id=intent.request_id,
            resumed=intent.resumed,
        )

    def upsert(self, entity: str, source_id: str, title: str, document: dict[str, Any], find_first: bool) -> Step:
        """Write one record now. `find_first`: adopt a record the target already has by that natural key
        (customers: the accounting system may know them already)."""
        write = self.prepare(entity, source_id, title, document)
        if isinstance(write, Step):
            return write
        if write.action == "update":
            current = self.target.read(entity, write.target_id)
            changes = tuple(self.documents.diff(current.document, document))
            if not changes:
                return self.complete(write, current, "target already matches", action="skip")
            updated = self.target.update(entity, current, document, write.request_id)
            return replace(self.complete(write, updated), changes=changes)
        if write.resumed or find_first:
            # An earlier attempt may have created it and died before recording it (or, for customers, the
            # accounting system already has one by that name): adopt it instead of creating again.
            found = self.target.find(entity, write.natural_key)
            if found is not None:
                if write.resumed:
                    return self.complete(write, found, "recovered an earlier attempt")
                return self.complete(write, found, "matched an existing record by name", action="skip")
        try:
            created = self.target.create(entity, document, write.request_id)
        except PermanentError:
            self.release(write)
            raise
        return self.complete(write, created)

    def complete(self, write: Write, record: TargetRecord, reason: str = "", action: Action | None = None) -> Step:
        """The write happened (or the target already had it): save the mapping both ways, drop the intent."""
        self.link(write.entity, write.source_id, record, write.content_hash, write.natural_key)
        self.release(write)
        return Step(write.entity, write.source_id, action or write.action, record.target_id, reason)

    def finish(self, write: Write, record: TargetRecord, reason: str = "", action: Action | None = None) -> Step:
        """A write whose answer came later (a deferred target): complete it and record the outcome."""
        step = self.complete(write, record, reason, action)
        self.written(write.title, step)
        return step

    def link(
        self, entity: str, source_id: str, record: TargetRecord, content_hash: str = "", natural_key: str = ""
    ) -> None:
        """Save the mapping both ways: a platform record is this target record (at this content hash)."""
        tenant_id, target = self.tenant.tenant_id, self.target.name
        mapping = mappings.Mapping(record.target_id, record.sync_token, content_hash, natural_key)
        mappings.put(tenant_id, target, entity, source_id, mapping)
        mappings.put_reverse(tenant_id, target, entity, record.target_id, source_id)

    def release(self, write: Write) -> None:
        """Drop a create's intent: it was written and recorded, refused outright, or never sent. (A refused
        create must not adopt a same-named record later: after the user fixes the cause it is not ours.)"""
        if write.action == "create":
            intents.finish(self.tenant.tenant_id, self.target.name, write.entity, write.source_id)

    # ------------------------------------------------------------------ outcomes
    def written(self, title: str, step: Step, via: str = "") -> str:
        """Write a record's outcome back: an invoice processed on the platform, and the sync log. Returns the
        message."""
        if step.entity == "invoice":
            self.platform.set_invoice_status(step.source_id, "processed")
        message = f"{title} {_outcome(step.action)} in {self.target_label} as {step.target_id}"
        message += "".join(f" ({note})" for note in (via, step.reason) if note)
        self.log(step.entity, step.source_id, _outcome(step.action), message, step.target_id)
        return message

    def fail(self, entity: str, source_id: str, exc: PermanentError | InvalidInput) -> Result:
        """The target refused a record (or it can never take it as it is): the sync log, and the platform
        invoice marked failed with the target's own words and what to fix."""
        if isinstance(exc, InvalidInput):  # e.g. a number too long for the target
            exc = PermanentError(str(exc), code="invalid", hint=f"correct the record's {exc.field} in the platform")
        message = str(exc)
        hint = f" What to fix: {exc.hint}" if exc.hint else ""
        if entity == "invoice":
            comment = f"{self.target_label} rejected this invoice: {message}.{hint}"
            self.platform.set_invoice_status(source_id, "failed", comment)
        # The same "What to fix:" suffix as the consumer's, so the console shows every hint the same way.
        code = f" (code {exc.code})" if exc.code else ""
        self.log(entity, source_id, "failed", message + code + (f".{hint}" if hint else ""))
        return Result("failed", [], message)

    def reject(self, write: Write, exc: PermanentError | InvalidInput) -> Result:
        """A write the target refused: nothing was created, so its intent goes; then as fail()."""
        self.release(write)
        return self.fail(write.entity, write.source_id, exc)

    def log(self, entity: str, source_id: str, outcome: synclog.Outcome, message: str, target_id: str = "") -> None:
        entry = synclog.LogEntry(
            self.tenant.tenant_id, self.target.name, entity, source_id, outcome, message, target_id
        )
        synclog.write(entry)

    # ------------------------------------------------------------------ dry runs
    def _plan(self, entity: str, source_id: str, document: dict[str, Any], find_first: bool) -> Step:
        mapping = mappings.find(self.tenant.tenant_id, self.target.name, entity, source_id)
        if mapping is not None:
            if mapping.content_hash == content_hash(document):
                return Step(entity, source_id, "skip", mapping.target_id, "no change since the last sync")
            current = self.target.read(entity, mapping.target_id)
            changes = tuple(self.documents.diff(current.document, document))
            return Step(entity, source_id, "update", mapping.target_id, changes=changes)
        found = self.target.find(entity, self.target.natural_key(entity, document)) if find_first else None
        if found is not None:
            changes = tuple(self.documents.diff(found.document, document))
            return Step(entity, source_id, "update", found.target_id, "matched by name", changes)
        return Step(entity, source_id, "create", changes=tuple(self.documents.diff({}, document)))


def plan_report(engine: Engine, entity: str, source_ids: list[str]) -> list[dict[str, Any]]:
    """The dry run of several records, as plain data (for the API and the CLI)."""
    report: list[dict[str, Any]] = []
    for source_id in source_ids:
        result = engine.plan(entity, source_id)
        report.append(
            {
                "entity": entity,
                "source_id": source_id,
                "steps": [
                    {
                        "entity": s.entity,
                        "source_id": s.source_id,
                        "action": s.action,
                        "target_id": s.target_id,
                        "reason": s.reason,
                        "changes": [{"path": c.path, "before": c.old, "after": c.new} for c in s.changes],
                    }
                    for s in result.steps
                ],
            }
        )
    return report
