"""The dry run: a plan with a field-level diff against what QBO holds now, and no write anywhere."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledgerbridge.jobs import SyncJob
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets import registry
from ledgerbridge.wiring import engine_for
from tests.e2e.conftest import World
from tests.helpers import call_api


def writes(world: World) -> int:
    return sum(1 for c in world.qbo.state.calls if c["method"] == "POST" and "/query" not in c["path"])


def test_dry_run_plans_create_then_update_with_a_diff_and_writes_nothing(world: World) -> None:
    tenant_id = world.tenant.tenant.tenant_id
    invoice = next(i for i in world.st.state.invoices.values() if i["status"] == "pending_accounting")
    before = writes(world)
    status, _, body = call_api(
        "POST", f"/admin/tenants/{tenant_id}/dry-run", body={"invoice_ids": [str(invoice["id"])]}
    )
    assert status == 200, body
    steps = body["plan"][0]["steps"]
    assert [s["entity"] for s in steps] == ["customer", "invoice"]
    assert steps[-1]["action"] == "create"
    assert any(c["path"] == "DocNumber" and c["after"] == invoice["invoiceNumber"] for c in steps[-1]["changes"])
    assert writes(world) == before and world.qbo.objects("Invoice", world.realm_id) == []

    job = SyncJob(
        tenant_id=tenant_id,
        target="qbo",
        entity="invoice",
        source_id=str(invoice["id"]),
        event_id="e1",
        occurred_at=datetime.now(UTC),
    )
    engine_for(tenant_store.load(tenant_id), registry.plugin("qbo")).run(job)
    synced = world.qbo.objects("Invoice", world.realm_id)[0]
    world.st.state.invoices[invoice["id"]].update({"notes": "Added a second visit", "status": "pending_accounting"})
    before = writes(world)

    status, _, body = call_api("POST", f"/admin/tenants/{tenant_id}/dry-run", body={})  # every pending invoice
    planned = {p["source_id"]: p["steps"][-1] for p in body["plan"]}
    step = planned[str(invoice["id"])]
    assert step["action"] == "update" and step["target_id"] == synced["Id"]
    assert len(step["changes"]) == 1
    assert step["changes"][0]["path"].startswith("CustomerMemo")
    assert "Added a second visit" in str(step["changes"][0]["after"])
    assert writes(world) == before
    assert world.qbo.objects("Invoice", world.realm_id)[0]["SyncToken"] == synced["SyncToken"]


def test_dry_run_of_an_unknown_tenant_is_404_and_bad_body_400(world: World) -> None:
    assert call_api("POST", "/admin/tenants/nobody/dry-run", body={})[0] == 404
    status, _, body = call_api(
        "POST", f"/admin/tenants/{world.tenant.tenant.tenant_id}/dry-run", body={"invoice_ids": "x"}
    )
    assert status == 400 and body["error"]["field"] == "invoice_ids"


def test_a_dry_run_of_a_listing_is_answered_page_by_page(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from sandbox.stack.functions import handler

    handler("AdminFunction")
    monkeypatch.setattr(sys.modules["lb_function_admin"], "MAX_DRY_RUN", 2)
    tenant_id = world.tenant.tenant.tenant_id
    pending = sorted(str(i["id"]) for i in world.st.state.invoices.values() if i["status"] == "pending_accounting")
    assert len(pending) > 2
    seen: list[str] = []
    offset: int | None = 0
    while offset is not None:
        status, _, body = call_api("POST", f"/admin/tenants/{tenant_id}/dry-run", body={"offset": offset})
        assert status == 200 and len(body["plan"]) <= 2, body
        seen += [p["source_id"] for p in body["plan"]]
        offset = body["next_offset"]
    assert sorted(seen) == pending  # every pending invoice once, none twice
