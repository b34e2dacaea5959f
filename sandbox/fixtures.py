"""Tenants wired to the sandboxes: used by the demo, the local stack and the end-to-end tests alike."""

from __future__ import annotations

from typing import Any

from ledgerbridge import admin, secrets
from ledgerbridge.targets.qbo import connect
from ledgerbridge.targets.qbo.settings import QboSettings, qbo_environment
from ledgerbridge.tenants import ConnectorSettings, MappingSettings, Schedule, Tenant
from sandbox.qbo import QboSandboxServer, flows
from sandbox.servicetrade import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

DEMO_TENANT = "summit-fire"


def qbo_app_secret(qbo: QboSandboxServer, redirect_uri: str = "") -> dict[str, str]:
    """The QBO app keys the sandbox accepts, as the app secret holds them in AWS."""
    oauth = qbo.state.options.oauth
    return {
        "client_id": oauth.client_id,
        "client_secret": oauth.client_secret,
        "redirect_uri": redirect_uri or f"{qbo.url}/oauth-redirect-unused",
        "verifier_token": qbo.state.options.webhooks.verifier_token,
    }


def store_qbo_app_secret(qbo: QboSandboxServer) -> None:
    secrets.write_json(qbo_environment().qbo_app_secret_name, qbo_app_secret(qbo))


def create_tenant(st_url: str, tenant_id: str = DEMO_TENANT, **overrides: Any) -> admin.CreatedTenant:
    """A tenant of the demo contractor: its ServiceTrade account is the sandbox, with QBO and file exports."""
    data: dict[str, Any] = {
        "tenant_id": tenant_id,
        "name": "Summit Fire & Mechanical",
        "timezone": "America/New_York",  # the demo company's office (sandbox DEMO_TIMEZONE)
        "source_base_url": st_url,
        "integrations": [QboSettings(entities=["invoice", "customer", "payment"])],
        "connectors": [
            # Weekly, Monday 02:00 local, for last week (the demo fortnight ends on a Friday).
            ConnectorSettings(
                connector="sage300cre",
                connections=["ar_invoices", "labor_hours"],
                schedule=Schedule(frequency="weekly", weekday=0, hour=2),
                period="week",
            ),
            ConnectorSettings(
                connector="csv",
                connections=["purchase_orders", "direct_costs"],
                schedule=Schedule(frequency="weekly", weekday=0, hour=2),
                period="week",
            ),
        ],
        # The demo account names its accounting system "qbo" in ServiceTrade's External Systems.
        "mapping": MappingSettings(
            default_item="Services",
            external_system="qbo",
            tax_codes={county: county for county in ("Durham County", "Wake County", "Orange County")},
        ),
    }
    data.update(overrides)
    values = admin.TenantSecrets(servicetrade={"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET})
    return admin.create_tenant(Tenant.model_validate(data), values)


def connect_qbo(tenant_id: str, qbo: QboSandboxServer) -> str:
    """Run the OAuth authorization-code flow against the sandbox (which consents at once) through the
    same code as the connect routes: state bound to the tenant, code exchanged, connection recorded.
    Returns the realm id."""
    url = connect.begin(tenant_id, "http://localhost/oauth/qbo/callback")
    answer = flows.consent(url, qbo.realm_id)
    connect.complete(answer["state"], answer["code"], answer["realmId"])
    return answer["realmId"]
