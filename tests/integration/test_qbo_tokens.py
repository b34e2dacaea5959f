"""QBO tokens in Secrets Manager, guarded by the state table (moto), refreshed against the QBO sandbox."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import boto3
import pytest
import requests
from moto import mock_aws

from ledgerbridge import aws
from ledgerbridge.config import get_config
from ledgerbridge.errors import AuthorizationRevoked
from ledgerbridge.targets.qbo.client import QboClient
from ledgerbridge.targets.qbo.tokens import QboTokens, SecretsManagerTokenStore, TokenGrant, Tokens
from ledgerbridge.tenants import secret_name
from sandbox.qbo import ManualClock, QboSandboxServer, start

TENANT = "acme-fire"
APP_SECRET = "ledgerbridge/test/app/qbo"
REDIRECT = "https://app.example.com/oauth/qbo/callback"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> Iterator[QboSandboxServer]:
    # superseded_grace_s: a used refresh token keeps working for a minute, so two workers can both refresh
    with start(clock=clock, per_second=10_000, per_minute=100_000, superseded_grace_s=60) as srv:
        yield srv


@pytest.fixture
def cloud(server: QboSandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "STATE_TABLE": "lb-qbo-state",
        "QBO_DISCOVERY_URL": server.discovery_url,
        "QBO_API_BASE_URL": server.url,
        "QBO_APP_SECRET_NAME": APP_SECRET,
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        get_config.cache_clear()
        aws.reset()
        boto3.client("dynamodb").create_table(
            TableName="lb-qbo-state",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        app = {
            "client_id": "sandbox-client-id",
            "client_secret": "sandbox-client-secret",
            "redirect_uri": REDIRECT,
            "verifier_token": "sandbox-verifier-token",
        }
        boto3.client("secretsmanager").create_secret(Name=APP_SECRET, SecretString=json.dumps(app))
        yield
    get_config.cache_clear()
    aws.reset()


def worker(clock: ManualClock) -> QboTokens:
    """What one Lambda builds: the tenant's store, the app's OAuth client, its own memory."""
    tokens = QboTokens.for_tenant(TENANT)
    tokens._clock = clock.now
    return tokens


def connected(server: QboSandboxServer, clock: ManualClock) -> Tokens:
    tokens = worker(clock)
    consent = requests.get(tokens.oauth.authorization_url("s1"), allow_redirects=False, timeout=5)
    code = parse_qs(urlparse(consent.headers["Location"]).query)["code"][0]
    return tokens.connect(code, server.realm_id)


def joined(*threads: threading.Thread) -> None:
    """Workers must be done before moto goes away (a straggler would try the real endpoint)."""
    for thread in threads:
        if thread.ident is not None:
            thread.join(10)
            assert not thread.is_alive()


def state_item() -> dict[str, Any]:
    key = {"pk": {"S": f"TENANT#{TENANT}"}, "sk": {"S": "QBOTOKEN"}}
    return dict(boto3.client("dynamodb").get_item(TableName="lb-qbo-state", Key=key)["Item"])


def test_connect_writes_a_secret_version_that_the_state_item_points_to(
    cloud: None, server: QboSandboxServer, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ledgerbridge")
    stored = connected(server, clock)
    worker(clock).refresh_after_unauthorized(stored.access_token)
    stored = SecretsManagerTokenStore(TENANT).load() or stored
    item = state_item()
    assert item["version"]["N"] == "2"
    sm = boto3.client("secretsmanager")
    secret = sm.get_secret_value(SecretId=secret_name(TENANT, "qbo"), VersionId=item["secret_version_id"]["S"])
    assert json.loads(secret["SecretString"])["refresh_token"] == stored.refresh_token
    # the AWSCURRENT label follows the winning version (for people reading the secret in the console)
    current = sm.get_secret_value(SecretId=secret_name(TENANT, "qbo"), VersionStage="AWSCURRENT")
    assert json.loads(current["SecretString"])["access_token"] == stored.access_token
    assert SecretsManagerTokenStore(TENANT).load() == stored
    assert stored.access_token not in repr(stored) and stored.refresh_token not in repr(stored)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("ledgerbridge"))
    assert "qbo" in ours  # our loggers did speak
    assert stored.access_token not in ours and stored.refresh_token not in ours


def test_refreshes_five_minutes_before_expiry_and_stores_the_rotated_token(
    cloud: None, server: QboSandboxServer, clock: ManualClock
) -> None:
    first = connected(server, clock)
    tokens = worker(clock)
    clock.advance(3600 - 301)
    assert tokens.access_token() == first.access_token
    assert server.state.oauth.refresh_calls == 0
    clock.advance(2)  # now inside the last five minutes
    refreshed = tokens.access_token()
    assert refreshed != first.access_token and server.state.oauth.refresh_calls == 1
    stored = SecretsManagerTokenStore(TENANT).load()
    assert stored is not None and stored.version == 2 and stored.access_token == refreshed
    assert stored.refresh_token != first.refresh_token
    assert server.state.oauth.is_refresh_token_valid(stored.refresh_token)
    clock.advance(61)  # past the sandbox's grace for a used refresh token
    assert not server.state.oauth.is_refresh_token_valid(first.refresh_token)


def test_a_401_refreshes_and_a_cold_worker_then_uses_the_stored_tokens(
    cloud: None, server: QboSandboxServer, clock: ManualClock
) -> None:
    connected(server, clock)
    client = QboClient(server.realm_id, server.url, worker(clock))
    server.expire_access_tokens()
    assert client.read("item", "6")["Name"] == "Services"
    assert [c["status"] for c in server.state.calls] == [401, 200]
    cold = QboClient(server.realm_id, server.url, worker(clock))
    assert cold.read("item", "6")["Name"] == "Services"
    assert server.state.oauth.refresh_calls == 1 and state_item()["version"]["N"] == "2"


def test_concurrent_refreshes_spend_the_refresh_token_once(
    cloud: None, server: QboSandboxServer, clock: ManualClock
) -> None:
    connected(server, clock)
    a, b = worker(clock), worker(clock)
    refreshing, release = threading.Event(), threading.Event()
    real_refresh = a.oauth.refresh

    def slow_refresh(refresh_token: str) -> TokenGrant:
        refreshing.set()
        release.wait(5)
        return real_refresh(refresh_token)

    a.oauth.refresh = slow_refresh  # type: ignore[method-assign]
    clock.advance(3600)
    results: dict[str, str] = {}
    thread_a = threading.Thread(target=lambda: results.update(a=a.access_token()))
    thread_b = threading.Thread(target=lambda: results.update(b=b.access_token()))
    try:
        thread_a.start()
        assert refreshing.wait(5)
        thread_b.start()  # finds A's lease and waits for version 2 rather than refreshing itself
    finally:
        release.set()
        joined(thread_a, thread_b)
    assert results["a"] == results["b"]
    assert server.state.oauth.refresh_calls == 1 and state_item()["version"]["N"] == "2"


def test_when_both_refresh_the_loser_uses_the_winners_tokens(
    cloud: None, server: QboSandboxServer, clock: ManualClock
) -> None:
    """A's lease runs out while it is stuck between Intuit's answer and its write: B refreshes too and writes
    first. A's conditional write must fail and A must take B's tokens, not keep its own."""
    first = connected(server, clock)
    a, b = worker(clock), worker(clock)
    got_grant, proceed = threading.Event(), threading.Event()
    real_refresh = a.oauth.refresh
    a_grant: list[TokenGrant] = []

    def refresh_then_stall(refresh_token: str) -> TokenGrant:
        a_grant.append(real_refresh(refresh_token))
        got_grant.set()
        proceed.wait(5)
        return a_grant[0]

    a.oauth.refresh = refresh_then_stall  # type: ignore[method-assign]
    clock.advance(3600)
    result: dict[str, str] = {}
    thread_a = threading.Thread(target=lambda: result.update(a=a.access_token()))
    try:
        thread_a.start()
        assert got_grant.wait(5)
        clock.advance(31)  # A's 30 s lease has run out
        b_token = b.access_token()
    finally:
        proceed.set()
        joined(thread_a)

    stored = SecretsManagerTokenStore(TENANT).load()
    assert stored is not None and stored.version == 2  # one write won, the other was refused
    assert result["a"] == b_token == stored.access_token  # A dropped its own tokens for B's
    assert a_grant[0].refresh_token != stored.refresh_token != first.refresh_token
    assert server.state.oauth.refresh_calls == 2
    assert server.state.oauth.is_refresh_token_valid(stored.refresh_token)


def test_revoked_refresh_token_is_authorization_revoked(
    cloud: None, server: QboSandboxServer, clock: ManualClock
) -> None:
    connected(server, clock)
    server.disconnect()
    tokens = worker(clock)
    tokens._peer_wait_s = 0.0
    clock.advance(3600)
    with pytest.raises(AuthorizationRevoked) as caught:
        tokens.access_token()
    assert caught.value.code == "invalid_grant" and "Reconnect" in caught.value.hint
    assert state_item()["version"]["N"] == "1"


def test_not_connected_is_authorization_revoked(cloud: None, clock: ManualClock) -> None:
    with pytest.raises(AuthorizationRevoked, match="not connected"):
        worker(clock).access_token()
