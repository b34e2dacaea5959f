"""Hourly (EventBridge Scheduler): every target's scheduled jobs for every tenant (catch-ups of changes whose
notifications were lost, scheduled batch pushes), onto the targets' own queues. Their consumers run them: they
hold the tenants' secrets and the targets' rate budgets (see ledgerbridge.sync.dispatch)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import config
from ledgerbridge.config import StateEnvironment
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.queues import publish_jobs
from ledgerbridge.schedule import ScheduledRun
from ledgerbridge.state.tenants import all_tenants
from ledgerbridge.sync import dispatch

ENV = config.check(StateEnvironment)  # cold start: a missing setting fails the init, by name


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = parse(event=event, model=ScheduledRun)
    jobs = dispatch.scheduled_jobs(all_tenants(), run.scheduled_time)
    publish_jobs(jobs)
    counts = dispatch.counts(jobs)
    metrics.add_metric(name="CatchupJobsEnqueued", unit=MetricUnit.Count, value=counts["catchup"])
    metrics.add_metric(name="BatchJobsEnqueued", unit=MetricUnit.Count, value=counts["batch"])
    logger.info("sync dispatch", extra={"scheduled_time": run.scheduled_time.isoformat(), "jobs": len(jobs)})
    return {
        "scheduled_time": run.scheduled_time.isoformat(),
        "catchup_jobs": counts["catchup"],
        "batch_jobs": counts["batch"],
    }
