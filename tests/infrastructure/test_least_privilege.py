"""Least privilege that is sufficient, proven: every function runs on the local stack under a role carrying only
the policies the translated template gives it, with moto enforcing IAM (asked with the resource ARN IAM would
use, see iam_stack), through its success paths (the whole `make demo` story, then the API, admin and console
routes) and its failure paths (token refresh, first connection, backoff). Then, per function:

- no request was denied by moto;
- every request is allowed by the function's policies, resource by resource (iam_policy's own evaluator);
- every (action, resource) the policies grant was used by some request, except those in NOT_EXERCISED, each
  with its reason.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
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


def _success_paths(stack: LocalStack, recorder: Recorder) -> str:
    """The whole `make demo` story (exports, webhooks to three targets, payments back, the sweep, the Web
    Connector), then the API's and the console's routes. Returns the QuickBooks Online tenant's webhook URL."""
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
    _token_refresh(stack, seeded["webhook_url"])
    _files(stack, recorder, tenant_id, seeded["files_credential"])
    _admin(stack, tenant_id)
    _console_download(stack, recorder, tenant_id)
    _reconciliation(stack, tenant_id)
    _dead_letters(stack)
    return seeded["webhook_url"]


def _files(stack: LocalStack, recorder: Recorder, tenant_id: str, credential: str) -> None:
    from ledgerbridge.state import exports

    http = _http(stack, {"Authorization": f"Bearer {credential}"})
    manifest = exports.list_for(tenant_id)[0]
    link = http.get(f"/tenants/{tenant_id}/exports/{manifest.export_id}/download", allow_redirects=False)
    assert link.status_code == 302, link.text
    recorder.presigned(link.headers["Location"])
    confirmed = http.post(f"/tenants/{tenant_id}/exports/{manifest.export_id}/confirm", json={})
    assert confirmed.status_code == 200, confirmed.text


def _admin_http(stack: LocalStack) -> Any:
    # The local API front lets an admin route through on a SigV4 header naming its local key (front.py).
    return _http(stack, {"Authorization": f"AWS4-HMAC-SHA256 Credential={LOCAL_ACCESS_KEY}/local, Signature=0"})


def _admin(stack: LocalStack, tenant_id: str) -> None:
    http = _admin_http(stack)
    for path in ("", "/credentials", "/sync-log", "/dead-letters"):
        answer = http.get(f"/admin/tenants/{tenant_id}{path}")
        assert answer.status_code == 200, (path, answer.text)
    issued = http.post(f"/admin/tenants/{tenant_id}/credentials", json={"purpose": "files"})
    assert issued.status_code == 201, issued.text
    key_id = issued.json()["credential"].split("_")[-2]  # lbk_{tenant}_{key id}_{secret}
    assert key_id in {c["key_id"] for c in http.get(f"/admin/tenants/{tenant_id}/credentials").json()["credentials"]}
    revoked = http.delete(f"/admin/tenants/{tenant_id}/credentials/{key_id}")
    assert revoked.status_code == 204, revoked.text
    body = json.loads(json.loads((EVENTS / "admin.json").read_text())["body"])
    body["tenant"]["tenant_id"] = "iam-admin"
    created = http.post("/admin/tenants", json=body)
    assert created.status_code == 201, created.text
    replayed = http.post(f"/admin/tenants/{tenant_id}/dead-letters/replay", json={})
    assert replayed.status_code == 200, replayed.text
    invoice = str(_invoices_in_quickbooks(stack)[0])
    planned = http.post(f"/admin/tenants/{tenant_id}/dry-run", json={"invoice_ids": [invoice]})
    assert planned.status_code == 200, planned.text
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    retried = http.post(f"/admin/tenants/{tenant_id}/retry-failed", json={"since": since})
    assert retried.status_code == 200, retried.text


def _console(stack: LocalStack, tenant_id: str) -> Any:
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
    return http


