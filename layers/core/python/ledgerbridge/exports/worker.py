"""The export queue's consumer: one SQS message = one ExportJob = one run (BatchSize 1, FIFO per connection).

Powertools' SqsFifoPartialProcessor reports a failed message in batchItemFailures. A run that cannot
succeed as configured (unknown connector, bad custom layout, revoked platform access) is recorded as a
`failed` manifest and not retried. Any other failure (platform throttling or outage, an AWS error, a bug)
goes back to SQS with a growing visibility timeout (at least the platform's Retry-After) and, after the
queue's maxReceiveCount, to the DLQ (which alarms).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from ledgerbridge import aws, consumer, wiring
from ledgerbridge.config import get_config
from ledgerbridge.errors import InvalidInput, NotFound, PermanentError, TransientError, UnknownTenant
from ledgerbridge.exports.dispatch import ExportJob
from ledgerbridge.observability import logger, metrics
from ledgerbridge.state import tenants as tenant_store

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

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
    # Imported where used (make bench, coldstart): the batch package loads every event source's data classes.
    from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response

    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    # BatchSize is 1, so every failure is the "entire batch": report it as a batch item failure (SQS keeps
    # the message, with the visibility timeout set below) instead of failing the invocation.
    processor.raise_on_entire_batch_failure = False

    def handle(record: SQSRecord) -> None:
        try:
            job = ExportJob.model_validate_json(record.body)
        except ValidationError as exc:
            logger.error("unreadable export job dropped", extra={"message_id": record.message_id, "error": str(exc)})
            return
        logger.append_keys(tenant_id=job.tenant_id, connector=job.connector, connection=job.connection)
        try:
            manifest = run_job(job, datetime.now(UTC))
        except UnknownTenant as exc:
            consumer.dropped_for_unknown_tenant("export", job.tenant_id, record.message_id, exc)
            return
        except Exception as exc:  # transient (platform, AWS) or a bug: retry with backoff, then the DLQ
            receives = int(record.attributes.approximate_receive_count or "1")
            if receives < consumer.MAX_RECEIVES:
                retry_after = exc.retry_after if isinstance(exc, TransientError) else None
                aws.client("sqs").change_message_visibility(
                    QueueUrl=consumer.queue_url_from_arn(record.event_source_arn),
                    ReceiptHandle=record.receipt_handle,
                    VisibilityTimeout=consumer.backoff_seconds(receives, retry_after),
                )
            logger.warning("export run will be retried", extra={"attempt": receives, "error": repr(exc)[:500]})
            raise
        if manifest is not None:
            metrics.add_metric(name=f"Export_{manifest.status}", unit=MetricUnit.Count, value=1)
            logger.info("export run", extra={"export_id": manifest.export_id, "status": manifest.status,
                                             "rows": manifest.rows, "problems": manifest.problem_count})  # fmt: skip

    return dict(process_partial_response(event=event, record_handler=handle, processor=processor, context=context))
