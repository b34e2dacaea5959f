"""Both sandboxes on 127.0.0.1, moto from template.yaml, and a tenant wired to them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from ledgerbridge.admin import CreatedTenant
from ledgerbridge.state import synclog
from sandbox import fixtures
from sandbox.qbo import QboSandboxServer
from sandbox.qbo import start as start_qbo
from sandbox.servicetrade import SandboxServer, generate
from sandbox.servicetrade import start as start_st
from sandbox.stack.pollers import QueuePoller
from sandbox.stack.provision import Provisioned


@dataclass
class World:
    stack: Provisioned
    st: SandboxServer
    qbo: QboSandboxServer
    tenant: CreatedTenant
    realm_id: str

    def pollers(self) -> list[QueuePoller]:
        return [QueuePoller(self.stack, s) for s in self.stack.template.queue_sources()]

    def drain(self, timeout_s: float = 600.0) -> int:
        """Run the consumers until every queue (not the DLQs) is empty."""
        pollers = self.pollers()
        handled = 0
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            busy = sum(p.poll_once() for p in pollers)
            handled += busy
            if not busy:
                if all(p.backlog() == 0 for p in pollers):
                    return handled
                time.sleep(0.05)
        recent = [f"{e.outcome}: {e.message}" for e in synclog.recent(self.tenant.tenant.tenant_id, limit=5)]
        raise AssertionError(f"queues never drained; last sync log entries: {recent}")


def world_with(aws: Any, monkeypatch: pytest.MonkeyPatch, invoices: int, **qbo_options: Any) -> Iterator[World]:
    st = start_st(generate(labor_rows=0, invoices=invoices, jobs=max(40, invoices // 10)), delivery_mode="manual")
    qbo = start_qbo(per_second=10_000, per_minute=1_000_000, concurrent=1_000, **qbo_options)
    monkeypatch.setenv("QBO_API_BASE_URL", qbo.url)
    monkeypatch.setenv("QBO_DISCOVERY_URL", qbo.discovery_url)
    from tests.conftest import reset_caches

    reset_caches()
    fixtures.store_qbo_app_secret(qbo)
    created = fixtures.create_tenant(st.url)
    realm = fixtures.connect_qbo(created.tenant.tenant_id, qbo)
    try:
        yield World(aws, st, qbo, created, realm)
    finally:
        st.stop()
        qbo.stop()


@pytest.fixture
def world(aws: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    yield from world_with(aws, monkeypatch, invoices=20)
