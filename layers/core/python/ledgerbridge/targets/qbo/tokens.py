"""QBO OAuth 2.0 tokens: the Intuit token endpoint (Intuit: OAuth 2.0) and where a tenant's tokens live.

Tokens sit in Secrets Manager (ledgerbridge/{tenant}/qbo); the state table item (state.keys.token_version) holds the
version number and the id of the secret version that is current. Two guards keep a rotated refresh token
from being lost when several workers find the access token expiring at once:
1. a lease: a worker claims "I refresh version n" with a conditional write before calling Intuit; the others
   wait for version n+1 instead of spending the same refresh token;
2. a versioned write: the new tokens go into a new secret version first, then the item moves from version n
   to n+1 under a condition. If two workers refreshed anyway (a lease ran out), exactly one write wins and
   the loser re-reads and uses the winner's tokens, never its own.
No token is ever logged.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

from botocore.exceptions import ClientError

from ledgerbridge import aws
from ledgerbridge.errors import AuthorizationRevoked, PermanentError, TransientError
from ledgerbridge.lazy import lazy
from ledgerbridge.observability import logger as log  # Powertools: JSON, correlation keys
from ledgerbridge.state import keys
from ledgerbridge.state.table import get, is_conditional_failure, state
from ledgerbridge.targets.qbo.settings import qbo_environment
from ledgerbridge.tenants import secret_name

if TYPE_CHECKING:
    import requests
else:
    requests = lazy("requests")  # loaded by the first call that talks HTTP (make bench, coldstart)

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
REFRESH_EARLY_S = 300  # refresh five minutes before the access token expires
LEASE_S = 30.0  # how long one worker may hold the right to refresh (the token call times out at 15 s)
PEER_WAIT_S = 5.0  # how long a refused refresh waits for a concurrent refresher's tokens before giving up
RECONNECT_HINT = "Reconnect QuickBooks: the connection was revoked or its refresh token has expired."


@dataclass(frozen=True)
class Tokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float  # epoch seconds
    realm_id: str
    refresh_expires_at: float | None = None
    version: int = 0  # the state-table version that stored these (0: not stored yet)

    def to_json(self) -> str:
        return json.dumps(
            {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_at": self.expires_at,
                "realm_id": self.realm_id,
                "refresh_expires_at": self.refresh_expires_at,
                "version": self.version,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Tokens:
        d = json.loads(text)
        return cls(
            access_token=d["access_token"],
            refresh_token=d["refresh_token"],
            expires_at=float(d["expires_at"]),
            realm_id=str(d["realm_id"]),
            refresh_expires_at=d.get("refresh_expires_at"),
            version=int(d.get("version", 0)),
        )


class TokenStore(Protocol):
    def load(self) -> Tokens | None:
        """The current tokens, or None when the tenant never connected."""
        ...

    def lease(self, version: int, owner: str, now: float, seconds: float) -> bool:
        """Claim the refresh of `version` for `seconds`. False while another owner's claim is unexpired or
        when the stored version is no longer `version`."""
        ...

    def save(self, tokens: Tokens, expected_version: int) -> Tokens | None:
        """Store `tokens` as version expected_version + 1 if the stored version is still expected_version
        (and release the lease). Returns them with the new version, or None when another writer was first."""
        ...


class InMemoryTokenStore:
    """The same contract in memory (tests, the demo)."""

    def __init__(self, tokens: Tokens | None = None) -> None:
        self._tokens = tokens
        self._lease: tuple[str, float] | None = None
        self._lock = threading.Lock()

    def load(self) -> Tokens | None:
        with self._lock:
            return self._tokens

    def lease(self, version: int, owner: str, now: float, seconds: float) -> bool:
        with self._lock:
            if (self._tokens.version if self._tokens else 0) != version:
                return False
            if self._lease is not None and self._lease[1] >= now and self._lease[0] != owner:
                return False
            self._lease = (owner, now + seconds)
            return True

    def save(self, tokens: Tokens, expected_version: int) -> Tokens | None:
        with self._lock:
            if (self._tokens.version if self._tokens else 0) != expected_version:
                return None
            self._tokens = replace(tokens, version=expected_version + 1)
            self._lease = None
            return self._tokens


class SecretsManagerTokenStore:
    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.secret_id = secret_name(tenant_id, "qbo")
        self._key = keys.token_version(tenant_id, "qbo")

    def load(self) -> Tokens | None:
        sm = aws.client("secretsmanager")
        item = get(self._key["pk"], self._key["sk"])
        try:
            if item is not None:
                secret = sm.get_secret_value(SecretId=self.secret_id, VersionId=item["secret_version_id"])
            else:
                secret = sm.get_secret_value(SecretId=self.secret_id, VersionStage="AWSCURRENT")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        tokens = Tokens.from_json(secret["SecretString"])
        return replace(tokens, version=int(item["version"]) if item is not None else 0)

    def _put_secret(self, version_id: str, text: str) -> None:
        sm = aws.client("secretsmanager")
        try:
            sm.put_secret_value(
                SecretId=self.secret_id, ClientRequestToken=version_id, SecretString=text, VersionStages=["AWSPENDING"]
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            sm.create_secret(
                Name=self.secret_id,
                ClientRequestToken=version_id,
                SecretString=text,
                Description="QuickBooks Online OAuth tokens (LedgerBridge)",
            )

    @staticmethod
    def _version_condition(version: int) -> tuple[str, dict[str, Any]]:
        if version == 0:
            return "attribute_not_exists(#v)", {}
        return "#v = :old", {":old": version}

    def lease(self, version: int, owner: str, now: float, seconds: float) -> bool:
        condition, values = self._version_condition(version)
        try:
            state().update_item(
                Key=self._key,
                UpdateExpression="SET lease_owner = :owner, lease_until = :until",
                ConditionExpression=f"{condition} AND (attribute_not_exists(lease_until) OR lease_until < :now "
                "OR lease_owner = :owner)",
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues={
                    **values,
                    ":owner": owner,
                    ":until": Decimal(str(now + seconds)),
                    ":now": Decimal(str(now)),
                },
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                return False
            raise
        return True

    def save(self, tokens: Tokens, expected_version: int) -> Tokens | None:
        new = replace(tokens, version=expected_version + 1)
        version_id = str(uuid.uuid4())
        self._put_secret(version_id, new.to_json())  # a new version; nobody reads it until the item says so
        condition, values = self._version_condition(expected_version)
        values.update({":new": new.version, ":sv": version_id, ":at": datetime.now(UTC).isoformat()})
        try:
            state().update_item(
                Key=self._key,
                UpdateExpression="SET #v = :new, secret_version_id = :sv, updated = :at "
                "REMOVE lease_owner, lease_until",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#v": "version"},
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if is_conditional_failure(exc):
                log.info("qbo tokens of %s: another worker stored version %s first", self.tenant_id, new.version)
                return None
            raise
        self._promote(version_id)
        return new

    def _promote(self, version_id: str) -> None:
        """Label the winning version AWSCURRENT for people looking at the console; readers follow the item."""
        sm = aws.client("secretsmanager")
        try:
            meta = sm.describe_secret(SecretId=self.secret_id)
            current = next(
                (v for v, stages in meta.get("VersionIdsToStages", {}).items() if "AWSCURRENT" in stages), None
            )
            if current and current != version_id:
                sm.update_secret_version_stage(
                    SecretId=self.secret_id,
                    VersionStage="AWSCURRENT",
                    MoveToVersionId=version_id,
                    RemoveFromVersionId=current,
                )
        except ClientError:
            log.warning("qbo tokens of %s: could not label the new secret version AWSCURRENT", self.tenant_id)


@dataclass(frozen=True)
class AppCredentials:
    client_id: str
    client_secret: str = field(repr=False)
    redirect_uri: str = ""
    verifier_token: str = field(default="", repr=False)

    @classmethod
    def from_secret(cls, name: str | None = None) -> AppCredentials:
        secret = aws.client("secretsmanager").get_secret_value(SecretId=name or qbo_environment().qbo_app_secret_name)
        d = json.loads(secret["SecretString"])
        return cls(d["client_id"], d["client_secret"], d.get("redirect_uri", ""), d.get("verifier_token", ""))


@dataclass(frozen=True)
class TokenGrant:
    """What the token endpoint answered."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    refresh_expires_in: int | None = None

    def tokens(self, realm_id: str, now: float) -> Tokens:
        refresh_at = now + self.refresh_expires_in if self.refresh_expires_in else None
        return Tokens(self.access_token, self.refresh_token, now + self.expires_in, realm_id, refresh_at)


