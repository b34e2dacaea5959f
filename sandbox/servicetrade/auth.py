"""OAuth2 (`/api/oauth2/token`, `/api/oauth2/revoke`) and session login (`/api/auth`), docs/servicetrade-double.md.

Access tokens are HS256 JWTs with `exp` (the SDKs refresh 300 s before it). Refresh tokens are opaque and
rotate on every refresh grant: the old one stops working. Sessions are PHPSESSID values, a limited number
per user (the oldest is evicted), as the help center describes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Request, Response

from sandbox.servicetrade.http import empty, envelope, error_response, json_response
from sandbox.servicetrade.render import Renderer
from sandbox.servicetrade.store import Store

NO_SESSION = "No active session found for given auth token"
SESSION_ALPHABET = string.ascii_lowercase + string.digits


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_jwt(claims: dict[str, Any], key: bytes) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def decode_jwt(token: str, key: bytes) -> dict[str, Any] | None:
    """The claims of a correctly signed token, else None (expiry is checked by the caller)."""
    try:
        header, payload, signature = token.split(".")
        expected = hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(expected, _unb64(signature)):
            return None
        claims = json.loads(_unb64(payload))
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


@dataclass(frozen=True)
class Grant:
    """One successful token grant, for tests ("a second grant happened")."""

    grant_type: str
    client_id: str
    at: float


@dataclass(frozen=True)
class RefreshToken:
    client_id: str
    user_id: int


@dataclass
class AuthState:
    store: Store
    token_lifetime: int = 3600
    require_client_id_on_refresh: bool = False
    max_sessions_per_user: int = 10
    key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    grants: list[Grant] = field(default_factory=list)
    refresh_tokens: dict[str, RefreshToken] = field(default_factory=dict)
    access_tokens: dict[str, int] = field(default_factory=dict)  # jti -> exp
    sessions: OrderedDict[str, int] = field(default_factory=OrderedDict)  # PHPSESSID -> user id
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- resource authentication ---------------------------------------------------------------------------
    def user_for(self, request: Request) -> int | None:
        """The calling user: a live bearer JWT or a live PHPSESSID cookie; None means 401."""
        header = request.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            user = self._bearer_user(header[7:].strip())
            if user is not None:
                return user
        sid = request.cookies.get("PHPSESSID")
        with self.lock:
            return self.sessions.get(sid) if sid else None

    def _bearer_user(self, token: str) -> int | None:
        claims = decode_jwt(token, self.key)
        if claims is None or not isinstance(claims.get("exp"), int) or claims["exp"] <= time.time():
            return None
        with self.lock:
            if claims.get("jti") not in self.access_tokens:
                return None
        try:
            return int(claims["sub"])
        except (KeyError, TypeError, ValueError):
            return None

    def expire_access_tokens(self) -> None:
        """Make every issued access token invalid now (the next call gets 401 and the SDK re-grants)."""
        with self.lock:
            self.access_tokens.clear()

    # -- OAuth2 --------------------------------------------------------------------------------------------
    def issue(self, client_id: str, user_id: int, grant_type: str) -> dict[str, Any]:
        now = int(time.time())
        jti = secrets.token_hex(8)
        claims: dict[str, Any] = {"iss": "servicetrade-sandbox", "sub": str(user_id), "client_id": client_id}
        claims.update(iat=now, exp=now + self.token_lifetime, jti=jti)
        refresh = secrets.token_urlsafe(32)
        with self.lock:
            self.access_tokens[jti] = now + self.token_lifetime
            self.refresh_tokens[refresh] = RefreshToken(client_id, user_id)
            self.grants.append(Grant(grant_type, client_id, time.time()))
        return {
            "access_token": encode_jwt(claims, self.key),
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "refresh_token": refresh,
        }

    def token(self, request: Request) -> Response:
        form = _form_or_json(request)
        grant_type = form.get("grant_type", "")
        if grant_type == "client_credentials":
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
            if not client_id or not secret:
                return _oauth_error(400, "invalid_request", "client_id and client_secret are required")
            client = self.store.clients.get(client_id)
            if client is None or not hmac.compare_digest(client.client_secret, secret):
                return _oauth_error(401, "invalid_client", "Client authentication failed")
            return json_response(self.issue(client_id, client.user_id, grant_type))
        if grant_type == "refresh_token":
            refresh = form.get("refresh_token", "")
            client_id = form.get("client_id", "")
            if not refresh:
                return _oauth_error(400, "invalid_request", "refresh_token is required")
            if self.require_client_id_on_refresh and not client_id:
                return _oauth_error(400, "invalid_request", "client_id is required")
            with self.lock:
                record = self.refresh_tokens.get(refresh)
                if record is None or (client_id and client_id != record.client_id):
                    return _oauth_error(400, "invalid_grant", "The refresh token is invalid or revoked")
                del self.refresh_tokens[refresh]  # rotation: a refresh token works once
            return json_response(self.issue(record.client_id, record.user_id, grant_type))
        if not grant_type:
            return _oauth_error(400, "invalid_request", "grant_type is required")
        return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported")

    def revoke(self, request: Request) -> Response:
        form = _form_or_json(request)
        with self.lock:
            for name in ("token", "refresh_token"):
                self.refresh_tokens.pop(form.get(name, ""), None)
        return json_response({})

    # -- session login ---------------------------------------------------------------------------------------
    def session(self, request: Request, renderer: Renderer) -> Response:
        if request.method == "POST":
            return self._login(request, renderer)
        sid = request.cookies.get("PHPSESSID", "")
        if request.method == "DELETE":
            with self.lock:
                self.sessions.pop(sid, None)
            return empty(204)
        with self.lock:
            user_id = self.sessions.get(sid) if sid else None
        if user_id is None:
            return error_response(404, NO_SESSION, {"authenticated": False})
        return envelope(self._session_body(sid, user_id, renderer))

    def _login(self, request: Request, renderer: Renderer) -> Response:
        form = {**{k: v for k, v in request.args.items()}, **_form_or_json(request)}
        username, password = str(form.get("username", "")), str(form.get("password", ""))
        if not username or not password:
            return error_response(400, "username and password are required")
        login = self.store.logins.get(username)
        if login is None or not hmac.compare_digest(login.password, password):
            return error_response(403, "Invalid credentials provided")
        sid = "".join(secrets.choice(SESSION_ALPHABET) for _ in range(26))
        with self.lock:
            self.sessions[sid] = login.user_id
            mine = [s for s, uid in self.sessions.items() if uid == login.user_id]
            for old in mine[: max(0, len(mine) - self.max_sessions_per_user)]:
                del self.sessions[old]
        response = envelope(self._session_body(sid, login.user_id, renderer))
        response.set_cookie("PHPSESSID", sid, path="/", httponly=True)
        return response

    def _session_body(self, sid: str, user_id: int, renderer: Renderer) -> dict[str, Any]:
        user = self.store.users.get(user_id)
        return {
            "authenticated": True,
            "authToken": sid,
            "user": None if user is None else renderer.user(user),
        }


def _form_or_json(request: Request) -> dict[str, str]:
    if request.mimetype == "application/json":
        body = request.get_json(silent=True)
        return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    return {k: v for k, v in request.form.items()}


def _oauth_error(status: int, error: str, description: str) -> Response:
    return json_response({"error": error, "error_description": description}, status)
