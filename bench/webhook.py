"""Webhook ack latency next to its essential AWS calls, side by side in one run (prints figures; asserts nothing).

    .venv/bin/python -m bench.webhook [deliveries]      or  run() -> [{name, value, unit}] for `make bench`

moto's server on 127.0.0.1 stands in for AWS, so every AWS call is a real HTTP round trip. "Essential" is
what an exactly-once ack cannot skip: one conditional put (the claim) and one FIFO send (the job). "Ack" is
the whole webhook function (parse, authenticate, validate, claim, enqueue, answer 202) invoked as Lambda
would, warm: the tenant config and hook-token digest come from the container's warm copy (tenant_store.WARM_S).
The two alternate call by call so both see the same machine load.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from typing import Any

QUIET_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}


def _stack() -> tuple[Any, str, str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    os.environ.update(QUIET_AWS)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    os.environ["AWS_ENDPOINT_URL"] = f"http://{host}:{port}"
    from ledgerbridge import aws
    from ledgerbridge.config import get_config
    from ledgerbridge.state import tenants as tenant_store
    from ledgerbridge.targets.qbo.settings import QboSettings
    from ledgerbridge.tenants import Tenant
    from sandbox.stack.provision import provision

    stack = provision()
    os.environ.update(stack.all_env())
    os.environ.update(QUIET_AWS)  # the bench's choices win over the template's (no EMF lines, no X-Ray)
    get_config.cache_clear()
    aws.reset()
    tenant = Tenant(tenant_id="bench-hooks", name="Bench", integrations=[QboSettings()])
    tenant_store.save(tenant)
    return server, tenant.tenant_id, tenant_store.issue_credential(tenant.tenant_id, "webhook")


def _essential(tenant_id: str) -> None:
    """The two AWS calls an exactly-once ack needs, straight through boto3."""
    from ledgerbridge import aws
    from ledgerbridge.config import get_config
    from ledgerbridge.state.events import claim

    key = uuid.uuid4().hex
    claim(tenant_id, key)
    aws.client("sqs").send_message(
        QueueUrl=get_config().sync_queue_url("qbo"),
        MessageBody=json.dumps({"key": key}),
        MessageGroupId=f"{tenant_id}#invoice#{key}",
        MessageDeduplicationId=key,
    )


def _ack(tenant_id: str, token: str, n: int) -> None:
    from sandbox.stack.apigw import proxy_event
    from sandbox.stack.functions import by_folder, invoke

    now = int(time.time())
    body = {
        "messageId": f"m{n}",
        "timestamp": now,
        "data": [{"action": "updated", "timestamp": now, "entity": {"type": "invoice", "id": str(100000 + n)}}],
    }
    path = f"/webhooks/{tenant_id}"
    event = proxy_event(
        "POST",
        path,
        "/webhooks/{tenant_id}",
        path_parameters={"tenant_id": tenant_id},
        headers={"x-ledgerbridge-token": token, "Content-Type": "application/json"},
        body=json.dumps(body),
    )
    response = invoke(by_folder("webhook"), event)
    if response["statusCode"] != 202:
        raise RuntimeError(f"webhook answered {response['statusCode']}: {response.get('body')}")


def measure(deliveries: int = 300) -> dict[str, float]:
    server, tenant_id, token = _stack()
    try:
        for n in range(20):  # warm both paths: imports, clients, connections, the warm copy
            _essential(tenant_id)
            _ack(tenant_id, token, -n - 1)
        essential, ack = [], []
        for n in range(deliveries):
            started = time.perf_counter()
            _essential(tenant_id)
            essential.append(time.perf_counter() - started)
            started = time.perf_counter()
            _ack(tenant_id, token, n)
            ack.append(time.perf_counter() - started)
    finally:
        server.stop()
    p50_essential, p50_ack = statistics.median(essential), statistics.median(ack)
    return {"essential_ms": p50_essential * 1000, "ack_ms": p50_ack * 1000, "ratio": p50_ack / p50_essential}


def run(deliveries: int = 300) -> list[dict[str, Any]]:
    from ledgerbridge.state.tenants import WARM_S

    m = measure(deliveries)
    return [
        {"name": "webhook ack p50 (warm)", "value": round(m["ack_ms"], 2), "unit": "ms"},
        {
            "name": "webhook essential AWS calls p50 (put + FIFO send)",
            "value": round(m["essential_ms"], 2),
            "unit": "ms",
        },
        {
            "name": "webhook ack / essential calls",
            "value": round(m["ratio"], 2),
            "unit": f"x (config cache {WARM_S:g} s)",
        },
    ]


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else 300):
        print(f"{row['name']}: {row['value']} {row['unit']}")
