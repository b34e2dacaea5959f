"""The per-realm request budget (targets/qbo/budget.py) in moto's DynamoDB, on a manual clock: every published
limit holds at once, across several consumers sharing the item, and the long-run rate is close to the limit."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ledgerbridge import aws
from ledgerbridge.config import get_config
from ledgerbridge.errors import TransientError
from ledgerbridge.targets.qbo.budget import Kind, Limits, RealmBudget
from sandbox.qbo import ManualClock

TABLE = "budget-state"


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("STATE_TABLE", TABLE)
    with mock_aws():
        get_config.cache_clear()
        aws.reset()
        boto3.client("dynamodb", region_name="us-east-1").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield
    get_config.cache_clear()
    aws.reset()


def budget(clock: ManualClock, limits: Limits | None = None, **kw: Any) -> RealmBudget:
    return RealmBudget("9341455000000001", limits, clock=clock.now, sleep=clock.advance, **{"max_wait_s": 600, **kw})


def most_in_window(times: list[float], window: float) -> int:
    """The most admissions in any window (t - window, t], as QBO's sliding windows count them."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.slow  # 150 simulated minutes against moto: about a CPU-minute; CI runs it (make test-slow)
def test_three_consumers_never_exceed_any_limit_and_get_close_to_them(table: None) -> None:
    clock = ManualClock()
    limits = Limits()
    consumers = [budget(clock, limits) for _ in range(3)]
    rng = random.Random(7)
    admitted: list[tuple[float, Kind]] = []
    started = clock.now()
    while clock.now() - started < 150:  # simulated minutes of everybody asking as fast as they can
        who = rng.choice(consumers)
        kind: Kind = "batch" if who.ready("batch") else "request"  # as bulk does: a batch whenever there is room
        lease = who.acquire(kind)
        admitted.append((clock.now(), kind))
        who.release(lease)
    every = [t for t, _ in admitted]
    batches = [t for t, k in admitted if k == "batch"]
    assert most_in_window(every, 60.0) <= limits.per_minute
    assert most_in_window(every, 1.0) <= limits.per_second
    assert most_in_window(batches, 60.0) <= limits.batch_per_minute
    minutes = (clock.now() - started) / 60
    assert len(every) / minutes >= 0.95 * 480  # 480/min is what the buckets allow in the long run (headroom: 20)
    assert len(batches) / minutes >= 0.95 * 37


def test_a_small_limit_set_holds_too(table: None) -> None:
    clock = ManualClock()
    limits = Limits(per_minute=60, per_second=3, concurrent=10, batch_per_minute=4)
    b = budget(clock, limits)
    times = []
    for i in range(200):
        lease = b.acquire("batch" if i % 5 == 0 else "request")
        times.append(clock.now())
        b.release(lease)
    assert most_in_window(times, 60.0) <= 60 and most_in_window(times, 1.0) <= 3


def test_concurrency_is_capped_by_leases(table: None) -> None:
    clock = ManualClock()
    b = budget(clock, Limits(per_minute=100_000, per_second=10_000, concurrent=3, batch_per_minute=1000))
    b.max_wait_s = 1.0
    held = [b.acquire("request") for _ in range(3)]
    with pytest.raises(TransientError) as refused:
        b.acquire("request")
    assert refused.value.retry_after is not None
    b.release(held.pop())
    b.acquire("request")  # a slot came back


def test_a_crashed_holder_gives_its_slot_back_after_the_lease(table: None) -> None:
    clock = ManualClock()
    b = budget(clock, Limits(per_minute=100_000, per_second=10_000, concurrent=1, batch_per_minute=1000))
    b.acquire("request")  # never released
    before = clock.now()
    b.acquire("request")
    assert clock.now() - before >= 130  # LEASE_S


def test_a_lost_race_spends_nothing_twice(table: None) -> None:
    clock = ManualClock()
    a, b = budget(clock), budget(clock)
    a.acquire("request")  # bucket "s" (capacity 1) is now empty
    clock.advance(1.0)  # ... and full again
    real_save = a._save
    raced: list[float] = []

    def save_after_b(state: Any) -> bool:
        if not raced:
            b.acquire("request")  # b takes the token between a's read and a's write
            raced.append(clock.now())
        return real_save(state)

    a._save = save_after_b  # type: ignore[method-assign]
    a.acquire("request")
    assert a.conflicts >= 1
    assert clock.now() - raced[0] >= 1 / 8 - 1e-6  # a waited for a fresh token instead of sharing b's


def test_a_pause_after_a_429_holds_everyone(table: None) -> None:
    clock = ManualClock()
    a, b = budget(clock), budget(clock)
    a.pause(60)
    before = clock.now()
    b.acquire("request")
    assert clock.now() - before >= 60
    quick = budget(clock, max_wait_s=5)
    quick.pause(60)
    with pytest.raises(TransientError):
        quick.acquire("request")


def test_limits_that_leave_no_room_are_refused() -> None:
    with pytest.raises(ValueError):
        Limits(per_minute=2, per_second=1, batch_per_minute=2).buckets()
    assert Limits().sustained_per_minute() == (480.0, 37.0)
