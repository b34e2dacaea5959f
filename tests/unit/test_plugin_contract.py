"""The target plug-in contract: the registry, the per-target settings union, explicit job kinds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from ledgerbridge.jobs import SyncJob
from ledgerbridge.targets import registry
from ledgerbridge.targets.qbd.settings import QbdSettings
from ledgerbridge.targets.qbo.settings import QboSettings
from ledgerbridge.tenants import Tenant

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def test_a_tenants_integrations_validate_as_each_targets_own_settings() -> None:
    tenant = Tenant.model_validate(
        {
            "tenant_id": "acme-fire",
            "name": "Acme",
            "integrations": [{"target": "qbo", "realm_id": "9341"}, {"target": "qbd", "entities": ["invoice"]}],
        }
    )
    qbo, qbd = tenant.integrations
    assert isinstance(qbo, QboSettings) and qbo.realm_id == "9341"
    assert isinstance(qbd, QbdSettings)
    assert Tenant.model_validate_json(tenant.model_dump_json()) == tenant


def test_a_field_of_another_target_is_refused_on_a_targets_settings() -> None:
    with pytest.raises(ValidationError, match="realm_id"):
        Tenant.model_validate(
            {"tenant_id": "acme-fire", "name": "Acme", "integrations": [{"target": "qbd", "realm_id": "1"}]}
        )


def test_an_unregistered_target_is_refused_in_settings_and_in_jobs() -> None:
    with pytest.raises(ValidationError, match="netsuite"):
        Tenant.model_validate({"tenant_id": "acme-fire", "name": "Acme", "integrations": [{"target": "netsuite"}]})
    with pytest.raises(ValidationError, match="unknown target 'netsuite'"):
        SyncJob(tenant_id="t", target="netsuite", entity="invoice", source_id="1", event_id="e", occurred_at=NOW)


def test_record_and_pull_jobs_name_their_record_while_batch_and_catchup_jobs_need_none() -> None:
    for kind in ("record", "pull"):
        with pytest.raises(ValidationError, match=f"a {kind} job needs the source_id"):
            SyncJob(tenant_id="t", target="qbo", kind=kind, entity="invoice", event_id="e", occurred_at=NOW)
    batch = SyncJob(tenant_id="t", target="qbo", kind="batch", entity="invoice", event_id="e", occurred_at=NOW)
    assert (batch.direction, batch.group_id) == ("push", "t#invoice#batch")
    pull = SyncJob(
        tenant_id="t", target="qbo", kind="pull", entity="payment", source_id="153", event_id="e", occurred_at=NOW
    )
    assert (pull.direction, pull.group_id) == ("pull", "t#payment#153")


def test_the_registry_names_every_target_and_loads_only_built_ones() -> None:
    assert registry.names() == ["qbo", "qbd", "intacct"]
    assert registry.plugin("qbo").label == "QuickBooks Online"
    assert registry.plugin("qbd").label == "QuickBooks Desktop"
    assert registry.plugin("intacct").label == "Sage Intacct"
    assert [p.name for p in registry.plugins()] == ["qbo", "qbd", "intacct"]


def test_target_names_are_reserved_as_tenant_ids() -> None:
    with pytest.raises(ValidationError, match="reserved"):
        Tenant(tenant_id="qbd", name="x")


def test_quickbooks_online_declares_every_capability_it_has() -> None:
    from ledgerbridge.targets.base import BatchWriter, CatchUp, Puller
    from ledgerbridge.targets.qbo.target import QboTarget

    plugin = registry.plugin("qbo")
    assert plugin.webhook is not None and plugin.connection is not None and plugin.scheduled_jobs is not None
    target = QboTarget(client=None)  # type: ignore[arg-type]  # capabilities are checked, nothing is called
    assert isinstance(target, BatchWriter) and isinstance(target, Puller) and isinstance(target, CatchUp)
