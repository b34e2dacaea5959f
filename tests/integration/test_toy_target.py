"""The plug-in contract proven by a test-only target (tests/toy_target.py): registered in the registry and driven
through the generic runner - record push, batch push, exactly-once after a lost answer, a refused record, a
pull back to the platform, the hourly plan, the setup file the files API serves - with no generic module
knowing it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge import wiring
from ledgerbridge.errors import TransientError
from ledgerbridge.jobs import SyncJob
from ledgerbridge.records import Invoice, InvoiceLine, Ref
from ledgerbridge.state import mappings, synclog
from ledgerbridge.sync import dispatch, runner
from ledgerbridge.targets import registry
from tests import toy_target
from tests.helpers import make_tenant
from tests.toy_target import Ledger, ToyPlatform, ToySettings

TENANT = "toy-co"
NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def invoice(n: int) -> Invoice:
    amount = Decimal(f"{n}00.00")
    line = InvoiceLine(
        source_id=f"L{n}", description="Inspection", quantity=Decimal(1), unit_price=amount, amount=amount
    )
    return Invoice(
        source_id=f"{9000 + n}",
        number=f"INV-{n}",
        status="pending_accounting",
        transaction_date=date(2026, 1, 5),
        customer=Ref(id="C1", name="Acme Fire"),
        location=Ref(id="L1", name="Plant 2"),
        lines=(line,),
        subtotal=amount,
        tax_amount=Decimal("0.00"),
        total=amount,
        updated_at=NOW,
    )


@pytest.fixture
def platform(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ToyPlatform]:
    monkeypatch.setitem(registry.MODULES, "toy", "tests.toy_target")
    monkeypatch.setattr(toy_target, "LEDGER", Ledger())  # a fresh ledger per test
    make_tenant(TENANT, integrations=[])
    fake = ToyPlatform({i.source_id: i for i in (invoice(n) for n in range(1, 8))})
    monkeypatch.setattr(wiring, "platform_for", lambda tenant: fake)
    yield fake


def ledger() -> Ledger:
    return toy_target.LEDGER


def job(kind: str = "record", source_id: str = "9001", entity: str = "invoice", event: str = "e1") -> SyncJob:
    return SyncJob.model_validate(
        {"tenant_id": TENANT, "target": "toy", "kind": kind, "entity": entity, "source_id": source_id,
         "event_id": event, "occurred_at": NOW}
    )  # fmt: skip


def test_a_record_job_creates_once_and_an_unchanged_record_is_skipped(platform: ToyPlatform) -> None:
    runner.run(job())
    assert [d["number"] for d in ledger().of("invoice")] == ["INV-1"]
    assert platform.statuses["9001"] == "processed"
    [entry] = [e for e in synclog.recent(TENANT) if e.entity == "invoice"]
    assert entry.outcome == "created" and "created in Toy Ledger as T2" in entry.message
    platform.statuses["9001"] = "pending_accounting"
    runner.run(job(event="e2"))
    assert len(ledger().of("invoice")) == 1
    assert synclog.recent(TENANT)[0].message.endswith("(no change since the last sync)")


def test_a_lost_answer_is_recovered_by_natural_key_not_created_twice(platform: ToyPlatform) -> None:
    ledger().lose_next_answers = 2  # the customer's create answer is lost, then the invoice's
    with pytest.raises(TransientError):
        runner.run(job())
    with pytest.raises(TransientError):
        runner.run(job())
    runner.run(job())
    assert len(ledger().of("invoice")) == 1 and len(ledger().of("customer")) == 1
    assert "recovered an earlier attempt" in synclog.recent(TENANT)[0].message


def test_a_refused_record_is_marked_failed_with_the_targets_words(platform: ToyPlatform) -> None:
    ledger().refuse_numbers.add("INV-1")
    runner.run(job())
    assert platform.statuses["9001"] == "failed"
    assert (
        platform.comments["9001"]
        == "Toy Ledger rejected this invoice: number INV-1 is closed. What to fix: reopen the period"
    )
    assert "(code T-7)" in synclog.recent(TENANT)[0].message


def test_a_batch_job_pushes_every_pending_invoice_in_the_targets_batches(platform: ToyPlatform) -> None:
    ledger().refuse_numbers.add("INV-5")
    runner.run(job(kind="batch", source_id=""))
    assert sorted(d["number"] for d in ledger().of("invoice")) == ["INV-1", "INV-2", "INV-3", "INV-4", "INV-6", "INV-7"]
    assert ledger().batches >= 2  # 7 invoices, 3 per batch
    assert platform.statuses["9005"] == "failed"
    assert [s for k, s in sorted(platform.statuses.items()) if k != "9005"] == ["processed"] * 6
    assert mappings.find(TENANT, "toy", "invoice", "9005") is None


def test_a_pull_job_brings_a_payment_back_through_the_reverse_mapping(platform: ToyPlatform) -> None:
    runner.run(job())
    toy_invoice = mappings.find(TENANT, "toy", "invoice", "9001")
    assert toy_invoice is not None
    ledger().payments["P-1"] = {"invoice": toy_invoice.target_id, "amount": Decimal("100.00")}
    runner.run(job(kind="pull", source_id="P-1", entity="payment"))
    assert platform.payments == [("9001", Decimal("100.00"))]
    entry = synclog.recent(TENANT)[0]
    assert (entry.outcome, entry.target_id) == ("recorded", "P1")


def test_the_hourly_plan_asks_every_registered_target(platform: ToyPlatform) -> None:
    tenant = make_tenant(TENANT, integrations=[])
    assert dispatch.scheduled_jobs([tenant], NOW) == []  # the tenant has no toy integration
    tenant = tenant.model_copy(update={"integrations": [ToySettings()]})
    [planned] = dispatch.scheduled_jobs([tenant], NOW)
    assert (planned.target, planned.kind) == ("toy", "batch")


def test_the_files_api_serves_the_targets_setup_file_through_the_registry(
    platform: ToyPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ledgerbridge.state import tenants as tenant_store
    from tests.helpers import call_api

    bearer = {"Authorization": f"Bearer {tenant_store.issue_credential(TENANT, 'files')}", "Host": "api.example.com"}
    url = f"/tenants/{TENANT}/targets/toy/setup"
    assert call_api("GET", url, headers=bearer)[0] == 409  # the tenant has no toy integration
    enabled = tenant_store.load(TENANT).model_copy(update={"integrations": [ToySettings()]})
    monkeypatch.setattr(tenant_store, "load", lambda tenant_id, **_: enabled)
    status, headers, body = call_api("GET", url, headers=bearer)
    assert status == 200 and body == f"connect {TENANT} to https://api.example.com/local/toy"
    assert headers["Content-Disposition"] == f'attachment; filename="toy-{TENANT}.txt"'
    assert call_api("GET", f"/tenants/{TENANT}/targets/toy/other", headers=bearer)[0] == 404
