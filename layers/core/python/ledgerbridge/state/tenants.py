"""Tenant configurations and tenant credentials (stored hashed, compared in constant time).

TENANT#{t} | CONFIG           the tenant's settings
TENANT#{t} | CRED#{key_id}    a credential: sha256 digest, purpose, scopes, created, ttl (when it expires)
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from boto3.dynamodb.conditions import Attr
from botocore.exceptions import ClientError

from ledgerbridge.errors import NotFound, UnknownTenant
from ledgerbridge.secure import same
from ledgerbridge.state import keys
from ledgerbridge.state.table import forget, get, get_warm, is_conditional_failure, query, state, ttl_in
from ledgerbridge.tenants import Tenant

CREDENTIAL_PREFIX = "lbk"
Purpose = Literal[
    "files", "webhook", "connector", "console"
]  # API bearer; hook token; the password a target's own connector signs in with; console sign-in
# What an API bearer may do: download/confirm files, save layouts, connect a target account (its connect flow).
Scope = Literal["files", "layouts", "connect"]
SCOPES: tuple[Scope, ...] = ("connect", "files", "layouts")
# How long the webhook intake trusts a tenant's config and credential digests read by this container: a
# revocation or a config change reaches every container within it (this one at once).
WARM_S = 30.0


def _read(pk: str, sk: str, max_age_s: float) -> dict[str, Any] | None:
    return get_warm(pk, sk, max_age_s) if max_age_s else get(pk, sk)


def _pk(tenant_id: str) -> str:
    return keys.tenant_pk(tenant_id)


def load(tenant_id: str, max_age_s: float = 0) -> Tenant:
    """The tenant's config; with `max_age_s`, a copy this container read at most that long ago may do."""
    item = _read(_pk(tenant_id), "CONFIG", max_age_s)
    if item is None:
        raise UnknownTenant(f"unknown tenant {tenant_id!r}")
    return Tenant.model_validate_json(item["config"])


def save(tenant: Tenant) -> None:
    forget(_pk(tenant.tenant_id), "CONFIG")
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
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Credential:
    """What is stored about a credential (never its value): its id, purpose, API scopes and lifetime."""

    key_id: str
    purpose: Purpose
    scopes: tuple[Scope, ...]
    created: str
    expires_at: str = ""

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "scopes": list(self.scopes)}


def _credential(item: dict[str, Any]) -> Credential:
    ttl = item.get("ttl")
    return Credential(
        key_id=str(item["sk"]).removeprefix("CRED#"),
        purpose=item["purpose"],
        scopes=tuple(item.get("scopes") or (SCOPES if item["purpose"] == "files" else ())),
        created=str(item.get("created", "")),
        expires_at=datetime.fromtimestamp(int(ttl), UTC).isoformat(timespec="seconds") if ttl is not None else "",
    )


def issue_credential(
    tenant_id: str, purpose: Purpose = "files", scopes: Sequence[Scope] = SCOPES, expires_in_s: int | None = None
) -> str:
    """Create a credential; the plain value is returned once and only its hash is stored. A `files`
    credential (the API bearer) carries scopes; an expiring one is refused once `expires_in_s` has passed
    (and DynamoDB's TTL deletes it later)."""
    key_id = secrets.token_hex(4)
    secret = secrets.token_hex(32)  # hex: no "_" to confuse the split below
    item: dict[str, Any] = {
        "pk": _pk(tenant_id),
        "sk": f"CRED#{key_id}",
        "digest": _digest(secret),
        "purpose": purpose,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if purpose == "files":
        item["scopes"] = sorted(set(scopes))
    if expires_in_s is not None:
        item["ttl"] = ttl_in(expires_in_s)
    state().put_item(Item=item)
    return f"{CREDENTIAL_PREFIX}_{tenant_id}_{key_id}_{secret}"


def credentials(tenant_id: str) -> list[Credential]:
    """The tenant's live credentials, without their values."""
    return [_credential(item) for item in query(_pk(tenant_id), "CRED#")]


def revoke_credential(tenant_id: str, key_id: str) -> None:
    """Delete a credential at once; NotFound if the tenant has no credential with that id."""
    forget(_pk(tenant_id), f"CRED#{key_id}")
    try:
        state().delete_item(
            Key={"pk": _pk(tenant_id), "sk": f"CRED#{key_id}"}, ConditionExpression="attribute_exists(pk)"
        )
    except ClientError as exc:
        if is_conditional_failure(exc):
            raise NotFound(f"tenant {tenant_id!r} has no credential {key_id!r}") from None
        raise


def find_credential(tenant_id: str, presented: str, purpose: Purpose, max_age_s: float = 0) -> Credential | None:
    """The live credential of this tenant and purpose that `presented` is, or None: a foreign tenant's, an
    expired, a revoked or a wrong one is refused alike."""
    parts = presented.split("_")
    if len(parts) < 4 or parts[0] != CREDENTIAL_PREFIX:
        return None
    key_id, secret = parts[-2], parts[-1]
    owner = "_".join(parts[1:-2])
    if owner != tenant_id:
        return None
    item = _read(_pk(tenant_id), f"CRED#{key_id}", max_age_s)
    if item is None or item.get("purpose") != purpose or not same(item["digest"], _digest(secret)):
        return None
    return _credential(item)


def check_credential(
    tenant_id: str, presented: str, purpose: Purpose, scope: Scope | None = None, max_age_s: float = 0
) -> bool:
    """True only for a live credential of this tenant and purpose (and, for the API, holding `scope`)."""
    found = find_credential(tenant_id, presented, purpose, max_age_s)
    return found is not None and (scope is None or scope in found.scopes)