class InvalidGrant(AuthorizationRevoked):
    """The token endpoint said invalid_grant: the refresh token (or code) is dead, revoked or rotated away."""


class OAuthClient:
    """Intuit's token endpoint, found through the OpenID discovery document (Intuit: OAuth 2.0)."""

    def __init__(
        self,
        credentials: AppCredentials,
        discovery_url: str,
        session: requests.Session | None = None,
        auth_method: str = "client_secret_basic",
        timeout: float = 15.0,
    ) -> None:
        self.credentials = credentials
        self.discovery_url = discovery_url
        self.session = session or requests.Session()
        self.auth_method = auth_method
        self.timeout = timeout
        self._discovery: dict[str, Any] | None = None

    @classmethod
    def from_config(cls, session: requests.Session | None = None) -> OAuthClient:
        return cls(AppCredentials.from_secret(), qbo_environment().qbo_discovery_url, session)

    def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            try:
                resp = self.session.get(self.discovery_url, timeout=self.timeout)
            except requests.RequestException as exc:
                raise TransientError(f"Intuit discovery document unreachable: {type(exc).__name__}") from exc
            if resp.status_code != 200:
                raise TransientError(f"Intuit discovery document answered HTTP {resp.status_code}")
            self._discovery = dict(resp.json())
        return self._discovery

    def authorization_url(self, state_value: str, redirect_uri: str = "", scope: str = ACCOUNTING_SCOPE) -> str:
        query = {
            "client_id": self.credentials.client_id,
            "response_type": "code",
            "scope": scope,
            "redirect_uri": redirect_uri or self.credentials.redirect_uri,
            "state": state_value,
        }
        return f"{self.discovery()['authorization_endpoint']}?{urlencode(query)}"

    def _post(
        self, url_key: str, form: dict[str, str] | None = None, json_body: dict[str, str] | None = None
    ) -> requests.Response:
        auth: tuple[str, str] | None = (self.credentials.client_id, self.credentials.client_secret)
        data = dict(form or {})
        if self.auth_method == "client_secret_post" and form is not None:
            data.update(client_id=self.credentials.client_id, client_secret=self.credentials.client_secret)
            auth = None
        try:
            return self.session.post(
                self.discovery()[url_key],
                data=data if form is not None else None,
                json=json_body,
                auth=auth,
                headers={"Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise TransientError(f"Intuit token endpoint unreachable: {type(exc).__name__}") from exc

    def _grant(self, form: dict[str, str]) -> TokenGrant:
        resp = self._post("token_endpoint", form=form)
        if resp.status_code == 200:
            d = resp.json()
            return TokenGrant(
                d["access_token"], d["refresh_token"], int(d["expires_in"]), d.get("x_refresh_token_expires_in")
            )
        try:
            error = str(resp.json().get("error", ""))
        except ValueError:
            error = ""
        if resp.status_code >= 500 or resp.status_code == 429:
            raise TransientError(f"Intuit token endpoint answered HTTP {resp.status_code}")
        if error == "invalid_grant":
            raise InvalidGrant(
                "QuickBooks refused the refresh token (invalid_grant)", code="invalid_grant", hint=RECONNECT_HINT
            )
        raise PermanentError(
            f"Intuit token endpoint refused the app ({error or resp.status_code})",
            code=error or str(resp.status_code),
            hint="Check the QuickBooks app keys (client id and secret) in the app secret.",
        )

    def exchange_code(self, code: str, redirect_uri: str = "") -> TokenGrant:
        return self._grant(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri or self.credentials.redirect_uri,
            }
        )

    def refresh(self, refresh_token: str) -> TokenGrant:
        return self._grant({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def revoke(self, token: str) -> None:
        resp = self._post("revocation_endpoint", json_body={"token": token})
        if resp.status_code != 200:
            raise TransientError(f"Intuit revoke endpoint answered HTTP {resp.status_code}")


class QboTokens:
    """Hands QboClient a valid access token: refreshes early, refreshes after a 401, and never loses a rotated
    refresh token to a concurrent refresher (see the module docstring)."""

    def __init__(
        self,
        store: TokenStore,
        oauth: OAuthClient,
        clock: Callable[[], float] = time.time,
        refresh_early_s: float = REFRESH_EARLY_S,
        peer_wait_s: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
        lease_s: float = LEASE_S,
    ) -> None:
        self.store = store
        self.oauth = oauth
        self._clock = clock
        self._early = refresh_early_s
        self._peer_wait_s = PEER_WAIT_S if peer_wait_s is None else peer_wait_s
        self._sleep = sleep
        self._lease_s = lease_s
        self._owner = uuid.uuid4().hex
        self._cached: Tokens | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_tenant(cls, tenant_id: str, session: requests.Session | None = None) -> QboTokens:
        return cls(SecretsManagerTokenStore(tenant_id), OAuthClient.from_config(session))

    def _load(self) -> Tokens:
        tokens = self.store.load()
        if tokens is None:
            raise AuthorizationRevoked(
                "QuickBooks is not connected for this tenant", code="not_connected", hint="Connect QuickBooks first."
            )
        self._cached = tokens
        return tokens

    def _fresh(self, tokens: Tokens) -> bool:
        return tokens.expires_at - self._early > self._clock()

    def current(self) -> Tokens:
        with self._lock:
            tokens = self._cached if self._cached is not None and self._fresh(self._cached) else self._load()
            if not self._fresh(tokens):
                tokens = self._refresh(tokens)
            return tokens

    def access_token(self) -> str:
        return self.current().access_token

    def refresh_after_unauthorized(self, rejected: str) -> str:
        with self._lock:
            tokens = self._load()
            if tokens.access_token != rejected and self._fresh(tokens):
                return tokens.access_token  # another worker refreshed already
            return self._refresh(tokens).access_token

    def connect(self, code: str, realm_id: str, redirect_uri: str = "") -> Tokens:
        """The OAuth callback: exchange the code and store the tokens (replacing an older connection)."""
        return self.store_grant(self.oauth.exchange_code(code, redirect_uri), realm_id)

    def store_grant(self, grant: TokenGrant, realm_id: str) -> Tokens:
        """Store the tokens of a grant already exchanged (and checked) for `realm_id`."""
        with self._lock:
            for _ in range(5):
                current = self.store.load()
                stored = self.store.save(grant.tokens(realm_id, self._clock()), current.version if current else 0)
                if stored is not None:
                    log.info("qbo tokens: connected realm %s, version %s", realm_id, stored.version)
                    self._cached = stored
                    return stored
        raise TransientError("could not store the QuickBooks tokens (the version kept moving)")

    def _refresh(self, seen: Tokens) -> Tokens:
        if not self.store.lease(seen.version, self._owner, self._clock(), self._lease_s):
            # Another worker is refreshing (or already did): use its tokens rather than spend ours.
            newer = self._wait_for_newer(seen.version)
            if newer is not None:
                return newer
            if not self.store.lease(seen.version, self._owner, self._clock(), self._lease_s):
                raise TransientError("another worker is refreshing the QuickBooks tokens; try again")
        try:
            grant = self.oauth.refresh(seen.refresh_token)
        except InvalidGrant:
            # Our refresh token may have been rotated away by a concurrent refresher that has not written yet.
            newer = self._wait_for_newer(seen.version)
            if newer is not None:
                return newer
            log.warning("qbo tokens: refresh token refused and no newer tokens stored (realm %s)", seen.realm_id)
            raise
        stored = self.store.save(grant.tokens(seen.realm_id, self._clock()), seen.version)
        if stored is None:  # lost the race: the winner's tokens are the ones everybody must use
            winner = self.store.load()
            if winner is None or winner.version <= seen.version:
                raise TransientError("QuickBooks tokens changed underneath a refresh; try again")
            stored = winner
        else:
            log.info("qbo tokens: refreshed for realm %s, now version %s", stored.realm_id, stored.version)
        self._cached = stored
        return stored

    def _wait_for_newer(self, version: int) -> Tokens | None:
        deadline = time.monotonic() + self._peer_wait_s
        while True:
            tokens = self.store.load()
            if tokens is not None and tokens.version > version:
                self._cached = tokens
                return tokens
            if time.monotonic() >= deadline:
                return None
            self._sleep(0.05)
