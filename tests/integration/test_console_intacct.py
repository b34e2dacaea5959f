"""Sage Intacct in the console: the Overview's card (credentials stored and checked, the company) and a
reconciliation read from Intacct (ARINVOICE by record number) with one planted difference."""

from __future__ import annotations

from datetime import UTC, datetime

from ledgerbridge import secrets, wiring
from ledgerbridge.console import reconcile, targets
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.intacct import connection
from ledgerbridge.targets.intacct.console import summary
from ledgerbridge.tenants import secret_name
from tests.integration.test_intacct_sync import TENANT, World, world  # noqa: F401 (the fixture)


def forget_secrets() -> None:
    """What a new container would read (Powertools caches a secret for a few seconds)."""
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()
    connection.reset()


def differing(period: str) -> dict[str, tuple[str, ...]]:
    tenant = tenant_store.load(TENANT)
    report = reconcile.run(tenant, targets.find(tenant, "intacct"), wiring.platform_for(tenant), period)
    assert not report.reading.pending
    return {r.number: r.differences for r in report.rows if not r.matched}


def test_the_overview_card_says_whether_intacct_signs_in(world: World) -> None:  # noqa: F811
    tenant = tenant_store.load(TENANT)
    card = summary(tenant)
    assert (
        card.state == "connected" and card.detail == f"signed in to Intacct company {world.intacct.company.company_id}"
    )
    assert dict(card.facts)["Credentials"] == "stored"

    later = datetime.now(UTC).replace(year=datetime.now(UTC).year + 1)  # the recorded check has gone stale
    secrets.write_json(secret_name(TENANT, "intacct"), {**world.intacct.credentials(), "endpoint": world.intacct.url,
                                                         "user_password": "wrong"})  # fmt: skip
    forget_secrets()
    card = summary(tenant, later)
    assert card.state == "attention" and card.detail.startswith("sign-in refused (login)")
    assert "wrong" not in card.detail + " ".join(v for _, v in card.facts)  # no secret on the page

    secrets.write_json(secret_name(TENANT, "intacct"), {})
    forget_secrets()
    card = summary(tenant)
    assert card.state == "not_connected" and "missing sender_id" in card.detail


def test_a_reconciliation_reads_intacct_and_explains_a_reversed_invoice(world: World) -> None:  # noqa: F811
    invoices = world.push_all()
    records = {r["RECORDID"]: r for r in world.intacct.invoices()}
    first = records[invoices[0]["invoiceNumber"]]
    period = datetime.strptime(first["WHENCREATED"], "%m/%d/%Y").strftime("%Y-%m")
    baseline = differing(period)

    world.intacct.company.invoices[first["RECORDNO"]]["STATE"] = "Reversed"  # the bookkeeper voids it in Intacct
    after = differing(period)
    assert set(after) - set(baseline) == {first["RECORDID"]}
    assert after[first["RECORDID"]] == ("voided in the ledger, open in the platform",)
