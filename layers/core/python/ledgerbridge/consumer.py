"""The SQS side of every queue consumer (sync and export): partial batch failures, FIFO order per record, backoff, DLQ.

Powertools' SqsFifoPartialProcessor(skip_group_on_error=True) fails only the group (= one record) that
broke, so one bad record never holds back the others. A transient error hands the message back to SQS
with a visibility timeout that grows with each receive (exponential backoff with jitter) instead of
sleeping inside Lambda; after the queue's maxReceiveCount the redrive policy moves it to the DLQ, and the
last attempt writes the reason to the sync log. A permanent error never reaches here: the engine records it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from pydantic import BaseModel, ValidationError

from ledgerbridge import aws
from ledgerbridge.errors import PermanentError, TransientError, UnknownTenant
from ledgerbridge.jobs import SyncJob
from ledgerbridge.observability import logger, metrics
from ledgerbridge.state import synclog

Job = TypeVar("Job", bound=BaseModel)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

MAX_RECEIVES = 5  # template.yaml RedrivePolicy maxReceiveCount
BASE_DELAY_S = 2
MAX_DELAY_S = 900


def backoff_seconds(receive_count: int, retry_after: float | None = None) -> int:
    """Full-jitter exponential backoff, never shorter than the target's own Retry-After."""
    ceiling = min(MAX_DELAY_S, BASE_DELAY_S * 2 ** max(0, receive_count - 1))
    delay = random.uniform(ceiling / 2, ceiling)
    return int(max(delay, retry_after or 0))


def queue_url_from_arn(arn: str) -> str:
    *_, account, name = arn.split(":", 5)
    return aws.client("sqs").get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]  # type: ignore[no-any-return]


IDEMPOTENCY = IdempotencyConfig(
    event_key_jmespath="[tenant_id, target, kind, entity, source_id, event_id]",
    expires_after_seconds=7 * 24 * 3600,
    raise_on_no_idempotency_key=True,
)


def persistence(table_name: str) -> DynamoDBPersistenceLayer:
    """The idempotency records' store; a consumer builds it once, at module scope."""
    return DynamoDBPersistenceLayer(table_name=table_name)


def once_per_event(
    run: Callable[[SyncJob], Any], context: Any, store: DynamoDBPersistenceLayer
) -> Callable[[SyncJob], Any]:
    """Powertools idempotency around a job runner: a job whose event already completed is not run again
    (a redelivered message costs one DynamoDB read, not a round of target API calls). A run that raises
    leaves no record, so SQS's retry runs it again."""
    IDEMPOTENCY.register_lambda_context(context)

    @idempotent_function(data_keyword_argument="job", config=IDEMPOTENCY, persistence_store=store)
    def guarded(job: dict[str, Any]) -> dict[str, str]:
        run(SyncJob.model_validate(job))
        return {"done": job["event_id"]}

    return lambda job: guarded(job=job.model_dump(mode="json"))


