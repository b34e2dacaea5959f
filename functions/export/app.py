"""Consumer of the FIFO export queue (BatchSize 1, ReportBatchItemFailures): one export run per message.
The orchestration is ledgerbridge.exports.run.run_export; the retry policy is ledgerbridge.exports.worker."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import config
from ledgerbridge.config import ExportEnvironment
from ledgerbridge.exports import worker
from ledgerbridge.observability import logger, metrics, tracer

ENV = config.check(ExportEnvironment)  # cold start: a missing setting fails the init, by name


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return worker.process(event, context)
