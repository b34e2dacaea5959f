"""QuickBooks Desktop through the Web Connector: invoices per session and per round trip (prints figures).

    .venv/bin/python -m bench.qbd [invoices]        or  run() -> [{name, value, unit}] for `make bench`

N pending invoices over 50 customers wait in the outbox (DynamoDB in moto); a Web Connector session
(sandbox/qbd/webconnector.py) drives the real SOAP service against the company-file double. Measured: round
trips, requests, invoices per round trip, our service's time per SOAP call (each call is one Lambda
invocation and must finish well inside API Gateway's 29 s) and the whole session on this machine.

Compared in the same run with a client that sends one request per round trip (as a Web Connector
integration without batching does: look the invoice up, then add it, the customer and item the first time
they are needed), counted against the same company double. The session time of each is then modelled with
one assumption stated here: a round trip costs ROUND_TRIP_S of Web Connector, Internet and QuickBooks
overhead plus REQUEST_S of QuickBooks' own work per request.
"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from typing import Any

TABLE = "bench-qbd-state"
CUSTOMERS = 50
ROUND_TRIP_S = 1.0  # assumption: QBWC's HTTP round trip plus opening the request in QuickBooks
REQUEST_S = 0.05  # assumption: QuickBooks' time for one query or add


def _batched(invoices: int) -> dict[str, float]:
    from ledgerbridge.jobs import SyncJob
    from ledgerbridge.state import tenants as tenant_store
    from ledgerbridge.targets.qbd import jobs, soap
    from ledgerbridge.targets.qbd.service import Service
    from ledgerbridge.targets.qbd.settings import QbdSettings
    from ledgerbridge.tenants import Tenant
    from sandbox.qbd.company import Company
    from sandbox.qbd.webconnector import WebConnector
    from sandbox.qbo.flows import SyntheticPlatform

    tenant = Tenant(tenant_id="bench-qbd", name="Bench", integrations=[QbdSettings(entities=["invoice", "payment"])])
    tenant_store.save(tenant)
    password = tenant_store.issue_credential(tenant.tenant_id, "connector")
    platform = SyntheticPlatform(invoices, customers=CUSTOMERS)
    now = datetime.now(UTC)
    for invoice in platform.invoices("pending_accounting"):
        job = SyncJob(tenant_id=tenant.tenant_id, target="qbd", entity="invoice", source_id=invoice.source_id,
                      event_id=f"bench-{invoice.source_id}", occurred_at=now)  # fmt: skip
        jobs.enqueue(tenant, job, platform)  # type: ignore[arg-type]
    company = Company()
    call_times: list[float] = []

    def transport(action: str, body: str) -> tuple[int, str]:
        started = time.perf_counter()
        operation, params = soap.parse(body)
        answer = Service(tenant, lambda: platform).call(operation, params)  # type: ignore[arg-type,return-value]
        call_times.append(time.perf_counter() - started)
        return 200, answer

    wall = time.perf_counter()
    log = WebConnector(transport, company, tenant.tenant_id, password, sleep=lambda _s: None).run_session()
    wall = time.perf_counter() - wall
    written = sum(1 for s in platform.statuses.values() if s == "processed")
    return {
        "written": written,
        "in_quickbooks": len(company.invoices),
        "round_trips": log.round_trips,
        "requests": company.requests,
        "max_call_s": max(call_times),
        "wall_s": wall,
    }


def _one_per_round_trip(invoices: int) -> dict[str, float]:
    """Round trips of a client that sends one request per sendRequestXML, against the same double."""
    from ledgerbridge.targets.qbd import documents, qbxml
    from ledgerbridge.tenants import MappingSettings
    from sandbox.qbd.company import Company
    from sandbox.qbo.flows import SyntheticPlatform

    platform = SyntheticPlatform(invoices, customers=CUSTOMERS)
    company = Company()
    known: set[str] = set()
    trips = 0

    def send(request: qbxml.Request) -> list[qbxml.Reply]:
        nonlocal trips
        trips += 1
        return qbxml.parse_response(company.process(qbxml.document("13.0", [request])))

    for invoice in platform.invoices("pending_accounting"):
        customer = documents.customer(platform.customer(invoice.customer.id))
        document = documents.invoice(invoice, customer["name"], MappingSettings())
        for kind, name, add in (
            ("Customer", customer["name"], qbxml.customer_add("1", customer)),
            ("ItemService", "Services", qbxml.item_service_add("1", "Services", "Services")),
        ):
            if name not in known:
                if send(qbxml.list_query(kind, "1", [name]))[0].status_code == 1:
                    send(add)
                known.add(name)
        if send(qbxml.invoice_query("1", ref_numbers=[document["ref_number"]]))[0].status_code == 1:
            send(qbxml.invoice_add("1", document))
    return {"round_trips": trips, "requests": company.requests, "in_quickbooks": len(company.invoices)}


def _modelled_s(round_trips: float, requests: float) -> float:
    return round_trips * ROUND_TRIP_S + requests * REQUEST_S


def run(invoices: int = 1000) -> list[dict[str, Any]]:
    from bench.state import moto_state_table

    with moto_state_table(TABLE):
        batched = _batched(invoices)
        single = _one_per_round_trip(invoices)
    batched_model = _modelled_s(batched["round_trips"], batched["requests"])
    single_model = _modelled_s(single["round_trips"], single["requests"])
    return [
        {"name": "qbd invoices in QuickBooks after one session", "value": int(batched["in_quickbooks"]),
         "unit": f"of {invoices} (sessions: 1)"},
        {"name": "qbd round trips for the session", "value": int(batched["round_trips"]), "unit": "round trips"},
        {"name": "qbd invoices per round trip", "value": round(batched["written"] / batched["round_trips"], 1),
         "unit": "invoices"},
        {"name": "qbd slowest SOAP call (our side, moto)", "value": round(batched["max_call_s"], 2),
         "unit": "s (API Gateway limit 29 s)"},
        {"name": "qbd session wall time (this machine)", "value": round(batched["wall_s"], 1), "unit": "s"},
        {"name": "qbd one-request-per-round-trip client", "value": int(single["round_trips"]),
         "unit": "round trips"},
        {"name": "qbd round trips saved by batching", "value": round(single["round_trips"] / batched["round_trips"], 1),
         "unit": "x fewer"},
        {"name": "qbd modelled session time, batched", "value": round(batched_model / 60, 1),
         "unit": f"min ({ROUND_TRIP_S}s/round trip + {REQUEST_S}s/request)"},
        {"name": "qbd modelled session time, one per trip", "value": round(single_model / 60, 1), "unit": "min"},
        {"name": "qbd modelled speed-up", "value": round(single_model / batched_model, 1), "unit": "x"},
    ]  # fmt: skip


if __name__ == "__main__":
    for row in run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000):
        print(f"{row['name']:<45} {row['value']:>10} {row['unit']}")
