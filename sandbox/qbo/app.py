"""The sandbox's HTTP surface: OAuth endpoints, the v3 accounting API and /_sandbox control routes."""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from sandbox.qbo import faults, jsonio
from sandbox.qbo.entities import ENTITIES
from sandbox.qbo.faults import QboFault, qbo_time
from sandbox.qbo.state import SandboxState
from sandbox.qbo.store import Realm, Replay

BATCH_MAX_ITEMS = 30  # Intuit: limits and throttles (30 payloads per batch); python-quickbooks chunks at 30


class DroppedConnection(ConnectionError):
    """Raised after a committed write to close the socket without an answer (werkzeug treats a
    ConnectionError from the app as a dropped connection and writes nothing)."""


URLS = Map(
    [
        Rule("/.well-known/openid_configuration", endpoint="discovery"),
        Rule("/.well-known/openid-configuration", endpoint="discovery"),
        Rule("/.well-known/openid-sandbox-configuration", endpoint="discovery"),
        Rule("/connect/oauth2", endpoint="authorize", methods=["GET"]),
        Rule("/oauth2/v1/tokens/bearer", endpoint="token", methods=["POST"]),
        Rule("/v2/oauth2/tokens/revoke", endpoint="revoke", methods=["POST"]),
        Rule("/op/v1/jwks", endpoint="jwks", methods=["GET"]),
        Rule("/v3/company/<realm_id>/query", endpoint="query", methods=["GET", "POST"]),
        Rule("/v3/company/<realm_id>/batch", endpoint="batch", methods=["POST"]),
        Rule("/v3/company/<realm_id>/cdc", endpoint="cdc", methods=["GET"]),
        Rule("/v3/company/<realm_id>/<entity>", endpoint="write", methods=["POST"]),
        Rule("/v3/company/<realm_id>/<entity>/<obj_id>", endpoint="read", methods=["GET"]),
        Rule("/_sandbox/<path:what>", endpoint="control", methods=["GET", "POST"]),
    ]
)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(jsonio.dumps(body), status, headers=headers, content_type="application/json")


