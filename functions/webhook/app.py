"""Webhook intake, answered fast by only enqueueing:

POST /webhooks/{tenant_id}?token=...   the platform's deliveries -> the targets' sync queues
POST /webhooks/{target}                a target's own notifications (every tenant) -> its pull jobs
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import config, webhook
from ledgerbridge.api import HttpError, json_body, make_resolver
from ledgerbridge.config import ApiEnvironment, get_config
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.queues import publish_jobs
from ledgerbridge.state import events
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.sync.intake import claim_key, enqueue_once
from ledgerbridge.targets import registry
from ledgerbridge.targets.base import WebhookIntake
from ledgerbridge.tenants import secret_name

ENV = config.check(ApiEnvironment)  # cold start: a missing setting fails the init, by name

app = make_resolver()


@app.post("/webhooks/<tenant_id>")
def platform_delivery(tenant_id: str) -> Response[Any]:
    cfg = get_config()
    event = app.current_event
    raw = (event.decoded_body if event.is_base64_encoded else event.body) or ""
    tenant = tenant_store.load(tenant_id)  # 404 before anything else is looked at
    token = (event.query_string_parameters or {}).get("token", "")
    if not token or not tenant_store.check_credential(tenant_id, token, "webhook"):
        raise HttpError(401, "missing or invalid hook token for this tenant")
    body = json_body(raw, cfg.webhook_max_bytes)
    if tenant.webhook_signature_required:
        secret = str(parameters.get_secret(secret_name(tenant_id, "webhook_hmac")))
        presented = event.headers.get(webhook.SIGNATURE_HEADER, "")
        if not presented or not webhook.verify_signature(secret, raw.encode(), presented):
            raise HttpError(401, f"missing or invalid {webhook.SIGNATURE_HEADER} header")
    delivery = webhook.Delivery.model_validate(body)
    logger.append_keys(tenant_id=tenant_id, message_id=delivery.messageId)
    result = webhook.accept(
        tenant,
        delivery,
        now=datetime.now(UTC),
        replay_window_s=cfg.webhook_replay_window_s,
        claim=lambda key: events.claim(tenant_id, key),
        release=lambda key: events.release(tenant_id, key),
        publish=publish_jobs,
    )
    metrics.add_metric(name="WebhookJobsAccepted", unit=MetricUnit.Count, value=result.accepted)
    metrics.add_metric(name="WebhookDuplicates", unit=MetricUnit.Count, value=result.duplicates)
    return Response(
        status_code=202,
        content_type="application/json",
        body={"accepted": result.accepted, "duplicates": result.duplicates, "ignored": result.ignored},
    )


def target_delivery(name: str, intake: WebhookIntake) -> Response[Any]:
    """A target's own notifications (one app-level endpoint per target, for every tenant): verify the
    target's signature, then claim and enqueue the pull jobs they ask for."""
    cfg = get_config()
    event = app.current_event
    raw = (event.decoded_body if event.is_base64_encoded else event.body) or ""
    if len(raw.encode()) > cfg.webhook_max_bytes:
        raise HttpError(413, f"body is larger than {cfg.webhook_max_bytes} bytes")
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    if not intake.verify(raw.encode(), headers):
        raise HttpError(401, f"missing or invalid {intake.signature_header} header")
    jobs, ignored = intake.jobs(json_body(raw, cfg.webhook_max_bytes))
    result = enqueue_once(
        jobs,
        ignored,
        claim=lambda job: events.claim(job.tenant_id, claim_key(job)),
        release=lambda job: events.release(job.tenant_id, claim_key(job)),
        publish=publish_jobs,
    )
    metrics.add_dimension(name="target", value=name)
    metrics.add_metric(name="TargetWebhookJobsAccepted", unit=MetricUnit.Count, value=result.accepted)
    metrics.add_metric(name="TargetWebhookDuplicates", unit=MetricUnit.Count, value=result.duplicates)
    body = {"accepted": result.accepted, "duplicates": result.duplicates, "ignored": result.ignored}
    return Response(status_code=200, content_type="application/json", body=body)


# Powertools tries static routes before dynamic ones, so each /webhooks/<target> wins over /webhooks/{tenant_id}
# (API Gateway prefers the static resource too); target names are reserved tenant ids (ledgerbridge.tenants).
def _route(name: str, intake: WebhookIntake) -> None:
    def delivery() -> Response[Any]:
        return target_delivery(name, intake)

    delivery.__name__ = f"{name}_delivery"  # the OpenAPI operation id
    app.post(f"/webhooks/{name}")(delivery)


for _plugin in registry.plugins():
    if _plugin.webhook is not None:
        _route(_plugin.name, _plugin.webhook)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