def consume(
    event: dict[str, Any],
    context: Any,
    model: type[Job],
    handle: Callable[[Job], None],
    retrying: Callable[[Job, Exception, int, int | None], None],
) -> dict[str, list[dict[str, str]]]:
    """The one retry policy of every FIFO consumer (sync and export queues): each message is parsed as `model`
    and handed to `handle`; whatever `handle` raises goes back to SQS with the backoff above (not on the last
    receive: the redrive policy then moves it to the DLQ). `retrying(job, error, receives, delay)` is told
    first (delay None on the last attempt), inside the except block, so it may log the traceback. A job whose
    tenant no longer exists is dropped as permanent (dropped_for_unknown_tenant)."""
    # Imported where used (make bench, coldstart): the batch package loads every event source's data classes and
    # parser models.
    from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    kind = model.__name__.removesuffix("Job").lower()  # "sync", "export"
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    # Report an all-failed batch as failures too (not as an exception), so the release below still runs.
    processor.raise_on_entire_batch_failure = False
    backed_off: set[str] = set()

    def guarded(record: SQSRecord) -> None:
        try:
            job = model.model_validate_json(record.body)
        except ValidationError as exc:
            # A message nobody can ever process: log it loudly and drop it rather than cycle to the DLQ.
            logger.error("unreadable job dropped", extra={"message_id": record.message_id, "error": str(exc)})
            return
        try:
            handle(job)
        except UnknownTenant as exc:
            dropped_for_unknown_tenant(kind, str(getattr(job, "tenant_id", "")), record.message_id, exc)
        except Exception as exc:
            receives = int(record.attributes.approximate_receive_count or "1")
            delay = None
            if receives < MAX_RECEIVES:
                delay = backoff_seconds(receives, exc.retry_after if isinstance(exc, TransientError) else None)
                _set_visibility(record, delay)
                backed_off.add(record.message_id)
            retrying(job, exc, receives, delay)
            raise

    response: dict[str, list[dict[str, str]]] = dict(
        process_partial_response(event=event, record_handler=guarded, processor=processor, context=context)  # type: ignore[arg-type]
    )
    # Later messages of a failed group were not attempted: release them now. FIFO keeps them behind the
    # failed one (its group is locked while that message is in flight), so order holds and nothing waits
    # out the queue's full visibility timeout.
    records = {r["messageId"]: SQSRecord(r) for r in event.get("Records", [])}
    for failure in response.get("batchItemFailures", []):
        message_id = failure["itemIdentifier"]
        if message_id not in backed_off and message_id in records:
            _set_visibility(records[message_id], 0)
    return response


def process(event: dict[str, Any], context: Any, run: Callable[[SyncJob], Any]) -> dict[str, list[dict[str, str]]]:
    """A sync queue's batch: `run` each job; a PermanentError is recorded in the sync log, never retried."""

    def handle(job: SyncJob) -> None:
        logger.append_keys(tenant_id=job.tenant_id, entity=job.entity, source_id=job.source_id)
        try:
            run(job)
        except PermanentError as exc:  # e.g. the tenant is not connected: record it, never retry it
            hint = f" What to fix: {exc.hint}" if exc.hint else ""
            synclog.for_job(job, "failed", f"{exc}.{hint}")

    def retrying(job: SyncJob, exc: Exception, receives: int, delay: int | None) -> None:
        reason = str(exc)
        if not isinstance(exc, TransientError):  # a bug or an unmapped failure: retried like a transient one
            logger.exception("sync job failed unexpectedly")
            reason = f"unexpected {type(exc).__name__}: {exc}"
        if delay is None:
            synclog.for_job(
                job, "failed", f"gave up after {receives} attempts, moved to the dead-letter queue: {reason}"
            )
        else:
            synclog.for_job(job, "retrying", f"attempt {receives} failed ({reason}); retrying in {delay} s")

    return consume(event, context, SyncJob, handle, retrying)


def dropped_for_unknown_tenant(kind: str, tenant_id: str, message_id: str, exc: Exception) -> None:
    """A job whose tenant does not exist (deleted after it was queued) can never run: a permanent failure,
    logged and counted (UnknownTenantJobs), its message deleted rather than retried into the DLQ. The
    tenant's sync log went with the tenant, so the log line and the metric are its record."""
    logger.error(
        f"{kind} job for an unknown tenant dropped (permanent, not retried)",
        extra={"tenant_id": tenant_id, "message_id": message_id, "error": str(exc)},
    )
    metrics.add_metric(name="UnknownTenantJobs", unit=MetricUnit.Count, value=1)


def _set_visibility(record: SQSRecord, seconds: int) -> None:
    aws.client("sqs").change_message_visibility(
        QueueUrl=queue_url_from_arn(record.event_source_arn),
        ReceiptHandle=record.receipt_handle,
        VisibilityTimeout=seconds,
    )


def unavailable(label: str) -> Callable[[SyncJob], None]:
    """The job runner of a target that is not built yet: record each job as a permanent failure."""

    def record(job: SyncJob) -> None:
        synclog.for_job(job, "failed", f"{label} sync is not available in this release; the job was not sent")

    return record
