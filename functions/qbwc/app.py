"""POST /qbwc/{tenant_id}: the QuickBooks Web Connector's SOAP endpoint."""

from __future__ import annotations

import uuid
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import qbwc
from ledgerbridge.api import make_resolver
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.state import tenants as tenant_store

app = make_resolver()
XML = "text/xml; charset=utf-8"


@app.post("/qbwc/<tenant_id>")
def soap(tenant_id: str) -> Response[str]:
    tenant_store.load(tenant_id)
    try:
        operation, params = qbwc.parse(app.current_event.body or "")
        body = qbwc.respond(
            operation,
            params,
            authenticate=lambda user, password: (
                user == tenant_id and tenant_store.check_credential(tenant_id, password, "qbwc")
            ),
            ticket=str(uuid.uuid4()),
        )
    except qbwc.SoapFault as exc:
        return Response(status_code=500, content_type=XML, body=qbwc.fault(str(exc)))
    return Response(status_code=200, content_type=XML, body=body)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # responses carry secrets
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
