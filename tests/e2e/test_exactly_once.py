"""Exactly-once effect, proved with fault injection: webhook -> queue -> sync_qbo -> QBO sandbox."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from ledgerbridge import consumer
from ledgerbridge.state import mappings, synclog
from ledgerbridge.targets.qbo import budget
from tests.e2e.conftest import World, world_with
from tests.helpers import call_api, drain


def pending(world: World) -> list[dict[str, Any]]:
    return [i for i in world.st.state.invoices.values() if i["status"] == "pending_accounting"]


def deliver_all(world: World, times: int) -> None:
    """The platform announces each pending invoice; every delivery arrives `times` times."""
    for invoice in pending(world):
        world.st.deliver("invoice", invoice["id"], action="updated")
    token = world.tenant.webhook_token
    for message in world.st.messages:
        for attempt in range(times):
            body = {**message, "messageId": f"{message['messageId']}-{attempt}"}
            status, _, _ = call_api(
                "POST", f"/webhooks/{world.tenant.tenant.tenant_id}", body=json.dumps(body), query={"token": token}
            )
            assert status == 202


def qbo_invoices(world: World) -> list[dict[str, Any]]:
    return world.qbo.objects("Invoice", world.realm_id)


@pytest.fixture
def big_world(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    # Retries become visible at once: the test is about effects, not about waiting out backoff.
    monkeypatch.setattr(consumer, "backoff_seconds", lambda receives, retry_after=None: 0)
    # The sandbox runs with limits far above QBO's (the budget's own tests cover the real ones).
    limits = budget.Limits(per_minute=1_000_000, per_second=100_000, concurrent=1_000, batch_per_minute=100_000)
    monkeypatch.setattr(budget, "DEFAULT_LIMITS", limits)
    monkeypatch.setattr(budget, "PAUSE_ON_429_S", 0.0)
    # The demo company brings 6 pending invoices of its own: 994 more make 1,000.
    yield from world_with(aws, monkeypatch, invoices=994)


@pytest.mark.slow  # about 5 min: CI runs it after `make test` (make test-slow)
def test_1000_invoices_5_deliveries_each_under_chaos_land_exactly_once(big_world: World) -> None:
    world = big_world
    numbers = {i["invoiceNumber"] for i in pending(world)}
    assert len(numbers) == 1000
    # 10% of QBO calls fail transiently (500/503/429); 1% of calls commit and then lose their response.
    world.qbo.chaos(transient=0.10, drop_after_commit=0.01, seed=20261125)
    deliver_all(world, times=5)
    world.drain()

    created = Counter(inv["DocNumber"] for inv in qbo_invoices(world))
    assert set(created) == numbers, "an invoice was lost"
    assert max(created.values()) == 1, f"duplicated: {[n for n, c in created.items() if c > 1]}"
    assert drain(world.stack.queue_url("QboSyncDLQ")) == []
    statuses = Counter(i["status"] for i in world.st.state.invoices.values() if i["invoiceNumber"] in numbers)
    assert statuses == {"processed": 1000}
    faults = Counter(c["status"] for c in world.qbo.state.calls)
    # The chaos really happened: about a tenth of all calls failed.
    assert faults[429] + faults[500] + faults[503] >= 0.05 * len(world.qbo.state.calls)


def test_a_qbo_validation_error_fails_the_invoice_once_with_qbos_message(world: World) -> None:
    target = pending(world)[0]
    # An item QBO does not have: QBO refuses the line with its own validation fault.
    from ledgerbridge.state import tenants as tenant_store

    tenant = tenant_store.load(world.tenant.tenant.tenant_id)
    mapping = tenant.mapping.model_copy(update={"default_item": "No Such Item"})
    tenant_store.save(tenant.model_copy(update={"mapping": mapping}))
    world.st.deliver("invoice", target["id"])
    for _ in range(3):
        call_api(
            "POST",
            f"/webhooks/{tenant.tenant_id}",
            body=json.dumps({**world.st.messages[-1], "messageId": "again"}),
            query={"token": world.tenant.webhook_token},
        )
    world.drain()
    invoice = world.st.state.invoices[target["id"]]
    assert invoice["status"] == "failed"
    comments = [c for c in world.st.state.comments.values() if str(c.get("entityId")) == str(target["id"])]
    assert len(comments) == 1
    assert "No Such Item" in comments[0]["content"] and "QuickBooks Online rejected" in comments[0]["content"]
    log = [e for e in synclog.recent(tenant.tenant_id) if e.source_id == str(target["id"])]
    assert [e.outcome for e in log] == ["failed"]
    assert qbo_invoices(world) == []
    posts = [c for c in world.qbo.state.calls if c["method"] == "POST" and "/invoice" in c["path"]]
    assert posts == []  # refused before any write: never retried into QBO


def test_a_crash_after_the_create_is_resolved_without_a_second_invoice(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = pending(world)[0]
    real_put = mappings.put
    crashes = {"left": 1}

    def crash_once(tenant_id: str, tgt: str, entity: str, source_id: str, mapping: mappings.Mapping) -> None:
        if entity == "invoice" and crashes["left"]:
            crashes["left"] -= 1
            raise RuntimeError("Lambda died after QBO created the invoice")
        real_put(tenant_id, tgt, entity, source_id, mapping)

    monkeypatch.setattr(mappings, "put", crash_once)
    from ledgerbridge.jobs import SyncJob
    from ledgerbridge.state import tenants as tenant_store
    from ledgerbridge.targets import registry
    from ledgerbridge.wiring import engine_for

    job = SyncJob.model_validate(
        {
            "tenant_id": world.tenant.tenant.tenant_id,
            "target": "qbo",
            "entity": "invoice",
            "source_id": str(target["id"]),
            "event_id": "crash-test",
            "occurred_at": "2026-11-25T12:00:00Z",
        }
    )
    engine = engine_for(tenant_store.load(job.tenant_id), registry.plugin("qbo"))
    with pytest.raises(RuntimeError):
        engine.run(job)
    assert len(qbo_invoices(world)) == 1  # created, but not recorded
    result = engine.run(job)  # the retry
    assert result.outcome == "created"
    assert result.steps[-1].reason == "recovered an earlier attempt"
    assert len(qbo_invoices(world)) == 1
    assert mappings.find(job.tenant_id, "qbo", "invoice", job.source_id) is not None
