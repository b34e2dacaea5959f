"""QuickBooks Online both ways, through the real handlers (moto from template.yaml, both sandboxes on 127.0.0.1):
connecting a company (OAuth), payments flowing back by webhook and by the CDC catch-up, disconnect/status."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from ledgerbridge import aws, secrets
from ledgerbridge.config import get_config
from ledgerbridge.jobs import SyncJob
from ledgerbridge.queues import publish_jobs
from ledgerbridge.state import mappings, synclog
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.sync.batch import BatchOutcome
from ledgerbridge.targets.qbo import tokens as qbo_tokens
from ledgerbridge.targets.qbo.budget import RealmBudget
from ledgerbridge.targets.qbo.settings import QboSettings, qbo_environment
from ledgerbridge.tenants import secret_name
from sandbox import qbo as qbo_sandbox
from sandbox import servicetrade
from sandbox.qbo import OffsetClock, QboSandboxServer
from sandbox.qbo.flows import Bookkeeper, consent
from sandbox.stack.apigw import proxy_event
from sandbox.stack.functions import invoke
from sandbox.stack.pollers import QueuePoller, fire
from tests.helpers import call_api, drain, make_tenant

TENANT = "acme-fire"
HOOK = "/webhooks/qbo"


@dataclass
class World:
    stack: Any
    qbo: QboSandboxServer
    st: servicetrade.SandboxServer
    credential: str

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential}"}

    def st_invoice(self, number: str) -> dict[str, Any]:
        return next(i for i in self.st.state.invoices.values() if i["invoiceNumber"] == number)

    def st_payments(self, invoice_number: str) -> list[dict[str, Any]]:
        invoice_id = self.st_invoice(invoice_number)["id"]
        return [p for p in self.st.state.payments.values() if p["invoiceId"] == invoice_id]

    def run_queue(self, rounds: int = 20) -> int:
        """Hand every QBO sync message to the consumer, as Lambda's event source mapping would."""
        source = next(s for s in self.stack.template.queue_sources() if s.queue == "QboSyncQueue")
        poller = QueuePoller(self.stack, source)
        handled = 0
        for _ in range(rounds):
            n = poller.poll_once()
            if n == 0:
                break
            handled += n
        assert not poller.errors, poller.errors
        return handled

    def deliver_webhooks(self, headers: dict[str, str] | None = None) -> list[tuple[int, Any]]:
        answers: list[tuple[int, Any]] = []

        def send(body: bytes, hdrs: dict[str, str]) -> int:
            status, _, parsed = call_api("POST", HOOK, body=body, headers={**hdrs, **(headers or {})})
            answers.append((status, parsed))
            return status

        self.qbo.state.webhooks.flush(send=send)
        return answers