def _reconciliation(stack: LocalStack, tenant_id: str) -> None:
    """Reconciliation reads QuickBooks an hour after the last sync: the console refreshes the tokens itself."""
    http = _console(stack, tenant_id)
    stack.sandboxes["qbo"].expire_access_tokens()
    period = datetime.now(UTC).strftime("%Y-%m")
    page = http.get("/console/reconciliation", params={"target": "qbo", "period": period})
    assert page.status_code == 200, page.text[:300]


def _console_download(stack: LocalStack, recorder: Recorder, tenant_id: str) -> None:
    from ledgerbridge.state import exports

    http = _console(stack, tenant_id)
    export_id = exports.list_for(tenant_id)[0].export_id
    link = http.get(f"/console/exports/{export_id}/download", allow_redirects=False)
    assert link.status_code == 302, link.text[:300]
    recorder.presigned(link.headers["Location"])
    planned = http.get("/console/dry-run", params={"invoice_ids": str(_invoices_in_quickbooks(stack)[0])})
    assert planned.status_code == 200, planned.text[:300]


def _dead_letters(stack: LocalStack) -> None:
    """A tenant of all three targets with a dead letter on each DLQ: listed and replayed by admin, one replayed
    from the console (the DLQ is found from the sync queue's RedrivePolicy)."""
    import boto3

    from ledgerbridge.jobs import SyncJob
    from ledgerbridge.targets.intacct.settings import IntacctSettings
    from ledgerbridge.targets.qbd.settings import QbdSettings
    from ledgerbridge.targets.qbo.settings import QboSettings

    assert stack.stack is not None
    tenant = "iam-dlq"
    integrations = [QboSettings(), QbdSettings(entities=["invoice"]), IntacctSettings()]
    fixtures.create_tenant(stack.sandboxes["servicetrade"].url, tenant, integrations=integrations, connectors=[])
    sqs = boto3.client("sqs", region_name="us-east-1")
    for n, target in enumerate(("qbo", "qbd", "intacct")):
        for copy in range(2):
            job = SyncJob(
                tenant_id=tenant, target=target, entity="invoice", source_id=f"99999{n}{copy}",
                event_id=f"iam-{target}-{copy}", occurred_at=datetime.now(UTC),
            )  # fmt: skip
            sqs.send_message(
                QueueUrl=stack.stack.queue_url(f"{target.capitalize()}SyncDLQ"),
                MessageBody=job.model_dump_json(),
                MessageGroupId=f"{tenant}/{n}{copy}",
                MessageDeduplicationId=f"iam-{target}-{copy}",
            )
    admin = _admin_http(stack)
    listed = admin.get(f"/admin/tenants/{tenant}/dead-letters").json()["dead_letters"]
    assert len(listed) == 6, listed
    one_each = list({letter["job"]["target"]: letter["message_id"] for letter in listed}.values())
    replayed = admin.post(f"/admin/tenants/{tenant}/dead-letters/replay", json={"message_ids": one_each})
    assert replayed.json()["replayed"] == 3, replayed.text
    console = _console(stack, tenant)
    csrf = re.search(r'name="csrf" value="([^"]+)"', console.get("/console/activity").text)
    assert csrf is not None
    answer = console.post("/console/dead-letters/replay", data={"csrf": csrf.group(1)}, allow_redirects=False)
    assert answer.status_code in (302, 303), answer.text[:300]
    assert admin.get(f"/admin/tenants/{tenant}/dead-letters").json()["dead_letters"] == []
    for poller in stack.pollers:  # the replayed jobs, once each (their records do not exist: they fail)
        poller.poll_once()


def _invoices_in_quickbooks(stack: LocalStack) -> list[int]:
    """The platform's invoices the story sent to QuickBooks Online, oldest first."""
    qbo, st = stack.sandboxes["qbo"], stack.sandboxes["servicetrade"]
    numbers = {i["DocNumber"] for i in qbo.objects("Invoice", qbo.realm_id)}
    found = sorted(i for i, invoice in st.state.invoices.items() if invoice["invoiceNumber"] in numbers)
    assert len(found) >= 2, "the demo story sends invoices to QuickBooks Online"
    return found


