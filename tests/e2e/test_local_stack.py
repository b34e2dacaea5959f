"""The local stack as a client meets it: each function in its own execution environment, as in Lambda.

Two functions busy at once through the API front must each see only their own events (in one process,
Powertools' resolvers share the current event between functions), and a function's process has only
the variables the template gives it.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from ledgerbridge.admin import CreatedTenant
from sandbox import fixtures
from sandbox.stack import environments as envs
from sandbox.stack.apigw import proxy_event
from sandbox.stack.environments import Environments, FunctionConfig, FunctionError
from sandbox.stack.pollers import QueuePoller
from sandbox.stack.runner import LocalStack
from sandbox.stack.template import QueueSource
from tests.conftest import reset_caches

ROUNDS = 20  # requests per client thread


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    saved = dict(os.environ)
    stack = LocalStack(background=False).start()
    try:
        yield stack
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_caches()
    assert not list(envs._live), "a function's process outlived the stack"


@pytest.fixture(scope="module")
def tenant(stack: LocalStack) -> CreatedTenant:
    return fixtures.create_tenant(stack.sandboxes["servicetrade"].url)


def delivery(invoice_id: int) -> str:
    now = int(time.time())
    item = {"action": "updated", "timestamp": now, "userId": 1, "entity": {"type": "invoice", "id": invoice_id}}
    return json.dumps({"messageId": str(uuid.uuid4()), "timestamp": str(now), "data": [item]})


def soap(operation: str) -> str:
    return (
        '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
        f'<{operation} xmlns="http://developer.intuit.com/"/></soap:Body></soap:Envelope>'
    )


def test_two_functions_busy_at_once_each_see_only_their_own_events(stack: LocalStack, tenant: CreatedTenant) -> None:
    assert stack.front is not None
    tenant_id = tenant.tenant.tenant_id
    answers: dict[str, list[tuple[int, str]]] = {"webhook": [], "qbwc": []}

    def webhooks(first: int) -> None:
        with requests.Session() as http:
            for n in range(first, first + ROUNDS):
                r = http.post(
                    f"{stack.front.url}/webhooks/{tenant_id}",
                    params={"token": tenant.webhook_token},
                    data=delivery(n),
                    timeout=30,
                )
                answers["webhook"].append((r.status_code, r.text))

    def web_connector() -> None:
        with requests.Session() as http:
            for n in range(ROUNDS * 3):
                operation = ("serverVersion", "clientVersion")[n % 2]
                r = http.post(f"{stack.front.url}/qbwc/{tenant_id}", data=soap(operation), timeout=30)
                answers["qbwc"].append((r.status_code, f"{operation} {r.text}"))

    threads = [threading.Thread(target=webhooks, args=(1000 * k,)) for k in range(1, 4)]
    threads.append(threading.Thread(target=web_connector))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers["webhook"]) == len(answers["qbwc"]) == 3 * ROUNDS
    wrong_hooks = [a for a in answers["webhook"] if a[0] != 202 or json.loads(a[1])["accepted"] != 1]
    assert wrong_hooks == []
    wrong_soap = [a for a in answers["qbwc"] if a[0] != 200 or f"<{a[1].split()[0]}Response" not in a[1]]
    assert wrong_soap == []


def test_a_function_lacking_a_variable_in_its_template_fails_even_though_the_stack_has_it(
    stack: LocalStack, tenant: CreatedTenant
) -> None:
    assert stack.functions is not None and "STATE_TABLE" in os.environ
    tenant_id = tenant.tenant.tenant_id
    webhook = stack.functions.functions["WebhookFunction"]
    event = proxy_event(
        "POST",
        f"/webhooks/{tenant_id}",
        "/webhooks/{tenant_id}",
        path_parameters={"tenant_id": tenant_id},
        query={"token": tenant.webhook_token},
        body=delivery(1),
    )
    assert stack.functions.invoke("WebhookFunction", event)["statusCode"] == 202
    without = {k: v for k, v in webhook.config.env.items() if k != "STATE_TABLE"}
    lacking = Environments({"WebhookFunction": replace(webhook.config, env=without)}, webhook.local)
    try:
        # The handler checks its environment at cold start, so the Init phase fails, as it would on Lambda.
        with pytest.raises(FunctionError, match="STATE_TABLE"):
            lacking.invoke("WebhookFunction", event)
    finally:
        lacking.close()


def test_a_crashed_batch_is_left_to_sqs_visibility_and_the_environment_replaced(
    stack: LocalStack, tmp_path: Path
) -> None:
    assert stack.stack is not None
    (tmp_path / "app.py").write_text("import os\n\ndef handler(event, context):\n    os._exit(1)\n")
    config = FunctionConfig("Crashing", tmp_path, "app.handler", "python3.14", 3, 128, 1, env={})
    crashing = Environments({"Crashing": config}, {})
    url = stack.stack.queue_url("ExportQueue")
    sqs: Any = boto3.client("sqs", region_name="us-east-1")
    sqs.send_message(QueueUrl=url, MessageBody="{}", MessageGroupId="g", MessageDeduplicationId=str(uuid.uuid4()))
    poller = QueuePoller(stack.stack, QueueSource("Crashing", "ExportQueue", 1, True), crashing.invoke)
    try:
        assert poller.poll_once() == 1
        assert poller.poll_once() == 0  # in flight until its visibility timeout ends, as in AWS
    finally:
        crashing.close()
    assert len(poller.errors) == 1 and "Runtime.ExitError" in poller.errors[0]
    assert poller.backlog() == 1
    assert crashing.functions["Crashing"].started == 1
