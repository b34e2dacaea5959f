"""Consumer of the qbd sync queue. The QuickBooks Desktop target is not built yet (README, Status): each job is
recorded in the sync log as a permanent failure with that reason, so nothing is lost and nothing cycles."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import consumer
from ledgerbridge.observability import logger, metrics, tracer

run = consumer.unavailable("QuickBooks Desktop")


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context, run)
