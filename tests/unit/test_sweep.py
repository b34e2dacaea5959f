"""The sweep's pure parts: its window, when a tenant is due, and the jobs (and event ids) it makes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledgerbridge import sweep, webhook
from ledgerbridge.records import RecordVersion
from ledgerbridge.sync import intake
from ledgerbridge.targets.qbo.settings import QboSettings
from ledgerbridge.tenants import SweepSettings, Tenant

NOW = datetime(2026, 1, 5, 12, 15, tzinfo=UTC)


def tenant(**overrides: object) -> Tenant:
    data: dict[str, object] = {
        "tenant_id": "acme-fire",
        "name": "Acme",
        "integrations": [QboSettings(entities=["invoice", "customer"])],
    }
    data.update(overrides)
    return Tenant.model_validate(data)


def test_the_first_window_looks_back_a_day_and_stops_short_of_changes_still_settling() -> None:
    win = sweep.window(None, NOW)
    assert win.until == NOW - sweep.SETTLE
    assert win.since == win.until - sweep.FIRST_LOOKBACK


def test_a_later_window_starts_at_the_cursor_minus_the_overlap() -> None:
    win = sweep.window("2026-01-05T11:58:00+00:00", NOW)
    assert win.since == datetime(2026, 1, 5, 11, 53, tzinfo=UTC)
    assert win.until == datetime(2026, 1, 5, 12, 13, tzinfo=UTC)


def test_a_cursor_ahead_of_now_gives_an_empty_window_not_a_reversed_one() -> None:
    win = sweep.window((NOW + timedelta(hours=1)).isoformat(), NOW)
    assert win.since == win.until


@pytest.mark.parametrize(
    ("interval", "last_until", "is_due"),
    [
        (15, None, True),  # never swept
        (15, NOW - sweep.SETTLE - timedelta(minutes=15), True),
        (15, NOW - sweep.SETTLE - timedelta(minutes=13), True),  # a tick that fired a little late
        (15, NOW - sweep.SETTLE - timedelta(minutes=10), False),
        (60, NOW - sweep.SETTLE - timedelta(minutes=30), False),
        (60, NOW - sweep.SETTLE - timedelta(minutes=60), True),
    ],
)
def test_a_tenant_is_due_once_its_own_interval_has_passed(
    interval: int, last_until: datetime | None, is_due: bool
) -> None:
    t = tenant(sweep=SweepSettings(interval_minutes=interval))
    cursor = None if last_until is None else last_until.isoformat()
    assert sweep.due(t, cursor, NOW) is is_due


def test_tenants_without_webhook_integrations_for_invoices_or_with_the_sweep_off_are_never_due() -> None:
    scheduled_only = [QboSettings(triggers=["schedule"], entities=["invoice"])]
    customers_only = [QboSettings(entities=["customer"])]
    disabled = [QboSettings(enabled=False, entities=["invoice"])]
    for integrations in (scheduled_only, customers_only, disabled, []):
        assert not sweep.due(tenant(integrations=integrations), None, NOW)
    assert not sweep.due(tenant(sweep=SweepSettings(enabled=False)), None, NOW)


def test_the_interval_is_a_multiple_of_the_five_minute_tick() -> None:
    with pytest.raises(ValueError, match="multiple of 5"):
        SweepSettings(interval_minutes=7)


def test_a_swept_version_gets_the_event_id_its_webhook_would_have_had() -> None:
    updated = datetime(2026, 1, 5, 11, 59, 30, tzinfo=UTC)
    delivery = webhook.Delivery.model_validate(
        {
            "messageId": "m-1",
            "timestamp": str(int(NOW.timestamp())),
            "data": [
                {"action": "updated", "timestamp": int(updated.timestamp()), "entity": {"type": "invoice", "id": 42}}
            ],
        }
    )
    (from_webhook,), _ = webhook.plan_jobs(tenant(), delivery, NOW, replay_window_s=86400)
    (from_sweep,) = sweep.jobs_for("acme-fire", ["qbo"], RecordVersion(source_id="42", updated_at=updated))
    assert from_sweep.event_id == from_webhook.event_id
    assert intake.claim_key(from_sweep) == intake.claim_key(from_webhook)
    assert (from_sweep.trigger, from_sweep.occurred_at) == ("sweep", updated)


def test_a_later_version_of_the_same_invoice_is_a_new_event() -> None:
    first = RecordVersion(source_id="42", updated_at=NOW)
    later = RecordVersion(source_id="42", updated_at=NOW + timedelta(seconds=1))
    (a,) = sweep.jobs_for("acme-fire", ["qbo"], first)
    (b,) = sweep.jobs_for("acme-fire", ["qbo"], later)
    assert a.event_id != b.event_id


def test_one_job_per_target_the_tenant_routes_invoices_to() -> None:
    jobs = sweep.jobs_for("acme-fire", ["qbo", "intacct"], RecordVersion(source_id="7", updated_at=NOW))
    assert [j.target for j in jobs] == ["qbo", "intacct"]
    assert len({intake.claim_key(j) for j in jobs}) == 2
