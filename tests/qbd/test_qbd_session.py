"""Web Connector sessions end to end against the company-file double: invoices out, payments back."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledgerbridge.state import mappings, synclog
from ledgerbridge.targets.qbd import outbox
from tests.qbd.world import TENANT, make_world


def test_a_session_adds_customers_items_and_invoices_and_marks_them_processed(aws: Any) -> None:
    world = make_world(items={"SPR": "Sprinkler Inspection"})
    invoices = [world.platform.add_invoice(n, item="SPR" if n % 2 else "") for n in range(1, 6)]
    world.enqueue(*invoices)
    log = world.web_connector().run_session()
    assert log.status == "" and log.percents[-1] == 100 and log.closed.startswith("OK: 5 sent")
    assert sorted(i["RefNumber"] for i in world.company.invoices.values()) == [f"INV-{n}" for n in range(1, 6)]
    assert {c["FullName"] for c in world.company.customers.values()} == {"Acme Hospital"}
    assert {i["FullName"] for i in world.company.items.values()} == {"Sprinkler Inspection", "Services"}
    assert set(world.platform.statuses.values()) == {"processed"}
    assert outbox.pending(TENANT) == []
    held = world.company.invoices[mappings.find(TENANT, "qbd", "invoice", "1").target_id]  # type: ignore[union-attr]
    assert held["Subtotal"] == "125.50" and held["InvoiceLineRet"][0]["Desc"] == "Sprinkler inspection & test <annual>"


def test_a_payment_entered_in_quickbooks_is_recorded_on_the_platform_and_reversed_when_deleted(aws: Any) -> None:
    world = make_world()
    world.enqueue(world.platform.add_invoice(1))
    wc = world.web_connector()
    wc.run_session()
    txn = mappings.find(TENANT, "qbd", "invoice", "1").target_id  # type: ignore[union-attr]
    payment = world.company.receive_payment(txn, Decimal("100.00"))
    wc.run_session()
    assert list(world.platform.payments.values()) == [
        ("1", Decimal("100.00"), f"QuickBooks Desktop payment {payment['TxnID']}")
    ]
    wc.run_session()  # seen again (the cursor overlaps): nothing twice
    assert len(world.platform.payments) == 1
    world.company.delete_payment(payment["TxnID"])
    wc.run_session()
    assert world.platform.payments == {}
    assert any(e.entity == "payment" and "deleted" in e.message for e in synclog.recent(TENANT))


def test_a_session_settles_through_the_sync_engine_like_every_target(aws: Any) -> None:
    """The one exactly-once path (ledgerbridge.sync.engine): the job's create intent until QuickBooks has the
    invoice, then the mapping both ways, the platform write-back and the sync log; an unchanged invoice is
    skipped by the engine's content hash."""
    from ledgerbridge.state import intents

    world = make_world()
    invoice = world.platform.add_invoice(1)
    world.enqueue(invoice)
    assert intents.begin(TENANT, "qbd", "invoice", "1", "INV-1").resumed  # the job began the create intent
    world.web_connector().run_session()
    txn = mappings.find(TENANT, "qbd", "invoice", "1").target_id  # type: ignore[union-attr]
    assert mappings.find_by_target(TENANT, "qbd", "invoice", txn) == "1"
    assert not intents.begin(TENANT, "qbd", "invoice", "1", "INV-1").resumed  # finished by the session
    intents.finish(TENANT, "qbd", "invoice", "1")
    latest = synclog.recent(TENANT)[0]
    assert latest.outcome == "created" and latest.message == f"invoice INV-1 created in QuickBooks Desktop as {txn}"
    world.platform.statuses["1"] = "pending_accounting"  # sent to accounting again, unchanged
    world.enqueue(invoice)
    latest = synclog.recent(TENANT)[0]
    assert (latest.outcome, latest.message, latest.target_id) == ("skipped", "no change since the last sync", txn)
    assert outbox.pending(TENANT) == []


def test_a_refused_invoice_is_rejected_through_the_sync_engine(aws: Any) -> None:
    from ledgerbridge.state import intents

    world = make_world(tax_codes={"taxable": "GST"})  # a sales tax code the company file does not have
    world.enqueue(world.platform.add_invoice(1, taxable=True), world.platform.add_invoice(123456789012))
    assert world.platform.statuses["123456789012"] == "failed"  # refused by the job: too long for RefNumber
    assert "What to fix: correct the record's number" in world.platform.comments["123456789012"]
    world.web_connector().run_session()  # refused by QuickBooks (3140)
    for source_id in ("1", "123456789012"):
        assert world.platform.statuses[source_id] == "failed"
        assert world.platform.comments[source_id].startswith("QuickBooks Desktop rejected this invoice:")
        assert not intents.begin(TENANT, "qbd", "invoice", source_id, "").resumed  # no intent left behind
