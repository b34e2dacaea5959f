"""Consumer of the QuickBooks Online sync queue: every job kind (record, batch, pull, catchup) through the
generic runner (ledgerbridge.sync.runner), each with an exactly-once effect."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import config, consumer
from ledgerbridge.config import SyncEnvironment
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.sync import runner

ENV = config.check(SyncEnvironment)  # cold start: a missing setting fails the init, by name
IDEMPOTENCY_STORE = consumer.persistence(ENV.idempotency_table)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context, consumer.once_per_event(runner.runner(context), context, IDEMPOTENCY_STORE))