@pytest.fixture
def world(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    qbo = qbo_sandbox.start(clock=OffsetClock(), webhook_url="http://ledgerbridge.test/webhooks/qbo")
    st = servicetrade.start(delivery_mode="manual")
    try:
        monkeypatch.setenv("QBO_API_BASE_URL", qbo.url)
        monkeypatch.setenv("QBO_DISCOVERY_URL", qbo.discovery_url)
        monkeypatch.setattr(qbo_tokens, "PEER_WAIT_S", 0.2)
        get_config.cache_clear()
        secrets.write_json(qbo_environment().qbo_app_secret_name, qbo_sandbox.demo_app_secret(qbo.url))
        source_secret = secret_name(TENANT, "servicetrade")
        secrets.write_json(
            source_secret,
            {"client_id": servicetrade.DEMO_CLIENT_ID, "client_secret": servicetrade.DEMO_CLIENT_SECRET},
        )
        make_tenant(
            TENANT,
            source_base_url=st.url,
            source_secret_name=source_secret,
            integrations=[QboSettings(entities=["invoice", "customer", "payment"])],
        )
        yield World(aws, qbo, st, tenant_store.issue_credential(TENANT, "files"))
    finally:
        qbo.stop()
        st.stop()


def start_connect(w: World) -> str:
    """GET the connect route; the 302's Location (Powertools puts REST headers in multiValueHeaders, which
    tests.helpers.call_api does not return, so this one call goes to the handler directly)."""
    path = f"/tenants/{TENANT}/qbo/connect"
    event = proxy_event(
        "GET", path, "/tenants/{tenant_id}/qbo/connect", path_parameters={"tenant_id": TENANT}, headers=w.auth()
    )
    resp = invoke("ConnectFunction", event)
    assert resp["statusCode"] == 302, resp
    headers = {**(resp.get("headers") or {}), **{k: v[0] for k, v in (resp.get("multiValueHeaders") or {}).items()}}
    return str(headers["Location"])


def connect(w: World) -> dict[str, Any]:
    params = consent(start_connect(w))
    status, _, body = call_api("GET", "/oauth/qbo/callback", query=params)
    assert status == 200, body
    return dict(body)


def qbo_status(w: World) -> dict[str, Any]:
    status, _, body = call_api("GET", f"/tenants/{TENANT}/qbo/status", headers=w.auth())
    assert status == 200, body
    return dict(body)


def push_invoice(w: World, number: str) -> str:
    """Send the platform invoice to QBO through the queue; returns the QBO invoice Id."""
    invoice_id = str(w.st_invoice(number)["id"])
    job = SyncJob(
        tenant_id=TENANT,
        target="qbo",
        entity="invoice",
        source_id=invoice_id,
        event_id=f"push-{invoice_id}",
        occurred_at=datetime.now(UTC),
    )
    publish_jobs([job])
    w.run_queue()
    mapping = mappings.find(TENANT, "qbo", "invoice", invoice_id)
    assert mapping is not None, synclog.recent(TENANT)
    return mapping.target_id


def keeper(w: World) -> Bookkeeper:
    """Someone in QuickBooks; their requests count against the realm's limits in the sandbox, so they take
    slots from the realm's budget like LedgerBridge's own clients."""
    return Bookkeeper(w.qbo, budget=RealmBudget(w.qbo.realm_id))


@pytest.fixture
def connected(world: World) -> World:
    connect(world)
    return world


# -- connecting ----------------------------------------------------------------------------------------------


def test_connect_stores_tokens_and_realm_and_reports_connected(world: World) -> None:
    location = start_connect(world)
    query = parse_qs(urlparse(location).query)
    assert location.startswith(f"{world.qbo.url}/connect/oauth2?")
    assert query["scope"] == ["com.intuit.quickbooks.accounting"] and query["response_type"] == ["code"]
    assert query["redirect_uri"] == ["http://localhost/oauth/qbo/callback"]
    assert query["state"][0].startswith(f"{TENANT}.")
    assert qbo_status(world)["status"] == "disconnected"

    params = consent(location)
    status, _, body = call_api("GET", "/oauth/qbo/callback", query=params)
    assert status == 200
    assert body == {"tenant_id": TENANT, "status": "connected", "realm_id": world.qbo.realm_id}
    tenant = tenant_store.load(TENANT)
    integration = tenant.integration("qbo")
    assert integration is not None and integration.realm_id == world.qbo.realm_id
    stored = json.loads(aws.client("secretsmanager").get_secret_value(SecretId=integration.secret_name)["SecretString"])
    assert stored["realm_id"] == world.qbo.realm_id and stored["refresh_token"].startswith("RT1-")
    current = qbo_status(world)
    assert current["status"] == "connected" and current["realm_id"] == world.qbo.realm_id
    assert current["refresh_token_expires_at"] > datetime.now(UTC).isoformat()


def test_a_forged_state_is_refused(world: World) -> None:
    params = consent(start_connect(world))
    tenant, nonce, mac = params["state"].split(".")
    for forged in (f"{tenant}.{nonce}.{mac[:-2]}xx", f"other-tenant.{nonce}.{mac}", f"{tenant}.{nonce}", "x"):
        status, _, body = call_api("GET", "/oauth/qbo/callback", query={**params, "state": forged})
        assert status == 400, forged
        assert body["error"]["field"] == "state"
    assert qbo_status(world)["status"] == "disconnected"


def test_a_reused_state_is_refused(world: World) -> None:
    params = consent(start_connect(world))
    assert call_api("GET", "/oauth/qbo/callback", query=params)[0] == 200
    status, _, body = call_api("GET", "/oauth/qbo/callback", query=params)
    assert status == 400 and "already used" in body["error"]["message"]
    # a second consent with the used state (a replayed link) is refused before any code is exchanged
    again = consent(start_connect(world))
    status, _, _ = call_api("GET", "/oauth/qbo/callback", query={**again, "state": params["state"]})
    assert status == 400


def test_connect_routes_need_the_tenants_credential(world: World) -> None:
    assert call_api("GET", f"/tenants/{TENANT}/qbo/connect")[0] == 401
    other = tenant_store.issue_credential(TENANT, "webhook")
    assert call_api("GET", f"/tenants/{TENANT}/qbo/status", headers={"Authorization": f"Bearer {other}"})[0] == 401
    assert call_api("GET", "/tenants/nobody-here/qbo/status", headers=world.auth())[0] == 404


def test_an_expired_refresh_token_flips_the_status_to_reconnect_required(connected: World) -> None:
    w = connected
    push_invoice(w, "INV-24111")  # the connection works
    w.qbo.advance(101 * 24 * 3600)  # 100-day rolling refresh token: dead (and the access token too)
    invoice_id = str(w.st_invoice("INV-24114")["id"])
    job = SyncJob(
        tenant_id=TENANT, target="qbo", entity="invoice", source_id=invoice_id, event_id="x1",
        occurred_at=datetime.now(UTC),
    )  # fmt: skip
    publish_jobs([job])
    w.run_queue()
    current = qbo_status(w)
    assert current["status"] == "reconnect_required"
    assert "invalid_grant" in current["reason"]
    failed = [e for e in synclog.recent(TENANT) if e.source_id == invoice_id]
    assert failed and failed[0].outcome == "failed"
    assert w.st_invoice("INV-24114")["status"] == "failed"
    connect(w)  # reconnecting fixes it
    assert qbo_status(w)["status"] == "connected"


def test_disconnect_revokes_the_grant_and_marks_the_tenant_disconnected(connected: World) -> None:
    w = connected
    status, _, body = call_api("POST", f"/tenants/{TENANT}/qbo/disconnect", headers=w.auth())
    assert status == 200 and body["status"] == "disconnected" and body["revoked"] is True
    assert qbo_status(w)["status"] == "disconnected"
    integration = tenant_store.load(TENANT).integration("qbo")
    assert integration is not None and integration.realm_id == ""
    grants = w.qbo.state.oauth._grants_by_refresh.values()
    assert grants and all(g.revoked for g in grants)


# -- payments back to the platform ----------------------------------------------------------------------------


def test_a_bad_or_missing_signature_is_401(connected: World) -> None:
    w = connected
    qbo_id = push_invoice(w, "INV-24111")
    keeper(w).receive_payment(qbo_id, "100.00")
    answers = w.deliver_webhooks(headers={"intuit-signature": "AAAA" + "=" * 40})
    assert [a[0] for a in answers] == [401]
    status, _, _ = call_api("POST", HOOK, body=b'{"eventNotifications": []}')
    assert status == 401
    assert w.run_queue() == 0 and w.st_payments("INV-24111") == []


def test_a_duplicated_webhook_records_one_payment(connected: World) -> None:
    w = connected
    qbo_id = push_invoice(w, "INV-24111")
    keeper(w).receive_payment(qbo_id, "100.00")
    delivery = w.qbo.state.webhooks
    first = w.deliver_webhooks()
    # one POST: the customer and invoice the push created, the payment, the invoice it touched: one job
    assert [(status, body["accepted"], body["duplicates"]) for status, body in first] == [(200, 1, 0)]
    body, signature = delivery.deliveries[-1].body, delivery.deliveries[-1].signature
    headers = {"Content-Type": "application/json", "intuit-signature": signature}
    again = call_api("POST", HOOK, body=body, headers=headers)
    assert again[0] == 200 and again[2]["duplicates"] == 1
    w.run_queue()
    assert len(w.st_payments("INV-24111")) == 1


def test_a_partial_payment_is_recorded_and_the_invoice_stays_open(connected: World) -> None:
    w = connected
    qbo_id = push_invoice(w, "INV-24111")
    payment = keeper(w).receive_payment(qbo_id, "100.00", method="Visa")
    w.deliver_webhooks()
    w.run_queue()
    [recorded] = w.st_payments("INV-24111")
    assert recorded["amount"] == Decimal("100.00") and recorded["method"] == "credit_card"
    assert recorded["referenceNumber"] == f"QBO payment {payment['Id']}"
    assert w.st_invoice("INV-24111")["status"] == "processed"
    entry = next(e for e in synclog.recent(TENANT) if e.entity == "payment")
    assert entry.outcome == "recorded" and entry.target_id == str(recorded["id"])


def test_a_full_payment_marks_the_platform_invoice_paid(connected: World) -> None:
    w = connected
    qbo_id = push_invoice(w, "INV-24111")
    assert keeper(w).invoice(qbo_id)["TotalAmt"] == Decimal("337.50")
    keeper(w).receive_payment(qbo_id, "337.50")
    w.deliver_webhooks()
    w.run_queue()
    assert [p["amount"] for p in w.st_payments("INV-24111")] == [Decimal("337.50")]
    assert w.st_invoice("INV-24111")["status"] == "paid"


@pytest.mark.parametrize("undo", ["void", "delete"])
def test_a_voided_or_deleted_payment_is_reversed(connected: World, undo: str) -> None:
    w = connected
    qbo_id = push_invoice(w, "INV-24111")
    person = keeper(w)
    payment = person.receive_payment(qbo_id, "337.50")
    w.deliver_webhooks()
    w.run_queue()
    assert w.st_invoice("INV-24111")["status"] == "paid"
    person.void_payment(payment) if undo == "void" else person.delete_payment(payment)
    w.deliver_webhooks()
    w.run_queue()
    assert w.st_payments("INV-24111") == []
    assert w.st_invoice("INV-24111")["status"] == "processed"
    # the same notification again (Intuit retries) changes nothing more
    status, _, _ = call_api(
        "POST", HOOK, body=w.qbo.state.webhooks.deliveries[-1].body,
        headers={"intuit-signature": w.qbo.state.webhooks.deliveries[-1].signature},
    )  # fmt: skip
    assert status == 200 and w.run_queue() == 0


def test_cloudevents_notifications_work_too(connected: World) -> None:
    w = connected
    w.qbo.state.options.webhooks.webhook_format = "cloudevents"
    qbo_id = push_invoice(w, "INV-24114")
    keeper(w).receive_payment(qbo_id, "82.00")
    assert [a[0] for a in w.deliver_webhooks()] == [200]
    w.run_queue()
    assert [p["amount"] for p in w.st_payments("INV-24114")] == [Decimal("82.00")]


def test_a_lost_webhook_is_recovered_by_the_hourly_cdc_catch_up(connected: World) -> None:
    w = connected
    lost_invoice, seen_invoice = push_invoice(w, "INV-24115"), push_invoice(w, "INV-24114")
    person = keeper(w)
    seen = person.receive_payment(seen_invoice, "82.00")
    w.deliver_webhooks()
    w.run_queue()  # this one arrived by webhook and is on the platform
    lost = person.receive_payment(lost_invoice, "495.00")
    assert w.qbo.state.webhooks.drop_pending() >= 1  # ... and Intuit never got this one through
    schedule = next(s for s in w.stack.template.schedules() if s.function == "SyncDispatchFunction")
    answer = fire(schedule, datetime.now(UTC))
    assert answer["catchup_jobs"] == 1
    w.run_queue()  # the catch-up job, then the pull job it enqueued
    assert [p["amount"] for p in w.st_payments("INV-24115")] == [Decimal("495.00")]
    assert [p["amount"] for p in w.st_payments("INV-24114")] == [Decimal("82.00")]
    log = [e for e in synclog.recent(TENANT) if e.entity == "payment"]
    assert [e.outcome for e in log if e.source_id == lost["Id"]] == ["recorded"]
    assert [e.outcome for e in log if e.source_id == seen["Id"]] == ["recorded"]  # CDC did not enqueue it again
    # Intuit's late retry of the lost notification is harmless: the payment is already there
    w.qbo.state.webhooks.enqueue(w.qbo.realm_id, [c for c in w.qbo.state.realm().changes if c.id == lost["Id"]])
    w.deliver_webhooks()
    w.run_queue()
    assert len(w.st_payments("INV-24115")) == 1
    # the next hour's catch-up starts from the cursor and finds nothing to do
    time.sleep(1.1)
    fire(schedule, datetime.now(UTC))
    w.run_queue()
    assert len(w.st_payments("INV-24115")) == 1 and len(w.st_payments("INV-24114")) == 1


# -- the hourly schedule ----------------------------------------------------------------------------------------


def test_the_hourly_schedule_pushes_pending_invoices_in_bulk(connected: World) -> None:
    w = connected
    tenant = tenant_store.load(TENANT)
    integration = tenant.integration("qbo")
    assert integration is not None
    scheduled = integration.model_copy(update={"triggers": ["webhook", "schedule"]})
    tenant_store.save(tenant.model_copy(update={"integrations": [scheduled]}))
    pending = [i["invoiceNumber"] for i in w.st.state.invoices.values() if i["status"] == "pending_accounting"]
    assert len(pending) == 6
    schedule = next(s for s in w.stack.template.schedules() if s.function == "SyncDispatchFunction")
    answer = fire(schedule, datetime.now(UTC))
    assert (answer["catchup_jobs"], answer["batch_jobs"]) == (1, 1)
    w.run_queue()
    assert [w.st_invoice(n)["status"] for n in pending] == ["processed"] * 6
    assert sum(1 for c in w.qbo.state.calls if c["path"].endswith("/batch")) == 1
    assert len(w.qbo.objects("Invoice")) == 6
    # a retried schedule (same hour) enqueues nothing new; nothing is pushed twice
    fire(schedule, datetime.fromisoformat(answer["scheduled_time"]))
    w.run_queue()
    assert len(w.qbo.objects("Invoice")) == 6


def test_a_bulk_run_out_of_time_continues_in_a_new_message(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from ledgerbridge.sync import runner

    calls: list[float] = []

    def partial_run(tenant: Any, plugin: Any, *, deadline: float) -> BatchOutcome:
        calls.append(deadline)
        return BatchOutcome(created=3, exhausted=len(calls) > 1)

    monkeypatch.setattr(runner, "push_pending", partial_run)
    job = SyncJob(
        tenant_id=TENANT, target="qbo", kind="batch", entity="invoice", event_id="bulk:acme-fire:20260105T1005",
        action="bulk", trigger="schedule", occurred_at=datetime.now(UTC),
    )  # fmt: skip
    runner.run(job, None)
    [message] = [json.loads(m["Body"]) for m in drain(world.stack.queue_url("QboSyncQueue"))]
    assert message["event_id"] == "bulk:acme-fire:20260105T1005:p2" and message["kind"] == "batch"
    runner.run(SyncJob.model_validate(message), None)
    assert drain(world.stack.queue_url("QboSyncQueue")) == []  # done: no third part
