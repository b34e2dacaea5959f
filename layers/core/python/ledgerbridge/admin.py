"""Tenant administration: create, show and update a tenant, its secrets and its credentials.

Used by the IAM-authorized admin routes and by the `ledgerbridge tenant` CLI (which talks to whatever AWS
the environment points at: the local stack's moto or a real account)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ledgerbridge import secrets
from ledgerbridge.errors import InvalidInput, NotFound
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.targets import registry
from ledgerbridge.targets.base import Plugin
from ledgerbridge.targets.registry import TargetName
from ledgerbridge.tenants import Tenant, secret_name

SECRET_PURPOSES = ("servicetrade", "webhook_hmac")  # besides one per target, named after it


class TenantSecrets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    servicetrade: dict[str, str] | None = Field(
        default=None, description="client_id + client_secret, or refresh_token, of the platform account"
    )
    webhook_hmac: str | None = Field(default=None, min_length=1)  # Secrets Manager refuses an empty secret
    targets: dict[TargetName, dict[str, str]] = Field(
        default_factory=dict, description="target name -> its credentials (the keys its plug-in documents)"
    )


class CreatedTenant(BaseModel):
    tenant: Tenant
    webhook_token: str
    files_credential: str


def store_secrets(tenant: Tenant, values: TenantSecrets) -> Tenant:
    updates: dict[str, Any] = {}
    chosen: dict[str, str | dict[str, str] | None] = {p: getattr(values, p) for p in SECRET_PURPOSES}
    for purpose, value in {**chosen, **values.targets}.items():
        if value is None:
            continue
        name = secret_name(tenant.tenant_id, purpose)
        if isinstance(value, str):
            secrets.write_text(name, value)
        else:
            secrets.write_json(name, value)
        if purpose == "servicetrade":
            updates["source_secret_name"] = name
        if purpose == "webhook_hmac":
            updates["webhook_signature_required"] = True
    if not updates:
        return tenant
    return tenant.model_copy(update=updates)


def create_tenant(tenant: Tenant, values: TenantSecrets | None = None) -> CreatedTenant:
    try:
        tenant_store.load(tenant.tenant_id)
    except NotFound:
        pass
    else:
        raise InvalidInput(f"tenant {tenant.tenant_id!r} already exists; update it instead", "tenant_id")
    tenant = store_secrets(tenant, values or TenantSecrets())
    tenant_store.save(tenant)
    return CreatedTenant(
        tenant=tenant,
        webhook_token=tenant_store.issue_credential(tenant.tenant_id, "webhook"),
        files_credential=tenant_store.issue_credential(tenant.tenant_id, "files"),
    )


def update_tenant(tenant_id: str, changes: dict[str, Any], values: TenantSecrets | None = None) -> Tenant:
    """Apply a partial update (top-level keys replace) and re-validate the whole tenant."""
    current = tenant_store.load(tenant_id)
    if changes.get("tenant_id", tenant_id) != tenant_id:
        raise InvalidInput("tenant_id cannot change", "tenant_id")
    merged = Tenant.model_validate({**current.model_dump(), **changes})
    merged = store_secrets(merged, values or TenantSecrets())
    tenant_store.save(merged)
    return merged


def integration_plugin(tenant: Tenant, target: str = "") -> Plugin:
    """The plug-in of one of the tenant's enabled integrations: `target`, or the first one that is built."""
    for integration in tenant.integrations:
        if integration.enabled and (integration.target == target or not target):
            found = registry.get(integration.target)
            if found is not None:
                return found
    wanted = f"{target} integration" if target else "integration with a target this release can sync"
    raise InvalidInput(f"tenant {tenant.tenant_id!r} has no enabled {wanted}", "target")


class CredentialRequest(BaseModel):
    """A new credential: `files` is the API bearer (its scopes say which routes it opens), `webhook` the hook
    token, `connector` the password a target's own connector signs in with (a desktop target's). Without
    `expires_in_days` it lives until revoked."""

    model_config = ConfigDict(extra="forbid")
    purpose: tenant_store.Purpose
    scopes: list[tenant_store.Scope] = Field(default_factory=lambda: list(tenant_store.SCOPES), min_length=1)
    expires_in_days: int | None = Field(default=None, ge=1, le=3660)


def issue_credential(tenant_id: str, request: CredentialRequest) -> str:
    tenant_store.load(tenant_id)
    if request.purpose != "files" and request.scopes != list(tenant_store.SCOPES):
        raise InvalidInput("scopes apply to files (API) credentials only", "scopes")
    expires_in_s = request.expires_in_days * 86_400 if request.expires_in_days else None
    return tenant_store.issue_credential(tenant_id, request.purpose, request.scopes, expires_in_s)


def credentials(tenant_id: str) -> list[tenant_store.Credential]:
    tenant_store.load(tenant_id)
    return tenant_store.credentials(tenant_id)


def revoke_credential(tenant_id: str, key_id: str) -> None:
    tenant_store.load(tenant_id)
    tenant_store.revoke_credential(tenant_id, key_id)
