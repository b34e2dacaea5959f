"""The QuickBooks Desktop part of `make demo` and `ledgerbridge local serve`: a second contractor who keeps
the books in QuickBooks Desktop, on its own field-service sandbox, reached through the Web Connector."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import requests
from servicetrade import ServicetradeClient

from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.qbd import qwc
from ledgerbridge.targets.qbd.settings import QbdSettings
from sandbox import fixtures
from sandbox.qbd.company import Company
from sandbox.qbd.webconnector import WebConnector
from sandbox.servicetrade import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, SandboxServer, generate
from sandbox.servicetrade import start as start_servicetrade
from sandbox.stack.runner import LocalStack

TENANT = "peak-mechanical"


def seed_desktop(stack: LocalStack) -> tuple[dict[str, Any], SandboxServer]:
    """The Desktop tenant, its field-service sandbox (webhooks to the local API front) and the Web Connector's
    URL and credentials, as `local serve` prints them."""
    assert stack.front is not None
    # Webhooks are delivered by this demo, one at a time: "manual" keeps the platform's echoes of our own
    # status changes from arriving while a Web Connector session runs.
    st = start_servicetrade(generate(labor_rows=0, invoices=12, jobs=40), delivery_mode="manual")
    created = fixtures.create_tenant(
        st.url, TENANT, name="Peak Mechanical", connectors=[],
        integrations=[QbdSettings(entities=["invoice", "customer", "payment"])],
    )  # fmt: skip
    hook = f"{stack.front.url}/webhooks/{TENANT}?token={created.webhook_token}"
    client = ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    client.post("/webhook", {"hookUrl": hook, "enabled": True, "includeChangesets": False, "entityEvents": None})
    return {
        "webhook_url": hook,
        "tenant_id": TENANT,
        "servicetrade": st.url,
        "web_connector_url": f"{stack.front.url}/qbwc/{TENANT}",
        "username": TENANT,
        "password": tenant_store.issue_credential(TENANT, "connector"),
        "qwc_url": f"{stack.front.url}/tenants/{TENANT}/targets/qbd/qwc",
        "files_credential": created.files_credential,
    }, st


def run(story: Any, stack: LocalStack) -> None:
    story.step("QuickBooks Desktop: a second contractor, through the Web Connector (webhook -> sync_qbd -> outbox)")
    seeded, st = seed_desktop(stack)
    try:
        _story(story, stack, seeded, st)
    finally:
        st.stop()


def _story(story: Any, stack: LocalStack, seeded: dict[str, Any], st: SandboxServer) -> None:
    story.say("Web Connector URL", seeded["web_connector_url"])
    story.say("user / password", f"{seeded['username']} / {seeded['password'][:16]}...")
    auth = {"Authorization": f"Bearer {seeded['files_credential']}"}
    qwc_file = requests.get(seeded["qwc_url"], headers=auth, timeout=10)
    story.say(".qwc download", f"{qwc_file.status_code}, {qwc.filename(TENANT)}, {len(qwc_file.content)} bytes")
    pending = [i for i in st.state.invoices.values() if i["status"] == "pending_accounting"]
    for invoice in pending:  # the office clicks "Send to accounting": the platform's webhooks
        st.deliver("invoice", invoice["id"], action="updated")
    for message in list(st.messages):
        requests.post(seeded["webhook_url"], json=message, timeout=10).raise_for_status()
    stack.drain()
    story.say("queued for QuickBooks", f"{len(pending)} invoices in the outbox")

    company = Company(name="Peak Mechanical")
    url = seeded["web_connector_url"]

    def transport(action: str, body: str) -> tuple[int, str]:
        resp = requests.post(url, data=body.encode(), headers={"Content-Type": "text/xml; charset=utf-8",
                                                               "SOAPAction": action}, timeout=60)  # fmt: skip
        return resp.status_code, resp.text

    connector = WebConnector(transport, company, seeded["username"], seeded["password"], sleep=lambda _s: None)
    log = connector.run_session()
    story.say("Web Connector session", f"{log.round_trips} round trips, progress {log.percents}")
    story.say("QBWC status", log.closed)
    held = sorted(company.invoices.values(), key=lambda i: i["RefNumber"])
    shown = ", ".join(f"{i['RefNumber']} ${i['Subtotal']}" for i in held[:3])
    story.say("QuickBooks Desktop holds", f"{len(held)} invoices: {shown}, ...")
    statuses = sorted({st.state.invoices[i["id"]]["status"] for i in pending})
    story.say("platform invoices", ", ".join(statuses))

    paid = held[0]
    company.receive_payment(paid["TxnID"], Decimal(paid["Subtotal"]), "Check")
    story.say("bookkeeper", f"receives ${paid['Subtotal']} against {paid['RefNumber']} in QuickBooks Desktop")
    connector.run_session()
    invoice = next(i for i in st.state.invoices.values() if i["invoiceNumber"] == paid["RefNumber"])
    payments = [p for p in st.state.payments.values() if p["invoiceId"] == invoice["id"]]
    amounts = ", ".join(f"${Decimal(str(p['amount'])):.2f}" for p in payments)  # the platform's JSON number
    story.say("next session", f"payment back on {paid['RefNumber']}: {amounts}; invoice {invoice['status']}")