def _token_refresh(stack: LocalStack, hook_url: str) -> None:
    """QuickBooks Online's access token expired: an edited invoice sent again meets the 401, and sync_qbo's
    token store refreshes it and stores a new secret version. Before any other function refreshes: one that
    did would leave sync_qbo a token it need not renew."""
    stack.sandboxes["qbo"].expire_access_tokens()
    _send_again(stack, hook_url, _invoices_in_quickbooks(stack)[0], "Refreshed token")
    stack.drain()


def _failure_paths(stack: LocalStack, hook_url: str) -> None:
    """A tenant connecting for the first time (its token secret does not exist yet: the CreateSecret fallback)
    and again (a new version over the existing secret). Transient failures (QuickBooks answering 503, the
    platform answering 503 to an export): the consumers back off by delaying their own message. Last, as those
    messages stay in flight."""
    from sandbox.qbo import flows

    qbo, st = stack.sandboxes["qbo"], stack.sandboxes["servicetrade"]
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
    _send_again(stack, hook_url, _invoices_in_quickbooks(stack)[1], "QuickBooks is down")
    st.fail_next(count=50, status=503)
    stack.fire_schedule("export_dispatch", datetime(2025, 11, 24, 7, 0, tzinfo=UTC))
    for poller in stack.pollers:  # one receive each: the failures back off (their messages stay in flight)
        poller.poll_once()


def _send_again(stack: LocalStack, hook_url: str, invoice_id: int, notes: str) -> None:
    """The office edits an invoice and sends it to accounting again; the platform's webhook is delivered here
    (the sandbox's own delivery is asynchronous, and goes to whichever tenant registered last)."""
    st = stack.sandboxes["servicetrade"]
    client = ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    client.put(f"/invoice/{invoice_id}", {"notes": notes, "status": "pending_accounting"})
    now = int(time.time())
    item = {"action": "updated", "timestamp": now, "userId": 1, "entity": {"type": "invoice", "id": invoice_id}}
    body = {"messageId": f"iam-{invoice_id}-{now}", "timestamp": str(now), "data": [item]}
    assert requests.post(hook_url, json=body, timeout=30).status_code == 202


def _http(stack: LocalStack, headers: dict[str, str]) -> Any:
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
            hook_url = _success_paths(stack, recorder)
            _failure_paths(stack, hook_url)
        yield Proof(stack, policies, recorder)
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_caches()


SCHEDULE_FAILURES = "ScheduleFailuresQueue"
IDEMPOTENCY_READ = ("dynamodb:GetItem", "IdempotencyTable")
# Grants no request above needs to use, each for a reason. Each must be granted (a stale entry fails).
NOT_EXERCISED: dict[str, dict[tuple[str, str], str]] = {
    "WebhookFunction": {("sqs:SendMessage*", "IntacctSyncQueue.fifo"): "platform webhooks of a Sage Intacct tenant"},
    "SweepFunction": {
        ("sqs:SendMessage*", "QbdSyncQueue.fifo"): "the sweep of a QuickBooks Desktop tenant",
        ("sqs:SendMessage*", "IntacctSyncQueue.fifo"): "the sweep of a Sage Intacct tenant",
    },
    "SyncDispatchFunction": {("sqs:SendMessage*", "QbdSyncQueue.fifo"): "scheduled QuickBooks Desktop catch-ups"},
    "SyncQboFunction": {
        ("sqs:SendMessage*", "QboSyncQueue.fifo"): "a bulk push queues its remainder before its timeout"
    },
    "ExportFunction": {("s3:AbortMultipartUpload", "filedropbucket/*"): "a failed run aborts its multipart upload"},
}
for _f in ("ExportDispatchFunction", "SweepFunction", "SyncDispatchFunction"):
    NOT_EXERCISED.setdefault(_f, {})[("sqs:SendMessage", SCHEDULE_FAILURES)] = (
        "Lambda sends a failed async invocation to its OnFailure destination with the function's role"
    )
