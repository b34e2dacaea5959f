"""Every 5 minutes (EventBridge Scheduler): the platform-side sweep of every tenant that is due
(ledgerbridge.sweep). Invoices sent to accounting whose webhooks never arrived are queued as their webhooks
would have queued them, logged as "recovered" and counted per tenant (SweepRecovered by tenant_id: the
SweepRecoveredAlarm in template.yaml names the tenant whose webhook is broken)."""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import config, sweep
from ledgerbridge.config import StateEnvironment
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.queues import publish_jobs
from ledgerbridge.schedule import ScheduledRun
from ledgerbridge.state import events
from ledgerbridge.state.tenants import all_tenants
from ledgerbridge.wiring import platform_for

ENV = config.check(StateEnvironment)  # cold start: a missing setting fails the init, by name
STOP_BEFORE_TIMEOUT_S = 30.0  # no tenant is started this close to the timeout; it goes first next run


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    run = parse(event=event, model=ScheduledRun)
    deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - STOP_BEFORE_TIMEOUT_S
    report = sweep.sweep_all(
        all_tenants(),
        now=run.scheduled_time,
        deadline=deadline,
        source_for=platform_for,
        claim=events.claim,
        release=events.release,
        publish=publish_jobs,
    )
    for swept in report.tenants:
        if swept.error:
            logger.error("sweep failed for a tenant", extra={"tenant_id": swept.tenant_id, "error": swept.error})
        if swept.recovered:
            per_tenant = EphemeralMetrics()  # its own dimension set: one series per tenant that recovered any
            per_tenant.add_dimension(name="tenant_id", value=swept.tenant_id)
            per_tenant.add_metric(name="SweepRecovered", unit=MetricUnit.Count, value=len(swept.recovered))
            per_tenant.flush_metrics()
            logger.info(
                "sweep recovered changes whose webhooks never arrived",
                extra={"tenant_id": swept.tenant_id, "recovered": len(swept.recovered), "listed": swept.listed},
            )
    metrics.add_metric(name="SweepRecovered", unit=MetricUnit.Count, value=report.recovered)
    metrics.add_metric(name="SweepTenantsSwept", unit=MetricUnit.Count, value=len(report.tenants))
    metrics.add_metric(name="SweepTenantsFailed", unit=MetricUnit.Count, value=report.failed)
    metrics.add_metric(name="SweepTenantsDeferred", unit=MetricUnit.Count, value=report.deferred)
    return {
        "scheduled_time": run.scheduled_time.isoformat(),
        "tenants_swept": len(report.tenants),
        "tenants_not_due": report.not_due,
        "tenants_deferred": report.deferred,
        "tenants_failed": report.failed,
        "recovered": report.recovered,
    }
