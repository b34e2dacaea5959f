"""A target's consumer: each job kind to its one path, for every target alike.

  record    the engine (ledgerbridge.sync.engine), one platform record
  batch     ledgerbridge.sync.batch over every invoice waiting for accounting, until shortly before the
            function's timeout; the rest goes on in a continuation queued behind this message (same group)
  pull      the target's Puller, one change back to the platform
  catchup   the target's CatchUp through the intake's claim-then-publish (ledgerbridge.sync.intake)

A PermanentError (not connected, the connection revoked, a change the platform refuses) is recorded in the
sync log and not raised, so SQS never retries it; anything else propagates to the consumer's retry policy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledgerbridge.errors import PermanentError, TransientError
from ledgerbridge.jobs import SyncJob
from ledgerbridge.observability import logger, tracer
from ledgerbridge.queues import publish_jobs
from ledgerbridge.state import events, synclog
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets import registry
from ledgerbridge.targets.base import BatchWriter, CatchUp, Plugin, Puller
from ledgerbridge.tenants import Tenant
from ledgerbridge.wiring import engine_for

if TYPE_CHECKING:  # the batch pusher and the catch-up serve one job kind each: imported there (make bench)
    from ledgerbridge.sync.batch import BatchOutcome

STOP_BEFORE_TIMEOUT_S = 15.0  # a batch run stops sending this long before the function's timeout
DEFAULT_RUN_S = 60.0  # a batch run's length when there is no Lambda context (tests, the CLI)


def runner(context: Any = None) -> Callable[[SyncJob], None]:
    """The job runner a consumer hands to ledgerbridge.consumer.process."""
    return lambda job: run(job, context)


@tracer.capture_method(capture_response=False)
def run(job: SyncJob, context: Any = None) -> None:
    plugin = registry.plugin(job.target)
    tenant = tenant_store.load(job.tenant_id)
    if job.kind == "record":
        engine_for(tenant, plugin).run(job)  # records its own permanent failures, per record
        return
    try:
        if job.kind == "batch":
            _batch(tenant, plugin, job, context)
        elif job.kind == "pull":
            _pull(tenant, plugin, job)
        else:
            _catchup(tenant, plugin)
    except PermanentError as exc:
        synclog.for_job(job, "failed", f"{exc}" + (f" (code {exc.code})" if exc.code else ""))


def _pull(tenant: Tenant, plugin: Plugin, job: SyncJob) -> None:
    engine = engine_for(tenant, plugin)
    if not isinstance(engine.target, Puller):
        raise PermanentError(f"{plugin.label} sends nothing back to the platform", code="unsupported")
    pulled = engine.target.pull(job, engine.platform)
    synclog.for_job(job, pulled.outcome, pulled.message, pulled.target_id)


def _catchup(tenant: Tenant, plugin: Plugin) -> None:
    from ledgerbridge.sync.intake import catch_up

    target = plugin.open(tenant)  # no platform access needed: the catch-up only enqueues pull jobs
    if not isinstance(target, CatchUp):
        raise PermanentError(f"{plugin.label} has no catch-up", code="unsupported")
    result = catch_up(
        tenant.tenant_id,
        target,
        now=datetime.now(UTC),
        claim=events.claim,
        release=events.release,
        publish=publish_jobs,
    )
    logger.info("catch-up", extra={"changes": result.changes, "enqueued": result.enqueued, "cursor": result.cursor})


def push_pending(tenant: Tenant, plugin: Plugin, *, deadline: float) -> BatchOutcome:
    """Push every invoice of the tenant waiting for accounting (the scheduled sync, an initial load)."""
    from ledgerbridge.sync.batch import BatchPusher
    from ledgerbridge.sync.engine import SYNCABLE_STATUS

    engine = engine_for(tenant, plugin)
    workers = engine.target.batch_workers if isinstance(engine.target, BatchWriter) else 1
    pusher = BatchPusher(engine, deadline=deadline, workers=workers)
    return pusher.push(engine.platform.invoices(status=SYNCABLE_STATUS))


def _batch(tenant: Tenant, plugin: Plugin, job: SyncJob, context: Any) -> None:
    from ledgerbridge.sync.batch import next_part

    left_s = context.get_remaining_time_in_millis() / 1000 if context is not None else DEFAULT_RUN_S
    deadline = time.monotonic() + max(5.0, left_s - STOP_BEFORE_TIMEOUT_S)
    result = push_pending(tenant, plugin, deadline=deadline)
    counts = {"invoices_created": result.created, "invoices_updated": result.updated, "invoices_failed": result.failed}
    logger.info("batch push", extra={**counts, "batches": result.batches, "singles": result.singles})
    if result.exhausted:
        return
    if not (result.written or result.failed or result.skipped):
        raise TransientError("the batch push made no progress before its deadline; SQS will retry it")
    # Out of time: the rest goes on in a fresh invocation, queued behind this message (same group).
    publish_jobs([job.model_copy(update={"event_id": next_part(job.event_id)})])
