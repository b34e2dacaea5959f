"""QuickBooks Desktop in the console: the Overview's card from the last Web Connector session, and a
reconciliation answered by the next session (QuickBooks Desktop is read only while its Web Connector runs)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from ledgerbridge.console import reconcile, targets
from ledgerbridge.records import Invoice
from ledgerbridge.state import mappings
from ledgerbridge.targets.qbd.console import summary
from tests.qbd.world import TENANT, QbdWorld, make_world, time_passes


class Source:
    """The platform side of the report: the world's invoices, with their current status."""

    def __init__(self, world: QbdWorld) -> None:
        self.world = world

    def invoices(self, *, transaction_after: date, transaction_before: date) -> Iterable[Invoice]:
        return [self.world.platform.invoice(i) for i in self.world.platform.invoices]


def test_the_overview_card_tells_the_last_session_and_its_result(aws: Any) -> None:
    world = make_world()
    card = summary(world.tenant)
    assert card.state == "not_connected" and "has not connected yet" in card.detail
    world.enqueue(*(world.platform.add_invoice(n) for n in range(1, 4)))
    world.web_connector().run_session()
    card = summary(world.tenant)
    facts = dict(card.facts)
    assert card.state == "connected" and card.detail.startswith("last Web Connector session ended")
    assert facts["Result"].startswith("3 sent, 0 failed, 0 left for the next run;") and "round trips" in facts["Result"]

    world.enqueue(world.platform.add_invoice(4))
    world.company.can_open = False  # QuickBooks is closed on that computer, or the file is in single-user mode
    world.web_connector().run_session()
    card = summary(world.tenant)
    assert card.state == "attention"
    assert "ended with an error: QuickBooks could not open the company file (0x" in card.detail
    assert dict(card.facts)["Error"].startswith("QuickBooks could not open the company file")

    turned_away = QbdWorld(world.tenant, "not-the-password", world.platform, world.company)
    assert turned_away.web_connector().run_session().status == "nvu"
    card = summary(world.tenant)
    assert card.state == "attention" and "user name or password was not accepted" in card.detail


def test_a_session_that_stopped_answering_is_told_apart_from_one_running(aws: Any) -> None:
    world = make_world()
    world.enqueue(world.platform.add_invoice(1))
    world.web_connector(crash=("after_send", 1)).run_session()  # QBWC killed mid-session
    card = summary(world.tenant)
    assert card.state == "connected" and card.detail == "a Web Connector session is running now"
    time_passes()
    card = summary(world.tenant)
    assert card.state == "attention" and "stopped answering before it finished" in card.detail
    assert "Last call" in dict(card.facts)


def test_a_reconciliation_is_answered_by_the_next_session_and_explains_a_void(aws: Any) -> None:
    world = make_world()
    invoices = [world.platform.add_invoice(n) for n in range(1, 4)]
    world.enqueue(*invoices)
    world.web_connector().run_session()
    target = targets.find(world.tenant, "qbd")

    first = reconcile.run(world.tenant, target, Source(world), "2026-11")
    assert first.reading.pending and first.rows == [] and "next time the Web Connector runs" in first.reading.note

    voided = mappings.find(TENANT, "qbd", "invoice", "2")
    assert voided is not None
    world.company.void_invoice(voided.target_id)  # the bookkeeper voids INV-2 in QuickBooks
    log = world.web_connector().run_session()  # nothing to write: the session comes for the query alone
    assert log.status == "" and log.percents[-1] == 100

    report = reconcile.run(world.tenant, target, Source(world), "2026-11")
    assert not report.reading.pending and report.reading.as_of
    by_number = {r.number: r for r in report.rows}
    assert set(by_number) == {"INV-1", "INV-2", "INV-3"}
    assert by_number["INV-2"].differences == ("voided in the ledger, open in the platform",)
    assert by_number["INV-1"].matched and by_number["INV-3"].matched
    assert "voided in the ledger" in reconcile.to_csv(report.rows)
