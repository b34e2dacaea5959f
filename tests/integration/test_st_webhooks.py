"""Webhook CRUD and deliveries (shape, retries, what counts as delivered), fault injection, control routes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from servicetrade import ServicetradeAPIError, ServicetradeClient

from sandbox.servicetrade import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_TECH_PASSWORD,
    DEMO_TECH_USERNAME,
    HookReceiver,
    SandboxServer,
    start,
    start_receiver,
)


@pytest.fixture
def st() -> Iterator[SandboxServer]:
    with start(delivery_mode="sync", delivery_retry_delay=0, delivery_timeout=1.0) as server:
        yield server


@pytest.fixture
def client(st: SandboxServer) -> ServicetradeClient:
    return ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)


def receiver(statuses: list[int], default: int = 200, delay: float = 0.0) -> HookReceiver:
    return start_receiver(statuses, default_status=default, delay=delay)


def subscribe(client: ServicetradeClient, url: str, **extra: Any) -> dict[str, Any]:
    hook = client.post("/webhook", {"hookUrl": url, **extra})
    assert isinstance(hook, dict)
    return hook


def pending_invoice(st: SandboxServer, number: str = "INV-24112") -> int:
    return next(i["id"] for i in st.state.invoices.values() if i["invoiceNumber"] == number)


# -- CRUD -----------------------------------------------------------------------------------------------------
def test_webhook_crud(client: ServicetradeClient, st: SandboxServer) -> None:
    events = [{"entityType": 3, "actions": ["created", "updated"]}, {"entityType": "invoice", "eventType": "updated"}]
    hook = subscribe(client, "https://hooks.example/st", includeChangesets=True, entityEvents=events)
    assert hook["hookUrl"] == "https://hooks.example/st" and hook["enabled"] is True and hook["confirmed"] is False
    assert hook["entityEvents"] == events and hook["uri"] == f"{st.url}/api/webhook/{hook['id']}"
    listed = client.get("/webhook")
    assert isinstance(listed, dict) and [w["id"] for w in listed["webhooks"]] == [hook["id"]]

    changed = client.put(f"/webhook/{hook['id']}", {"enabled": False, "entityEvents": None})
    assert isinstance(changed, dict) and changed["enabled"] is False and changed["entityEvents"] is None
    with pytest.raises(ServicetradeAPIError) as err:
        client.put(f"/webhook/{hook['id']}", {"hookUrl": "https://elsewhere.example"})
    assert err.value.status_code == 400 and "cannot be changed" in err.value.error_messages[0]

    assert client.delete(f"/webhook/{hook['id']}") is None
    assert st.state.webhooks == {}
    with pytest.raises(ServicetradeAPIError) as gone:
        client.get(f"/webhook/{hook['id']}")
    assert gone.value.status_code == 404


def test_creating_a_webhook_needs_an_admin(st: SandboxServer) -> None:
    login = {"username": DEMO_TECH_USERNAME, "password": DEMO_TECH_PASSWORD}
    sid = requests.post(f"{st.url}/api/auth", json=login, timeout=5).json()["data"]["authToken"]
    resp = requests.post(
        f"{st.url}/api/webhook", json={"hookUrl": "https://x.example"}, cookies={"PHPSESSID": sid}, timeout=5
    )
    assert resp.status_code == 403 and "admin.account" in resp.json()["messages"]["error"][0]


# -- deliveries -----------------------------------------------------------------------------------------------
def test_put_pending_accounting_delivers_an_updated_invoice_message(
    client: ServicetradeClient, st: SandboxServer
) -> None:
    with receiver([]) as rx:
        subscribe(client, rx.url, includeChangesets=True)
        invoice_id = pending_invoice(st)
        client.put(f"/invoice/{invoice_id}", {"status": "pending_accounting"})
        (message,) = rx.wait_for(1)
    assert set(message) == {"messageId", "timestamp", "data"}
    assert uuid.UUID(message["messageId"]) and isinstance(message["timestamp"], str) and message["timestamp"].isdigit()
    (item,) = message["data"]
    assert item["action"] == "updated" and isinstance(item["timestamp"], int)
    assert item["entity"] == {"type": "invoice", "id": invoice_id, "uri": f"{st.url}/api/invoice/{invoice_id}"}
    assert item["userId"] == st.state.clients[DEMO_CLIENT_ID].user_id
    assert {"field": "status", "oldValue": "ok", "newValue": "pending_accounting"} in item["changeset"]
    assert [(a.attempt, a.status, a.delivered) for a in st.deliveries] == [(1, 200, True)]
    assert "x-signature" not in {k.lower() for k in rx.headers[0]}


def test_changesets_only_when_asked(client: ServicetradeClient, st: SandboxServer) -> None:
    with receiver([]) as rx:
        subscribe(client, rx.url)
        client.put(f"/invoice/{pending_invoice(st)}", {"status": "pending_accounting"})
        (message,) = rx.wait_for(1)
    assert "changeset" not in message["data"][0]


def test_500_twice_then_200_is_three_attempts(client: ServicetradeClient, st: SandboxServer) -> None:
    with receiver([500, 500, 200]) as rx:
        subscribe(client, rx.url)
        message_id = st.deliver("invoice", pending_invoice(st))
        received = rx.wait_for(3)
    assert [(a.attempt, a.status, a.delivered) for a in st.deliveries] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]
    assert {m["messageId"] for m in received} == {message_id}  # the same message, retried
    assert next(iter(st.state.webhooks.values()))["confirmed"] is True


def test_a_404_counts_as_delivered(client: ServicetradeClient, st: SandboxServer) -> None:
    with receiver([404]) as rx:
        subscribe(client, rx.url)
        st.deliver("job", next(iter(st.state.jobs)), "created")
        rx.wait_for(1)
    assert [(a.attempt, a.status, a.delivered) for a in st.deliveries] == [(1, 404, True)]


def test_always_5xx_gives_up_after_three_attempts(client: ServicetradeClient, st: SandboxServer) -> None:
    with receiver([], default=503) as rx:
        subscribe(client, rx.url)
        st.deliver("invoice", pending_invoice(st))
    assert [(a.attempt, a.status, a.delivered) for a in st.deliveries] == [
        (1, 503, False),
        (2, 503, False),
        (3, 503, False),
    ]


def test_a_slow_receiver_times_out_and_is_retried() -> None:
    with (
        start(delivery_mode="sync", delivery_retry_delay=0, delivery_timeout=0.2) as st,
        receiver([], delay=0.5) as rx,
    ):
        client = ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
        subscribe(client, rx.url)
        st.deliver("invoice", pending_invoice(st))
        attempts = [(a.status, a.error, a.delivered) for a in st.deliveries]
    assert attempts == [(None, "ReadTimeout", False)] * 3


def test_entity_event_subscriptions_filter_messages(client: ServicetradeClient, st: SandboxServer) -> None:
    with receiver([]) as jobs_rx, receiver([]) as all_rx:
        subscribe(client, jobs_rx.url, entityEvents=[{"entityType": 3, "actions": ["updated"]}])
        subscribe(client, all_rx.url, entityEvents=None)
        job_id = next(iter(st.state.jobs))
        client.put(f"/invoice/{pending_invoice(st)}", {"status": "pending_accounting"})
        client.put(f"/job/{job_id}", {"description": "Bring the lift"})
        everything = all_rx.wait_for(2)
        only_jobs = jobs_rx.wait_for(1)
    assert [m["data"][0]["entity"]["type"] for m in everything] == ["invoice", "job"]
    assert [m["data"][0]["entity"] for m in only_jobs] == [
        {"type": "job", "id": job_id, "uri": f"{st.url}/api/job/{job_id}"}
    ]


def test_disabled_webhooks_get_nothing_and_failed_requests_emit_nothing(
    client: ServicetradeClient, st: SandboxServer
) -> None:
    with receiver([]) as rx:
        hook = subscribe(client, rx.url, enabled=False)
        client.put(f"/invoice/{pending_invoice(st)}", {"status": "pending_accounting"})
        client.put(f"/webhook/{hook['id']}", {"enabled": True})
        with pytest.raises(ServicetradeAPIError):
            client.put(f"/invoice/{pending_invoice(st)}", {"status": "bogus"})
    assert rx.received == [] and st.deliveries == []


def test_async_and_manual_delivery_modes() -> None:
    with receiver([]) as rx:
        with start(delivery_mode="async", delivery_retry_delay=0) as st:
            client = ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
            subscribe(client, rx.url)
            client.put(f"/invoice/{pending_invoice(st)}", {"status": "pending_accounting"})
            st.wait_for_deliveries(5)
            assert [a.delivered for a in st.deliveries] == [True]
        with start(delivery_mode="manual") as st:
            client = ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
            subscribe(client, rx.url)
            st.deliver("invoice", pending_invoice(st))
            assert st.deliveries == [] and len(st.messages) == 1
            assert st.flush_deliveries() == 1
            assert [a.delivered for a in st.deliveries] == [True]
    assert len(rx.received) == 2


def test_payment_emits_payment_created_and_invoice_updated(client: ServicetradeClient, st: SandboxServer) -> None:
    invoice = next(i for i in st.state.invoices.values() if i["invoiceNumber"] == "INV-24111")
    with receiver([]) as rx:
        subscribe(client, rx.url, includeChangesets=True)
        client.post("/payment", {"invoiceId": invoice["id"], "amount": 337.5, "method": "ach", "referenceNumber": "A1"})
        (message,) = rx.wait_for(1)
    kinds = [(i["entity"]["type"], i["action"]) for i in message["data"]]
    assert kinds == [("payment", "created"), ("invoice", "updated")]
    assert message["data"][1]["changeset"] == [
        {"field": "status", "oldValue": "pending_accounting", "newValue": "paid"}
    ]


# -- fault injection ------------------------------------------------------------------------------------------
def test_one_injected_503_is_absorbed_by_the_sdk_retry(client: ServicetradeClient, st: SandboxServer) -> None:
    client.get("/taxgroup")
    st.fail_next(1, 503, path_prefix="/api/taxgroup")
    data = client.get("/taxgroup")
    assert isinstance(data, dict) and len(data["taxGroups"]) == 3
    assert [r.status for r in st.requests_to("/api/taxgroup")] == [200, 503, 200]


def test_injected_429_and_how_the_sdk_treats_retry_after(client: ServicetradeClient, st: SandboxServer) -> None:
    client.get("/taxgroup")
    st.fail_next(1, 429)
    with pytest.raises(ServicetradeAPIError) as err:  # no Retry-After: not retried
        client.get("/job")
    assert err.value.status_code == 429

    st.fail_next(1, 429, retry_after=0)  # urllib3 (inside the SDK) honours Retry-After on idempotent verbs
    assert isinstance(client.get("/job"), dict)
    assert [r.status for r in st.requests_to("/api/job")] == [429, 429, 200]

    st.fail_next(1, 429, retry_after=7, method="POST")  # POST is never retried: the header reaches the caller
    with pytest.raises(ServicetradeAPIError):
        client.post("/comment", {"entityType": 3, "entityId": next(iter(st.state.jobs)), "content": "x"})
    last = client.get_last_response()
    assert last is not None and last.status_code == 429 and last.headers["Retry-After"] == "7"


def test_injected_latency_and_method_scoped_failures(client: ServicetradeClient, st: SandboxServer) -> None:
    client.get("/taxgroup")
    st.add_latency(0.3, 1)
    began = time.monotonic()
    client.get("/taxgroup")
    slow = time.monotonic() - began
    began = time.monotonic()
    client.get("/taxgroup")
    assert slow >= 0.3 and time.monotonic() - began < 0.3
    st.fail_next(1, 500, method="POST")
    with pytest.raises(ServicetradeAPIError) as err:  # POST is not retried by the SDK
        client.post("/comment", {"entityType": 3, "entityId": next(iter(st.state.jobs)), "content": "x"})
    assert err.value.status_code == 500
    with pytest.raises(ValueError):
        st.fail_next(1, 404)


def test_control_routes(st: SandboxServer) -> None:
    base = f"{st.url}/_sandbox"
    assert requests.get(f"{base}/health", timeout=5).json()["data"] == {"ok": True}
    assert requests.post(f"{base}/faults", json={"failNext": 2, "status": 502}, timeout=5).status_code == 200
    assert [requests.get(f"{st.url}/api/job", timeout=5).status_code for _ in range(3)] == [502, 502, 401]
    assert requests.post(f"{base}/faults", json={"latency": 0.01, "latencyCount": 1}, timeout=5).status_code == 200
    assert requests.delete(f"{base}/faults", timeout=5).status_code == 204 and st.app.faults.latencies == []
    assert requests.put(f"{base}/token-lifetime", json={"seconds": 42}, timeout=5).json()["data"] == {"seconds": 42}
    assert st.app.auth.token_lifetime == 42
    with receiver([]) as rx:
        st.state.webhooks[1] = {
            "id": 1, "hookUrl": rx.url, "enabled": True, "confirmed": False, "includeChangesets": False,
            "entityEvents": None, "created": 0, "updated": 0,
        }  # fmt: skip
        sent = requests.post(
            f"{base}/deliver", json={"entityType": "job", "entityId": 7, "action": "deleted"}, timeout=5
        )
        (message,) = rx.wait_for(1)
    assert message["messageId"] == sent.json()["data"]["messageId"]
    assert message["data"][0]["entity"] == {"type": "job", "id": 7, "uri": f"{st.url}/api/job/7"}
    log = requests.get(f"{base}/deliveries", timeout=5).json()["data"]
    assert [a["status"] for a in log["attempts"]] == [200] and len(log["messages"]) == 1
    recent = requests.get(f"{base}/requests", timeout=5).json()["data"]["requests"]
    assert [r["status"] for r in recent if r["path"] == "/api/job"] == [502, 502, 401]
    assert requests.get(f"{base}/nothing", timeout=5).status_code == 404
