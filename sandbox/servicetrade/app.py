"""The WSGI application: routing, authentication, fault injection, change publication, control routes.

Order of a request: control routes (`/_sandbox/...`, never faulted or authenticated) -> injected latency and
failures -> OAuth and `/auth` -> authentication (401 with an empty body) -> handler under the store lock ->
webhook messages for the changes the handler made (after the lock, only when the request succeeded).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.servicetrade import billing, clock, resources, webhooks
from sandbox.servicetrade.auth import AuthState
from sandbox.servicetrade.faults import Faults
from sandbox.servicetrade.http import ApiError, Change, Ctx, empty, envelope, error_response, read_body, to_int
from sandbox.servicetrade.render import Renderer
from sandbox.servicetrade.store import Store
from sandbox.servicetrade.webhooks import DeliveryMode, Dispatcher

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)
Handler = Callable[..., Response]

API_ROUTES: list[tuple[str, str, Handler]] = [
    ("/company", "GET", resources.list_companies),
    ("/company", "POST", resources.create_company),
    ("/company/<int:id>", "GET", resources.get_company),
    ("/company/<int:id>", "PUT", resources.update_company),
    ("/location", "GET", resources.list_locations),
    ("/location", "POST", resources.create_location),
    ("/location/<int:id>", "GET", resources.get_location),
    ("/location/<int:id>", "PUT", resources.update_location),
    ("/location/<int:id>", "DELETE", resources.delete_location),
    ("/user", "GET", resources.list_users),
    ("/user/<int:id>", "GET", resources.get_user),
    ("/job", "GET", resources.list_jobs),
    ("/job", "POST", resources.create_job),
    ("/job/<int:id>", "GET", resources.get_job),
    ("/job/<int:id>", "PUT", resources.update_job),
    ("/job/<int:id>", "DELETE", resources.delete_job),
    ("/job/<int:id>/clockin", "POST", clock.clock_in),
    ("/job/<int:id>/clockout", "POST", clock.clock_out),
    ("/jobitem", "GET", resources.list_job_items),
    ("/jobitem", "POST", resources.create_job_item),
    ("/jobitem/<int:id>", "GET", resources.get_job_item),
    ("/jobitem/<int:id>", "PUT", resources.update_job_item),
    ("/jobitem/<int:id>", "DELETE", resources.delete_job_item),
    ("/invoice", "GET", billing.list_invoices),
    ("/invoice", "POST", billing.create_invoice),
    ("/invoice/<int:id>", "GET", billing.get_invoice),
    ("/invoice/<int:id>", "PUT", billing.update_invoice),
    ("/invoiceitem", "GET", billing.list_invoice_items),
    ("/invoiceitem", "POST", billing.create_invoice_item),
    ("/invoiceitem/<int:id>", "GET", billing.get_invoice_item),
    ("/invoiceitem/<int:id>", "PUT", billing.update_invoice_item),
    ("/invoiceitem/<int:id>", "DELETE", billing.delete_invoice_item),
    ("/payment", "GET", billing.list_payments),
    ("/payment", "POST", billing.create_payment),
    ("/payment/<int:id>", "GET", billing.get_payment),
    ("/payment/<int:id>", "DELETE", billing.delete_payment),
    ("/comment", "GET", billing.list_comments),
    ("/comment", "POST", billing.create_comment),
    ("/comment/<int:id>", "GET", billing.get_comment),
    ("/comment/<int:id>", "DELETE", billing.delete_comment),
    ("/clock", "GET", clock.list_clock_events),
    ("/taxgroup", "GET", resources.list_tax_groups),
    ("/taxgroup/<int:id>", "GET", resources.get_tax_group),
    ("/libitem", "GET", resources.list_lib_items),
    ("/libitem/<int:id>", "GET", resources.get_lib_item),
    ("/serviceline", "GET", resources.list_service_lines),
    ("/externalid/<entity_type>/<first>", "GET", resources.external_ids),
    ("/externalid/<entity_type>/<first>/<second>", "GET", resources.external_id),
    ("/externalid/<entity_type>/<first>/<second>", "POST", resources.external_id),
    ("/externalid/<entity_type>/<first>/<second>", "PUT", resources.external_id),
    ("/webhook", "GET", webhooks.list_webhooks),
    ("/webhook", "POST", webhooks.create_webhook),
    ("/webhook/<int:id>", "GET", webhooks.get_webhook),
    ("/webhook/<int:id>", "PUT", webhooks.update_webhook),
    ("/webhook/<int:id>", "DELETE", webhooks.delete_webhook),
]


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    query: str
    status: int
    at: float


def _rules() -> Iterable[Rule]:
    for prefix in ("/api", ""):  # the pre-release SDK used /oauth2/token without /api
        yield Rule(f"{prefix}/oauth2/token", methods=["POST"], endpoint=("token", None))
        yield Rule(f"{prefix}/oauth2/revoke", methods=["POST"], endpoint=("revoke", None))
    yield Rule("/api/auth", methods=["GET", "POST", "DELETE"], endpoint=("auth", None))
    for path, method, handler in API_ROUTES:
        yield Rule(f"/api{path}", methods=[method], endpoint=("api", handler))


class SandboxApp:
    """A WSGI callable serving the ServiceTrade API from a Store."""

    def __init__(
        self,
        store: Store,
        *,
        token_lifetime: int = 3600,
        require_client_id_on_refresh: bool = False,
        max_sessions_per_user: int = 10,
        delivery_mode: DeliveryMode = "async",
        delivery_timeout: float = 5.0,
        delivery_attempts: int = 3,
        delivery_retry_delay: float = 1.0,
        base_url: str = "",
        request_log_size: int = 10_000,
    ):
        self.store = store
        self.auth = AuthState(
            store,
            token_lifetime=token_lifetime,
            require_client_id_on_refresh=require_client_id_on_refresh,
            max_sessions_per_user=max_sessions_per_user,
        )
        self.faults = Faults()
        self.dispatcher = Dispatcher(
            store,
            base_url=base_url,
            mode=delivery_mode,
            timeout=delivery_timeout,
            max_attempts=delivery_attempts,
            retry_delay=delivery_retry_delay,
        )
        self.requests: deque[RequestRecord] = deque(maxlen=request_log_size)
        self.url_map = Map(list(_rules()))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        response = self.handle(request)
        query = request.query_string.decode()
        self.requests.append(RequestRecord(request.method, request.path, query, response.status_code, time.time()))
        return response(environ, start_response)

    def handle(self, request: Request) -> Response:
        base_url = request.host_url.rstrip("/")
        if not self.dispatcher.base_url:
            self.dispatcher.base_url = base_url
        if request.path.startswith("/_sandbox/"):
            try:
                return self.control(request)
            except ApiError as exc:
                return error_response(exc.status, exc.message)
        injected = self.faults.take(request.method, request.path)
        if injected.latency:
            time.sleep(injected.latency)
        if injected.status is not None:
            headers = {"Retry-After": str(injected.retry_after)} if injected.retry_after is not None else None
            return error_response(injected.status, "Service temporarily unavailable (injected fault)", None, headers)
        try:
            (kind, handler), args = self.url_map.bind_to_environ(request.environ).match()
        except NotFound:
            if request.path.startswith("/api/") and self.auth.user_for(request) is None:
                return empty(401)
            return error_response(404, f"No route for {request.method} {request.path}")
        except MethodNotAllowed:
            return error_response(405, f"Method {request.method} is not allowed on {request.path}")
        if kind == "token":
            return self.auth.token(request)
        if kind == "revoke":
            return self.auth.revoke(request)
        if kind == "auth":
            return self.auth.session(request, Renderer(self.store, base_url))
        user_id = self.auth.user_for(request)
        if user_id is None:
            return empty(401)
        ctx = Ctx(request=request, store=self.store, user_id=user_id, base_url=base_url)
        try:
            with self.store.lock:
                response: Response = handler(ctx, **args)
        except ApiError as exc:
            return error_response(exc.status, exc.message, exc.data, exc.headers)
        except Exception as exc:  # a sandbox bug: say so loudly, in the envelope
            log.exception("sandbox handler failed")
            return error_response(500, f"Sandbox error: {type(exc).__name__}: {exc}")
        if ctx.changes and response.status_code < 400:
            self.dispatcher.publish(ctx.changes)
        return response

    # -- control routes (/_sandbox) ------------------------------------------------------------------------------
    def control(self, request: Request) -> Response:
        route = (request.method, request.path.rstrip("/"))
        body = read_body(request) if request.method in ("POST", "PUT") else {}
        if route == ("GET", "/_sandbox/health"):
            return envelope({"ok": True})
        if route == ("POST", "/_sandbox/faults"):
            if body.get("failNext"):
                self.faults.fail_next(
                    to_int(body["failNext"], "failNext"),
                    to_int(body.get("status", 503), "status"),
                    retry_after=None if body.get("retryAfter") is None else to_int(body["retryAfter"], "retryAfter"),
                    path_prefix=str(body.get("pathPrefix", "/api/")),
                    method=body.get("method"),
                )
            if body.get("latency"):
                count = body.get("latencyCount")
                self.faults.add_latency(
                    float(body["latency"]),
                    None if count is None else to_int(count, "latencyCount"),
                    path_prefix=str(body.get("pathPrefix", "/api/")),
                )
            if "dropDeliveries" in body:
                of = body.get("dropOf")
                self.dispatcher.drop_deliveries(
                    to_int(body["dropDeliveries"], "dropDeliveries"), None if of is None else to_int(of, "dropOf")
                )
            return envelope({"failures": len(self.faults.failures), "latencies": len(self.faults.latencies)})
        if route == ("DELETE", "/_sandbox/faults"):
            self.faults.clear()
            return empty(204)
        if route == ("PUT", "/_sandbox/token-lifetime"):
            self.auth.token_lifetime = to_int(body.get("seconds"), "seconds")
            return envelope({"seconds": self.auth.token_lifetime})
        if route == ("POST", "/_sandbox/expire-tokens"):
            self.auth.expire_access_tokens()
            return empty(204)
        if route == ("POST", "/_sandbox/deliver"):
            change = Change(
                str(body.get("entityType", "invoice")),
                to_int(body.get("entityId"), "entityId"),
                str(body.get("action", "updated")),
                None if body.get("userId") is None else to_int(body["userId"], "userId"),
                body.get("changeset"),
            )
            return envelope({"messageId": self.dispatcher.publish([change])})
        if route == ("POST", "/_sandbox/deliveries/flush"):
            return envelope({"delivered": self.dispatcher.flush()})
        if route == ("GET", "/_sandbox/deliveries"):
            attempts = [asdict(a) for a in self.dispatcher.attempts]
            return envelope({"attempts": attempts, "messages": list(self.dispatcher.messages)})
        if route == ("GET", "/_sandbox/requests"):
            return envelope({"requests": [asdict(r) for r in self.requests]})
        raise ApiError(404, f"No sandbox control route {request.method} {request.path}")


def describe_routes() -> list[dict[str, Any]]:
    """Every API route (for docs and tests)."""
    return [{"path": f"/api{path}", "method": method} for path, method, _ in API_ROUTES]
