"""Consumer of the QuickBooks Online sync queue: one job per record, exactly-once effect in QBO."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import consumer
from ledgerbridge.jobs import SyncJob
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.wiring import qbo_engine


def run(job: SyncJob) -> None:
    qbo_engine(tenant_store.load(job.tenant_id)).run(job)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context, consumer.once_per_event(run, context))