for _f, _queue in (("SyncQbdFunction", "QbdSyncQueue.fifo"), ("SyncIntacctFunction", "IntacctSyncQueue.fifo")):
    NOT_EXERCISED[_f] = {
        ("dynamodb:DeleteItem", "IdempotencyTable"): "Powertools deletes the record of a failed job",
        ("sqs:GetQueueUrl", _queue): "backoff: ledgerbridge.consumer, proven here through sync_qbo and export",
        ("sqs:ChangeMessageVisibility", _queue): "backoff, as above",
    }
for _f in ("SyncQboFunction", "SyncQbdFunction", "SyncIntacctFunction"):
    NOT_EXERCISED[_f][IDEMPOTENCY_READ] = "Powertools reads the record of a job whose first put lost a race"

FUNCTIONS = sorted(
    NOT_EXERCISED.keys() | {"AdminFunction", "ConnectFunction", "ConsoleFunction", "FilesFunction", "QbwcFunction"}
)


def _pairs(proof: Proof, function: str) -> set[tuple[str, str]]:
    return {pair for r in proof.recorder.of(function) for pair in r.iam}


def _short(grant: Grant) -> tuple[str, str]:
    resource = grant.resource.rsplit(":", 1)[-1]
    return grant.action, resource.removeprefix("table/").removeprefix("ledgerbridge-").removeprefix("secret:")


def test_every_function_ran() -> None:
    from sandbox.stack.template import load

    assert set(FUNCTIONS) == set(load().functions)


def _problems(proof: Proof, function: str) -> list[str]:
    """What is wrong with one function's privilege: nothing, when it is sufficient and no more."""
    requests = proof.recorder.of(function)
    if not requests:
        return ["made no AWS request"]
    policy = statements(proof.policies[function])
    pairs = _pairs(proof, function)
    granted = {_short(g) for g in grants(policy)}
    unused = {_short(g) for g in grants(policy) if not used(g, pairs)}
    excused = set(NOT_EXERCISED.get(function, {}))
    return (
        [f"denied by moto: {r.action} {r.iam}" for r in requests if r.denied]
        + [f"not allowed by its policies: {a} {r}" for a, r in sorted(pairs) if not allowed(policy, a, r)]
        + [f"granted, used by no request: {a} {r}" for a, r in sorted(unused - excused)]
        + [f"NOT_EXERCISED names what it is not granted: {a} {r}" for a, r in sorted(excused - granted)]
    )


def test_every_function_has_the_privilege_it_uses_and_no_more(proof: Proof) -> None:
    """One test (the stack runs once, on one worker): per function, no request denied by moto, every request
    allowed by its policies resource by resource, every grant used by some request or listed in NOT_EXERCISED;
    the failure paths ran, each under the function that needs it; no bucket ACL or lifecycle action anywhere."""
    assert {f: p for f in FUNCTIONS if (p := _problems(proof, f))} == {}
    # backoff: the consumer delays its own message
    qbo = {(a, r.rsplit(":", 1)[-1]) for a, r in _pairs(proof, "SyncQboFunction")}
    assert ("sqs:ChangeMessageVisibility", "ledgerbridge-QboSyncQueue.fifo") in qbo
    export = {(a, r.rsplit(":", 1)[-1]) for a, r in _pairs(proof, "ExportFunction")}
    assert ("sqs:ChangeMessageVisibility", "ledgerbridge-ExportQueue.fifo") in export
    # the token store: a refresh in sync_qbo and the console, a first connection (the CreateSecret fallback) and
    # a reconnection in connect
    token_store = {f"secretsmanager:{a}" for a in ("PutSecretValue", "DescribeSecret", "UpdateSecretVersionStage")}
    for function in ("SyncQboFunction", "ConsoleFunction"):
        assert token_store <= {a for a, _ in _pairs(proof, function)}, function
    assert token_store | {"secretsmanager:CreateSecret"} <= {a for a, _ in _pairs(proof, "ConnectFunction")}
    for function, documents in proof.policies.items():
        actions = {a for s in statements(documents) for a in s.actions}
        assert not {"s3:PutObjectAcl", "s3:PutLifecycleConfiguration"} & actions, function
