"""Least privilege that is sufficient, proven: every function runs on the local stack under a role carrying only
the policies the translated template gives it, with moto enforcing IAM, through its success paths (the whole
`make demo` story) and its failure and backoff paths. Then, per function:

- no request was denied (moto's check: the action);
- every request is allowed by the function's policies, resource included (iam_policy's evaluator: moto matches
  resources for S3 only);
- every (action, resource) the policies grant was used by some request, except the few listed in NOT_BY_CODE,
  which the Lambda service uses with the function's role rather than the handler's code.
"""

from __future__ import annotations

import functools
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from servicetrade import ServicetradeClient

from sandbox import demo, fixtures
from sandbox.intacct.demo import show as show_intacct
from sandbox.qbd import demo as desktop
from sandbox.servicetrade import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from sandbox.stack.front import LOCAL_ACCESS_KEY
from sandbox.stack.runner import LocalStack
from tests.infrastructure.iam_policy import Grant, allowed, grants, statements, used
from tests.infrastructure.iam_stack import Recorder, enforced, role_policies

EVENTS = Path(__file__).resolve().parents[2] / "events"


@dataclass
class Proof:
    stack: LocalStack
    policies: dict[str, dict[str, dict[str, Any]]]
    recorder: Recorder


def _success_paths(stack: LocalStack) -> str:
    """The whole `make demo` story: exports, webhooks to three targets, payments back, the sweep, the Web
    Connector, the console link. Returns the QuickBooks Online tenant's id."""
    story = demo.Story(io.StringIO())
    seeded = demo.seed(stack)
    tenant_id = seeded["tenant_id"]
    demo._export(story, stack, tenant_id, seeded["files_credential"])
    demo._integration(story, stack, tenant_id)
    demo._payments(story, stack)
    demo._sweep(story, stack, tenant_id)
    desktop.run(story, stack)
    show_intacct(story, stack)
    stack.fire_schedule("sync_dispatch", datetime.now(UTC))
    stack.drain()
    _files(stack, tenant_id, seeded["files_credential"])
    _admin(stack, tenant_id)
    _console(stack, tenant_id)
    return tenant_id


def _files(stack: LocalStack, tenant_id: str, credential: str) -> None:
    from ledgerbridge.state import exports

    http = _http(stack, {"Authorization": f"Bearer {credential}"})
    manifest = exports.list_for(tenant_id)[0]
    link = http.get(f"/tenants/{tenant_id}/exports/{manifest.export_id}/download", allow_redirects=False)
    assert link.status_code == 302, link.text
    stack_recorder(stack).presigned(link.headers["Location"])
    confirmed = http.post(f"/tenants/{tenant_id}/exports/{manifest.export_id}/confirm", json={})
    assert confirmed.status_code < 500, confirmed.text


def _admin(stack: LocalStack, tenant_id: str) -> None:
    # The local API front lets an admin route through on a SigV4 header naming its local key (front.py).
    http = _http(stack, {"Authorization": f"AWS4-HMAC-SHA256 Credential={LOCAL_ACCESS_KEY}/local, Signature=0"})
    for path in ("", "/credentials", "/sync-log", "/dead-letters"):
        answer = http.get(f"/admin/tenants/{tenant_id}{path}")
        assert answer.status_code == 200, (path, answer.text)
    issued = http.post(f"/admin/tenants/{tenant_id}/credentials", json={"purpose": "files"})
    assert issued.status_code == 201, issued.text
    listed = http.get(f"/admin/tenants/{tenant_id}/credentials").json()["credentials"]
    revoked = http.delete(f"/admin/tenants/{tenant_id}/credentials/{listed[-1]['key_id']}")
    assert revoked.status_code == 204, revoked.text
    body = json.loads(json.loads((EVENTS / "admin.json").read_text())["body"])
    body["tenant"]["tenant_id"] = "iam-admin"
    created = http.post("/admin/tenants", json=body)
    assert created.status_code == 201, created.text
    replayed = http.post(f"/admin/tenants/{tenant_id}/dead-letters/replay", json={})
    assert replayed.status_code == 200, replayed.text
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    retried = http.post(f"/admin/tenants/{tenant_id}/retry-failed", json={"since": since})
    assert retried.status_code == 200, retried.text


def _console(stack: LocalStack, tenant_id: str) -> None:
    from ledgerbridge.console import sessions

    http = _http(stack, {})
    signed_in = http.get("/console/signin", params={"token": sessions.issue_link(tenant_id)}, allow_redirects=False)
    assert signed_in.status_code in (302, 303), signed_in.text
    # The cookie is Secure and the local front is http: carry it by hand.
    cookie = signed_in.headers["Set-Cookie"].split(";", 1)[0]
    http.headers["Cookie"] = cookie
    for path in ("/console/overview", "/console/activity", "/console/exports", "/console/reconciliation"):
        page = http.get(path)
        assert page.status_code == 200 and "Sign in" not in page.text, (path, page.text[:300])


