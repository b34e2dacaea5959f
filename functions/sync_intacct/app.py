"""Consumer of the Sage Intacct sync queue: record pushes, payments back (targets.intacct.jobs)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import consumer
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.targets.intacct.jobs import run


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return consumer.process(event, context, consumer.once_per_event(run, context))
