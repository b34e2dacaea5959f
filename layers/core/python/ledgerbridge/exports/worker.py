"""The export queue's consumer: one SQS message = one ExportJob = one run (BatchSize 1, FIFO per connection).

A run that cannot succeed as configured (unknown connector, bad custom layout, revoked platform access) is
recorded as a `failed` manifest and not retried. Any other failure (platform throttling or outage, an AWS
error, a bug) goes back to SQS under the one retry policy of every consumer (ledgerbridge.consumer.consume:
a growing visibility timeout, at least the platform's Retry-After) and, after the queue's maxReceiveCount,
to the DLQ (which alarms).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from ledgerbridge import aws, consumer, wiring
from ledgerbridge.config import get_config
from ledgerbridge.errors import InvalidInput, NotFound, PermanentError
from ledgerbridge.exports.dispatch import ExportJob
from ledgerbridge.observability import logger, metrics
from ledgerbridge.state import tenants as tenant_store

if TYPE_CHECKING:
    from ledgerbridge.state.exports import Manifest


def run_job(job: ExportJob, now: datetime) -> Manifest | None:
    """Run one job against the tenant's platform account and the file drop."""
    from ledgerbridge.exports.run import failed, run_export  # where used (make bench, coldstart): the connectors

    tenant = tenant_store.load(job.tenant_id)  # UnknownTenant: dropped by process(), never retried
    try:
        source = wiring.platform_for(tenant)
        return run_export(tenant, job, source, aws.client("s3"), get_config().file_drop_bucket, now)
    except (PermanentError, InvalidInput, NotFound) as exc:
        logger.error("export cannot run as configured", extra={"error": str(exc), "job": job.model_dump()})
        return failed(job, str(exc), now)


def process(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The export queue's batch (BatchSize 1), under the sync queues' retry policy (ledgerbridge.consumer)."""

    def handle(job: ExportJob) -> None:
        logger.append_keys(tenant_id=job.tenant_id, connector=job.connector, connection=job.connection)
        manifest = run_job(job, datetime.now(UTC))
        if manifest is not None:
            metrics.add_metric(name=f"Export_{manifest.status}", unit=MetricUnit.Count, value=1)
            logger.info("export run", extra={"export_id": manifest.export_id, "status": manifest.status,
                                             "rows": manifest.rows, "problems": manifest.problem_count})  # fmt: skip

    def retrying(job: ExportJob, exc: Exception, receives: int, delay: int | None) -> None:
        # transient (platform, AWS) or a bug: retried with backoff, then the DLQ (which alarms)
        extra = {"attempt": receives, "retry_in_s": delay, "error": repr(exc)[:500]}
        logger.warning("export run will be retried" if delay is not None else "export run goes to the DLQ", extra=extra)

    return consumer.consume(event, context, ExportJob, handle, retrying)
