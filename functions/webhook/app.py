"""Webhook intake, answered fast by only enqueueing:

POST /webhooks/{tenant_id}?token=...   the platform's deliveries -> the targets' sync queues
                                       (or the token in an x-ledgerbridge-token header)
POST /webhooks/qbo                     Intuit's app-level notifications (every realm) -> QBO pull jobs
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import qbo_webhook, secrets, webhook
from ledgerbridge.api import HttpError, json_body, make_resolver, raw_body
from ledgerbridge.config import get_config
from ledgerbridge.errors import NotFound
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.queues import publish_jobs
from ledgerbridge.state import events
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.qbo import connection
from ledgerbridge.tenants import Tenant, secret_name

app = make_resolver()


@app.post("/webhooks/<tenant_id>")
def platform_delivery(tenant_id: str) -> Response[Any]:
    cfg = get_config()
    event = app.current_event
    raw = raw_body(event)
    # Config and token digest from this container's warm copy (tenant_store.WARM_S): the ack's budget is
    # the two writes that make it exactly-once, the claim and the enqueue.
    tenant = tenant_store.load(tenant_id, max_age_s=tenant_store.WARM_S)  # 404 before anything else
    # In a header it stays out of URLs, which proxies and access logs record; the query parameter remains
    # because the platform's webhook settings take a URL only.
    token = event.headers.get(webhook.TOKEN_HEADER) or (event.query_string_parameters or {}).get("token", "")
    if not token or not tenant_store.check_credential(tenant_id, token, "webhook", max_age_s=tenant_store.WARM_S):
        raise HttpError(401, "missing or invalid hook token for this tenant")
    body = json_body(raw, cfg.webhook_max_bytes)
    if tenant.webhook_signature_required:
        secret = str(parameters.get_secret(secret_name(tenant_id, "webhook_hmac"), max_age=int(tenant_store.WARM_S)))
        presented = event.headers.get(webhook.SIGNATURE_HEADER, "")
        if not presented or not webhook.verify_signature(secret, raw, presented):
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


def _tenant_for_realm(realm_id: str) -> Tenant | None:
    tenant_id = connection.tenant_for_realm(realm_id)
    if tenant_id is None:
        return None
    try:
        return tenant_store.load(tenant_id)
    except NotFound:
        return None


@app.post("/webhooks/qbo")
def qbo_delivery() -> Response[Any]:
    """Intuit's notifications. Powertools tries static routes before dynamic ones, so this route wins over
    /webhooks/{tenant_id} (API Gateway prefers the static resource too): no tenant can be called `qbo`."""
    cfg = get_config()
    event = app.current_event
    raw = raw_body(event)
    if len(raw) > cfg.webhook_max_bytes:
        raise HttpError(413, f"body is larger than {cfg.webhook_max_bytes} bytes")
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    verifier = str(secrets.read_json(cfg.qbo_app_secret_name).get("verifier_token") or "")
    if not qbo_webhook.verify_signature(verifier, raw, headers.get(qbo_webhook.SIGNATURE_HEADER, "")):
        raise HttpError(401, f"missing or invalid {qbo_webhook.SIGNATURE_HEADER} header")
    changes = qbo_webhook.parse(json_body(raw, cfg.webhook_max_bytes))
    result = qbo_webhook.accept(
        changes,
        tenant_for_realm=_tenant_for_realm,
        claim=events.claim,
        release=events.release,
        publish=publish_jobs,
    )
    metrics.add_metric(name="QboWebhookJobsAccepted", unit=MetricUnit.Count, value=result.accepted)
    metrics.add_metric(name="QboWebhookDuplicates", unit=MetricUnit.Count, value=result.duplicates)
    body = {"accepted": result.accepted, "duplicates": result.duplicates, "ignored": result.ignored}
    return Response(status_code=200, content_type="application/json", body=body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
