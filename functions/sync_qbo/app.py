"""Consumer of the QuickBooks Online sync queue. Four kinds of job, all with an exactly-once effect:

push  invoice/customer <id>   the sync engine: one platform record -> QBO (webhooks, manual runs)
push  invoice "bulk"          the scheduled push: every pending invoice, batched at the realm's full speed
pull  payment <QBO id>        a QBO payment -> payments on the platform invoices it pays (webhooks, CDC)
pull  payment "cdc"           the hourly catch-up: CDC since the cursor -> pull jobs for missed payments
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import bulk, catchup, consumer, payments
from ledgerbridge.errors import PermanentError, TransientError
from ledgerbridge.jobs import SyncJob
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.queues import publish_jobs
from ledgerbridge.state import events, synclog
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.qbo import QboTarget
from ledgerbridge.tenants import Tenant
from ledgerbridge.wiring import platform_for, qbo_engine

BULK_WORKERS = 6  # requests in flight per bulk run; the realm's budget caps every consumer together at 10
STOP_BEFORE_TIMEOUT_S = 15.0  # a bulk run stops sending this long before the function's timeout


def run(job: SyncJob, context: Any = None) -> None:
    tenant = tenant_store.load(job.tenant_id)
    if job.direction == "push" and job.source_id != catchup.BULK_ID:
        qbo_engine(tenant).run(job)
        return
    try:
        if job.direction == "push":
            _bulk(tenant, job, context)
        elif job.source_id == catchup.CATCHUP_ID:
            _catchup(tenant)
        else:
            payments.run(tenant.tenant_id, job, QboTarget.for_tenant(tenant).client, platform_for(tenant))
    except PermanentError as exc:  # e.g. not connected, or the connection was revoked: recorded, not retried
        synclog.write(
            synclog.LogEntry(
                tenant_id=job.tenant_id,
                target="qbo",
                entity=job.entity,
                source_id=job.source_id,
                outcome="failed",
                message=f"{exc}" + (f" (code {exc.code})" if exc.code else ""),
            )
        )


def _catchup(tenant: Tenant) -> None:
    result = catchup.run(
        tenant,
        QboTarget.for_tenant(tenant).client,
        now=datetime.now(UTC),
        claim=events.claim,
        release=events.release,
        publish=publish_jobs,
    )
    logger.info("qbo catch-up", extra={"changes": result.changes, "enqueued": result.enqueued, "cursor": result.cursor})


def _bulk(tenant: Tenant, job: SyncJob, context: Any) -> None:
    left_s = context.get_remaining_time_in_millis() / 1000 if context is not None else 60.0
    deadline = time.monotonic() + max(5.0, left_s - STOP_BEFORE_TIMEOUT_S)
    result = bulk.push_pending(tenant, deadline=deadline, workers=BULK_WORKERS)
    counts = {"invoices_created": result.created, "invoices_updated": result.updated, "invoices_failed": result.failed}
    logger.info("qbo bulk push", extra={**counts, "batches": result.batches, "singles": result.singles})
    if result.exhausted:
        return
    if not (result.written or result.failed or result.skipped):
        raise TransientError("the bulk push made no progress before its deadline; SQS will retry it")
    # Out of time: the rest goes on in a fresh invocation, queued behind this message (same group).
    publish_jobs([job.model_copy(update={"event_id": bulk.next_part(job.event_id)})])


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context, consumer.once_per_event(lambda job: run(job, context), context))
