"""Every statusCode the outbox meets, handled as QuickBooks means it (Intuit's status code reference)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ledgerbridge.state import mappings, synclog
from ledgerbridge.targets.qbd import outbox
from ledgerbridge.targets.qbd.statuses import Verdict, verdict
from sandbox.qbd.company import QbXmlError
from sandbox.qbd.webconnector import WebConnector
from tests.qbd.world import TENANT, QbdWorld, make_world, time_passes


def synced_then_edited(memo: str) -> tuple[QbdWorld, WebConnector, str]:
    """An invoice sent in one session, then edited on the platform and queued again."""
    world = make_world()
    invoice = world.platform.add_invoice(1)
    world.enqueue(invoice)
    wc = world.web_connector()
    wc.run_session()
    txn = mappings.find(TENANT, "qbd", "invoice", "1").target_id  # type: ignore[union-attr]
    world.platform.statuses["1"] = "pending_accounting"
    world.platform.invoices["1"] = invoice.model_copy(update={"memo": memo})
    world.enqueue(invoice)
    return world, wc, txn


def test_status_codes_map_to_what_the_outbox_does() -> None:
    assert verdict(0, False) is Verdict.OK and verdict(530, False) is Verdict.OK
    assert verdict(1, True) is Verdict.NO_MATCH and verdict(500, True) is Verdict.NO_MATCH
    assert verdict(3100, False) is Verdict.NAME_IN_USE and verdict(3200, False) is Verdict.STALE
    assert {verdict(c, False) for c in (3170, 3175, 3180, 3231)} == {Verdict.BUSY}
    assert {verdict(c, False) for c in (3120, 3140, 3070, 1060)} == {Verdict.PERMANENT}


def test_3100_for_a_name_a_vendor_holds_fails_the_invoice_with_the_reason_and_adds_nothing(aws: Any) -> None:
    world = make_world()
    world.company.other_names.add("Acme Hospital")  # a vendor of that name
    world.enqueue(world.platform.add_invoice(1))
    world.web_connector().run_session()
    assert world.company.customers == {} and world.company.invoices == {}
    assert world.platform.statuses["1"] == "failed" and "vendor, employee or other name" in world.platform.comments["1"]
    assert outbox.pending(TENANT) == []  # recorded, never retried forever


def test_3100_for_a_customer_added_meanwhile_is_resolved_by_query_not_duplicated(aws: Any) -> None:
    world = make_world()
    real_query = world.company._CustomerQueryRq
    calls = Counter[str]()

    def first_query_misses(rq: Any, rs: Any) -> Any:  # someone adds the customer between our query and add
        calls["query"] += 1
        if calls["query"] == 1:
            world.company.customers["X1"] = {"ListID": "X1", "Name": "Acme Hospital", "FullName": "Acme Hospital"}
            return [], (1, "no match")
        return real_query(rq, rs)

    world.company._CustomerQueryRq = first_query_misses  # type: ignore[method-assign]
    world.enqueue(world.platform.add_invoice(1))
    world.web_connector().run_session()
    assert [c["FullName"] for c in world.company.customers.values()] == ["Acme Hospital"]
    assert world.platform.statuses["1"] == "processed"


def test_3200_stale_edit_sequence_is_read_again_and_the_mod_retried_once(aws: Any) -> None:
    world, wc, txn = synced_then_edited("second visit")
    process = world.company.process
    mods: list[str] = []

    def bookkeeper_edits_first(document: str) -> str:  # the invoice changes in QuickBooks after our lookup
        if "<InvoiceModRq" in document:
            mods.append(document)
            if len(mods) == 1:
                world.company._touch(world.company.invoices[txn])
        return process(document)

    world.company.process = bookkeeper_edits_first  # type: ignore[method-assign]
    wc.run_session()
    assert len(mods) == 2 and len(world.company.invoices) == 1
    assert world.company.invoices[txn]["Memo"] == "second visit" and world.platform.statuses["1"] == "processed"


def test_a_locked_invoice_pauses_with_noop_then_goes_through(aws: Any) -> None:
    world, wc, txn = synced_then_edited("changed")
    world.company.locks[txn] = 2  # open in a QuickBooks window for a moment
    log = wc.run_session()
    assert log.noops == 2 and world.platform.statuses["1"] == "processed"


def test_a_record_locked_all_session_waits_for_the_next_one(aws: Any) -> None:
    world, wc, txn = synced_then_edited("changed")
    world.company.locks[txn] = 100
    log = wc.run_session()
    assert log.noops == 3 and "left for the next run" in log.closed and len(outbox.pending(TENANT)) == 1
    assert synclog.recent(TENANT)[0].outcome == "retrying"
    world.company.locks[txn] = 0
    time_passes()
    wc.run_session()
    assert world.platform.statuses["1"] == "processed" and outbox.pending(TENANT) == []


def test_3140_invalid_reference_is_permanent_and_written_back_to_the_platform(aws: Any) -> None:
    world = make_world(tax_codes={"taxable": "GST"})  # a sales tax code the company file does not have
    world.enqueue(world.platform.add_invoice(1, taxable=True))
    world.web_connector().run_session()
    assert world.company.invoices == {} and world.platform.statuses["1"] == "failed"
    assert "invalid reference to QuickBooks Sales Tax Code" in world.platform.comments["1"]
    assert "What to fix" in world.platform.comments["1"]
    assert outbox.pending(TENANT) == []


def test_a_refnumber_held_by_an_invoice_we_did_not_create_is_never_duplicated(aws: Any) -> None:
    world = make_world()
    world.company.invoices["T0"] = {"TxnID": "T0", "RefNumber": "INV-1", "EditSequence": "1", "TimeModified": ""}
    world.enqueue(world.platform.add_invoice(1))
    world.web_connector().run_session()
    assert list(world.company.invoices) == ["T0"]
    assert "did not create" in world.platform.comments["1"]


def test_an_hresult_for_a_whole_document_isolates_the_request_at_fault(aws: Any) -> None:
    world = make_world()
    world.enqueue(*(world.platform.add_invoice(n) for n in range(1, 6)))
    process = world.company.process

    def chokes_on_invoice_3(document: str) -> str:
        if "<RefNumber>INV-3</RefNumber>" in document and "<InvoiceAddRq" in document:
            raise QbXmlError("0x80040400", "QuickBooks found an error when parsing the provided XML text stream.")
        return process(document)

    world.company.process = chokes_on_invoice_3  # type: ignore[method-assign]
    world.web_connector().run_session()
    assert sorted(i["RefNumber"] for i in world.company.invoices.values()) == ["INV-1", "INV-2", "INV-4", "INV-5"]
    assert world.platform.statuses["3"] == "failed"
    assert "could not parse the request" in world.platform.comments["3"] and "INV-3" in world.platform.comments["3"]
