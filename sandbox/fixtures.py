"""Tenants wired to the sandboxes: used by the demo, the local stack and the end-to-end tests alike."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from ledgerbridge import admin, secrets
from ledgerbridge.config import get_config
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets.qbo import QboTokens
from ledgerbridge.tenants import ConnectorSettings, IntegrationSettings, MappingSettings, Schedule, Tenant
from sandbox.qbo import QboSandboxServer
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
    secrets.write_json(get_config().qbo_app_secret_name, qbo_app_secret(qbo))


def create_tenant(st_url: str, tenant_id: str = DEMO_TENANT, **overrides: Any) -> admin.CreatedTenant:
    """A tenant of the demo contractor: its ServiceTrade account is the sandbox, with QBO and file exports."""
    data: dict[str, Any] = {
        "tenant_id": tenant_id,
        "name": "Summit Fire & Mechanical",
        "timezone": "America/New_York",  # the demo company's office (sandbox DEMO_TIMEZONE)
        "source_base_url": st_url,
        "integrations": [IntegrationSettings(target="qbo", entities=["invoice", "customer", "payment"])],
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
        "mapping": MappingSettings(default_item="Services", external_system="qbo"),
    }
    data.update(overrides)
    values = admin.TenantSecrets(servicetrade={"client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET})
    return admin.create_tenant(Tenant.model_validate(data), values)


def connect_qbo(tenant_id: str, qbo: QboSandboxServer) -> str:
    """Run the OAuth authorization-code flow against the sandbox (which consents at once) and store the
    tokens and realm, as the connect callback does. Returns the realm id."""
    tokens = QboTokens.for_tenant(tenant_id)
    consent = requests.get(tokens.oauth.authorization_url(f"fixture-{tenant_id}"), allow_redirects=False, timeout=10)
    query = parse_qs(urlparse(consent.headers["Location"]).query)
    realm_id = query.get("realmId", [qbo.realm_id])[0]
    tokens.connect(query["code"][0], realm_id)
    tenant = tenant_store.load(tenant_id)
    integrations = [
        i.model_copy(update={"realm_id": realm_id}) if i.target == "qbo" else i for i in tenant.integrations
    ]
    tenant_store.save(tenant.model_copy(update={"integrations": integrations}))
    return realm_id
