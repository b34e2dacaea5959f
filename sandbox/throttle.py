"""API Gateway's request throttling, for a local front: a WSGI wrapper, kept apart from the stack itself.

API Gateway throttles with a token bucket per method: the bucket holds `burst` requests and refills at
`rate` per second; a request that finds it empty is answered 429 `{"message": "Too Many Requests"}` without
reaching the integration ("Throttle requests to your REST APIs for better throughput in API Gateway",
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).

    front = Served(Throttle(ApiFront(invoke), rate=20, burst=50, method="POST", path_prefix="/webhooks/"))
    Throttle.from_template(app, "/webhooks/{tenant_id}", "POST")   # the template's own limits
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from samtranslator.yaml_helper import yaml_parse

TEMPLATE = Path(__file__).resolve().parents[1] / "template.yaml"
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def method_limits(resource_path: str, method: str, template: Path = TEMPLATE) -> tuple[float, int]:
    """(rate, burst) that template.yaml's Api stage sets for one method, or its "/*" default."""
    api = yaml_parse(template.read_text())["Resources"]["Api"]["Properties"]
    encoded = "/" + resource_path.replace("/", "~1")  # API Gateway: /a/b is "/~1a~1b"
    chosen: dict[str, Any] | None = None
    for setting in api.get("MethodSettings", []):
        if setting["ResourcePath"] == encoded and setting["HttpMethod"] in (method, "*"):
            chosen = setting
            break
        if setting["ResourcePath"] == "/*" and chosen is None:
            chosen = setting
    if chosen is None:
        raise LookupError(f"template.yaml sets no throttle for {method} {resource_path}")
    return float(chosen["ThrottlingRateLimit"]), int(chosen["ThrottlingBurstLimit"])


class Throttle:
    """Answer 429 to matching requests once the token bucket is empty; pass everything else through."""

    def __init__(self, app: WsgiApp, *, rate: float, burst: int, method: str = "", path_prefix: str = "/") -> None:
        self.app = app
        self.rate, self.burst = rate, burst
        self.method, self.path_prefix = method.upper(), path_prefix
        self.tokens = float(burst)
        self.passed = 0
        self.throttled = 0
        self._last = time.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def from_template(cls, app: WsgiApp, resource_path: str, method: str) -> Throttle:
        rate, burst = method_limits(resource_path, method)
        prefix = resource_path.split("{", 1)[0]
        return cls(app, rate=rate, burst=burst, method=method, path_prefix=prefix)

    def take(self) -> bool:
        """One token, if the bucket has one (refilled at `rate` since the last look)."""
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self._last) * self.rate)
            self._last = now
            if self.tokens >= 1:
                self.tokens -= 1
                self.passed += 1
                return True
            self.throttled += 1
            return False

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        matches = str(environ.get("PATH_INFO", "")).startswith(self.path_prefix) and (
            not self.method or environ.get("REQUEST_METHOD") == self.method
        )
        if matches and not self.take():
            body = json.dumps({"message": "Too Many Requests"}).encode()
            start_response(
                "429 Too Many Requests",
                [
                    ("Content-Type", "application/json"),
                    ("Content-Length", str(len(body))),
                    ("x-amzn-ErrorType", "TooManyRequestsException"),
                ],
            )
            return [body]
        return self.app(environ, start_response)
