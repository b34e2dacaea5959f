"""Console sign-in: a tenant credential (purpose `console`) or a one-time link is exchanged for a session.

  TENANT#{t} | CONSOLE#SESSION#{sha256}   a session: expires 30 min after sign-in (DynamoDB TTL removes it)
  TENANT#{t} | CONSOLE#LINK#{sha256}      a one-time sign-in link: 15 min, deleted when it is used

Only hashes are stored. The cookie holds "{tenant_id}.{secret}" and is HttpOnly, Secure, SameSite=Strict
(OWASP Session Management Cheat Sheet); forms carry a CSRF token derived from the session secret
(the synchronizer-token pattern, OWASP CSRF Prevention Cheat Sheet), so nothing else needs storing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from ledgerbridge.state import keys
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.state.table import get, is_conditional_failure, state
from ledgerbridge.tenants import TENANT_ID_PATTERN

COOKIE = "lb_console"
PURPOSE = "console"
SESSION_TTL_S = 30 * 60
LINK_TTL_S = 15 * 60


@dataclass(frozen=True)
class Session:
    tenant_id: str
    secret: str
    expires: int

    @property
    def cookie_value(self) -> str:
        return f"{self.tenant_id}.{self.secret}"

    @property
    def csrf(self) -> str:
        return hmac.new(self.secret.encode(), b"console-csrf", hashlib.sha256).hexdigest()[:40]

    def csrf_ok(self, presented: str) -> bool:
        return hmac.compare_digest(self.csrf, presented or "")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _split(value: str) -> tuple[str, str] | None:
    tenant_id, _, secret = value.partition(".")
    if not secret or not re.fullmatch(TENANT_ID_PATTERN, tenant_id) or len(secret) > 100:
        return None
    return tenant_id, secret


def credential_owner(credential: str) -> str:
    """The tenant a credential names (lbk_{tenant}_{key}_{secret}); "" when it is not one."""
    parts = credential.strip().split("_")
    return "_".join(parts[1:-2]) if len(parts) >= 4 and parts[0] == tenant_store.CREDENTIAL_PREFIX else ""


def _start(tenant_id: str) -> Session:
    session = Session(tenant_id, secrets.token_urlsafe(32), int(time.time()) + SESSION_TTL_S)
    state().put_item(
        Item={
            **keys.console_session(tenant_id, _digest(session.secret)),
            "expires": session.expires,
            "ttl": session.expires,
        }
    )
    return session


def sign_in(credential: str) -> Session | None:
    """A session for the credential's tenant, or None (unknown tenant, wrong or foreign credential alike)."""
    tenant_id = credential_owner(credential)
    if not tenant_id or not tenant_store.check_credential(tenant_id, credential.strip(), PURPOSE):
        return None
    return _start(tenant_id)


def issue_link(tenant_id: str) -> str:
    """A one-time sign-in token for ?token=; the plain value is returned once."""
    tenant_store.load(tenant_id)
    secret = secrets.token_urlsafe(32)
    expires = int(time.time()) + LINK_TTL_S
    state().put_item(Item={**keys.console_link(tenant_id, _digest(secret)), "expires": expires, "ttl": expires})
    return f"{tenant_id}.{secret}"


def redeem_link(token: str) -> Session | None:
    """Use a sign-in link: deleted on first use (conditionally, so two clicks cannot both succeed)."""
    parsed = _split(token)
    if parsed is None:
        return None
    tenant_id, secret = parsed
    try:
        resp = state().delete_item(
            Key=keys.console_link(tenant_id, _digest(secret)),
            ConditionExpression="attribute_exists(pk) AND expires > :now",
            ExpressionAttributeValues={":now": int(time.time())},
            ReturnValues="ALL_OLD",
        )
    except Exception as exc:
        if is_conditional_failure(exc):
            return None
        raise
    return _start(tenant_id) if resp.get("Attributes") else None


def current(cookie_header: str) -> Session | None:
    """The live session named by the request's cookie, or None."""
    try:
        jar = SimpleCookie(cookie_header or "")
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    parsed = _split(morsel.value) if morsel is not None else None
    if parsed is None:
        return None
    tenant_id, secret = parsed
    key = keys.console_session(tenant_id, _digest(secret))
    item = get(key["pk"], key["sk"])
    if item is None or int(item["expires"]) < time.time():
        return None
    return Session(tenant_id, secret, int(item["expires"]))


def sign_out(session: Session) -> None:
    state().delete_item(Key=keys.console_session(session.tenant_id, _digest(session.secret)))


def set_cookie(session: Session | None, path: str) -> str:
    """The Set-Cookie value: the session's, or an expired one that clears it."""
    if session is None:
        return f"{COOKIE}=; Path={path}; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
    max_age = max(0, session.expires - int(time.time()))
    return f"{COOKIE}={session.cookie_value}; Path={path}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
