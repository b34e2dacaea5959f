"""Connecting a tenant's QuickBooks Online company: the OAuth 2.0 authorization-code flow (Intuit: OAuth 2.0),
disconnect, and the connection status.

The `state` parameter binds the consent round trip to the tenant: `{tenant}.{nonce}.{mac}`, where mac is an
HMAC-SHA256 over tenant and nonce keyed from the app's client secret. The nonce is stored (state.keys.oauth_state,
10-minute TTL, with the redirect URI used) and deleted under a condition when the
callback consumes it, so a forged state fails the MAC and a replayed one finds nothing: both are refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ledgerbridge import admin
from ledgerbridge.errors import InvalidInput, LedgerBridgeError, PermanentError, TransientError
from ledgerbridge.state import keys
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.state.table import is_conditional_failure, live, state, ttl_in
from ledgerbridge.targets.base import Connection as TargetConnection
from ledgerbridge.targets.base import ConnectionStatus
from ledgerbridge.targets.qbo import connection
from ledgerbridge.targets.qbo.connection import Connection
from ledgerbridge.targets.qbo.settings import QboSettings
from ledgerbridge.targets.qbo.tokens import InvalidGrant, OAuthClient, QboTokens, SecretsManagerTokenStore
from ledgerbridge.tenants import secret_name

STATE_TTL_S = 600  # the consent screen has ten minutes
CALLBACK_PATH = "/oauth/qbo/callback"
_STATE_CONTEXT = b"ledgerbridge/qbo/oauth-state/v1"


class RealmTaken(LedgerBridgeError):
    """The QuickBooks company is connected to another tenant (webhooks could not tell them apart)."""


@dataclass(frozen=True)
class Status:
    tenant_id: str
    status: connection.Status
    realm_id: str = ""
    connected_at: str = ""
    reason: str = ""
    refresh_token_expires_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _key(oauth: OAuthClient) -> bytes:
    secret = oauth.credentials.client_secret
    if not secret:
        raise PermanentError(
            "the QuickBooks app keys are not configured", code="not_configured", hint="fill in the QBO app secret"
        )
    return hmac.new(secret.encode(), _STATE_CONTEXT, hashlib.sha256).digest()


def _mac(key: bytes, tenant_id: str, nonce: str) -> str:
    digest = hmac.new(key, f"{tenant_id}.{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def begin(tenant_id: str, request_redirect_uri: str, oauth: OAuthClient | None = None) -> str:
    """Intuit's authorize URL for this tenant. The app secret's redirect_uri wins over the one derived from
    the request (Intuit only redirects to registered URIs, so a deployment pins it)."""
    oauth = oauth or OAuthClient.from_config()
    redirect_uri = oauth.credentials.redirect_uri or request_redirect_uri
    nonce = secrets.token_urlsafe(24)
    value = f"{tenant_id}.{nonce}.{_mac(_key(oauth), tenant_id, nonce)}"
    state().put_item(
        Item={
            **keys.oauth_state(tenant_id, nonce),
            "redirect_uri": redirect_uri,
            "created": datetime.now(UTC).isoformat(),
            "ttl": ttl_in(STATE_TTL_S),
        }
    )
    return oauth.authorization_url(value, redirect_uri)


def _consume(state_value: str, oauth: OAuthClient) -> tuple[str, str]:
    """(tenant id, redirect URI) of a genuine, unused, unexpired state; InvalidInput otherwise."""
    tenant_id, _, rest = state_value.partition(".")
    nonce, _, mac = rest.partition(".")
    if not (tenant_id and nonce and mac) or not hmac.compare_digest(mac, _mac(_key(oauth), tenant_id, nonce)):
        raise InvalidInput("the state parameter is not one LedgerBridge issued", "state")
    try:
        old = state().delete_item(
            Key=keys.oauth_state(tenant_id, nonce),
            ConditionExpression="attribute_exists(pk)",
            ReturnValues="ALL_OLD",
        )
    except ClientError as exc:
        if is_conditional_failure(exc):
            raise InvalidInput("this connect link was already used; start again from LedgerBridge", "state") from exc
        raise
    item = live(old.get("Attributes"))
    if item is None:
        raise InvalidInput("this connect link has expired; start again from LedgerBridge", "state")
    return tenant_id, str(item["redirect_uri"])


def complete(
    state_value: str, code: str, realm_id: str, error: str = "", oauth: OAuthClient | None = None
) -> Connection:
    """The OAuth callback: check the state, exchange the code, store tokens and realm, mark connected."""
    oauth = oauth or OAuthClient.from_config()
    tenant_id, redirect_uri = _consume(state_value, oauth)
    if error:
        raise InvalidInput(f"QuickBooks did not grant access ({error})", "error")
    if not code or not realm_id.isdigit():
        raise InvalidInput("the callback needs a code and a numeric realmId", "code" if not code else "realmId")
    owner = connection.tenant_for_realm(realm_id)
    if owner is not None and owner != tenant_id:
        other = connection.load(owner)
        if other is not None and other.status != "disconnected" and other.realm_id == realm_id:
            raise RealmTaken(f"QuickBooks company {realm_id} is connected to another LedgerBridge tenant")
    try:
        QboTokens(SecretsManagerTokenStore(tenant_id), oauth).connect(code, realm_id, redirect_uri)
    except InvalidGrant as exc:
        raise InvalidInput("QuickBooks refused the authorization code (expired or already used)", "code") from exc
    previous = connection.load(tenant_id)
    if previous is not None and previous.realm_id and previous.realm_id != realm_id:
        connection.unlink_realm(previous.realm_id, tenant_id)
    _set_realm(tenant_id, realm_id)
    connection.link_realm(realm_id, tenant_id)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return connection.save(Connection(tenant_id, "connected", realm_id, connected_at=now))


def _set_realm(tenant_id: str, realm_id: str) -> None:
    """The tenant's qbo integration gets the realm (created with payments on if the tenant had none)."""
    tenant = tenant_store.load(tenant_id)
    integrations = list(tenant.integrations)
    index = next((i for i, s in enumerate(integrations) if s.target == "qbo"), None)
    name = secret_name(tenant_id, "qbo")
    if index is None:
        integrations.append(
            QboSettings(entities=["invoice", "customer", "payment"], secret_name=name, realm_id=realm_id)
        )
    else:
        integrations[index] = integrations[index].model_copy(update={"realm_id": realm_id, "secret_name": name})
    admin.update_tenant(tenant_id, {"integrations": [i.model_dump() for i in integrations]})


