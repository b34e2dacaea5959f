"""Hourly (EventBridge Scheduler): per connected QuickBooks Online tenant, enqueue the CDC catch-up job (payments
whose webhooks were lost) and, where the integration is triggered by the schedule, a bulk push job. The QBO
consumer runs both (it holds the tenant's secrets and the realm's request budget; see ledgerbridge.catchup)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import catchup
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.queues import publish_jobs
from ledgerbridge.schedule import ScheduledRun
from ledgerbridge.state.tenants import all_tenants


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = parse(event=event, model=ScheduledRun)
    jobs = catchup.scheduled_jobs(all_tenants(), run.scheduled_time)
    publish_jobs(jobs)
    catchups = sum(1 for j in jobs if j.source_id == catchup.CATCHUP_ID)
    pushes = len(jobs) - catchups
    metrics.add_metric(name="QboCatchupJobsEnqueued", unit=MetricUnit.Count, value=catchups)
    metrics.add_metric(name="QboBulkJobsEnqueued", unit=MetricUnit.Count, value=pushes)
    logger.info("sync dispatch", extra={"scheduled_time": run.scheduled_time.isoformat(), "jobs": len(jobs)})
    return {"scheduled_time": run.scheduled_time.isoformat(), "catchup_jobs": catchups, "bulk_jobs": pushes}
