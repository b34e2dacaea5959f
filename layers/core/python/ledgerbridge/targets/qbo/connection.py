"""Where a tenant's QuickBooks connection stands, and which tenant a QBO company (realm) belongs to.

  keys.connection(t, "qbo")         status (connected | disconnected | reconnect_required), realm, times, reason
  keys.account_tenant("qbo", realm) the tenant connected to that company (Intuit's webhooks name only the realm)

Written by the OAuth callback and disconnect (targets.qbo.connect) and by QboClient when QuickBooks refuses
the connection (AuthorizationRevoked: the refresh token expired or was revoked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from botocore.exceptions import ClientError

from ledgerbridge.errors import AuthorizationRevoked
from ledgerbridge.observability import logger as log  # Powertools: JSON, correlation keys
from ledgerbridge.state import keys
from ledgerbridge.state.table import get, is_conditional_failure, state

Status = Literal["connected", "disconnected", "reconnect_required"]
TARGET = "qbo"


@dataclass(frozen=True)
class Connection:
    tenant_id: str
    status: Status
    realm_id: str = ""
    connected_at: str = ""  # ISO-8601 UTC
    updated_at: str = ""
    reason: str = ""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def load(tenant_id: str) -> Connection | None:
    key = keys.connection(tenant_id, TARGET)
    item = get(key["pk"], key["sk"])
    if item is None:
        return None
    return Connection(
        tenant_id=tenant_id,
        status=item["status"],
        realm_id=item.get("realm_id", ""),
        connected_at=item.get("connected_at", ""),
        updated_at=item.get("updated_at", ""),
        reason=item.get("reason", ""),
    )


def save(connection: Connection) -> Connection:
    stored = Connection(**{**connection.__dict__, "updated_at": _now()})
    state().put_item(Item={**keys.connection(connection.tenant_id, TARGET), **stored.__dict__})
    return stored


def mark_reconnect_required(tenant_id: str, reason: str) -> None:
    """QuickBooks refused the connection. A tenant that disconnected on purpose stays disconnected."""
    try:
        state().update_item(
            Key=keys.connection(tenant_id, TARGET),
            UpdateExpression="SET #s = :rr, reason = :why, updated_at = :at",
            ConditionExpression="attribute_exists(pk) AND #s = :connected",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":rr": "reconnect_required",
                ":why": reason[:500],
                ":at": _now(),
                ":connected": "connected",
            },
        )
    except ClientError as exc:
        if not is_conditional_failure(exc):
            raise
        return
    log.warning("qbo connection of %s needs a reconnect: %s", tenant_id, reason[:200])


@dataclass(frozen=True)
class RevokedHook:
    """QboClient(on_revoked=...) for one tenant."""

    tenant_id: str

    def __call__(self, exc: AuthorizationRevoked) -> None:
        if exc.code == "not_connected":
            return  # nothing stored yet: the status is already "disconnected"
        mark_reconnect_required(self.tenant_id, f"{exc} (code {exc.code})" if exc.code else str(exc))


# -- realm -> tenant --------------------------------------------------------------------------------------


def tenant_for_realm(realm_id: str) -> str | None:
    key = keys.account_tenant(TARGET, realm_id)
    item = get(key["pk"], key["sk"])
    return None if item is None else str(item["tenant_id"])


def link_realm(realm_id: str, tenant_id: str) -> None:
    state().put_item(Item={**keys.account_tenant(TARGET, realm_id), "tenant_id": tenant_id, "linked_at": _now()})


def unlink_realm(realm_id: str, tenant_id: str) -> None:
    """Remove the index entry if it still names this tenant (a newer connection of another tenant stays)."""
    try:
        state().delete_item(
            Key=keys.account_tenant(TARGET, realm_id),
            ConditionExpression="tenant_id = :t",
            ExpressionAttributeValues={":t": tenant_id},
        )
    except ClientError as exc:
        if not is_conditional_failure(exc):
            raise
