"""QuickBooks Online connection routes: authorize (302 to Intuit), the OAuth callback, disconnect, status.

GET  /tenants/{tenant_id}/qbo/connect      tenant credential (scope connect) -> 302 to Intuit's consent screen
GET  /oauth/qbo/callback                   public; Intuit comes back here with code, state, realmId (JSON, or a
                                           303 back to the console's Overview when the console started it)
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
from ledgerbridge.errors import AuthorizationRevoked, InvalidInput, PermanentError, TransientError
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
    require_tenant(tenant_id, bearer(event.headers), "connect")
    url = connect.begin(tenant_id, callback_url(event))
    return Response(status_code=302, headers={"Location": url, "Cache-Control": "no-store"}, body="")


@app.get("/oauth/qbo/callback")
def callback() -> Response[Any]:
    params = app.current_event.query_string_parameters or {}
    state_value = params.get("state", "")
    if not state_value:
        raise HttpError(400, "the callback has no state parameter", "state")
    done, return_to = connect.finish(
        state_value, params.get("code", ""), params.get("realmId", ""), params.get("error", "")
    )
    if return_to:  # started from the console: back to its Overview, which says how it went
        return Response(
            status_code=303,
            headers={"Location": f"{return_to}?notice={console_notice(done)}", "Cache-Control": "no-store"},
            body="",
        )
    if isinstance(done, Exception):
        raise done
    logger.info("qbo connected", extra={"tenant_id": done.tenant_id, "realm_id": done.realm_id})
    body = {"tenant_id": done.tenant_id, "status": done.status, "realm_id": done.realm_id}
    return Response(status_code=200, content_type="application/json", body=body)


def console_notice(done: object) -> str:
    """The console's notice for the outcome (pages.NOTICES): never the error text, which stays in the log."""
    if not isinstance(done, Exception):
        logger.info("qbo connected from the console")
        return "connected"
    logger.warning("qbo connect from the console refused", extra={"error": str(done)})
    if isinstance(done, connect.RealmTaken):
        return "connect-taken"
    return "connect-refused" if isinstance(done, InvalidInput) else "connect-failed"


@app.post("/tenants/<tenant_id>/qbo/disconnect")
def disconnect(tenant_id: str) -> dict[str, Any]:
    require_tenant(tenant_id, bearer(app.current_event.headers), "connect")
    done, revoked = connect.disconnect(tenant_id)
    return {"tenant_id": tenant_id, "status": done.status, "realm_id": done.realm_id, "revoked": revoked}


@app.get("/tenants/<tenant_id>/qbo/status")
def status(tenant_id: str) -> dict[str, Any]:
    require_tenant(tenant_id, bearer(app.current_event.headers), "connect")
    return connect.status(tenant_id).as_dict()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)  # responses carry secrets
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
