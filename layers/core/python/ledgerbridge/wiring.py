"""Build the adapters a tenant's work needs, from its configuration and secrets."""

from __future__ import annotations

import hashlib
import time
from typing import TYPE_CHECKING

from ledgerbridge import secrets
from ledgerbridge.errors import PermanentError

if TYPE_CHECKING:  # imported where used: many routes of the functions that import this module need neither
    from ledgerbridge.source.servicetrade import ServiceTradeSource
    from ledgerbridge.sync.engine import Engine
    from ledgerbridge.targets.base import Plugin
    from ledgerbridge.tenants import Tenant


def platform_for(tenant: Tenant) -> ServiceTradeSource:
    """The tenant's field-service account, with the credentials kept in Secrets Manager."""
    if not tenant.source_secret_name:
        raise PermanentError(
            "no field-service credentials are stored for this tenant",
            code="not_configured",
            hint="store them with `ledgerbridge tenant update --secrets` (servicetrade: client_id, client_secret)",
        )
    from ledgerbridge.source.servicetrade import ServiceTradeSource

    creds = secrets.read_json(tenant.source_secret_name)
    return ServiceTradeSource(
        base_url=tenant.source_base_url,
        client_id=creds.get("client_id"),
        client_secret=creds.get("client_secret"),
        refresh_token=creds.get("refresh_token"),
        timezone=tenant.timezone,
        employee_number_system=tenant.mapping.employee_number_system,
    )


ENGINE_TTL_S = 300.0
_engines: dict[str, tuple[float, Engine]] = {}


def engine_for(tenant: Tenant, plugin: Plugin) -> Engine:
    """The sync engine for a tenant's account in one target, reused by a warm container for a few minutes (its
    HTTP sessions, tokens and resolved references) until the tenant's settings change."""
    key = hashlib.sha256(f"{plugin.name}|{tenant.model_dump_json()}".encode()).hexdigest()
    cached = _engines.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    from ledgerbridge.sync.engine import Engine

    engine = Engine(
        tenant=tenant,
        platform=platform_for(tenant),
        target=plugin.open(tenant),
        documents=plugin.documents_of(tenant),
        target_label=plugin.label,
    )
    if len(_engines) > 64:
        _engines.clear()
    _engines[key] = (time.monotonic() + ENGINE_TTL_S, engine)
    return engine


def reset() -> None:
    """Forget cached engines (tests start new sandboxes between cases)."""
    _engines.clear()
