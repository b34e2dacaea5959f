"""The local API Gateway throttle: a token bucket per method, 429 with API Gateway's body once it is empty."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.test import Client

from sandbox.throttle import Throttle, method_limits


def ok(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("202 Accepted", [("Content-Type", "application/json")])
    return [b"{}"]


def test_a_burst_passes_then_the_bucket_answers_429_until_it_refills() -> None:
    throttle = Throttle(ok, rate=0.001, burst=3, method="POST", path_prefix="/webhooks/")
    client = Client(throttle)
    statuses = [client.post("/webhooks/acme").status_code for _ in range(5)]
    assert statuses == [202, 202, 202, 429, 429]
    refused = client.post("/webhooks/acme")
    assert json.loads(refused.get_data()) == {"message": "Too Many Requests"}
    assert refused.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert (throttle.passed, throttle.throttled) == (3, 3)


def test_other_methods_and_routes_are_not_counted() -> None:
    throttle = Throttle(ok, rate=0.001, burst=1, method="POST", path_prefix="/webhooks/")
    client = Client(throttle)
    assert client.post("/webhooks/acme").status_code == 202
    assert client.get("/webhooks/acme").status_code == 202
    assert client.post("/tenants/acme/exports").status_code == 202
    assert client.post("/webhooks/acme").status_code == 429


def test_the_template_sets_the_webhook_routes_own_limits_and_a_default_for_the_rest() -> None:
    assert method_limits("/webhooks/{tenant_id}", "POST") == (500.0, 1000)
    assert method_limits("/tenants/{tenant_id}/exports", "GET") == (100.0, 200)
