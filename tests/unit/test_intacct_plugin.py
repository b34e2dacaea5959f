"""The Intacct plug-in: what the hourly dispatch asks of it."""

from __future__ import annotations

from datetime import UTC, datetime

from ledgerbridge.targets import registry
from ledgerbridge.targets.intacct.settings import IntacctSettings
from ledgerbridge.tenants import Tenant

NOW = datetime(2026, 11, 30, 19, 5, tzinfo=UTC)


def tenant(**settings: object) -> Tenant:
    return Tenant(tenant_id="summit-fire", name="Summit", integrations=[IntacctSettings(**settings)])  # type: ignore[arg-type]


def test_the_hourly_jobs_are_the_payments_catch_up_and_a_scheduled_push() -> None:
    plugin = registry.plugin("intacct")
    assert plugin.scheduled_jobs is not None
    jobs = plugin.scheduled_jobs(tenant(entities=["invoice", "payment"], triggers=["schedule"]), NOW)
    assert [(j.kind, j.entity, j.event_id) for j in jobs] == [
        ("catchup", "payment", "intacct-catchup-payment-20261130T19"),
        ("batch", "invoice", "intacct-batch-invoice-20261130T19"),
    ]
    assert plugin.scheduled_jobs(tenant(entities=["invoice"], triggers=["webhook"]), NOW) == []
