"""Hourly (EventBridge Scheduler): enqueue an export job for every tenant connection that is due now,
each tenant in its own time zone and schedule, plus any earlier period that never went through."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import config
from ledgerbridge.config import ExportEnvironment, get_config
from ledgerbridge.exports.dispatch import due_jobs, enqueue
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.schedule import ScheduledRun
from ledgerbridge.state import cursors
from ledgerbridge.state.tenants import all_tenants

ENV = config.check(ExportEnvironment)  # cold start: a missing setting fails the init, by name


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = parse(event=event, model=ScheduledRun)
    jobs = due_jobs(all_tenants(), run.scheduled_time, cursors.read)
    sent = enqueue(jobs, get_config().export_queue_url)
    metrics.add_metric(name="ExportJobsEnqueued", unit=MetricUnit.Count, value=sent)
    logger.info(
        "export dispatch",
        extra={"scheduled_time": run.scheduled_time.isoformat(), "execution_id": run.execution_id, "jobs": sent},
    )
    return {"scheduled_time": run.scheduled_time.isoformat(), "jobs": sent}
