"""Tenant configurations and tenant API credentials (stored hashed, compared in constant time)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

from boto3.dynamodb.conditions import Attr

from ledgerbridge.errors import NotFound
from ledgerbridge.state import keys
from ledgerbridge.state.table import get, state
from ledgerbridge.tenants import Tenant

CREDENTIAL_PREFIX = "lbk"


def _pk(tenant_id: str) -> str:
    return keys.tenant_pk(tenant_id)


def load(tenant_id: str) -> Tenant:
    item = get(_pk(tenant_id), "CONFIG")
    if item is None:
        raise NotFound(f"unknown tenant {tenant_id!r}")
    return Tenant.model_validate_json(item["config"])


def save(tenant: Tenant) -> None:
    state().put_item(
        Item={
            "pk": _pk(tenant.tenant_id),
            "sk": "CONFIG",
            "config": tenant.model_dump_json(),
            "updated": datetime.now(UTC).isoformat(),
        }
    )


def all_tenants() -> Iterator[Tenant]:
    """Every tenant, for the schedulers. A scan is fine at thousands of tenants, run every few minutes."""
    kwargs: dict[str, object] = {"FilterExpression": Attr("sk").eq("CONFIG")}
    while True:
        resp = state().scan(**kwargs)
        for item in resp.get("Items", []):
            yield Tenant.model_validate_json(item["config"])
        if "LastEvaluatedKey" not in resp:
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_credential(tenant_id: str, purpose: str = "files") -> str:
    """Create a credential; the plain value is returned once and only its hash is stored."""
    key_id = secrets.token_hex(4)
    secret = secrets.token_hex(32)  # hex: no "_" to confuse the split below
    state().put_item(
        Item={
            "pk": _pk(tenant_id),
            "sk": f"CRED#{key_id}",
            "digest": _digest(secret),
            "purpose": purpose,
            "created": datetime.now(UTC).isoformat(),
        }
    )
    return f"{CREDENTIAL_PREFIX}_{tenant_id}_{key_id}_{secret}"


def check_credential(tenant_id: str, presented: str, purpose: str) -> bool:
    """True only for a credential of this tenant and purpose; a foreign tenant's credential is refused."""
    parts = presented.split("_")
    if len(parts) < 4 or parts[0] != CREDENTIAL_PREFIX:
        return False
    key_id, secret = parts[-2], parts[-1]
    owner = "_".join(parts[1:-2])
    if owner != tenant_id:
        return False
    item = get(_pk(tenant_id), f"CRED#{key_id}")
    if item is None or item.get("purpose") != purpose:
        return False
    return hmac.compare_digest(item["digest"], _digest(secret))
