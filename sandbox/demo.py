"""`make demo`: the main job end to end on the local stack, told as it happens.

Everything runs on 127.0.0.1: moto as AWS (built from template.yaml), the ServiceTrade and QuickBooks
Online sandboxes, and every function invoked with the event shapes Lambda would give it.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlparse

import requests
from servicetrade import ServicetradeClient

from sandbox import fixtures
from sandbox.intacct.demo import show as show_intacct
from sandbox.qbd import demo as desktop
from sandbox.servicetrade import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from sandbox.stack.runner import LocalStack

T = TypeVar("T")
WIDTH = 24


class Story:
    """Numbered steps, aligned details, and a progress bar for long steps (plain lines when not a tty)."""

    def __init__(self, out: Any = sys.stdout) -> None:
        self.out = out
        self.n = 0
        self.tty = bool(getattr(out, "isatty", lambda: False)())

    def step(self, title: str) -> None:
        self.n += 1
        print(f"\n{self.n}. {title}", file=self.out, flush=True)

    def say(self, label: str, text: str) -> None:
        print(f"   {label:<{WIDTH}} {text}", file=self.out, flush=True)

    def progress(self, label: str, items: Iterable[T], total: int) -> Iterator[T]:
        start = time.monotonic()
        done = 0
        for item in items:
            yield item
            done += 1
            if self.tty:
                filled = int(30 * done / max(total, 1))
                bar = "#" * filled + "." * (30 - filled)
                print(f"\r   {label:<{WIDTH}} [{bar}] {done}/{total}", end="", file=self.out, flush=True)
        if self.tty:
            print("\r" + " " * (WIDTH + 50) + "\r", end="", file=self.out)
        self.say(label, f"{done}/{total} in {time.monotonic() - start:.1f} s")


def seed(stack: LocalStack) -> dict[str, str]:
    """The demo tenant: its ServiceTrade account is the sandbox, QuickBooks Online is connected, and the
    platform's webhook points at the local API front."""
    st, qbo = stack.sandboxes["servicetrade"], stack.sandboxes["qbo"]
    created = fixtures.create_tenant(st.url)
    tenant_id = created.tenant.tenant_id
    realm = fixtures.connect_qbo(tenant_id, qbo)
    assert stack.front is not None
    hook_url = f"{stack.front.url}/webhooks/{tenant_id}?token={created.webhook_token}"
    client = ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    client.post("/webhook", {"hookUrl": hook_url, "enabled": True, "includeChangesets": False, "entityEvents": None})
    return {
        "tenant_id": tenant_id,
        "realm_id": realm,
        "files_credential": created.files_credential,
        "webhook_url": hook_url,
    }