class SandboxApp:
    def __init__(self, state: SandboxState) -> None:
        self.state = state

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        adapter = URLS.bind_to_environ(environ)
        try:
            endpoint, values = adapter.match()
        except HTTPException as exc:  # QBO answers every request with a Fault, never an HTML error page
            fault = faults.unsupported(f"Operation Could not find resource for relative path: {request.path}")
            fault.status = exc.code or 400
            return self._fault(fault, request)(environ, start_response)
        handler: Callable[..., Response] = getattr(self, f"_{endpoint}")
        response = handler(request, **values)
        return response(environ, start_response)

    # -- OAuth ----------------------------------------------------------------------------------------------

    def _discovery(self, request: Request) -> Response:
        return _json(self.state.oauth.discovery(self.state.base_url or request.host_url.rstrip("/")))

    def _jwks(self, request: Request) -> Response:
        return _json({"keys": []})

    def _authorize(self, request: Request) -> Response:
        realm_id = request.args.get("realmId") or self.state.options.api.realms[0]
        self.state.add_realm(realm_id)
        location, why = self.state.oauth.authorize(dict(request.args), realm_id)
        if location is None:
            return _json({"error": "invalid_request", "error_description": why}, 400)
        return Response(status=302, headers={"Location": location})

    def _token(self, request: Request) -> Response:
        hard = request.headers.get("x-include-refresh-token-hard-expires-in", "").lower() == "true"
        reply = self.state.oauth.token(dict(request.form), request.headers.get("Authorization", ""), hard)
        return _json(reply.body, reply.status, {"Cache-Control": "no-store"})

    def _revoke(self, request: Request) -> Response:
        body = request.get_json(silent=True) or {}
        token = str(body.get("token") or request.form.get("token") or "")
        reply = self.state.oauth.revoke(token, request.headers.get("Authorization", ""))
        return _json(reply.body, reply.status)

    # -- the accounting API ------------------------------------------------------------------------------

    def _fault(self, fault: QboFault, request: Request | None = None) -> Response:
        now = self.state.clock.now()
        if request is not None and request.accept_mimetypes.best_match(["application/json", "application/xml"]) == (
            "application/xml"
        ):
            return Response(fault.xml(now), fault.status, content_type="application/xml")
        if fault.status == 429:
            headers = {}
            if self.state.options.api.retry_after_s is not None:
                headers["Retry-After"] = str(self.state.options.api.retry_after_s)
            if self.state.options.api.throttle_xml:
                return Response(fault.xml(now), 429, headers=headers, content_type="application/xml")
            return _json(fault.body(now), 429, headers)
        return _json(fault.body(now), fault.status)

    def _api(
        self, request: Request, realm_id: str, is_write: bool, batch: bool, work: Callable[[Realm], tuple[int, str]]
    ) -> Response:
        st = self.state
        call: dict[str, Any] = {"method": request.method, "path": request.path, "args": dict(request.args)}
        st.calls.append(call)
        response = self._api_inner(request, realm_id, is_write, batch, work)
        call["status"] = response.status_code
        if is_write and response.status_code == 200:
            mode = st.faults.take_drop(request.path)
            if mode == "close":
                call["status"] = "dropped"
                raise DroppedConnection("sandbox: write committed, answer dropped")
            if mode == "504":
                call["status"] = 504
                return Response(
                    "<html><body><h1>504 Gateway Time-out</h1></body></html>", 504, content_type="text/html"
                )
        response.headers["intuit_tid"] = uuid.uuid4().hex
        return response

    def _api_inner(
        self, request: Request, realm_id: str, is_write: bool, batch: bool, work: Callable[[Realm], tuple[int, str]]
    ) -> Response:
        st = self.state
        injected = st.faults.take_failure(request.path, is_write)
        if injected is not None:
            return self._fault(faults.throttled() if injected == 429 else faults.system_fault(injected))
        token_realm, why = st.oauth.check_bearer(request.headers.get("Authorization", ""))
        if token_realm is None:
            denied = faults.authentication_failed_body(why, st.clock.now())
            return _json(denied, 401, {"WWW-Authenticate": 'Bearer realm="Intuit", error="invalid_token"'})
        if token_realm != realm_id or realm_id not in st.realms:
            return self._fault(faults.authorization_failed(f"The token is not authorized for company {realm_id}"))
        if not st.limiter.admit(realm_id, batch=batch):
            return self._fault(faults.throttled())
        try:
            delay = st.faults.delay(request.path)
            if delay:
                time.sleep(delay)
            with st.lock:
                realm = st.realms[realm_id]
                try:
                    status, body = work(realm)
                except QboFault as fault:
                    return self._fault(fault)
        finally:
            st.limiter.leave(realm_id)
        return Response(body, status, content_type="application/json")

    def _write_once(self, request: Request, realm: Realm, do: Callable[[], dict[str, Any]]) -> tuple[int, str]:
        """Run a write at most once per requestid (Intuit: requestid): a repeat within the window gets the original
        answer back, byte for byte, and changes nothing."""
        st = self.state
        request_id = request.args.get("requestid")
        now = st.clock.now()
        if request_id:
            replay = realm.replays.get(request_id)
            if replay is not None and now - replay.at <= realm.settings.requestid_window_s:
                return replay.status, replay.body
        before = len(realm.changes)
        body = jsonio.dumps({**do(), "time": qbo_time(now)})
        if request_id:
            realm.replays[request_id] = Replay(200, body, now)
        st.webhooks.enqueue(realm.realm_id, realm.changes[before:])
        return 200, body

    def _write(self, request: Request, realm_id: str, entity: str) -> Response:
        def work(realm: Realm) -> tuple[int, str]:
            if entity not in ENTITIES:
                raise faults.unsupported(f"Operation Could not find resource for relative path: /{entity}")
            if request.mimetype != "application/json":
                raise faults.validation("1050", "Invalid Content Type", f"{request.mimetype} is not supported")
            try:
                body = jsonio.loads(request.get_data())
            except ValueError as exc:
                raise faults.business_validation(f"Request body is not valid JSON: {exc}") from exc
            if not isinstance(body, dict):
                raise faults.business_validation("Request body must be a JSON object")
            name = ENTITIES[entity]
            operation = request.args.get("operation", "")
            include = request.args.get("include", "")

            def do() -> dict[str, Any]:
                if operation == "delete":
                    return {name: realm.delete(entity, body)}
                if operation == "void" or (operation == "update" and include == "void"):
                    return {name: realm.void(entity, body)}
                if operation not in ("", "create", "update"):
                    raise faults.unsupported(f"Operation {operation} is not supported")
                if "Id" in body:
                    return {name: realm.update(entity, body)}
                return {name: realm.create(entity, body)}

            return self._write_once(request, realm, do)

        return self._api(request, realm_id, True, False, work)

    def _read(self, request: Request, realm_id: str, entity: str, obj_id: str) -> Response:
        def work(realm: Realm) -> tuple[int, str]:
            now = qbo_time(self.state.clock.now())
            if entity == "companyinfo" and obj_id == realm_id:  # the company itself; apps read it after connecting
                info = {"Id": realm_id, "CompanyName": f"Sandbox Company {realm_id}", "Country": "US", "SyncToken": "0"}
                return 200, jsonio.dumps({"CompanyInfo": info, "time": now})
            if entity not in ENTITIES:
                raise faults.unsupported(f"Operation Could not find resource for relative path: /{entity}")
            doc = realm.read(entity, obj_id, request.args.get("include", ""))
            return 200, jsonio.dumps({ENTITIES[entity]: doc, "time": qbo_time(self.state.clock.now())})

        return self._api(request, realm_id, False, False, work)

    def _query(self, request: Request, realm_id: str) -> Response:
        def work(realm: Realm) -> tuple[int, str]:
            if request.method == "POST":
                if request.mimetype != "application/text":
                    raise faults.validation("1050", "Invalid Content Type", "a query POST is application/text")
                statement = request.get_data(as_text=True)
            else:
                statement = request.args.get("query", "")
            result = realm.query(statement)
            return 200, jsonio.dumps({"QueryResponse": result, "time": qbo_time(self.state.clock.now())})

        return self._api(request, realm_id, False, False, work)

    def _cdc(self, request: Request, realm_id: str) -> Response:
        def work(realm: Realm) -> tuple[int, str]:
            try:
                since = datetime.fromisoformat(request.args.get("changedSince", "").replace("Z", "+00:00"))
            except ValueError as exc:
                raise faults.business_validation("changedSince must be an ISO 8601 date-time") from exc
            if since.tzinfo is None:  # python-quickbooks sends no offset; the sandbox reads it as UTC, never local
                since = since.replace(tzinfo=UTC)
            entities = [e for e in request.args.get("entities", "").split(",") if e.strip()]
            result = realm.cdc(entities, since.timestamp())
            body = {"CDCResponse": [{"QueryResponse": result}], "time": qbo_time(self.state.clock.now())}
            return 200, jsonio.dumps(body)

        return self._api(request, realm_id, False, False, work)

    def _batch(self, request: Request, realm_id: str) -> Response:
        def work(realm: Realm) -> tuple[int, str]:
            try:
                items = jsonio.loads(request.get_data()).get("BatchItemRequest") or []
            except (ValueError, AttributeError) as exc:
                raise faults.business_validation('Request body must be {"BatchItemRequest": [...]}') from exc
            if len(items) > BATCH_MAX_ITEMS:
                raise faults.batch_too_large(BATCH_MAX_ITEMS)
            return self._write_once(request, realm, lambda: {"BatchItemResponse": self._run_batch(realm, items)})

        return self._api(request, realm_id, True, True, work)

    @staticmethod
    def _run_batch(realm: Realm, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Items run in order, each with its own Fault; none sees what earlier items created (Intuit: batch)."""
        horizon = realm.horizon()
        out: list[dict[str, Any]] = []
        for item in items:
            bid = str(item.get("bId", ""))
            try:
                if "Query" in item:
                    out.append({"bId": bid, "QueryResponse": realm.query(str(item["Query"]), horizon)})
                    continue
                name = next((n for n in ENTITIES.values() if n in item), None)
                if name is None:
                    raise faults.business_validation("A batch item needs an entity, a Query or a CDCQuery")
                entity, body, op = name.lower(), copy.deepcopy(item[name]), item.get("operation", "create")
                if op == "create":
                    result = realm.create(entity, body, horizon)
                elif op == "update":
                    result = realm.update(entity, body, horizon)
                elif op == "delete":
                    result = realm.delete(entity, body)
                elif op == "void":
                    result = realm.void(entity, body)
                else:
                    raise faults.unsupported(f"Operation {op} is not supported in this sandbox")
                out.append({"bId": bid, name: result})
            except QboFault as fault:
                out.append({"bId": bid, "Fault": {"Error": [fault.error()], "type": fault.type}})
        return out

    # -- control -------------------------------------------------------------------------------------------

    def _control(self, request: Request, what: str) -> Response:
        from sandbox.qbo.control import handle

        status, body = handle(self.state, request.method, what, request.get_json(silent=True) or {})
        return _json(body, status)
