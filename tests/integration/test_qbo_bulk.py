"""Bulk push (ledgerbridge.sync.batch) against the QBO sandbox: per-record failures inside a batch, exactly-once after
lost batch answers, and the realm budget keeping a big push free of 429s under the sandbox's own limits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from ledgerbridge.errors import TransientError
from ledgerbridge.state import intents, mappings, synclog
from ledgerbridge.sync.batch import BatchPusher, next_part
from ledgerbridge.sync.engine import Engine
from ledgerbridge.targets.qbo.budget import Limits, RealmBudget
from ledgerbridge.targets.qbo.client import QboClient
from ledgerbridge.targets.qbo.documents import QboDocuments
from ledgerbridge.targets.qbo.settings import QboSettings
from ledgerbridge.targets.qbo.target import QboTarget
from ledgerbridge.targets.qbo.tokens import AppCredentials, InMemoryTokenStore, OAuthClient, QboTokens, Tokens
from sandbox.qbo import ManualClock, QboSandboxServer, start
from sandbox.qbo.flows import Bookkeeper, SyntheticPlatform
from tests.helpers import make_tenant

TENANT = "bulk-co"
SMALL = Limits(per_minute=60, per_second=3, concurrent=10, batch_per_minute=4)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> Iterator[QboSandboxServer]:
    limits = {k: getattr(SMALL, k) for k in ("per_minute", "per_second", "concurrent", "batch_per_minute")}
    with start(clock=clock, **limits) as srv:
        yield srv


def engine(server: QboSandboxServer, clock: ManualClock, platform: SyntheticPlatform, budgeted: bool = True) -> Engine:
    tenant = make_tenant(TENANT, integrations=[QboSettings(realm_id=server.realm_id)])
    grant = server.issue_tokens()
    store = InMemoryTokenStore(
        Tokens(grant["access_token"], grant["refresh_token"], clock.now() + 3600, server.realm_id, version=1)
    )
    oauth = OAuthClient(AppCredentials("sandbox-client-id", "sandbox-client-secret"), server.discovery_url)
    budget = RealmBudget(server.realm_id, SMALL, clock=clock.now, sleep=clock.advance, max_wait_s=3600)
    client = QboClient(
        server.realm_id,
        server.url,
        QboTokens(store, oauth, clock=clock.now, peer_wait_s=0.0),
        sleep=lambda _s: None,
        budget=budget if budgeted else None,
    )
    return Engine(tenant, platform, QboTarget(client, tenant.mapping), QboDocuments(), "QuickBooks Online")


def throttled(server: QboSandboxServer) -> int:
    return sum(1 for c in server.state.calls if c.get("status") == 429)


def doc_numbers(server: QboSandboxServer) -> Counter[str]:
    return Counter(str(i.get("DocNumber")) for i in server.objects("Invoice"))


def test_a_big_push_under_the_budget_never_sees_a_429(aws: Any, server: QboSandboxServer, clock: ManualClock) -> None:
    platform = SyntheticPlatform(300, customers=5)
    started = clock.now()
    result = BatchPusher(engine(server, clock, platform), clock=clock.now).push(platform.invoices("pending_accounting"))
    assert result.created == 300 and result.failed == 0 and result.deferred == 0 and result.exhausted
    assert throttled(server) == 0
    assert set(platform.statuses.values()) == {"processed"}
    assert max(doc_numbers(server).values()) == 1
    # the limits were the bottleneck, and were used: ~2 batches + ~56 singles a simulated minute
    minutes = (clock.now() - started) / 60
    assert result.batches >= 2 and result.singles >= 50
    assert 80 <= 300 / minutes <= 120, minutes


def test_the_same_push_without_the_budget_is_throttled(aws: Any, server: QboSandboxServer, clock: ManualClock) -> None:
    """The control for the test above: the sandbox does enforce the limits (so that test can fail)."""
    platform = SyntheticPlatform(60, customers=1)
    pusher = BatchPusher(engine(server, clock, platform, budgeted=False), clock=clock.now)
    with pytest.raises(TransientError, match="throttled"):  # the run gives up; SQS would retry it later
        pusher.push(platform.invoices("pending_accounting"))
    assert throttled(server) > 0


def test_one_bad_item_fails_only_its_own_record(aws: Any, server: QboSandboxServer, clock: ManualClock) -> None:
    platform = SyntheticPlatform(12, customers=2)
    Bookkeeper(server).create_invoice("B-000007")  # someone already used this invoice number in QuickBooks
    clock.advance(61)  # the bookkeeper's own requests count against the realm's limits too
    result = BatchPusher(engine(server, clock, platform), clock=clock.now).push(platform.invoices("pending_accounting"))
    assert result.batches == 1 and result.singles == 0  # all twelve went in one batch
    assert (result.created, result.failed) == (11, 1)
    bad = "700007"
    assert platform.statuses[bad] == "failed"
    assert "Duplicate Document Number" in platform.comments[bad] and "What to fix" in platform.comments[bad]
    assert [s for k, s in platform.statuses.items() if k != bad] == ["processed"] * 11
    [entry] = [e for e in synclog.recent(TENANT) if e.outcome == "failed"]
    assert entry.source_id == bad and "(code 6140)" in entry.message
    assert mappings.find(TENANT, "qbo", "invoice", bad) is None
    assert intents.begin(TENANT, "qbo", "invoice", bad, "B-000007").resumed is False  # no intent left behind


@pytest.mark.parametrize("crash", [False, True])
def test_lost_batch_answers_create_nothing_twice(
    aws: Any, server: QboSandboxServer, clock: ManualClock, crash: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch commits but both its answer and the client's quick retry are lost. The run looks the
    invoices up by DocNumber before sending anything again and adopts them. With `crash`, the run dies right
    there (as a Lambda would): the next run finds the intents and adopts what QuickBooks has."""
    platform = SyntheticPlatform(30, customers=1)
    server.drop_after_commit(count=2, path="/batch")
    pusher = BatchPusher(engine(server, clock, platform), clock=clock.now)
    if crash:

        def die(*_: Any) -> None:
            raise TransientError("the Lambda timed out")

        with monkeypatch.context() as patch:
            patch.setattr(BatchPusher, "_resolve", die)
            with pytest.raises(TransientError):
                pusher.push(platform.invoices("pending_accounting"))
        assert set(platform.statuses.values()) == {"pending_accounting"}
        assert all(intents.begin(TENANT, "qbo", "invoice", k, "").resumed for k in platform.statuses)
        pusher = BatchPusher(engine(server, clock, platform), clock=clock.now)
    result = pusher.push(platform.invoices("pending_accounting"))
    assert result.created == 30 and result.exhausted
    assert sum(doc_numbers(server).values()) == 30 and max(doc_numbers(server).values()) == 1
    assert set(platform.statuses.values()) == {"processed"}
    recovered = [e for e in synclog.recent(TENANT, 100) if "recovered an earlier attempt" in e.message]
    assert len(recovered) == 30
    assert sum(1 for c in server.state.calls if c["path"].endswith("/batch")) == 2  # the first and its retry


