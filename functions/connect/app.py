"""QuickBooks Online connection routes: authorize (302 to Intuit), the OAuth callback, disconnect, status.

GET  /tenants/{tenant_id}/qbo/connect      tenant credential (purpose files) -> 302 to Intuit's consent screen
GET  /oauth/qbo/callback                   public; Intuit comes back here with code, state, realmId
POST /tenants/{tenant_id}/qbo/disconnect   tenant credential -> revoke at Intuit, mark disconnected
GET  /tenants/{tenant_id}/qbo/status       tenant credential -> connected | disconnected | reconnect_required
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from ledgerbridge import config
from ledgerbridge.api import HttpError, bearer, error_response, make_resolver, require_tenant
from ledgerbridge.config import ApiEnvironment
from ledgerbridge.errors import AuthorizationRevoked, PermanentError, TransientError
from ledgerbridge.observability import logger, metrics, tracer
from ledgerbridge.targets.qbo import connect

ENV = config.check(ApiEnvironment)  # cold start: a missing setting fails the init, by name

app = make_resolver()


@app.exception_handler(connect.RealmTaken)
def _taken(exc: connect.RealmTaken) -> Response[str]:
    return error_response(409, str(exc))


@app.exception_handler(TransientError)
def _transient(exc: TransientError) -> Response[str]:
    return error_response(503, f"QuickBooks could not be reached; try again shortly ({exc})")


@app.exception_handler(PermanentError)
def _permanent(exc: PermanentError) -> Response[str]:
    logger.warning("qbo connect refused", extra={"code": exc.code})
    status = 400 if isinstance(exc, AuthorizationRevoked) else 502
    return error_response(status, f"QuickBooks refused the request: {exc}")


def callback_url(event: APIGatewayProxyEvent) -> str:
    """This API's own callback URL, from the request (used when the app secret does not pin redirect_uri).
    API Gateway's execute-api host needs the stage in the path; a custom domain or the local front does not."""
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    host = headers.get("host") or event.request_context.domain_name or "localhost"
    local = host.split(":")[0] in ("127.0.0.1", "localhost")
    proto = headers.get("x-forwarded-proto") or ("http" if local else "https")
    prefix = f"/{event.request_context.stage}" if host.endswith(".amazonaws.com") else ""
    return f"{proto}://{host}{prefix}{connect.CALLBACK_PATH}"


@app.get("/tenants/<tenant_id>/qbo/connect")
def authorize(tenant_id: str) -> Response[str]:
    event = app.current_event
    require_tenant(tenant_id, bearer(event.headers), "files")
    url = connect.begin(tenant_id, callback_url(event))
    return Response(status_code=302, headers={"Location": url, "Cache-Control": "no-store"}, body="")


@app.get("/oauth/qbo/callback")
def callback() -> Response[Any]:
    params = app.current_event.query_string_parameters or {}
    state_value = params.get("state", "")
    if not state_value:
        raise HttpError(400, "the callback has no state parameter", "state")
    done = connect.complete(state_value, params.get("code", ""), params.get("realmId", ""), params.get("error", ""))
    logger.info("qbo connected", extra={"tenant_id": done.tenant_id, "realm_id": done.realm_id})
    body = {"tenant_id": done.tenant_id, "status": done.status, "realm_id": done.realm_id}
    return Response(status_code=200, content_type="application/json", body=body)


@app.post("/tenants/<tenant_id>/qbo/disconnect")
def disconnect(tenant_id: str) -> dict[str, Any]:
    require_tenant(tenant_id, bearer(app.current_event.headers), "files")
    done, revoked = connect.disconnect(tenant_id)
    return {"tenant_id": tenant_id, "status": done.status, "realm_id": done.realm_id, "revoked": revoked}


@app.get("/tenants/<tenant_id>/qbo/status")
def status(tenant_id: str) -> dict[str, Any]:
    require_tenant(tenant_id, bearer(app.current_event.headers), "files")
    return connect.status(tenant_id).as_dict()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
