"""Connecting a tenant's QuickBooks Online company: the OAuth 2.0 authorization-code flow (Intuit's
"OAuth 2.0" guide for QuickBooks Online), disconnect, and the connection status.

The `state` parameter binds the consent round trip to the tenant: `{tenant}.{nonce}.{mac}`, where mac is an
HMAC-SHA256 over tenant and nonce keyed from the app's client secret. The nonce is stored (state.keys.oauth_state,
10-minute TTL, with the redirect URI used) and deleted under a condition when the
callback consumes it, so a forged state fails the MAC and a replayed one finds nothing: both are refused.

A consent started from the console also stores where to send the browser back (`return_to`): only this API's
own console Overview path is accepted, when stored and again before redirecting, so the callback can never
become an open redirect (OWASP, Unvalidated Redirects and Forwards). API-started flows get JSON as before.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ledgerbridge import admin
from ledgerbridge.errors import AuthorizationRevoked, InvalidInput, LedgerBridgeError, PermanentError, TransientError
from ledgerbridge.secure import same
from ledgerbridge.state import keys
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.state.table import is_conditional_failure, live, state, ttl_in
from ledgerbridge.targets.base import Connection as TargetConnection
from ledgerbridge.targets.base import ConnectionStatus
from ledgerbridge.targets.qbo import connection
from ledgerbridge.targets.qbo.client import QboClient
from ledgerbridge.targets.qbo.connection import Connection
from ledgerbridge.targets.qbo.settings import QboSettings, qbo_environment
from ledgerbridge.targets.qbo.tokens import InvalidGrant, OAuthClient, QboTokens, SecretsManagerTokenStore, TokenGrant
from ledgerbridge.tenants import secret_name

STATE_TTL_S = 600  # the consent screen has ten minutes
CALLBACK_PATH = "/oauth/qbo/callback"
_STATE_CONTEXT = b"ledgerbridge/qbo/oauth-state/v1"
# The console's Overview, optionally behind an API Gateway stage: the only page a callback returns to.
RETURN_TO = re.compile(r"(/[A-Za-z0-9_-]{1,64})?/console/overview")


def safe_return_to(value: str) -> str:
    """`value` when it is the console's Overview path of this API, else "" (answer JSON)."""
    return value if RETURN_TO.fullmatch(value) else ""


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


def begin(tenant_id: str, request_redirect_uri: str, oauth: OAuthClient | None = None, return_to: str = "") -> str:
    """Intuit's authorize URL for this tenant. The app secret's redirect_uri wins over the one derived from
    the request (Intuit only redirects to registered URIs, so a deployment pins it). `return_to`: the console
    page the callback redirects to; anything but the console's Overview path is refused."""
    if return_to and not safe_return_to(return_to):
        raise InvalidInput("return_to must be the console's Overview path", "return_to")
    oauth = oauth or OAuthClient.from_config()
    redirect_uri = oauth.credentials.redirect_uri or request_redirect_uri
    nonce = secrets.token_urlsafe(24)
    value = f"{tenant_id}.{nonce}.{_mac(_key(oauth), tenant_id, nonce)}"
    state().put_item(
        Item={
            **keys.oauth_state(tenant_id, nonce),
            "redirect_uri": redirect_uri,
            "return_to": return_to,
            "created": datetime.now(UTC).isoformat(),
            "ttl": ttl_in(STATE_TTL_S),
        }
    )
    return oauth.authorization_url(value, redirect_uri)


def _consume(state_value: str, oauth: OAuthClient) -> tuple[str, str, str]:
    """(tenant id, redirect URI, return_to) of a genuine, unused, unexpired state; InvalidInput otherwise."""
    tenant_id, _, rest = state_value.partition(".")
    nonce, _, mac = rest.partition(".")
    if not (tenant_id and nonce and mac) or not same(mac, _mac(_key(oauth), tenant_id, nonce)):
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
    return tenant_id, str(item["redirect_uri"]), safe_return_to(str(item.get("return_to") or ""))


