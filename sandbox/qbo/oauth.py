"""Intuit's OAuth 2.0 as published (Intuit: OAuth 2.0): discovery document, consent (auto-approved here),
code and refresh grants with client_secret_basic or client_secret_post, refresh-token rotation, revoke."""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from sandbox.qbo.clock import Clock

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
SCOPES = [ACCOUNTING_SCOPE, "com.intuit.quickbooks.payment", "openid", "email", "profile", "address", "phone"]
FIVE_YEARS_S = 157_680_000  # 5-year absolute refresh-token validity (Intuit blog, 2025-11-12, refresh token policy)


@dataclass
class OAuthOptions:
    client_id: str = "sandbox-client-id"
    client_secret: str = "sandbox-client-secret"  # noqa: S105 (a sandbox, never deployed)
    redirect_uris: tuple[str, ...] = ()  # empty: any redirect URI is accepted
    access_token_ttl_s: int = 3600
    refresh_token_ttl_s: int = 100 * 24 * 3600  # rolling, extended on every use
    code_ttl_s: int = 300
    rotate_refresh_token: bool = True  # every refresh hands back a new refresh token value
    superseded_grace_s: float = 0.0  # how long a refresh token still works once used (0: single use)


@dataclass
class Grant:
    """One company connection: the chain of refresh tokens and the access tokens minted from it."""

    realm_id: str
    scope: str
    created_at: float
    revoked: bool = False
    current_refresh: str = ""
    refresh_expires_at: float = 0.0
    superseded: dict[str, float] = field(default_factory=dict)  # old refresh token -> when it was replaced


@dataclass
class AccessToken:
    grant: Grant
    expires_at: float


@dataclass
class TokenReply:
    status: int
    body: dict[str, Any]


def _error(status: int, error: str, description: str) -> TokenReply:
    return TokenReply(status, {"error": error, "error_description": description})