def _failure_paths(stack: LocalStack, tenant_id: str) -> None:
    """QuickBooks Online's access token expired: the token store refreshes it and stores a new secret version.
    A tenant connecting for the first time: its token secret does not exist yet (the CreateSecret fallback).
    Transient failures (QuickBooks answering 503, the platform answering 503 to an export): the consumers back
    off by delaying their own message. Last, as those messages stay in flight."""
    from sandbox.qbo import flows

    qbo, st = stack.sandboxes["qbo"], stack.sandboxes["servicetrade"]
    client = ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    invoices = sorted(i for i, invoice in st.state.invoices.items() if invoice["status"] == "processed")

    qbo.expire_access_tokens()
    client.put(f"/invoice/{invoices[0]}", {"status": "pending_accounting"})
    stack.drain()

    created = fixtures.create_tenant(st.url, "iam-connect")
    http = _http(stack, {"Authorization": f"Bearer {created.files_credential}"})
    authorize = http.get("/tenants/iam-connect/qbo/connect", allow_redirects=False)
    assert authorize.status_code == 302, authorize.text
    qbo.state.add_realm("9341455000000777")  # a company of its own: one realm belongs to one tenant
    answer = flows.consent(authorize.headers["Location"], "9341455000000777")
    assert http.get("/oauth/qbo/callback", params=answer).status_code == 200
    assert http.get("/tenants/iam-connect/qbo/status").json()["status"] == "connected"
    assert http.post("/tenants/iam-connect/qbo/disconnect").status_code == 200
    reauthorize = http.get("/tenants/iam-connect/qbo/connect", allow_redirects=False).headers["Location"]
    again = flows.consent(reauthorize, "9341455000000777")
    assert http.get("/oauth/qbo/callback", params=again).status_code == 200

    qbo.fail_next(count=50, status=503)
    client.put(f"/invoice/{invoices[1]}", {"status": "pending_accounting"})
    st.fail_next(count=50, status=503)
    stack.fire_schedule("export_dispatch", datetime(2025, 11, 24, 7, 0, tzinfo=UTC))
    for _ in range(3):
        for poller in stack.pollers:
            poller.poll_once()


def stack_recorder(stack: LocalStack) -> Recorder:
    recorder: Recorder = stack.recorder  # type: ignore[attr-defined]
    return recorder


def _http(stack: LocalStack, headers: dict[str, str]) -> Any:
    import requests

    assert stack.front is not None
    session = requests.Session()
    session.headers.update(headers)
    base = stack.front.url
    session.request = functools.partial(_prefixed, session.request, base)  # type: ignore[method-assign]
    return session


def _prefixed(request: Any, base: str, method: str, url: str, **kwargs: Any) -> Any:
    kwargs.setdefault("timeout", 30)
    return request(method, base + url, **kwargs)


@pytest.fixture(scope="module")
def proof() -> Iterator[Proof]:
    from tests.conftest import reset_caches

    saved = dict(os.environ)
    stack = LocalStack(background=False).start()
    try:
        assert stack.stack is not None
        policies = role_policies(stack.stack)
        with enforced(stack, policies) as recorder:
            stack.recorder = recorder  # type: ignore[attr-defined]
            tenant_id = _success_paths(stack)
            _failure_paths(stack, tenant_id)
        yield Proof(stack, policies, recorder)
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_caches()


SCHEDULE_FAILURES = "ScheduleFailuresQueue"
DLQ_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl")
# Grants no request above used, each for a reason; a grant that becomes used, or is dropped, must leave this list.
NOT_EXERCISED: dict[str, dict[tuple[str, str], str]] = {
    "WebhookFunction": {("sqs:SendMessage*", "IntacctSyncQueue.fifo"): "platform webhooks of a Sage Intacct tenant"},
    "SweepFunction": {
        ("sqs:SendMessage*", "QbdSyncQueue.fifo"): "the sweep of a QuickBooks Desktop tenant",
        ("sqs:SendMessage*", "IntacctSyncQueue.fifo"): "the sweep of a Sage Intacct tenant",
    },
    "SyncDispatchFunction": {("sqs:SendMessage*", "QbdSyncQueue.fifo"): "scheduled QuickBooks Desktop catch-ups"},
    "SyncQboFunction": {
        ("sqs:SendMessage*", "QboSyncQueue.fifo"): "a bulk push queues its remainder before the timeout",
        ("dynamodb:GetItem", "IdempotencyTable"): "Powertools reads a record whose put lost a race",
    },
    **{
        f: {
            ("dynamodb:GetItem", "IdempotencyTable"): "Powertools reads a record whose put lost a race",
            ("dynamodb:DeleteItem", "IdempotencyTable"): "Powertools deletes the record of a failed job",
            ("sqs:GetQueueUrl", queue): "backoff (ledgerbridge.consumer, proven here for sync_qbo and export)",
            ("sqs:ChangeMessageVisibility", queue): "backoff (ledgerbridge.consumer, as above)",
        }
        for f, queue in (("SyncQbdFunction", "QbdSyncQueue.fifo"), ("SyncIntacctFunction", "IntacctSyncQueue.fifo"))
    },
    "ExportFunction": {("s3:AbortMultipartUpload", "filedropbucket/*"): "a failed run aborts its multipart upload"},
    "ConsoleFunction": {
        ("s3:GetObject", "filedropbucket/*"): "the console's download links (presigned)",
        ("secretsmanager:GetSecretValue", "ledgerbridge/dev/*"): "Overview's connection checks",
    },
}
for _f in ("ExportDispatchFunction", "SweepFunction", "SyncDispatchFunction"):
    NOT_EXERCISED.setdefault(_f, {})[("sqs:SendMessage", SCHEDULE_FAILURES)] = (
        "Lambda sends a failed async invocation to its OnFailure destination with the function's role"
    )
