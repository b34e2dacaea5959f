"""The demo's Sage Intacct section (sandbox/demo.py calls `show`): an invoice reaching the Intacct double with
its dimensions through sync_intacct, and a payment coming back by the hourly catch-up."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

from sandbox import fixtures

TENANT = "summit-intacct"


class Story(Protocol):
    def step(self, title: str) -> None: ...
    def say(self, label: str, text: str) -> None: ...


def seed(stack: Any) -> str:
    """A second tenant of the demo contractor whose accounting system is Sage Intacct (the double)."""
    from ledgerbridge import secrets
    from ledgerbridge.targets.intacct.settings import Dimensions, IntacctSettings
    from ledgerbridge.tenants import secret_name

    st, intacct = stack.sandboxes["servicetrade"], stack.sandboxes["intacct"]
    settings = IntacctSettings(
        entities=["invoice", "customer", "payment"],
        triggers=["schedule"],
        terms="Net 30",
        tax_gl_account="2200",
        dimensions=Dimensions(
            location_id="100",
            department_id="SVC",
            class_id="COMM",
            project_from_job=True,
            custom={"GLDIMREGION": "EAST"},
        ),
    )
    fixtures.create_tenant(st.url, TENANT, name="Summit Fire & Mechanical (Intacct)", integrations=[settings])
    secrets.write_json(secret_name(TENANT, "intacct"), {**intacct.credentials(), "endpoint": intacct.url})
    intacct.company.projects.update(str(job["number"]) for job in st.state.jobs.values())
    return TENANT


def _job(kind: str, entity: str, source_id: str = "") -> Any:
    from ledgerbridge.jobs import SyncJob

    now = datetime.now(UTC)
    return SyncJob.model_validate(
        {
            "tenant_id": TENANT,
            "target": "intacct",
            "kind": kind,
            "entity": entity,
            "source_id": source_id,
            "event_id": f"demo-{kind}-{source_id or entity}-{now.timestamp()}",
            "trigger": "manual",
            "occurred_at": now,
        }
    )


def show(story: Story, stack: Any) -> None:
    from ledgerbridge.queues import publish_jobs

    st, intacct = stack.sandboxes["servicetrade"], stack.sandboxes["intacct"]
    story.step("Sage Intacct: an invoice with its dimensions (FIFO queue -> sync_intacct -> XML gateway)")
    seed(stack)
    story.say("tenant", f"{TENANT}, Intacct company {intacct.company.company_id} at {intacct.url}")
    # An invoice the office has just approved for accounting (set on the double directly: no webhook echo). This
    # contractor keeps its books in Intacct; the same demo invoice serves (the QBO tenant's copy is its own).
    invoice = next(i for i in st.state.invoices.values() if i["invoiceNumber"] == "INV-24112")
    invoice["status"] = "pending_accounting"
    publish_jobs([_job("record", "invoice", str(invoice["id"]))])
    stack.drain()
    record = next(i for i in intacct.invoices() if i["RECORDID"] == invoice["invoiceNumber"])
    story.say(
        "Intacct invoice",
        f"{record['RECORDID']} = RECORDNO {record['RECORDNO']}, customer {record['CUSTOMERID']}, "
        f"total {record['TOTALENTERED']}, due {record['WHENDUE']}",
    )
    for line in record["ARINVOICEITEMS"]["arinvoiceitem"]:
        dims = ", ".join(
            f"{k}={line[k]}"
            for k in ("LOCATIONID", "DEPARTMENTID", "PROJECTID", "CLASSID", "GLDIMREGION")
            if line.get(k)
        )
        story.say(f"  line {line['LINE_NO']}", f"{line['ACCOUNTNO']} {line['AMOUNT']:>9}  {dims}")
    story.say(f"platform {invoice['invoiceNumber']}", st.state.invoices[invoice["id"]]["status"])

    story.step("Sage Intacct: a payment comes back (hourly catch-up: ARPYMT since the cursor -> platform)")
    total = Decimal(record["TOTALENTERED"])
    key = intacct.gateway.apply_payment({record["RECORDNO"]: total}, date.today(), "Printed Check")
    story.say("bookkeeper", f"receives {total} by check in Intacct (ARPYMT {key})")
    publish_jobs([_job("catchup", "payment")])
    stack.drain()
    payments = [p for p in st.state.payments.values() if p["invoiceId"] == invoice["id"]]
    for payment in payments:
        story.say("platform payment", f"${payment['amount']} ({payment['method']}, {payment['referenceNumber']})")
    story.say(f"platform {invoice['invoiceNumber']}", st.state.invoices[invoice["id"]]["status"])