class OAuthServer:
    def __init__(self, options: OAuthOptions, clock: Clock) -> None:
        self.options = options
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, tuple[str, str, str, float]] = {}  # code -> realm, redirect_uri, scope, expiry
        self._grants_by_refresh: dict[str, Grant] = {}
        self._access: dict[str, AccessToken] = {}
        self.refresh_calls = 0

    # -- documents and consent ------------------------------------------------------------------------

    @staticmethod
    def discovery(base_url: str) -> dict[str, Any]:
        return {
            "issuer": f"{base_url}/op/v1",
            "authorization_endpoint": f"{base_url}/connect/oauth2",
            "token_endpoint": f"{base_url}/oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{base_url}/v1/openid_connect/userinfo",
            "revocation_endpoint": f"{base_url}/v2/oauth2/tokens/revoke",
            "jwks_uri": f"{base_url}/op/v1/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": SCOPES,
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }

    def authorize(self, args: dict[str, str], realm_id: str) -> tuple[str | None, str]:
        """Auto-consent. Returns (redirect URL, "") or (None, why the request is refused)."""
        redirect_uri = args.get("redirect_uri", "")
        if args.get("client_id") != self.options.client_id:
            return None, "invalid client_id"
        if not redirect_uri or (self.options.redirect_uris and redirect_uri not in self.options.redirect_uris):
            return None, "redirect_uri is not registered for this app"
        if args.get("response_type") != "code":
            return None, "response_type must be code"
        scope = args.get("scope", "")
        if ACCOUNTING_SCOPE not in scope.split():
            return None, f"scope must include {ACCOUNTING_SCOPE}"
        code = "AB" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = (realm_id, redirect_uri, scope, self._clock.now() + self.options.code_ttl_s)
        sep = "&" if "?" in redirect_uri else "?"
        query = urlencode({"code": code, "state": args.get("state", ""), "realmId": realm_id})
        return f"{redirect_uri}{sep}{query}", ""

    # -- token endpoint ---------------------------------------------------------------------------------

    def _client_ok(self, form: dict[str, str], authorization: str) -> bool:
        if authorization.lower().startswith("basic "):
            try:
                raw = base64.b64decode(authorization[6:].strip()).decode()
            except (ValueError, UnicodeDecodeError):
                return False
            client_id, _, client_secret = raw.partition(":")
            client_id, client_secret = unquote(client_id), unquote(client_secret)
        else:
            client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        return secrets.compare_digest(client_id, self.options.client_id) and secrets.compare_digest(
            client_secret, self.options.client_secret
        )

    def token(self, form: dict[str, str], authorization: str, hard_expiry: bool = False) -> TokenReply:
        if not self._client_ok(form, authorization):
            return _error(401, "invalid_client", "client authentication failed")
        grant_type = form.get("grant_type", "")
        with self._lock:
            if grant_type == "authorization_code":
                return self._exchange(form, hard_expiry)
            if grant_type == "refresh_token":
                return self._refresh(form.get("refresh_token", ""), hard_expiry)
        return _error(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    def _exchange(self, form: dict[str, str], hard_expiry: bool) -> TokenReply:
        entry = self._codes.pop(form.get("code", ""), None)
        if entry is None:
            return _error(400, "invalid_grant", "authorization code is invalid or was already used")
        realm_id, redirect_uri, scope, expires = entry
        if expires < self._clock.now():
            return _error(400, "invalid_grant", "authorization code expired")
        if form.get("redirect_uri") != redirect_uri:
            return _error(400, "invalid_grant", "redirect_uri does not match the authorization request")
        grant = Grant(realm_id=realm_id, scope=scope, created_at=self._clock.now())
        return self._mint(grant, hard_expiry)

    def _refresh(self, refresh_token: str, hard_expiry: bool) -> TokenReply:
        self.refresh_calls += 1
        grant = self._grants_by_refresh.get(refresh_token)
        now = self._clock.now()
        if grant is None or grant.revoked:
            return _error(400, "invalid_grant", "Incorrect or invalid refresh token")
        if now > grant.created_at + FIVE_YEARS_S or now > grant.refresh_expires_at:
            return _error(400, "invalid_grant", "The refresh token has expired")
        replaced_at = grant.superseded.get(refresh_token)
        if replaced_at is not None and now >= replaced_at + self.options.superseded_grace_s:
            return _error(400, "invalid_grant", "Incorrect or invalid refresh token")
        return self._mint(grant, hard_expiry, presented=refresh_token)

    def _mint(self, grant: Grant, hard_expiry: bool, presented: str = "") -> TokenReply:
        """New access token; with rotation, a new refresh token too, and the one presented stops working
        after superseded_grace_s (other outstanding refresh tokens of the grant are left alone)."""
        now = self._clock.now()
        if self.options.rotate_refresh_token or not grant.current_refresh:
            if presented:
                grant.superseded.setdefault(presented, now)
            grant.current_refresh = "RT1-" + secrets.token_urlsafe(32)
            self._grants_by_refresh[grant.current_refresh] = grant
        grant.refresh_expires_at = now + self.options.refresh_token_ttl_s
        access = "eyJ" + secrets.token_urlsafe(48)
        self._access[access] = AccessToken(grant, now + self.options.access_token_ttl_s)
        body: dict[str, Any] = {
            "access_token": access,
            "refresh_token": grant.current_refresh,
            "token_type": "bearer",
            "expires_in": self.options.access_token_ttl_s,
            "x_refresh_token_expires_in": self.options.refresh_token_ttl_s,
        }
        if hard_expiry:
            body["x_refresh_token_hard_expires_in"] = int(grant.created_at + FIVE_YEARS_S - now)
        return TokenReply(200, body)

    def revoke(self, token: str, authorization: str) -> TokenReply:
        if not self._client_ok({}, authorization):
            return _error(401, "invalid_client", "client authentication failed")
        with self._lock:
            grant = self._grants_by_refresh.get(token)
            access = self._access.get(token)
            if grant is None and access is not None:
                grant = access.grant
            if grant is not None:
                grant.revoked = True
        return TokenReply(200, {})

    # -- bearer check and test helpers ------------------------------------------------------------------

    def check_bearer(self, authorization: str) -> tuple[str | None, str]:
        """(realm the token is for, "") or (None, why it is refused)."""
        if not authorization.startswith("Bearer "):
            return None, "Authorization header is missing or not a Bearer token"
        with self._lock:
            access = self._access.get(authorization[7:].strip())
            if access is None:
                return None, "Token invalid"
            if access.grant.revoked:
                return None, "Token revoked"
            if access.expires_at <= self._clock.now():
                return None, "Token expired"
            return access.grant.realm_id, ""

    def issue(self, realm_id: str) -> dict[str, Any]:
        """Tokens for a realm without the consent round trip (tests and the demo)."""
        with self._lock:
            grant = Grant(realm_id=realm_id, scope=ACCOUNTING_SCOPE, created_at=self._clock.now())
            return self._mint(grant, hard_expiry=False).body

    def expire_access_tokens(self, realm_id: str | None = None) -> int:
        with self._lock:
            hit = [a for a in self._access.values() if realm_id is None or a.grant.realm_id == realm_id]
            for access in hit:
                access.expires_at = self._clock.now()
            return len(hit)

    def revoke_realm(self, realm_id: str) -> None:
        """What a user's "Disconnect" in QuickBooks does: every grant of the realm dies."""
        with self._lock:
            for grant in self._grants_by_refresh.values():
                if grant.realm_id == realm_id:
                    grant.revoked = True

    def is_refresh_token_valid(self, refresh_token: str) -> bool:
        with self._lock:
            grant = self._grants_by_refresh.get(refresh_token)
            if grant is None or grant.revoked or self._clock.now() > grant.refresh_expires_at:
                return False
            replaced_at = grant.superseded.get(refresh_token)
            return replaced_at is None or self._clock.now() < replaced_at + self.options.superseded_grace_s
