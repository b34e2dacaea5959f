"""Build the adapters a tenant's work needs, from its configuration and secrets."""

from __future__ import annotations

from ledgerbridge import secrets
from ledgerbridge.errors import PermanentError
from ledgerbridge.source.servicetrade import ServiceTradeSource
from ledgerbridge.sync import Engine
from ledgerbridge.targets.qbo import QboTarget
from ledgerbridge.targets.qbo.documents import QboDocuments
from ledgerbridge.tenants import Tenant


def platform_for(tenant: Tenant) -> ServiceTradeSource:
    """The tenant's field-service account, with the credentials kept in Secrets Manager."""
    if not tenant.source_secret_name:
        raise PermanentError(
            "no field-service credentials are stored for this tenant",
            code="not_configured",
            hint="store them with `ledgerbridge tenant update --secrets` (servicetrade: client_id, client_secret)",
        )
    creds = secrets.read_json(tenant.source_secret_name)
    return ServiceTradeSource(
        base_url=tenant.source_base_url,
        client_id=creds.get("client_id"),
        client_secret=creds.get("client_secret"),
        refresh_token=creds.get("refresh_token"),
        timezone=tenant.timezone,
        employee_number_system=tenant.mapping.employee_number_system,
    )


def qbo_engine(tenant: Tenant) -> Engine:
    """The sync engine for a tenant's QuickBooks Online company."""
    return Engine(
        tenant=tenant,
        platform=platform_for(tenant),
        target=QboTarget.for_tenant(tenant),
        documents=QboDocuments(),
        target_label="QuickBooks Online",
    )
