"""Sage Intacct both ways through the real consumer (moto from template.yaml, the platform and Intacct doubles on
127.0.0.1): invoices with their dimensions, exactly once under dropped answers, Intacct's own refusal on the
platform invoice, payments back (paid, partial, reversed) with the cursor advanced only after the platform
write, and the credentials check."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from ledgerbridge import consumer, secrets
from ledgerbridge.errors import TransientError
from ledgerbridge.jobs import JobKind, SyncEntity, SyncJob
from ledgerbridge.queues import publish_jobs
from ledgerbridge.source.servicetrade import ServiceTradeSource
from ledgerbridge.state import cursors, mappings, synclog
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.sync import runner
from ledgerbridge.targets.intacct import connection
from ledgerbridge.targets.intacct.settings import Dimensions, IntacctSettings
from ledgerbridge.tenants import secret_name
from sandbox import fixtures, intacct, servicetrade
from sandbox.intacct import IntacctSandboxServer
from sandbox.stack.pollers import QueuePoller
from tests.helpers import drain

TENANT = "summit-fire"
SETTINGS = IntacctSettings(
    entities=["invoice", "customer", "payment"],
    terms="Net 30",
    tax_gl_account="2200",
    dimensions=Dimensions(
        location_id="100", department_id="SVC", class_id="COMM", project_from_job=True, custom={"GLDIMREGION": "EAST"}
    ),
)


@dataclass
class World:
    stack: Any
    st: servicetrade.SandboxServer
    intacct: IntacctSandboxServer

    def pending(self) -> list[dict[str, Any]]:
        return [i for i in self.st.state.invoices.values() if i["status"] == "pending_accounting"]

    def job(self, kind: JobKind, entity: SyncEntity, source_id: str = "", event: str = "") -> SyncJob:
        return SyncJob(
            tenant_id=TENANT,
            target="intacct",
            kind=kind,
            entity=entity,
            source_id=source_id,
            event_id=event or f"{kind}-{entity}-{source_id}-{datetime.now(UTC).timestamp()}",
            occurred_at=datetime.now(UTC),
        )

    def push_all(self, times: int = 1) -> list[dict[str, Any]]:
        invoices = self.pending()
        publish_jobs(
            [self.job("record", "invoice", str(i["id"]), f"inv-{i['id']}-{n}") for i in invoices for n in range(times)]
        )
        self.run_queue()
        return invoices

    def run_queue(self, rounds: int = 50) -> None:
        source = next(s for s in self.stack.template.queue_sources() if s.queue == "IntacctSyncQueue")
        poller = QueuePoller(self.stack, source)
        for _ in range(rounds):
            if poller.poll_once() == 0 and poller.backlog() == 0:
                break
        assert not poller.errors, poller.errors

    def total(self, invoice: dict[str, Any]) -> Decimal:
        return self.st.state.totals(invoice)["totalPrice"]

    def balance(self, invoice: dict[str, Any]) -> Decimal:
        return self.st.state.totals(invoice)["balance"]

    def st_payments(self, invoice: dict[str, Any]) -> list[dict[str, Any]]:
        return [p for p in self.st.state.payments.values() if p["invoiceId"] == invoice["id"]]


@pytest.fixture
def world(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setattr(consumer, "backoff_seconds", lambda receives, retry_after=None: 0)
    st = servicetrade.start(delivery_mode="manual")
    server = intacct.start()
    try:
        fixtures.create_tenant(st.url, TENANT, integrations=[SETTINGS])
        secrets.write_json(secret_name(TENANT, "intacct"), {**server.credentials(), "endpoint": server.url})
        server.company.projects.update(str(j["number"]) for j in st.state.jobs.values())
        connection.reset()
        yield World(aws, st, server)
    finally:
        server.stop()
        st.stop()


def test_an_invoice_reaches_intacct_with_its_dimensions(world: World) -> None:
    invoices = world.push_all()
    assert invoices, "the demo company has invoices waiting for accounting"
    by_number = {i["RECORDID"]: i for i in world.intacct.invoices()}
    assert set(by_number) == {i["invoiceNumber"] for i in invoices}
    first = invoices[0]
    record = by_number[first["invoiceNumber"]]
    lines = record["ARINVOICEITEMS"]["arinvoiceitem"]
    assert {(line["LOCATIONID"], line["DEPARTMENTID"], line["CLASSID"], line["GLDIMREGION"]) for line in lines} == {
        ("100", "SVC", "COMM", "EAST")
    }
    assert {line["PROJECTID"] for line in lines} == {str(world.st.state.jobs[first["jobId"]]["number"])}
    assert sum(Decimal(line["AMOUNT"]) for line in lines) == world.total(first)
    assert record["WHENDUE"] == datetime.fromtimestamp(first["dueDate"], UTC).strftime("%m/%d/%Y")
    assert record["CUSTOMERID"] in world.intacct.company.customers
    assert {world.st.state.invoices[i["id"]]["status"] for i in invoices} == {"processed"}
    mapping = mappings.find(TENANT, "intacct", "invoice", str(first["id"]))
    assert mapping is not None and mapping.target_id == record["RECORDNO"]


def test_dropped_answers_and_repeated_deliveries_make_one_invoice_each(world: World) -> None:
    world.intacct.drop_after_commit(4)  # four writes commit in Intacct and lose their answer
    invoices = world.push_all(times=3)
    counts = Counter(i["RECORDID"] for i in world.intacct.invoices())
    assert set(counts) == {i["invoiceNumber"] for i in invoices}
    assert max(counts.values()) == 1, f"duplicated: {counts}"
    assert len(world.intacct.company.customers) == len({i["customerId"] for i in invoices})
    assert {world.st.state.invoices[i["id"]]["status"] for i in invoices} == {"processed"}
    assert world.intacct.gateway.drops == 0, "the faults really happened"
    assert drain(world.stack.queue_url("IntacctSyncDLQ")) == []


def test_intacct_refusal_marks_the_platform_invoice_failed_with_its_words(world: World) -> None:
    tenant = tenant_store.load(TENANT)
    bad = SETTINGS.model_copy(update={"dimensions": SETTINGS.dimensions.model_copy(update={"location_id": "999"})})
    tenant_store.save(tenant.model_copy(update={"integrations": [bad]}))
    invoice = world.pending()[0]
    publish_jobs([world.job("record", "invoice", str(invoice["id"]))])
    world.run_queue()
    assert world.intacct.invoices() == []
    assert world.st.state.invoices[invoice["id"]]["status"] == "failed"
    comments = " ".join(c["content"] for c in world.st.state.comments.values())
    assert "Invalid location '999' specified." in comments and "Create the location in Intacct" in comments
    failed = [e for e in synclog.recent(TENANT) if e.outcome == "failed"]
    assert len(failed) == 1 and "BL03000018" in failed[0].message
    assert drain(world.stack.queue_url("IntacctSyncDLQ")) == []


def keys_by_number(world: World) -> dict[str, str]:
    return {i["RECORDID"]: i["RECORDNO"] for i in world.intacct.invoices()}


def test_payments_come_back_paid_partial_and_reversed(world: World) -> None:
    full, partial = world.push_all()[:2]
    keys = keys_by_number(world)
    gateway = world.intacct.gateway
    total = world.total(full)
    paid = gateway.apply_payment({keys[full["invoiceNumber"]]: total}, date(2026, 11, 30), "Printed Check")
    gateway.apply_payment({keys[partial["invoiceNumber"]]: Decimal("10.00")}, date(2026, 11, 30), "EFT")
    publish_jobs([world.job("catchup", "payment")])
    world.run_queue()
    assert [p["amount"] for p in world.st_payments(full)] == [total]
    assert [(p["amount"], p["method"]) for p in world.st_payments(partial)] == [(Decimal("10.00"), "ach")]
    assert world.balance(full) == 0 and world.st.state.invoices[full["id"]]["status"] == "paid"
    assert world.balance(partial) == world.total(partial) - Decimal("10.00")

    publish_jobs([world.job("catchup", "payment")])  # nothing new: nothing recorded twice
    world.run_queue()
    assert len(world.st_payments(full)) == 1 and len(world.st_payments(partial)) == 1

    world.intacct.advance(2)
    gateway.reverse_payment(paid)
    publish_jobs([world.job("catchup", "payment")])
    world.run_queue()
    assert world.st_payments(full) == [] and world.balance(full) == total
    assert world.st.state.invoices[full["id"]]["status"] != "paid"
    assert len(world.st_payments(partial)) == 1


def test_the_cursor_moves_only_past_payments_the_platform_took(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = world.push_all()[:2]
    keys = keys_by_number(world)
    gateway = world.intacct.gateway
    gateway.apply_payment({keys[first["invoiceNumber"]]: Decimal("5.00")}, date(2026, 11, 30))
    world.intacct.advance(5)
    gateway.apply_payment({keys[second["invoiceNumber"]]: Decimal("6.00")}, date(2026, 11, 30))
    real = ServiceTradeSource.record_payment

    def refuse_six(self: ServiceTradeSource, invoice_id: str, amount: Decimal, *args: Any) -> str:
        if amount == Decimal("6.00"):
            raise TransientError("platform unavailable")
        return real(self, invoice_id, amount, *args)

    monkeypatch.setattr(ServiceTradeSource, "record_payment", refuse_six)
    with pytest.raises(TransientError):
        runner.run(world.job("catchup", "payment"))
    cursor = cursors.read(TENANT, "intacct-payments")
    first_payment = min(world.intacct.company.payments.values(), key=lambda p: int(p["RECORDNO"]))
    assert (
        cursor == datetime.strptime(first_payment["WHENMODIFIED"], "%m/%d/%Y %H:%M:%S").replace(tzinfo=UTC).isoformat()
    ), "the cursor stops before the payment the platform did not take"
    monkeypatch.setattr(ServiceTradeSource, "record_payment", real)
    runner.run(world.job("catchup", "payment"))
    assert [p["amount"] for p in world.st_payments(first)] == [Decimal("5.00")]
    assert [p["amount"] for p in world.st_payments(second)] == [Decimal("6.00")]
    assert cursors.read(TENANT, "intacct-payments") > cursor


def test_the_credentials_check_says_what_is_wrong(world: World) -> None:
    tenant = tenant_store.load(TENANT)
    assert connection.check(tenant).ok
    name = secret_name(TENANT, "intacct")
    good = secrets.read_json(name)
    for change, problem in (({"sender_password": "x"}, "sender"), ({"user_password": "x"}, "login")):
        secrets.write_json(name, {**good, **change})
        connection.reset()
        from aws_lambda_powertools.utilities import parameters

        parameters.clear_caches()
        result = connection.check(tenant)
        assert (result.ok, result.problem) == (False, problem), result
    secrets.write_json(name, {**good, "user_id": ""})
    parameters.clear_caches()
    result = connection.check(tenant)
    assert result.problem == "credentials" and "user_id" in result.message


def test_new_intacct_customers_become_platform_companies_once(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    tenant = tenant_store.load(TENANT)
    tenant_store.save(
        tenant.model_copy(update={"integrations": [SETTINGS.model_copy(update={"customers_to_platform": True})]})
    )
    world.push_all()  # LedgerBridge's own customers are mapped: they never come back as new companies
    companies_before = len(world.st.state.companies)
    now = datetime.now(UTC).strftime("%m/%d/%Y %H:%M:%S")
    world.intacct.company.customers["C-9001"] = {
        "RECORDNO": "9001",
        "CUSTOMERID": "C-9001",
        "NAME": "Harbor Hospital",
        "WHENMODIFIED": now,
        "DISPLAYCONTACT": {"EMAIL1": "ap@harbor.test", "MAILADDRESS": {"CITY": "Wilmington", "STATE": "NC"}},
    }
    real_put = mappings.put

    def crash_once(*args: Any) -> None:  # the run dies between the platform's write and the mapping's
        monkeypatch.setattr(mappings, "put", real_put)
        raise RuntimeError("crash")

    monkeypatch.setattr(mappings, "put", crash_once)
    with pytest.raises(RuntimeError):
        runner.run(world.job("catchup", "payment"))
    for _ in range(2):  # found by its reference number, then mapped: nothing twice
        runner.run(world.job("catchup", "payment"))
    new = [c for c in world.st.state.companies.values() if c.get("refNumber") == "C-9001"]
    assert len(world.st.state.companies) == companies_before + 1 and len(new) == 1
    assert new[0]["name"] == "Harbor Hospital" and new[0]["address"]["city"] == "Wilmington"
    assert mappings.find_by_target(TENANT, "intacct", "customer", "C-9001") == str(new[0]["id"])


def test_the_scheduled_batch_push_sends_many_invoices_per_request_exactly_once(world: World) -> None:
    invoices = world.pending()
    world.intacct.drop_after_commit(1)  # the first batch commits in Intacct and loses its answer
    for n in range(3):  # the run, a retry after the lost answer, and a redelivery: nothing twice
        with contextlib.suppress(TransientError):
            runner.run(world.job("batch", "invoice", event=f"batch-{n}"))
    counts = Counter(i["RECORDID"] for i in world.intacct.invoices())
    assert set(counts) == {i["invoiceNumber"] for i in invoices} and max(counts.values()) == 1, counts
    assert {world.st.state.invoices[i["id"]]["status"] for i in invoices} == {"processed"}
    assert world.intacct.gateway.drops == 0
    customers = len({i["customerId"] for i in invoices})
    # a session, a lookup and a create per customer, then the invoices in batches (and lookups after the drop):
    # far fewer requests than one per invoice would take
    assert world.intacct.gateway.requests < 1 + 2 * customers + len(invoices)
