"""The official ServiceTrade SDK (unchanged) against the sandbox: OAuth2, sessions, 401s, errors, pagination."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from servicetrade import Paginator, ServicetradeAPIError, ServicetradeAuthError, ServicetradeClient

from sandbox.servicetrade import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    SandboxServer,
    start,
)
from sandbox.servicetrade.auth import decode_jwt


@pytest.fixture
def st() -> Iterator[SandboxServer]:
    with start(delivery_mode="manual") as server:
        yield server


def sdk(st: SandboxServer, **kwargs: object) -> ServicetradeClient:
    if "refresh_token" not in kwargs:
        kwargs.update(client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    return ServicetradeClient(base_url=st.url, **kwargs)


def token_grant(st: SandboxServer, **form: str) -> requests.Response:
    return requests.post(f"{st.url}/api/oauth2/token", data=form, timeout=5)


def client_credentials(st: SandboxServer) -> dict[str, object]:
    resp = token_grant(st, grant_type="client_credentials", client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET)
    assert resp.status_code == 200
    body: dict[str, object] = resp.json()
    return body


# -- the flow the issue asks for ------------------------------------------------------------------------------
def test_sdk_login_paginate_read_update_with_comment(st: SandboxServer) -> None:
    client = sdk(st)
    invoices = list(Paginator(client, "/invoice", "invoices", {"status": "pending_accounting", "limit": 4}))

    assert [i["invoiceNumber"] for i in invoices] == [
        "INV-24107",
        "INV-24109",
        "INV-24110",
        "INV-24111",
        "INV-24114",
        "INV-24115",
    ]
    pages = [r.query for r in st.requests_to("/api/invoice", "GET")]
    assert pages == ["status=pending_accounting&limit=4&page=1", "status=pending_accounting&limit=4&page=2"]
    assert [g.grant_type for g in st.grants] == ["client_credentials"]

    target = invoices[0]
    one = client.get(f"/invoice/{target['id']}")
    assert isinstance(one, dict)
    assert one["id"] == target["id"] and one["status"] == "pending_accounting"
    assert one["customer"]["name"] == "Ironworks Brewing Co." and len(one["items"]) == 4

    updated = client.put(f"/invoice/{target['id']}", {"status": "processed"})
    comment = client.post("/comment", {"entityType": "invoice", "entityId": target["id"], "content": "QBO #1187"})

    assert isinstance(updated, dict) and updated["status"] == "processed"
    assert isinstance(comment, dict) and comment["id"] in st.state.comments
    assert st.state.invoices[target["id"]]["status"] == "processed"
    stored = st.state.comments[comment["id"]]
    assert (stored["entityType"], stored["entityId"], stored["content"]) == ("invoice", target["id"], "QBO #1187")
    listed = client.get("/comment", {"entityType": "invoice", "entityId": target["id"]})
    assert isinstance(listed, dict) and [c["content"] for c in listed["comments"]] == ["QBO #1187"]
    remaining = list(Paginator(client, "/invoice", "invoices", {"status": "pending_accounting"}))
    assert target["id"] not in {i["id"] for i in remaining} and len(remaining) == 5


# -- OAuth2 ---------------------------------------------------------------------------------------------------
def test_token_is_a_signed_jwt_with_exp_and_the_configured_lifetime() -> None:
    with start(token_lifetime=900) as st:
        body = client_credentials(st)
        claims = decode_jwt(str(body["access_token"]), st.app.auth.key)
    assert claims is not None and claims["exp"] - claims["iat"] == 900
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["refresh_token"]
    assert "data" not in body


def test_short_token_lifetime_makes_the_sdk_grant_again() -> None:
    with start(token_lifetime=60) as st:  # under the SDK's 300 s margin: stale as soon as issued
        client = sdk(st)
        client.get("/company", {"limit": 1})
        first = client.get_auth_token()
        client.get("/company", {"limit": 1})
        assert [g.grant_type for g in st.grants] == ["client_credentials", "client_credentials"]
        assert client.get_auth_token() != first


def test_a_401_makes_the_sdk_grant_again_and_retry_once(st: SandboxServer) -> None:
    client = sdk(st)
    client.get("/taxgroup")
    st.expire_access_tokens()
    data = client.get("/taxgroup")
    assert isinstance(data, dict) and len(data["taxGroups"]) == 3
    assert [r.status for r in st.requests_to("/api/taxgroup")] == [200, 401, 200]
    assert len(st.grants) == 2


def test_expired_token_gets_401_with_an_empty_body() -> None:
    with start(token_lifetime=0) as st:
        token = client_credentials(st)["access_token"]
        resp = requests.get(f"{st.url}/api/job", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert resp.status_code == 401 and resp.content == b""


def test_refresh_grant_without_client_id_rotates_the_refresh_token(st: SandboxServer) -> None:
    first = str(client_credentials(st)["refresh_token"])
    resp = token_grant(st, grant_type="refresh_token", refresh_token=first)
    assert resp.status_code == 200
    second = resp.json()["refresh_token"]
    assert second and second != first

    reused = token_grant(st, grant_type="refresh_token", refresh_token=first)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert token_grant(st, grant_type="refresh_token", refresh_token="nope").json()["error"] == "invalid_grant"

    assert requests.post(f"{st.url}/api/oauth2/revoke", data={"token": second}, timeout=5).status_code == 200
    revoked = token_grant(st, grant_type="refresh_token", refresh_token=second)
    assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"
    assert requests.post(f"{st.url}/api/oauth2/revoke", data={"token": "unknown"}, timeout=5).status_code == 200


def test_sdk_in_refresh_token_mode_follows_rotation() -> None:
    with start(token_lifetime=60) as st:
        refresh = str(client_credentials(st)["refresh_token"])
        client = sdk(st, refresh_token=refresh)
        client.get("/taxgroup")
        client.get("/taxgroup")  # stale again: a second refresh grant, which needs the rotated token
        assert [g.grant_type for g in st.grants] == ["client_credentials", "refresh_token", "refresh_token"]
        assert client._credentials.refresh_token not in (None, refresh)


def test_token_endpoint_accepts_json_and_the_path_without_api(st: SandboxServer) -> None:
    body = {"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    assert requests.post(f"{st.url}/api/oauth2/token", json=body, timeout=5).status_code == 200
    assert requests.post(f"{st.url}/oauth2/token", data=body, timeout=5).status_code == 200


def test_bad_client_credentials_are_invalid_client(st: SandboxServer) -> None:
    resp = token_grant(st, grant_type="client_credentials", client_id=DEMO_CLIENT_ID, client_secret="wrong")
    assert resp.status_code == 401
    assert resp.json()["error"] == "invalid_client" and resp.json()["error_description"]
    with pytest.raises(ServicetradeAuthError) as err:
        ServicetradeClient(base_url=st.url, client_id=DEMO_CLIENT_ID, client_secret="wrong").get("/job")
    assert err.value.status_code == 401
    assert token_grant(st, grant_type="password").json()["error"] == "unsupported_grant_type"


def test_strict_mode_requires_client_id_on_refresh() -> None:
    with start(require_client_id_on_refresh=True) as st:
        refresh = str(client_credentials(st)["refresh_token"])
        resp = token_grant(st, grant_type="refresh_token", refresh_token=refresh)
        assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"
        ok = token_grant(st, grant_type="refresh_token", refresh_token=refresh, client_id=DEMO_CLIENT_ID)
        assert ok.status_code == 200


# -- 401, sessions, errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not.a.jwt"}, {"Cookie": "PHPSESSID=dead"}])
def test_resources_without_valid_auth_get_401_with_an_empty_body(st: SandboxServer, headers: dict[str, str]) -> None:
    for path in ("/api/invoice", "/api/invoice/1", "/api/no-such-resource"):
        resp = requests.get(st.url + path, headers={"Content-Type": "application/json", **headers}, timeout=5)
        assert (resp.status_code, resp.content) == (401, b"")


def test_session_login_get_delete_and_dead_session(st: SandboxServer) -> None:
    resp = requests.post(f"{st.url}/api/auth", json={"username": DEMO_USERNAME, "password": DEMO_PASSWORD}, timeout=5)
    assert resp.status_code == 200
    data = resp.json()["data"]
    sid = data["authToken"]
    assert data["authenticated"] is True and len(sid) == 26 and resp.cookies["PHPSESSID"] == sid
    assert data["user"]["company"]["name"] == "Summit Fire & Mechanical, Inc."
    cookie = {"Cookie": f"PHPSESSID={sid}"}

    live = requests.get(f"{st.url}/api/auth", headers=cookie, timeout=5)
    assert live.status_code == 200 and live.json()["data"]["authToken"] == sid
    assert requests.get(f"{st.url}/api/job", headers=cookie, timeout=5).json()["data"]["jobs"]

    assert requests.delete(f"{st.url}/api/auth", headers=cookie, timeout=5).status_code == 204
    dead = requests.get(f"{st.url}/api/auth", headers=cookie, timeout=5)
    assert dead.status_code == 404
    assert dead.json()["messages"]["error"] == ["No active session found for given auth token"]
    assert dead.json()["data"]["authenticated"] is False
    after = requests.get(f"{st.url}/api/job", headers=cookie, timeout=5)
    assert (after.status_code, after.content) == (401, b"")


def test_session_login_by_query_string_bad_password_and_missing_fields(st: SandboxServer) -> None:
    query = requests.post(
        f"{st.url}/api/auth", params={"username": DEMO_USERNAME, "password": DEMO_PASSWORD}, timeout=5
    )
    assert query.status_code == 200 and query.json()["data"]["authenticated"] is True
    bad = requests.post(f"{st.url}/api/auth", json={"username": DEMO_USERNAME, "password": "x"}, timeout=5)
    assert bad.status_code == 403 and bad.json()["messages"]["error"] == ["Invalid credentials provided"]
    missing = requests.post(f"{st.url}/api/auth", json={"username": DEMO_USERNAME}, timeout=5)
    assert missing.status_code == 400 and missing.json()["messages"]["error"]


def test_sessions_per_user_are_limited_oldest_evicted() -> None:
    with start(max_sessions_per_user=2) as st:
        sids = [
            requests.post(
                f"{st.url}/api/auth", json={"username": DEMO_USERNAME, "password": DEMO_PASSWORD}, timeout=5
            ).json()["data"]["authToken"]
            for _ in range(3)
        ]
        alive = [requests.get(f"{st.url}/api/auth", cookies={"PHPSESSID": s}, timeout=5).status_code for s in sids]
    assert alive == [404, 200, 200]


def test_error_envelope_and_sdk_error_messages(st: SandboxServer) -> None:
    client = sdk(st)
    with pytest.raises(ServicetradeAPIError) as err:
        client.get("/invoice/12345")
    assert err.value.status_code == 404
    assert err.value.response_data == {"messages": {"error": ["Invoice 12345 not found"]}, "data": None}
    assert err.value.error_messages == ["Invoice 12345 not found"]
    with pytest.raises(ServicetradeAPIError) as bad:
        client.put(f"/invoice/{next(iter(st.state.invoices))}", {"status": "lost"})
    assert bad.value.status_code == 400 and bad.value.error_messages == ["Invalid invoice status: lost"]


def test_every_success_is_an_envelope_and_get_tolerates_a_json_content_type(st: SandboxServer) -> None:
    token = client_credentials(st)["access_token"]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = requests.get(f"{st.url}/api/taxgroup", headers=headers, timeout=5).json()
    assert set(body) == {"data", "messages"} and body["messages"] == {}
    assert {g["combinedRate"] for g in body["data"]["taxGroups"]} == {0.075, 0.0725}