# The console and admin share the dead-letter and retry routes (ledgerbridge.console.replay / activity): with
# every DLQ empty, the listing reads the QuickBooks Online DLQ only.
for _f in ("AdminFunction", "ConsoleFunction"):
    _own = NOT_EXERCISED.setdefault(_f, {})
    for _t in ("Qbo", "Qbd", "Intacct"):
        _own[("sqs:SendMessage*", f"{_t}SyncQueue.fifo")] = "dead letters replayed, failed records retried"
        for _a in DLQ_ACTIONS:
            if (_t, _a) not in (("Qbo", "sqs:ReceiveMessage"), ("Qbo", "sqs:GetQueueUrl")):
                _own[(_a, f"{_t}SyncDLQ.fifo")] = "dead letters listed and replayed"
        for _q in (f"{_t}SyncQueue.fifo", f"{_t}SyncDLQ.fifo"):
            if (_t, _q) != ("Qbo", "QboSyncQueue.fifo"):
                _own[("sqs:GetQueueAttributes", _q)] = "queue depths shown with the dead letters"
        if _t != "Qbo":
            _own[("sqs:GetQueueUrl", f"{_t}SyncQueue.fifo")] = "dead letters replayed"
    _own[("sqs:GetQueueUrl", "QboSyncQueue.fifo")] = "dead letters replayed"
NOT_EXERCISED["AdminFunction"].update(
    {
        ("secretsmanager:GetSecretValue", "ledgerbridge/dev/tenants/*"): "a tenant's secrets updated (merged)",
        ("secretsmanager:DescribeSecret", "ledgerbridge/dev/tenants/*"): "a tenant's secrets updated",
    }
)

FUNCTIONS = sorted(NOT_EXERCISED.keys() | {"ConnectFunction", "FilesFunction", "QbwcFunction"})


def _pairs(proof: Proof, function: str) -> set[tuple[str, str]]:
    return {pair for r in proof.recorder.of(function) for pair in r.iam}


def _short(grant: Grant) -> tuple[str, str]:
    resource = grant.resource.rsplit(":", 1)[-1]
    return grant.action, resource.removeprefix("table/").removeprefix("ledgerbridge-").removeprefix("secret:")


def test_every_function_ran() -> None:
    from sandbox.stack.template import load

    assert set(FUNCTIONS) == set(load().functions)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_no_request_of_the_function_was_denied(proof: Proof, function: str) -> None:
    requests = proof.recorder.of(function)
    assert requests, f"{function} made no AWS request"
    assert [r for r in requests if r.denied] == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_request_is_allowed_by_the_functions_policies(proof: Proof, function: str) -> None:
    policy = statements(proof.policies[function])
    assert sorted(p for p in _pairs(proof, function) if not allowed(policy, *p)) == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_nothing_is_granted_that_no_request_used(proof: Proof, function: str) -> None:
    unused = {_short(g) for g in grants(statements(proof.policies[function])) if not used(g, _pairs(proof, function))}
    assert unused == set(NOT_EXERCISED.get(function, {}))


def test_failure_paths_ran_under_the_policies(proof: Proof) -> None:
    """Backoff (the consumer delays its own message) and the token store's writes, each by the function that
    needs it: a refresh in sync_qbo, a first connection (CreateSecret fallback) and a reconnection in connect."""
    qbo = {(a, r.rsplit(":", 1)[-1]) for a, r in _pairs(proof, "SyncQboFunction")}
    assert {("sqs:ChangeMessageVisibility", "ledgerbridge-QboSyncQueue.fifo")} <= qbo
    export = {(a, r.rsplit(":", 1)[-1]) for a, r in _pairs(proof, "ExportFunction")}
    assert ("sqs:ChangeMessageVisibility", "ledgerbridge-ExportQueue.fifo") in export
    token_store = {"PutSecretValue", "DescribeSecret", "UpdateSecretVersionStage"}
    assert {f"secretsmanager:{a}" for a in token_store} <= {a for a, _ in _pairs(proof, "SyncQboFunction")}
    connect = {a for a, _ in _pairs(proof, "ConnectFunction")}
    assert {f"secretsmanager:{a}" for a in token_store | {"CreateSecret"}} <= connect


def test_no_bucket_acl_or_lifecycle_is_granted(proof: Proof) -> None:
    for function, documents in proof.policies.items():
        actions = {a for s in statements(documents) for a in s.actions}
        assert not {"s3:PutObjectAcl", "s3:PutLifecycleConfiguration"} & actions, function