def disconnect(tenant_id: str, oauth: OAuthClient | None = None) -> tuple[Connection, bool]:
    """Revoke the grant at Intuit (best effort) and mark the tenant disconnected. Returns (status, revoked)."""
    tenant_store.load(tenant_id)
    current = connection.load(tenant_id)
    tokens = SecretsManagerTokenStore(tenant_id).load()
    revoked = False
    if tokens is not None:
        try:
            (oauth or OAuthClient.from_config()).revoke(tokens.refresh_token)
            revoked = True
        except (TransientError, PermanentError):
            revoked = False  # the local disconnect still happens; the grant dies with its refresh token
    realm_id = current.realm_id if current else (tokens.realm_id if tokens else "")
    if realm_id:
        connection.unlink_realm(realm_id, tenant_id)
    _clear_realm(tenant_id)
    stored = connection.save(
        Connection(tenant_id, "disconnected", realm_id, connected_at="", reason="disconnected in LedgerBridge")
    )
    return stored, revoked


def _clear_realm(tenant_id: str) -> None:
    tenant = tenant_store.load(tenant_id)
    if any(isinstance(i, QboSettings) and i.realm_id for i in tenant.integrations):
        integrations = [i.model_copy(update={"realm_id": ""}) if i.target == "qbo" else i for i in tenant.integrations]
        admin.update_tenant(tenant_id, {"integrations": [i.model_dump() for i in integrations]})


def status(tenant_id: str, now: float | None = None) -> Status:
    """connected | disconnected | reconnect_required (also when the stored refresh token has run out)."""
    tenant_store.load(tenant_id)
    current = connection.load(tenant_id)
    if current is None:
        return Status(tenant_id, "disconnected")
    expires = ""
    verdict: connection.Status = current.status
    reason = current.reason
    if current.status == "connected":
        tokens = SecretsManagerTokenStore(tenant_id).load()
        if tokens is not None and tokens.refresh_expires_at:
            expires = datetime.fromtimestamp(tokens.refresh_expires_at, UTC).isoformat(timespec="seconds")
            if tokens.refresh_expires_at <= (now or datetime.now(UTC).timestamp()):
                verdict, reason = "reconnect_required", "the QuickBooks refresh token has expired"
    return Status(tenant_id, verdict, current.realm_id, current.connected_at, reason, expires)


def _status(found: Connection | Status) -> ConnectionStatus:
    detail = {"refresh_token_expires_at": found.refresh_token_expires_at} if isinstance(found, Status) else {}
    return ConnectionStatus(
        found.tenant_id,
        found.status,
        found.realm_id,
        found.connected_at,
        found.reason,
        {k: v for k, v in detail.items() if v},
    )


class QboConnection:
    """The OAuth flow above as the plug-in's Connection (targets.base): the account is the realm id."""

    def begin(self, tenant_id: str, redirect_uri: str) -> str:
        return begin(tenant_id, redirect_uri)

    def complete(self, params: Mapping[str, str]) -> ConnectionStatus:
        state_value = params.get("state", "")
        return _status(
            complete(state_value, params.get("code", ""), params.get("realmId", ""), params.get("error", ""))
        )

    def disconnect(self, tenant_id: str) -> ConnectionStatus:
        done, revoked = disconnect(tenant_id)
        found = _status(done)
        return replace(found, detail={**found.detail, "revoked": str(revoked).lower()})

    def status(self, tenant_id: str) -> ConnectionStatus:
        return _status(status(tenant_id))


def _conforms(flow: QboConnection) -> TargetConnection:
    return flow  # mypy checks here that QboConnection satisfies the Connection protocol
