"""/qbwc/{tenant_id}: the QuickBooks Web Connector's SOAP endpoint (POST), and its WSDL (GET ?wsdl)."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import config, wiring
from ledgerbridge.api import make_resolver
from ledgerbridge.config import StateEnvironment
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.source import Platform
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.qbd import soap
from ledgerbridge.targets.qbd.service import Service

ENV = config.check(StateEnvironment)  # cold start: a missing setting fails the init, by name
app = make_resolver()
XML = "text/xml; charset=utf-8"


@app.post("/qbwc/<tenant_id>")
def call(tenant_id: str) -> Response[str]:
    tenant = tenant_store.load(tenant_id)
    logger.append_keys(tenant_id=tenant_id)

    @cache
    def platform() -> Platform:  # built only when a session writes back to the platform
        return wiring.platform_for(tenant)

    try:
        operation, params = soap.parse(app.current_event.body or "")
    except soap.SoapFault as exc:
        return Response(status_code=500, content_type=XML, body=soap.fault(str(exc)))
    logger.append_keys(operation=operation)
    return Response(status_code=200, content_type=XML, body=Service(tenant, platform).call(operation, params))


@app.get("/qbwc/<tenant_id>")
def describe(tenant_id: str) -> Response[str]:
    """The WSDL (QBWC and SOAP tooling ask for ?wsdl)."""
    tenant_store.load(tenant_id)
    headers = app.current_event.headers or {}
    host = headers.get("Host") or headers.get("host") or "localhost"
    stage = app.current_event.request_context.stage
    prefix = f"/{stage}" if stage and stage != "$default" and not host.startswith("localhost") else ""
    return Response(status_code=200, content_type=XML, body=soap.wsdl(f"https://{host}{prefix}/qbwc/{tenant_id}"))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # responses carry tickets
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
