"""Exactly-once into QuickBooks Desktop with the session killed at every step of every round trip."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from ledgerbridge.state.table import state
from ledgerbridge.targets.qbd import outbox, session
from tests.qbd.world import TENANT, QbdWorld, make_world, time_passes

INVOICES = 12
STEPS = ("before_send", "after_send", "after_process", "after_receive")


def world_with_invoices(monkeypatch: pytest.MonkeyPatch) -> QbdWorld:
    # Small chunks, so 12 invoices take several round trips and every pipeline stage can be interrupted.
    monkeypatch.setattr(session, "LOOKUP_CHUNK", 2)
    monkeypatch.setattr(session, "WRITES_PER_TRIP", 3)
    world = make_world(customer_naming="customer_location")
    invoices = [world.platform.add_invoice(n, customer=f"Customer {n % 4}") for n in range(1, INVOICES + 1)]
    world.enqueue(*invoices)
    return world


def wipe_state() -> None:
    """A fresh state table: each interrupted run starts from the same outbox."""
    table = state()
    for item in table.scan()["Items"]:
        table.delete_item(Key={"pk": item["pk"], "sk": item["sk"]})


def assert_exactly_once(world: QbdWorld) -> None:
    numbers = Counter(i["RefNumber"] for i in world.company.invoices.values())
    assert numbers == Counter({f"INV-{n}": 1 for n in range(1, INVOICES + 1)})
    names = Counter(c["FullName"] for c in world.company.customers.values())
    assert max(names.values()) == 1 and len(names) == 4 + INVOICES  # 4 customers, one job per location
    assert set(world.platform.statuses.values()) == {"processed"}
    assert outbox.pending(TENANT) == []


def test_an_uninterrupted_run_takes_a_handful_of_round_trips(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    world = world_with_invoices(monkeypatch)
    log = world.web_connector().run_session()
    assert_exactly_once(world)
    assert log.percents == sorted(log.percents) and log.percents[-1] == 100 and not log.crashed


@pytest.mark.parametrize("step", STEPS)
def test_a_session_that_dies_at_any_round_trip_never_duplicates(
    aws: Any, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    trips = world_with_invoices(monkeypatch).web_connector().run_session().round_trips
    assert trips >= 6
    for trip in range(1, trips + 1):
        wipe_state()
        world = world_with_invoices(monkeypatch)
        wc = world.web_connector(crash=(step, trip))
        assert wc.run_session().crashed
        wc.crash = None
        time_passes()
        log = wc.run_session()
        assert log.closed.startswith("OK"), (step, trip, log)
        assert_exactly_once(world)


def test_the_next_session_adopts_an_invoice_whose_answer_was_lost_without_rewriting_it(
    aws: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = world_with_invoices(monkeypatch)
    wc = world.web_connector(crash=("after_process", 3))  # InvoiceAdds processed by QuickBooks, answer lost
    wc.run_session()
    edits_before = {t: r["EditSequence"] for t, r in world.company.invoices.items()}
    wc.crash = None
    time_passes()
    wc.run_session()
    assert_exactly_once(world)
    assert all(world.company.invoices[t]["EditSequence"] == e for t, e in edits_before.items())


def test_a_second_web_connector_is_told_busy_while_a_session_is_live(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    world = world_with_invoices(monkeypatch)
    wc = world.web_connector(crash=("after_receive", 1))
    wc.run_session()
    assert world.web_connector().run_session().status == "busy"
    time_passes()
    assert world.web_connector().run_session().closed.startswith("OK")
    assert_exactly_once(world)
