"""QuickBooks Online push speed under the sandbox's real limits (prints figures; asserts nothing).

    .venv/bin/python -m bench.qbo [invoices]        or  run() -> [{name, value, unit}] for `make bench`

One realm with QBO's published limits (500 requests/min, 10/s, 10 concurrent, 40 batch requests/min), a
synthetic platform with N invoices over 50 customers, DynamoDB in moto. Time is simulated: the sandbox and
the realm budget share one ManualClock and the budget's waits advance it, so a run measures what the limits
allow (not this machine's speed) and takes seconds, not minutes. The ceiling is what a minute can carry at
most: 40 batches x 30 invoices + 460 single writes = 1,660 invoices. Compared with a naive client that writes
one invoice per call through the same budget (the engine's path, at most 500 a minute).
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import Any

CUSTOMERS = 50
LIMITS = {"per_minute": 500, "per_second": 10, "concurrent": 10, "batch_per_minute": 40}
CEILING = LIMITS["batch_per_minute"] * 30 + (LIMITS["per_minute"] - LIMITS["batch_per_minute"])
TABLE = "bench-qbo-state"
NAIVE_REALM = "9341455000000002"


def _engine(server: Any, clock: Any, platform: Any, tenant_id: str) -> Any:
    from ledgerbridge.sync.engine import Engine
    from ledgerbridge.targets.qbo.budget import Limits, RealmBudget
    from ledgerbridge.targets.qbo.client import QboClient
    from ledgerbridge.targets.qbo.documents import QboDocuments
    from ledgerbridge.targets.qbo.settings import QboSettings
    from ledgerbridge.targets.qbo.target import QboTarget
    from ledgerbridge.targets.qbo.tokens import AppCredentials, InMemoryTokenStore, OAuthClient, QboTokens, Tokens
    from ledgerbridge.tenants import Tenant

    tenant = Tenant(tenant_id=tenant_id, name="Bench", integrations=[QboSettings(realm_id=server.realm_id)])
    grant = server.issue_tokens()
    store = InMemoryTokenStore(
        Tokens(grant["access_token"], grant["refresh_token"], clock.now() + 3600, server.realm_id, version=1)
    )
    oauth = OAuthClient(AppCredentials("sandbox-client-id", "sandbox-client-secret"), server.discovery_url)
    budget = RealmBudget(server.realm_id, Limits(**LIMITS), clock=clock.now, sleep=clock.advance, max_wait_s=1e9)
    tokens = QboTokens(store, oauth, clock=clock.now, peer_wait_s=0.0)
    client = QboClient(server.realm_id, server.url, tokens, sleep=lambda _s: None, budget=budget)
    return Engine(tenant, platform, QboTarget(client, tenant.mapping), QboDocuments(), "QuickBooks Online")


def _bulk(invoices: int) -> dict[str, float]:
    from ledgerbridge.sync.batch import BatchPusher
    from sandbox.qbo import ManualClock, start
    from sandbox.qbo.flows import SyntheticPlatform

    clock = ManualClock()
    with start(clock=clock, **LIMITS) as server:
        platform = SyntheticPlatform(invoices, customers=CUSTOMERS)
        engine = _engine(server, clock, platform, "bench-bulk")
        started, wall = clock.now(), time.perf_counter()
        result = BatchPusher(engine, clock=clock.now).push(platform.invoices("pending_accounting"))
        minutes = (clock.now() - started) / 60
        after_first = [n for t, n in result.progress if t >= started + 60]
        steady = (result.written - after_first[0]) / (minutes - 1) if after_first and minutes > 1.5 else 0.0
        calls = len(server.state.calls)
        return {
            "written": result.written,
            "minutes": minutes,
            "per_minute": result.written / minutes,
            "steady_per_minute": steady,
            "calls_per_invoice": calls / max(1, result.written),
            "batches": result.batches,
            "singles": result.singles,
            "throttled": sum(1 for c in server.state.calls if c.get("status") == 429),
            "wall_s": time.perf_counter() - wall,
        }


def _naive(invoices: int) -> dict[str, float]:
    from ledgerbridge.jobs import SyncJob
    from sandbox.qbo import ManualClock, start
    from sandbox.qbo.flows import SyntheticPlatform

    clock = ManualClock()
    with start(clock=clock, realms=(NAIVE_REALM,), **LIMITS) as server:  # its own realm: its own budget item
        platform = SyntheticPlatform(invoices, customers=CUSTOMERS)
        engine = _engine(server, clock, platform, "bench-naive")
        started, wall = clock.now(), time.perf_counter()
        for invoice in platform.invoices("pending_accounting"):
            job = SyncJob(
                tenant_id="bench-naive",
                target="qbo",
                entity="invoice",
                source_id=invoice.source_id,
                event_id=f"naive-{invoice.source_id}",
                occurred_at=datetime.now(UTC),
            )
            engine.run(job)
        minutes = (clock.now() - started) / 60
        written = sum(1 for s in platform.statuses.values() if s == "processed")
        return {
            "written": written,
            "per_minute": written / minutes,
            "calls_per_invoice": len(server.state.calls) / max(1, written),
            "throttled": sum(1 for c in server.state.calls if c.get("status") == 429),
            "wall_s": time.perf_counter() - wall,
        }


def run(invoices: int = 3000, naive_invoices: int = 1200) -> list[dict[str, Any]]:
    from bench.state import moto_state_table

    with moto_state_table(TABLE):
        bulk = _bulk(invoices)
        naive = _naive(naive_invoices)
    return [
        {"name": "qbo bulk push: invoices per minute, one realm (after the first minute)",
         "value": round(bulk["steady_per_minute"]), "unit": "invoices/min"},
        {"name": "qbo bulk push: invoices per minute, whole run incl. creating 50 customers",
         "value": round(bulk["per_minute"]), "unit": "invoices/min"},
        {"name": "qbo ceiling under the published limits (40 x 30 batched + 460 single)",
         "value": CEILING, "unit": "invoices/min"},
        {"name": "qbo bulk push: share of the ceiling",
         "value": round(100 * bulk["steady_per_minute"] / CEILING, 1), "unit": "%"},
        {"name": "qbo bulk push: API calls per invoice", "value": round(bulk["calls_per_invoice"], 3),
         "unit": "calls"},
        {"name": "qbo bulk push: 429 responses", "value": bulk["throttled"], "unit": "responses"},
        {"name": "qbo bulk push: batch requests", "value": bulk["batches"], "unit": "requests"},
        {"name": "qbo bulk push: single writes", "value": bulk["singles"], "unit": "requests"},
        {"name": f"qbo bulk push: simulated time for {int(bulk['written']):,} invoices",
         "value": round(bulk["minutes"], 2), "unit": "min"},
        {"name": "qbo bulk push: wall time of the simulation", "value": round(bulk["wall_s"], 1), "unit": "s"},
        {"name": "qbo naive client (one call per invoice): invoices per minute", "value": round(naive["per_minute"]),
         "unit": "invoices/min"},
        {"name": "qbo naive client: ceiling (500 requests/min)", "value": LIMITS["per_minute"], "unit": "invoices/min"},
        {"name": "qbo naive client: API calls per invoice", "value": round(naive["calls_per_invoice"], 3),
         "unit": "calls"},
        {"name": "qbo naive client: 429 responses", "value": naive["throttled"], "unit": "responses"},
    ]  # fmt: skip


def main() -> None:
    invoices = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    for row in run(invoices):
        print(f"{row['name']:<78} {row['value']!s:>12} {row['unit']}")


if __name__ == "__main__":
    main()
