"""The platform-side sweep, end to end: the ServiceTrade double sends its webhooks over HTTP to the API
front (the template's routes and handlers), loses some of them, and the sweep function catches up.

Each test "sends to accounting" through the platform's own API (PUT status pending_accounting, as the
office's "Send to QuickBooks" does), so every invoice gets a fresh `updated` time and a webhook message.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from servicetrade import ServicetradeClient

from ledgerbridge import sweep
from ledgerbridge.state import cursors, synclog
from sandbox.servicetrade import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from sandbox.stack.front import ApiFront, Served
from sandbox.stack.functions import invoke
from sandbox.throttle import Throttle
from tests.e2e.conftest import World, world_with


def pending_ids(world: World) -> list[int]:
    return sorted(i["id"] for i in world.st.state.invoices.values() if i["status"] == "pending_accounting")


def hook_up(world: World, front: Served) -> ServicetradeClient:
    """Point the platform's webhook at the front, as the tenant's onboarding does."""
    client = ServicetradeClient(base_url=world.st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    hook = f"{front.url}/webhooks/{world.tenant.tenant.tenant_id}?token={world.tenant.webhook_token}"
    client.post("/webhook", {"hookUrl": hook, "enabled": True, "includeChangesets": False, "entityEvents": None})
    return client


def send_to_accounting(client: ServicetradeClient, ids: list[int]) -> None:
    for invoice_id in ids:
        client.put(f"/invoice/{invoice_id}", {"status": "pending_accounting"})


def run_sweep(minutes_later: float = 3) -> dict[str, Any]:
    """The sweep's schedule firing a few minutes from now (past the window's settling time)."""
    at = datetime.now(UTC) + timedelta(minutes=minutes_later)
    result: dict[str, Any] = invoke("SweepFunction", {"scheduled_time": at.isoformat(), "execution_id": "test"})
    return result


def in_qbo(world: World) -> Counter[str]:
    return Counter(i["DocNumber"] for i in world.qbo.objects("Invoice", world.realm_id))


def numbers(world: World, ids: list[int]) -> set[str]:
    return {world.st.state.invoices[i]["invoiceNumber"] for i in ids}


def queued_source_ids(world: World) -> Counter[str]:
    """The source id of every job on the QBO queue, read without deleting (each stays hidden a while)."""
    from ledgerbridge import aws

    sqs, url = aws.client("sqs"), world.stack.queue_url("QboSyncQueue")
    found: Counter[str] = Counter()
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=900).get("Messages"):
        found.update(json.loads(m["Body"])["source_id"] for m in batch)
    return found


def recovered_ids(world: World) -> list[str]:
    entries = synclog.recent(world.tenant.tenant.tenant_id, limit=10_000)
    return sorted(e.source_id for e in entries if e.outcome == "recovered")


@pytest.fixture
def front(world: World) -> Iterator[Served]:
    served = Served(ApiFront(invoke))
    yield served
    served.stop()


def test_webhooks_the_platform_lost_are_in_quickbooks_once_after_one_sweep(world: World, front: Served) -> None:
    client = hook_up(world, front)
    ids = pending_ids(world)
    assert len(ids) == 26
    world.st.drop_deliveries(1, of=3)  # a third of the platform's messages never arrive
    send_to_accounting(client, ids)
    world.st.drop_deliveries(0)
    lost = sorted(int(m["data"][0]["entity"]["id"]) for m in world.st.dropped)
    assert len(lost) == 9
    world.st.flush_deliveries()
    world.drain()
    assert pending_ids(world) == lost  # without the sweep, these would wait forever

    result = run_sweep()
    assert (result["tenants_swept"], result["tenants_failed"], result["recovered"]) == (1, 0, 9)
    world.drain()

    created = in_qbo(world)
    assert set(created) == numbers(world, ids) and max(created.values()) == 1
    assert {world.st.state.invoices[i]["status"] for i in ids} == {"processed"}
    assert recovered_ids(world) == sorted(str(i) for i in lost)
    # Fifteen minutes on, nothing is left to find: a finished version is never queued again.
    assert run_sweep(minutes_later=18)["recovered"] == 0


def test_with_the_webhook_disabled_every_send_is_recovered_by_the_sweep(world: World, front: Served) -> None:
    client = hook_up(world, front)
    for hook in client.get("/webhook")["webhooks"]:
        client.put(f"/webhook/{hook['id']}", {"enabled": False})
    ids = pending_ids(world)[:8]
    send_to_accounting(client, ids)
    assert world.st.flush_deliveries() == 0

    assert run_sweep()["recovered"] == 8
    world.drain()
    assert set(in_qbo(world)) == numbers(world, ids) and max(in_qbo(world).values()) == 1
    assert {world.st.state.invoices[i]["status"] for i in ids} == {"processed"}


def test_a_sweep_racing_late_webhooks_queues_each_version_once(world: World, front: Served) -> None:
    client = hook_up(world, front)
    ids = pending_ids(world)[:12]
    early, late = ids[:6], ids[6:]
    send_to_accounting(client, early)
    world.st.flush_deliveries()  # these webhooks arrive before the sweep runs
    send_to_accounting(client, late)  # these are still in the platform's outbox when the sweep runs

    result = run_sweep()
    assert result["recovered"] == 6
    world.st.flush_deliveries()  # the late webhooks arrive after the sweep queued their versions
    late_answers = world.st.deliveries[-6:]
    assert [a.status for a in late_answers] == [202] * 6

    assert queued_source_ids(world) == Counter(str(i) for i in ids)  # one job each, whoever came first
    assert recovered_ids(world) == sorted(str(i) for i in late)


@pytest.fixture
def burst_world(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    # The demo company brings 6 pending invoices of its own: 1,994 more make 2,000.
    yield from world_with(aws, monkeypatch, invoices=1994)


@pytest.mark.slow  # 2,000 webhooks through the throttle, then the sweep: many CPU-minutes (make test-slow)
def test_a_burst_of_2000_sends_against_a_throttled_front_loses_nothing(burst_world: World) -> None:
    world = burst_world
    # API Gateway's token bucket, scaled down (template.yaml allows 500/s, burst 1,000 for webhooks) so that
    # one local sender overruns it on any machine, however slow: a burst of 50, then one request every 10 s.
    # Most of the 2,000 are answered 429 before reaching the function.
    throttle = Throttle(ApiFront(invoke), rate=0.1, burst=50, method="POST", path_prefix="/webhooks/")
    front = Served(throttle)
    try:
        hook_up(world, front)
        ids = pending_ids(world)
        assert len(ids) == 2000
        world.st.send_to_accounting(ids)
        world.st.flush_deliveries()
    finally:
        front.stop()

    attempts = world.st.deliveries
    assert len(attempts) == 2000 and all(a.delivered and a.attempt == 1 for a in attempts)  # 429 = "delivered"
    statuses = Counter(a.status for a in attempts)
    assert statuses[429] == throttle.throttled >= 1000 and statuses[202] == throttle.passed

    result = run_sweep()
    assert result["recovered"] == throttle.throttled
    assert queued_source_ids(world) == Counter(str(i) for i in ids)  # every one, once


def test_a_platform_429_keeps_the_cursor_and_the_next_run_recovers_everything(world: World) -> None:
    ids = pending_ids(world)
    world.st.send_to_accounting(ids)  # no webhook is registered at all
    world.st.fail_next(1, status=429, retry_after=30, path_prefix="/api/invoice", method="GET")
    first = run_sweep()
    assert (first["tenants_failed"], first["recovered"]) == (1, 0)
    assert cursors.read(world.tenant.tenant.tenant_id, sweep.CURSOR) is None

    assert run_sweep(minutes_later=8)["recovered"] == len(ids)
    assert cursors.read(world.tenant.tenant.tenant_id, sweep.CURSOR) is not None
