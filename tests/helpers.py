"""Test helpers shared across suites: tenants, API calls through the real handlers, queue reads."""

from __future__ import annotations

import json
from typing import Any

from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.qbo.settings import QboSettings
from ledgerbridge.tenants import MappingSettings, Tenant
from sandbox.stack.apigw import proxy_event, route_matches
from sandbox.stack.functions import invoke
from sandbox.stack.template import load

# The demo company's sales-tax groups, mapped to the QBO sandbox's tax codes of the same names.
DEMO_TAX_CODES = {county: county for county in ("Durham County", "Wake County", "Orange County")}


def make_tenant(tenant_id: str = "acme-fire", **overrides: Any) -> Tenant:
    data: dict[str, Any] = {
        "tenant_id": tenant_id,
        "name": "Acme Fire & Mechanical",
        "timezone": "America/New_York",
        "integrations": [QboSettings(entities=["invoice", "customer"])],
        "mapping": MappingSettings(tax_codes=DEMO_TAX_CODES),
    }
    data.update(overrides)
    tenant = Tenant(**data)
    tenant_store.save(tenant)
    return tenant


def call_api(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """Send a request through the template's routes to the function that serves it."""
    for route in load().api_routes():
        params = route_matches(route.path, path)
        if params is not None and route.method == method.upper():
            raw = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
            event = proxy_event(
                method, path, route.path, path_parameters=params, query=query, headers=headers, body=raw
            )
            resp = invoke(route.function, event)
            text = resp.get("body") or ""
            try:
                parsed: Any = json.loads(text)
            except ValueError:
                parsed = text
            headers_out = dict(resp.get("headers") or {})
            for key, values in (resp.get("multiValueHeaders") or {}).items():
                headers_out[key] = ", ".join(values)
            return resp["statusCode"], headers_out, parsed
    raise AssertionError(f"no route for {method} {path}")


def drain(queue_url: str) -> list[dict[str, Any]]:
    """Receive (and delete) every visible message of a queue, with its attributes."""
    from ledgerbridge import aws

    sqs = aws.client("sqs")
    out: list[dict[str, Any]] = []
    while True:
        resp = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])
        msgs = resp.get("Messages", [])
        if not msgs:
            return out
        for m in msgs:
            out.append(m)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