def test_unchanged_invoices_are_skipped_and_changed_ones_updated_in_a_batch(
    aws: Any, server: QboSandboxServer, clock: ManualClock
) -> None:
    platform = SyntheticPlatform(10, customers=1)
    BatchPusher(engine(server, clock, platform), clock=clock.now).push(platform.invoices("pending_accounting"))
    for source_id in platform.statuses:
        platform.statuses[source_id] = "pending_accounting"
    first = next(iter(platform.statuses))
    platform._invoices[first] = platform._invoices[first].model_copy(update={"memo": "gate code 1234"})
    result = BatchPusher(engine(server, clock, platform), clock=clock.now).push(platform.invoices("pending_accounting"))
    assert (result.created, result.updated, result.skipped) == (0, 1, 9)
    qbo_id = mappings.find(TENANT, "qbo", "invoice", first)
    assert qbo_id is not None
    [invoice] = [i for i in server.objects("Invoice") if i["Id"] == qbo_id.target_id]
    assert "gate code 1234" in invoice["CustomerMemo"]["value"]


def test_a_run_stops_at_its_deadline_and_leaves_no_stray_intents(
    aws: Any, server: QboSandboxServer, clock: ManualClock
) -> None:
    platform = SyntheticPlatform(200, customers=2)
    pusher = BatchPusher(engine(server, clock, platform), clock=clock.now, deadline=clock.now() + 60)
    result = pusher.push(platform.invoices("pending_accounting"))
    assert 0 < result.created < 200 and not result.exhausted
    pending = [k for k, s in platform.statuses.items() if s == "pending_accounting"]
    assert len(pending) == 200 - result.created
    assert all(not intents.begin(TENANT, "qbo", "invoice", k, "").resumed for k in pending)


def test_continuation_event_ids() -> None:
    assert next_part("bulk:t:20260101T0005") == "bulk:t:20260101T0005:p2"
    assert next_part("bulk:t:20260101T0005:p2") == "bulk:t:20260101T0005:p3"


def test_several_workers_push_each_invoice_exactly_once(aws: Any, server: QboSandboxServer, clock: ManualClock) -> None:
    """Round trips in parallel, each doing its own bookkeeping, sharing the realm's one budget. (A manual clock
    that several sleeping threads push forward is not time as QBO sees it, so 429s are not counted here: the
    single-worker test above and the budget's own tests hold that line; what must hold here is exactly-once.)"""
    server.state.limiter.limits.per_second = server.state.limiter.limits.per_minute = 100_000
    platform = SyntheticPlatform(150, customers=3)
    pusher = BatchPusher(engine(server, clock, platform), clock=clock.now, workers=4)
    result = pusher.push(platform.invoices("pending_accounting"))
    assert result.created == 150 and result.exhausted and result.batches >= 2
    assert sum(doc_numbers(server).values()) == 150 and max(doc_numbers(server).values()) == 1
    assert set(platform.statuses.values()) == {"processed"}
    found = [mappings.find(TENANT, "qbo", "invoice", k) for k in platform.statuses]
    assert len({m.target_id for m in found if m is not None}) == 150