def _wait(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the demo waited too long for a step to finish")
        time.sleep(0.05)


def run_demo() -> int:
    story = Story()
    print("LedgerBridge demo: field-service platform -> accounting, on the local stack")
    stack = LocalStack(background=False).start()
    stack.warm("export_dispatch", "export", "files", "webhook", "sync_qbo")
    try:
        info = stack.info()
        story.step("Local stack (moto as AWS, built from template.yaml)")
        story.say("API front", info["api"])
        story.say("AWS endpoint (moto)", info["aws_endpoint"])
        assert stack.stack is not None
        story.say(
            "functions / queues",
            f"{len(stack.stack.template.functions)} functions, {len(stack.pollers)} queue consumers",
        )
        for name, sandbox in info["sandboxes"].items():
            story.say(f"{name} sandbox", sandbox["url"])

        seeded = seed(stack)
        tenant_id = seeded["tenant_id"]
        story.step("Tenant")
        story.say("tenant", f"{tenant_id} (Summit Fire & Mechanical, America/New_York)")
        story.say("QuickBooks Online", f"connected, realm {seeded['realm_id']}")
        story.say("platform webhook", seeded["webhook_url"].split("?")[0] + "?token=...")

        _export(story, stack, tenant_id, seeded["files_credential"])
        _integration(story, stack, tenant_id)
        _payments(story, stack)
        _sweep(story, stack, tenant_id)
        desktop.run(story, stack)
        show_intacct(story, stack)
        _console(story, stack, tenant_id)
    finally:
        stack.stop()
    print("\nDemo finished.")
    return 0


def _console(story: Story, stack: LocalStack, tenant_id: str) -> None:
    """The tenant's console, with a one-time sign-in link; on a terminal the stack stays up until Ctrl-C."""
    from ledgerbridge.console.cli import console_url

    assert stack.front is not None
    story.step("Console: what the office sees (Overview, Activity, Exports, Reconciliation, Dry run)")
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    lifetime = "until you press Ctrl-C" if interactive else "while the stack runs (it stops now: run on a terminal)"
    story.say("console", f"{stack.front.url}/console")
    story.say("one-time sign-in link", console_url(stack.front.url, tenant_id))
    story.say("link valid", f"15 minutes, once; the local stack serves it {lifetime}")
    if interactive:
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


def _export(story: Story, stack: LocalStack, tenant_id: str, credential: str) -> None:
    from ledgerbridge.state import exports

    story.step("Connectors: the weekly exports, Sage 300 CRE and CSV (schedule -> export_dispatch -> queue -> export)")
    tick = datetime(2025, 11, 17, 7, 0, tzinfo=UTC)  # Monday 02:00 in New York: the tenant's export hour
    dispatched = stack.fire_schedule("export_dispatch", tick)
    story.say("schedule fired", f"{tick.isoformat()} (Monday 02:00 America/New_York): {dispatched['jobs']} jobs")
    stack.drain()
    assert stack.front is not None
    auth = {"Authorization": f"Bearer {credential}"}
    listed = requests.get(f"{stack.front.url}/tenants/{tenant_id}/exports", headers=auth, timeout=10).json()
    for item in listed["exports"]:
        manifest = exports.Manifest.model_validate(item)
        story.say(
            manifest.connection,
            f"{manifest.status}: {manifest.rows} rows, {manifest.records} records, "
            f"{manifest.size} bytes, sha256 {manifest.sha256[:12]}...",
        )
        story.say("  file", f"s3://.../{manifest.key}")
        for name, total in manifest.totals.items():
            story.say(f"  total {name}", total)
        if manifest.problem_count:
            story.say(
                "  validation report",
                f"{manifest.problem_count} problem(s), in {manifest.error_key.rsplit('/', 1)[-1]}",
            )
            for problem in manifest.problems[:3]:
                story.say("   -", f"{problem.get('record', '')}: {problem.get('message', '')}"[:150])
        link = requests.get(
            f"{stack.front.url}/tenants/{tenant_id}/exports/{manifest.export_id}/download",
            headers=auth,
            allow_redirects=False,
            timeout=10,
        )
        location = link.headers["Location"]
        expires = parse_qs(urlparse(location).query).get("X-Amz-Expires", ["?"])[0]
        story.say("  download link", f"{link.status_code} -> presigned GET, expires in {expires} s")
        body = requests.get(location, timeout=10).content
        first = body.splitlines()[0][:80] if body else b"(empty: every record was held back)"
        story.say("  downloaded", f"{len(body)} bytes; first line: {first!r}")


def _payments(story: Story, stack: LocalStack) -> None:
    """Two-way: payments recorded in QuickBooks flow back to the platform through Intuit's webhook."""
    from sandbox.qbo.flows import Bookkeeper

    st, qbo = stack.sandboxes["servicetrade"], stack.sandboxes["qbo"]
    story.step("Payments back: the bookkeeper records payments in QuickBooks (Intuit webhook -> sync_qbo)")
    by_number = {i["DocNumber"]: i for i in qbo.objects("Invoice", qbo.realm_id)}

    def platform(number: str) -> dict[str, Any]:
        return next(i for i in st.state.invoices.values() if i["invoiceNumber"] == number)

    full, partial = by_number["INV-24109"], by_number["INV-24110"]
    bookkeeper = Bookkeeper(qbo)
    bookkeeper.receive_payment(full["Id"], full["TotalAmt"], "Check")
    half = (Decimal(str(partial["TotalAmt"])) / 2).quantize(Decimal("0.01"))
    bookkeeper.receive_payment(partial["Id"], half, "Credit Card")
    story.say(
        "paid in QuickBooks", f"INV-24109 in full (${full['TotalAmt']}), INV-24110 ${half} of ${partial['TotalAmt']}"
    )

    def arrived() -> bool:
        stack.drain()
        return platform("INV-24109")["status"] == "paid" and any(
            p["invoiceId"] == platform("INV-24110")["id"] for p in st.state.payments.values()
        )

    _wait(arrived, timeout=30)
    for number in ("INV-24109", "INV-24110"):
        invoice = platform(number)
        paid = [p for p in st.state.payments.values() if p["invoiceId"] == invoice["id"]]
        amounts = ", ".join(f"${p['amount']} ({p['method']})" for p in paid)
        story.say(f"platform {number}", f"{invoice['status']}; payments recorded: {amounts}")


def _key_by_hand(qbo: Any, doc_number: str) -> None:
    """A bookkeeper typed this invoice into QuickBooks before the sync ran (the classic duplicate)."""
    token = qbo.issue_tokens()["access_token"]
    base = f"{qbo.url}/v3/company/{qbo.realm_id}"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    customer = requests.post(
        f"{base}/customer", json={"DisplayName": "Walk-in (keyed by hand)"}, headers=headers, timeout=10
    ).json()["Customer"]
    items = requests.get(
        f"{base}/query", params={"query": "select * from Item where Name = 'Services'"}, headers=headers, timeout=10
    ).json()["QueryResponse"]["Item"]
    line = {
        "Amount": 100,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": items[0]["Id"]}},
    }
    invoice = {"DocNumber": doc_number, "CustomerRef": {"value": customer["Id"]}, "Line": [line]}
    requests.post(f"{base}/invoice", json=invoice, headers=headers, timeout=10).raise_for_status()


def _integration(story: Story, stack: LocalStack, tenant_id: str) -> None:
    from ledgerbridge.state import synclog

    st, qbo = stack.sandboxes["servicetrade"], stack.sandboxes["qbo"]
    client = ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    story.step('Integration: "Send to QuickBooks" on pending invoices (webhook -> FIFO queue -> sync_qbo)')
    pending = sorted(
        (i for i in st.state.invoices.values() if i["status"] == "pending_accounting"), key=lambda i: i["id"]
    )
    story.say("pending invoices", ", ".join(i["invoiceNumber"] for i in pending))
    duplicate = pending[-1]
    _key_by_hand(qbo, duplicate["invoiceNumber"])
    story.say("already in QuickBooks", f"{duplicate['invoiceNumber']} (keyed by hand by the bookkeeper)")
    # The platform delivers a webhook for each (as when the office clicks "Send to QuickBooks"); each is
    # delivered twice, as the platform may; we wait for the sandbox to deliver them, then drain the queues.
    before = len(st.deliveries)
    for invoice in story.progress("sending to accounting", pending, len(pending)):
        st.deliver("invoice", invoice["id"], action="updated")
        st.deliver("invoice", invoice["id"], action="updated")
    _wait(lambda: len(st.deliveries) >= before + 2 * len(pending))
    handled = stack.drain()
    story.say("webhooks delivered", f"{len(st.deliveries) - before}, each answered 202")
    story.say("jobs processed", f"{handled} (duplicate deliveries were dropped at the door)")
    log = list(reversed(synclog.recent(tenant_id, limit=len(pending) * 3)))
    for entry in (e for e in log if e.outcome != "skipped"):
        story.say(f"sync log: {entry.outcome}", entry.message)
    echoes = sum(1 for e in log if e.outcome == "skipped")
    story.say("sync log: skipped", f"{echoes} (the platform's own webhooks for our status changes)")
    qbo_invoices = qbo.objects("Invoice", qbo.realm_id)
    story.say(
        "QuickBooks holds",
        f"{len(qbo_invoices)} invoices: " + ", ".join(f"{i['DocNumber']} ${i['TotalAmt']}" for i in qbo_invoices),
    )
    for invoice in pending:
        current = client.get(f"/invoice/{invoice['id']}")
        status = current.get("status") if isinstance(current, dict) else "?"
        story.say(f"platform {invoice['invoiceNumber']}", str(status))
    comments = [c for c in st.state.comments.values() if str(c.get("entityId")) == str(duplicate["id"])]
    if comments:
        story.say("comment on the invoice", comments[-1]["content"])

    story.step("Dry run: the office edits a synced invoice and sends it again")
    edited = pending[0]
    client.put(f"/invoice/{edited['id']}", {"notes": "After-hours call-out included", "status": "pending_accounting"})
    assert stack.front is not None
    from ledgerbridge.state import tenants as tenant_store
    from ledgerbridge.sync.engine import plan_report
    from ledgerbridge.targets import registry
    from ledgerbridge.wiring import engine_for

    engine = engine_for(tenant_store.load(tenant_id), registry.plugin("qbo"))
    plan = plan_report(engine, "invoice", [str(edited["id"])])
    for step in plan[0]["steps"]:
        story.say(f"{step['entity']} {step['action']}", step["reason"] or f"QuickBooks {step['target_id']}")
        for change in step["changes"]:
            story.say("  changes", f"{change['path']}: {change['before']!r} -> {change['after']!r}")
    story.say(
        "written", f"nothing (dry run); QuickBooks still holds {len(qbo.objects('Invoice', qbo.realm_id))} invoices"
    )


def _sweep(story: Story, stack: LocalStack, tenant_id: str) -> None:
    """A webhook the platform never delivers: the sweep finds the invoice and queues it as the webhook would."""
    from ledgerbridge.state import synclog

    st, qbo = stack.sandboxes["servicetrade"], stack.sandboxes["qbo"]
    client = ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    story.step("Lost webhook: the platform never delivers one; the sweep recovers it (schedule -> sweep -> sync_qbo)")
    # The newest invoice not yet sent (the Sage Intacct section below takes the oldest).
    invoice = max((i for i in st.state.invoices.values() if i["status"] == "ok"), key=lambda i: i["id"])
    number = invoice["invoiceNumber"]
    st.drop_deliveries(1)  # as when the hook is misconfigured, or answered 429 under a burst
    client.put(f"/invoice/{invoice['id']}", {"status": "pending_accounting"})
    stack.drain()
    story.say('"Send to QuickBooks"', f"{number} -> pending_accounting; its webhook: {len(st.dropped)} lost")
    in_qbo = any(i["DocNumber"] == number for i in qbo.objects("Invoice", qbo.realm_id))
    story.say("after the queues drain", f"platform {invoice['status']}, in QuickBooks: {'yes' if in_qbo else 'no'}")
    tick = datetime.now(UTC) + timedelta(minutes=15)
    result = stack.fire_schedule("sweep", tick)
    story.say("sweep fired", f"{tick:%H:%M} UTC (15 minutes on): {result['recovered']} recovered")
    stack.drain()
    log = [
        e
        for e in reversed(synclog.recent(tenant_id, limit=20))
        if e.source_id == str(invoice["id"]) and e.outcome != "skipped"  # skipped: the echo of our own status change
    ]
    for entry in log:
        story.say(f"sync log: {entry.outcome}", entry.message)
    created = [i for i in qbo.objects("Invoice", qbo.realm_id) if i["DocNumber"] == number]
    story.say("QuickBooks holds", ", ".join(f"{i['DocNumber']} ${i['TotalAmt']}" for i in created) or "nothing")
    story.say(f"platform {number}", str(st.state.invoices[invoice["id"]]["status"]))
