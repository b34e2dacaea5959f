"""The sync engine: one job -> load the source record -> map -> upsert in the target -> mapping + log.

Exactly-once effect (ARCHITECTURE.md, Idempotency): before a create the engine writes an intent holding a
request id that every resend of that create reuses (the target's own idempotency handle); an intent left
behind by a crash or a lost response is resolved by looking the record up by its natural key before
anything is created again. Mappings decide create vs update, and a content hash skips no-op updates.

Errors: a PermanentError is recorded (sync log + the platform invoice marked `failed` with the target's
own words) and not raised, so SQS never retries it; a TransientError propagates for SQS to retry.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from ledgerbridge.errors import InvalidInput, PermanentError
from ledgerbridge.jobs import SyncJob
from ledgerbridge.source import Platform
from ledgerbridge.state import intents, mappings, synclog
from ledgerbridge.targets.base import Documents, Target, TargetRecord
from ledgerbridge.tenants import Tenant

SYNCABLE_STATUS = "pending_accounting"  # the platform's "Send to accounting" state (servicetrade-api.md 6)


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


@dataclass
class Engine:
    tenant: Tenant
    platform: Platform
    target: Target
    documents: Documents
    target_label: str

    # ------------------------------------------------------------------ public
    def run(self, job: SyncJob) -> Result:
        """Apply one job. Raises TransientError (retry); records PermanentError and returns."""
        try:
            if job.entity == "invoice":
                result = self._invoice(job.source_id, dry_run=False)
            elif job.entity == "customer":
                result = Result("updated", [self.customer_step(job.source_id, None, dry_run=False)])
            else:
                raise PermanentError(f"{job.entity} jobs flow the other way; nothing to push")
        except PermanentError as exc:
            return self._record_failure(job, exc)
        except InvalidInput as exc:  # a record the target can never take as it is (e.g. a too-long number)
            return self._record_failure(
                job, PermanentError(str(exc), code="invalid", hint=f"correct the record's {exc.field} in the platform")
            )
        last = result.steps[-1] if result.steps else Step(job.entity, job.source_id, "skip")
        synclog.for_job(job, result.outcome, result.message, last.target_id)
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
            return Result("skipped", [step], step.reason)
        steps: list[Step] = []
        customer_step = self.customer_step(invoice.customer.id, invoice.location.id, dry_run=dry_run)
        steps.append(customer_step)
        customer_id = customer_step.target_id or "(new customer)"
        document = self.documents.invoice(invoice, customer_id, self.tenant.mapping)
        step = self._upsert("invoice", invoice_id, document, find_first=False, dry_run=dry_run)
        steps.append(step)
        if dry_run:
            return Result("skipped", steps, "dry run")
        self.platform.set_invoice_status(invoice_id, "processed")
        verb = {"create": "created", "update": "updated", "skip": "skipped"}[step.action]
        message = f"invoice {invoice.number} {verb} in {self.target_label} as {step.target_id}"
        if step.reason:
            message += f" ({step.reason})"
        outcome: synclog.Outcome = "created" if step.action == "create" else "updated"
        if step.action == "skip":
            outcome = "skipped"
        return Result(outcome, steps, message)

    def customer_step(self, company_id: str, location_id: str | None, dry_run: bool) -> Step:
        """Make sure the QBO customer of a platform customer (and location) exists; its step carries the id."""
        customer = self.platform.customer(company_id)
        parent = self._upsert(
            "customer", company_id, self.documents.customer(customer, self.tenant.mapping), True, dry_run
        )
        if not dry_run and parent.action == "create":
            system = self.tenant.mapping.external_system
            self.platform.set_external_id("company", company_id, system, parent.target_id)
        if self.tenant.mapping.customer_naming != "customer_location" or location_id is None:
            return parent
        location = self.platform.location(location_id)
        doc = self.documents.sub_customer(customer, location, parent.target_id, self.tenant.mapping)
        sub = self._upsert("customer", f"{company_id}@{location_id}", doc, True, dry_run)
        if not dry_run and sub.action == "create":
            system = self.tenant.mapping.external_system
            self.platform.set_external_id("location", location_id, system, sub.target_id)
        return sub

    # ------------------------------------------------------------------ the exactly-once core
    def _upsert(self, entity: str, source_id: str, document: dict[str, Any], find_first: bool, dry_run: bool) -> Step:
        tenant_id, target = self.tenant.tenant_id, self.target.name
        digest = content_hash(document)
        mapping = mappings.find(tenant_id, target, entity, source_id)
        if mapping is not None:
            if mapping.content_hash == digest:
                return Step(entity, source_id, "skip", mapping.target_id, "no change since the last sync")
            current = self.target.read(entity, mapping.target_id)
            changes = tuple(self.documents.diff(current.document, document))
            if dry_run:
                return Step(entity, source_id, "update", mapping.target_id, changes=changes)
            if not changes:
                self._remember(entity, source_id, current, digest, mapping.natural_key)
                return Step(entity, source_id, "skip", current.target_id, "target already matches")
            request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}/{target}/{entity}/{source_id}/{digest}"))
            updated = self.target.update(entity, current, document, request_id)
            self._remember(entity, source_id, updated, digest, mapping.natural_key)
            return Step(entity, source_id, "update", updated.target_id, changes=changes)

        natural_key = self.target.natural_key(entity, document)
        if dry_run:
            found = self.target.find(entity, natural_key) if find_first else None
            if found is not None:
                return Step(
                    entity,
                    source_id,
                    "update",
                    found.target_id,
                    "matched by name",
                    tuple(self.documents.diff(found.document, document)),
                )
            return Step(entity, source_id, "create", changes=tuple(self.documents.diff({}, document)))

        intent = intents.begin(tenant_id, target, entity, source_id, natural_key)
        if intent.resumed or find_first:
            # An earlier attempt may have created it and died before recording it (or, for customers,
            # the accounting system already has one by that name): adopt it instead of creating again.
            found = self.target.find(entity, natural_key)
            if found is not None:
                self._remember(entity, source_id, found, digest, natural_key)
                intents.finish(tenant_id, target, entity, source_id)
                reason = "recovered an earlier attempt" if intent.resumed else "matched an existing record by name"
                return Step(entity, source_id, "skip" if not intent.resumed else "create", found.target_id, reason)
        try:
            created = self.target.create(entity, document, intent.request_id)
        except PermanentError:
            # The target refused the create outright, so nothing exists to recover: a later attempt (after
            # the user fixes the cause) must not adopt a same-named record that is not ours.
            intents.finish(tenant_id, target, entity, source_id)
            raise
        self._remember(entity, source_id, created, digest, natural_key)
        intents.finish(tenant_id, target, entity, source_id)
        return Step(entity, source_id, "create", created.target_id)

    def _remember(self, entity: str, source_id: str, record: TargetRecord, digest: str, natural_key: str) -> None:
        tenant_id, target = self.tenant.tenant_id, self.target.name
        mappings.put(
            tenant_id,
            target,
            entity,
            source_id,
            mappings.Mapping(record.target_id, record.sync_token, digest, natural_key),
        )
        mappings.put_reverse(tenant_id, target, entity, record.target_id, source_id)

    def _record_failure(self, job: SyncJob, exc: PermanentError) -> Result:
        message = str(exc)
        if job.entity == "invoice":
            hint = f" What to fix: {exc.hint}" if exc.hint else ""
            comment = f"{self.target_label} rejected this invoice: {message}.{hint}"
            self.platform.set_invoice_status(job.source_id, "failed", comment)
        code = f" (code {exc.code})" if exc.code else ""
        # The same "What to fix:" suffix as the consumer's, so the console shows every hint the same way.
        synclog.for_job(job, "failed", message + code + (f". What to fix: {exc.hint}" if exc.hint else ""))
        return Result("failed", [], message)


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
