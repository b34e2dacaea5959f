"""Consumer of the qbd sync queue: each job leaves its record's qbXML documents in the QuickBooks Desktop
outbox, which the customer's Web Connector drains on its schedule (functions/qbwc). Not the generic runner:
QuickBooks Desktop is written only inside a Web Connector session (docs/qbd.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import config, consumer
from ledgerbridge.config import SyncEnvironment
from ledgerbridge.jobs import SyncJob
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.qbd import jobs
from ledgerbridge.wiring import platform_for

ENV = config.check(SyncEnvironment)  # cold start: a missing setting fails the init, by name
IDEMPOTENCY_STORE = consumer.persistence(ENV.idempotency_table)


def run(job: SyncJob) -> None:
    tenant = tenant_store.load(job.tenant_id)
    jobs.enqueue(tenant, job, platform_for(tenant))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context, consumer.once_per_event(run, context, IDEMPOTENCY_STORE))