def complete(
    state_value: str, code: str, realm_id: str, error: str = "", oauth: OAuthClient | None = None
) -> Connection:
    """The OAuth callback: check the state, exchange the code, prove the new token opens `realm_id` (the query
    parameter alone proves nothing: anyone can edit it), and only then link realm and tenant. Every failure
    before that point gets one answer, so the callback never tells whether a company is taken."""
    done, _ = finish(state_value, code, realm_id, error, oauth)
    if isinstance(done, LedgerBridgeError):
        raise done
    return done


def finish(
    state_value: str, code: str, realm_id: str, error: str = "", oauth: OAuthClient | None = None
) -> tuple[Connection | LedgerBridgeError, str]:
    """`complete`, and the console page to return to ("" = answer JSON). For a flow started from the console, a
    refusal after the state was consumed is returned rather than raised, so the console can say what happened;
    a state that is not genuine is always raised (nobody to return to)."""
    oauth = oauth or OAuthClient.from_config()
    tenant_id, redirect_uri, return_to = _consume(state_value, oauth)
    try:
        return _connect(tenant_id, redirect_uri, code, realm_id, error, oauth), return_to
    except LedgerBridgeError as exc:
        if not return_to:
            raise
        return exc, return_to


def _connect(tenant_id: str, redirect_uri: str, code: str, realm_id: str, error: str, oauth: OAuthClient) -> Connection:
    if error:
        raise InvalidInput(f"QuickBooks did not grant access ({error})", "error")
    if not code or not realm_id.isdigit():
        raise InvalidInput("the callback needs a code and a numeric realmId", "code" if not code else "realmId")
    try:
        grant = oauth.exchange_code(code, redirect_uri)
    except InvalidGrant as exc:
        raise InvalidInput(UNCONFIRMED, "code") from exc
    if not _opens_realm(grant, realm_id):
        _revoke_quietly(oauth, grant)
        raise InvalidInput(UNCONFIRMED, "realmId")
    owner = connection.tenant_for_realm(realm_id)
    if owner is not None and owner != tenant_id:
        other = connection.load(owner)
        if other is not None and other.status != "disconnected" and other.realm_id == realm_id:
            _revoke_quietly(oauth, grant)  # the caller proved they administer this company: it may be told
            raise RealmTaken(f"QuickBooks company {realm_id} is connected to another LedgerBridge tenant")
    QboTokens(SecretsManagerTokenStore(tenant_id), oauth).store_grant(grant, realm_id)
    previous = connection.load(tenant_id)
    if previous is not None and previous.realm_id and previous.realm_id != realm_id:
        connection.unlink_realm(previous.realm_id, tenant_id)
    _set_realm(tenant_id, realm_id)
    connection.link_realm(realm_id, tenant_id)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    return connection.save(Connection(tenant_id, "connected", realm_id, connected_at=now))


UNCONFIRMED = "QuickBooks did not confirm this connection; start again from LedgerBridge"


class _GrantToken:
    """The just-exchanged access token, for one read; no refresh (a refused token means no connection)."""

    def __init__(self, grant: TokenGrant) -> None:
        self._token = grant.access_token

    def access_token(self) -> str:
        return self._token

    def refresh_after_unauthorized(self, rejected: str) -> str:
        raise AuthorizationRevoked("the new QuickBooks token was refused")


def _opens_realm(grant: TokenGrant, realm_id: str) -> bool:
    """Read the company's CompanyInfo with the new token: Intuit answers it only for the company the user
    consented for (a token of another company gets an authorization fault)."""
    client = QboClient(realm_id, qbo_environment().qbo_api_base_url, _GrantToken(grant), max_retries=0)
    try:
        info = client.read("CompanyInfo", realm_id)
    except PermanentError:
        return False
    return str(info.get("Id", "")) == realm_id


def _revoke_quietly(oauth: OAuthClient, grant: TokenGrant) -> None:
    with contextlib.suppress(TransientError, PermanentError):  # an unused grant dies with its refresh token too
        oauth.revoke(grant.refresh_token)


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

    def begin(self, tenant_id: str, redirect_uri: str, return_to: str = "") -> str:
        return begin(tenant_id, redirect_uri, return_to=return_to)

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
