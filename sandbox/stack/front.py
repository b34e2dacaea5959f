"""The API front: what API Gateway does for the REST API in template.yaml, for the local stack.

Routes come from the functions' `Api` events. A request becomes a REST v1 proxy event for the function
that serves its route; the function's proxy response becomes the HTTP response. Unknown routes get API
Gateway's own 403 "Missing Authentication Token". Routes with `Authorizer: AWS_IAM` require a SigV4
Authorization header from the local account's access key (signature maths is not re-checked locally).
A failed invocation (error, crash, timeout) or a response that is not a proxy response is API Gateway's
502 {"message": "Internal server error"}:
https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from sandbox.stack.apigw import proxy_event, route_matches
from sandbox.stack.environments import FunctionError
from sandbox.stack.functions import Invoke
from sandbox.stack.template import load

LOCAL_ACCESS_KEY = "testing"
MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's payload limit


def _iam_ok(request: Request) -> bool:
    auth = request.headers.get("Authorization", "")
    return auth.startswith("AWS4-HMAC-SHA256 ") and f"Credential={LOCAL_ACCESS_KEY}/" in auth


def _gateway_error(status: int, message: str) -> Response:
    return Response(json.dumps({"message": message}), status=status, content_type="application/json")


def _proxy_response(result: Any) -> Response:
    if not isinstance(result, dict) or not isinstance(result.get("statusCode", 200), int):
        return _gateway_error(502, "Internal server error")
    headers = dict(result.get("headers") or {})
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key] = ", ".join(values)
    payload = result.get("body") or ""
    data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
    return Response(data, status=result.get("statusCode", 200), headers=headers)


class ApiFront:
    def __init__(self, invoke: Invoke) -> None:
        self.routes = load().api_routes()
        self.invoke = invoke

    def dispatch(self, request: Request) -> Response:
        body = request.get_data()
        if len(body) > MAX_PAYLOAD:
            return _gateway_error(413, "Request Too Long")
        for route in self.routes:
            params = route_matches(route.path, request.path)
            if params is None or route.method != request.method:
                continue
            if route.iam_auth and not _iam_ok(request):
                return _gateway_error(403, "Missing Authentication Token")
            event = proxy_event(
                request.method,
                request.path,
                route.path,
                path_parameters=params,
                query=dict(request.args) or None,
                headers=dict(request.headers),
                body=body or None,
            )
            try:
                return _proxy_response(self.invoke(route.function, event))
            except FunctionError:
                return _gateway_error(502, "Internal server error")
        return _gateway_error(403, "Missing Authentication Token")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        response = self.dispatch(Request(environ))
        return response(environ, start_response)


class Served:
    """A WSGI app on 127.0.0.1 in a daemon thread."""

    def __init__(self, app: Callable[..., Iterable[bytes]], port: int = 0) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self._thread.join(timeout=5)
