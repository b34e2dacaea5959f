"""Sage Intacct push speed: invoices per minute with many functions per request vs one (prints figures).

    .venv/bin/python -m bench.intacct [invoices]     or  run() -> [{name, value, unit}] for `make bench`

One company in the Intacct double at its default concurrency (2 requests in flight, enforced with HTTP 429),
as many workers, N invoices over 50 customers built by the target's own documents. The company's request
slots (targets.intacct.slots: four DynamoDB calls per request) are left out: moto's in-process DynamoDB takes
tens of milliseconds a call where DynamoDB takes a few, which would measure moto, not the push. The double
answers each request after a fixed overhead plus a little per function (REQUEST_S, FUNCTION_S: a model of a
remote gateway, not a measurement of Sage's), so the figures show what batching saves per round trip. Both
paths run in the same process, one after the other.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

CUSTOMERS = 50
REQUEST_S = 0.10  # the double's answer time per request ...
FUNCTION_S = 0.005  # ... plus this per function in it


def _documents(invoices: int) -> list[dict[str, Any]]:
    from ledgerbridge.records import Invoice, InvoiceLine, Ref
    from ledgerbridge.targets.intacct.documents import IntacctDocuments
    from ledgerbridge.targets.intacct.settings import IntacctSettings
    from ledgerbridge.tenants import MappingSettings

    documents = IntacctDocuments(IntacctSettings(terms="Net 30"))
    out = []
    for n in range(invoices):
        line = InvoiceLine(
            source_id=f"{n}-1",
            description="Service visit",
            quantity=Decimal(1),
            unit_price=Decimal("42.50"),
            amount=Decimal("42.50"),
        )
        invoice = Invoice(
            source_id=str(n),
            number=f"B-{n:06d}",
            status="pending_accounting",
            transaction_date=date(2026, 1, 5),
            customer=Ref(id=str(n % CUSTOMERS)),
            location=Ref(id="1"),
            lines=(line,),
            subtotal=line.amount,
            tax_amount=Decimal("0"),
            total=line.amount,
            updated_at="2026-01-05T12:00:00Z",
        )
        out.append(documents.invoice(invoice, f"ST-{n % CUSTOMERS}", MappingSettings()))
    return out


def _push(documents: list[dict[str, Any]], per_request: int) -> dict[str, float]:
    from ledgerbridge.targets.intacct.client import IntacctClient
    from ledgerbridge.targets.intacct.target import IntacctTarget
    from ledgerbridge.targets.intacct.wire import Credentials
    from sandbox import intacct

    with intacct.start(latency_s=REQUEST_S, function_latency_s=FUNCTION_S) as server:
        c = server.credentials()
        creds = Credentials(c["sender_id"], c["sender_password"], c["company_id"], c["user_id"], c["user_password"])
        workers = server.gateway.options.concurrency
        client = IntacctClient(creds, endpoint=server.url)
        target = IntacctTarget(client)
        for n in range(CUSTOMERS):
            server.company.customers[f"ST-{n}"] = {"RECORDNO": str(n), "CUSTOMERID": f"ST-{n}", "NAME": f"C{n}"}
        chunks = [documents[i : i + per_request] for i in range(0, len(documents), per_request)]
        local = threading.local()

        def send(chunk: list[dict[str, Any]]) -> int:
            if not hasattr(local, "target"):
                local.target = IntacctTarget(target.client.copy())  # its own connection, the same session
            answers = local.target.write_each([("invoice", d, None) for d in chunk], [str(uuid.uuid4()) for _ in chunk])
            return sum(1 for a in answers if not isinstance(a, Exception))

        started = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            written = sum(pool.map(send, chunks))
        seconds = time.perf_counter() - started
        return {
            "written": written,
            "in_intacct": len(server.invoices()),
            "per_minute": 60 * written / seconds,
            "requests": server.gateway.requests,
        }


def run(invoices: int = 1000) -> list[dict[str, Any]]:
    from ledgerbridge.targets.intacct.target import BATCH_MAX

    documents = _documents(invoices)
    batched = _push(documents, BATCH_MAX)
    single = _push(documents, 1)
    assert batched["in_intacct"] == single["in_intacct"] == invoices, (batched, single)
    return [
        {
            "name": f"intacct push, {BATCH_MAX} functions/request: invoices per minute ({invoices:,} invoices)",
            "value": round(batched["per_minute"]),
            "unit": "invoices/min",
        },
        {
            "name": "intacct push, one function per request: invoices per minute (same run)",
            "value": round(single["per_minute"]),
            "unit": "invoices/min",
        },
        {
            "name": "intacct batched / one function per request",
            "value": round(batched["per_minute"] / single["per_minute"], 2),
            "unit": "x",
        },
        {
            "name": "intacct batched: gateway requests (incl. the session)",
            "value": batched["requests"],
            "unit": "requests",
        },
        {"name": "intacct one per request: gateway requests", "value": single["requests"], "unit": "requests"},
        {"name": "intacct double: answer time per request (model)", "value": REQUEST_S, "unit": "s"},
        {"name": "intacct double: answer time per function (model)", "value": FUNCTION_S, "unit": "s"},
    ]


def main() -> None:
    invoices = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    for row in run(invoices):
        print(f"{row['name']:<78} {row['value']!s:>12} {row['unit']}")


if __name__ == "__main__":
    main()
