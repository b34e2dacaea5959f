"""The QBO sandbox itself, over raw HTTP: the published behaviours a client must be able to rely on
(docs/qbo.md lists each with its source)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from sandbox.qbo import ManualClock, QboSandboxServer, start

BASIC = ("sandbox-client-id", "sandbox-client-secret")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> Iterator[QboSandboxServer]:
    with start(clock=clock, per_second=10_000, per_minute=100_000) as srv:
        yield srv


class Api:
    def __init__(self, server: QboSandboxServer) -> None:
        self.base = f"{server.url}/v3/company/{server.realm_id}"
        self.headers = {
            "Authorization": f"Bearer {server.issue_tokens()['access_token']}",
            "Accept": "application/json",
        }

    def get(self, path: str, **params: str) -> requests.Response:
        return requests.get(self.base + path, params={"minorversion": "75", **params}, headers=self.headers, timeout=5)

    def post(self, path: str, body: Any, **params: str) -> requests.Response:
        return requests.post(
            self.base + path,
            params={"minorversion": "75", **params},
            data=json.dumps(body),
            headers={**self.headers, "Content-Type": "application/json"},
            timeout=5,
        )

    def query(self, statement: str) -> requests.Response:
        return self.get("/query", query=statement)


@pytest.fixture
def api(server: QboSandboxServer) -> Api:
    return Api(server)


def error(resp: requests.Response) -> dict[str, Any]:
    body = resp.json()
    assert set(body) == {"Fault", "time"} and body["Fault"]["type"] == "ValidationFault"
    return dict(body["Fault"]["Error"][0])


# ---- OAuth ---------------------------------------------------------------------------------------------------


def test_discovery_document_points_at_this_server(server: QboSandboxServer) -> None:
    doc = requests.get(server.discovery_url, timeout=5).json()
    assert doc["token_endpoint"] == f"{server.url}/oauth2/v1/tokens/bearer"
    assert doc["response_types_supported"] == ["code"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {"client_secret_post", "client_secret_basic"}
    assert requests.get(f"{server.url}/.well-known/openid-sandbox-configuration", timeout=5).json() == doc


def consent(server: QboSandboxServer, **overrides: str) -> requests.Response:
    params = {
        "client_id": BASIC[0],
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting openid",
        "redirect_uri": "https://app.example/cb",
        "state": "abc",
        **overrides,
    }
    return requests.get(f"{server.url}/connect/oauth2", params=params, allow_redirects=False, timeout=5)


def token(
    server: QboSandboxServer,
    form: dict[str, str],
    auth: tuple[str, str] | None = BASIC,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    return requests.post(f"{server.url}/oauth2/v1/tokens/bearer", data=form, auth=auth, headers=headers, timeout=5)


def test_code_grant_refresh_rotation_and_invalid_grant(server: QboSandboxServer) -> None:
    assert consent(server, scope="openid").status_code == 400  # the accounting scope is required
    redirect = consent(server).headers["Location"]
    code = redirect.split("code=")[1].split("&")[0]
    assert "state=abc" in redirect and f"realmId={server.realm_id}" in redirect
    wrong_uri = token(server, {"grant_type": "authorization_code", "code": code, "redirect_uri": "https://evil/cb"})
    assert (wrong_uri.status_code, wrong_uri.json()["error"]) == (400, "invalid_grant")
    code = consent(server).headers["Location"].split("code=")[1].split("&")[0]
    first = token(
        server,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "https://app.example/cb",
            **dict(zip(("client_id", "client_secret"), BASIC, strict=True)),
        },
        auth=None,
    ).json()
    assert first["token_type"] == "bearer" and first["expires_in"] == 3600
    assert first["x_refresh_token_expires_in"] == 100 * 24 * 3600

    second = token(
        server,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        headers={"x-include-refresh-token-hard-expires-in": "true"},
    ).json()
    assert second["refresh_token"] != first["refresh_token"]  # rotated
    assert second["x_refresh_token_hard_expires_in"] == 157_680_000
    reused = token(server, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")
    bad_client = token(
        server,
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        auth=("sandbox-client-id", "nope"),
    )
    assert (bad_client.status_code, bad_client.json()["error"]) == (401, "invalid_client")

    revoke = requests.post(
        f"{server.url}/v2/oauth2/tokens/revoke", json={"token": second["refresh_token"]}, auth=BASIC, timeout=5
    )
    assert revoke.status_code == 200
    dead = token(server, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]})
    assert dead.json()["error"] == "invalid_grant"
    api_call = requests.get(
        f"{server.url}/v3/company/{server.realm_id}/item/6",
        headers={"Authorization": f"Bearer {second['access_token']}"},
        timeout=5,
    )
    assert api_call.status_code == 401


def test_access_token_expires_after_an_hour_with_a_3200_body(
    server: QboSandboxServer, clock: ManualClock, api: Api
) -> None:
    assert api.get("/item/6").status_code == 200
    clock.advance(3600)
    resp = api.get("/item/6")
    assert resp.status_code == 401
    assert resp.json()["fault"]["error"][0]["code"] == "3200"
    other_realm = server.issue_tokens("1234")["access_token"]
    forbidden = requests.get(api.base + "/item/6", headers={"Authorization": f"Bearer {other_realm}"}, timeout=5)
    assert forbidden.status_code == 403 and forbidden.json()["Fault"]["Error"][0]["code"] == "3100"


# ---- entities, SyncToken, requestid --------------------------------------------------------------------------


def new_invoice(**extra: Any) -> dict[str, Any]:
    return {
        "CustomerRef": {"value": "20"},
        "Line": [
            {
                "Amount": 12.5,
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": "6"}, "Qty": 2.5, "UnitPrice": 5},
            }
        ],
        **extra,
    }


def test_invoice_totals_are_exact_decimals_and_refs_get_names(api: Api) -> None:
    resp = api.post(
        "/invoice",
        new_invoice(
            DocNumber="A-1",
            Line=[
                {
                    "Amount": 0.1,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "6"}},
                },
                {
                    "Amount": 0.2,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": "7"}},
                },
                {"DetailType": "DescriptionOnly", "Description": "thanks"},
            ],
        ),
    )
    inv = json.loads(resp.text, parse_float=Decimal)["Invoice"]
    assert inv["TotalAmt"] == Decimal("0.30") and inv["Balance"] == Decimal("0.30")
    assert inv["Line"][-1] == {"Amount": Decimal("0.30"), "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}
    assert inv["CustomerRef"] == {"value": "20", "name": "Amy's Bird Sanctuary"}
    assert [ln.get("Id") for ln in inv["Line"]] == ["1", "2", "3", None]


def test_sync_token_sparse_and_full_update(api: Api) -> None:
    inv = api.post("/invoice", new_invoice(DocNumber="S-1", PrivateNote="keep")).json()["Invoice"]
    sparse = api.post("/invoice", {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "DueDate": "2026-03-01"})
    assert sparse.json()["Invoice"]["SyncToken"] == "1" and sparse.json()["Invoice"]["PrivateNote"] == "keep"
    stale = api.post("/invoice", {"Id": inv["Id"], "SyncToken": "0", "sparse": True, "DueDate": "2026-04-01"})
    assert stale.status_code == 400 and error(stale)["code"] == "5010"
    assert "were working on this at the same time" in error(stale)["Detail"]
    full = api.post("/invoice", {**new_invoice(), "Id": inv["Id"], "SyncToken": "1"}).json()["Invoice"]
    assert full["SyncToken"] == "2" and "PrivateNote" not in full and "DocNumber" not in full  # full update clears


def test_requestid_replays_the_original_answer(server: QboSandboxServer, api: Api, clock: ManualClock) -> None:
    first = api.post("/customer", {"DisplayName": "Replay Co"}, requestid="rq-1")
    clock.advance(5)
    again = api.post("/customer", {"DisplayName": "Replay Co"}, requestid="rq-1")
    assert again.status_code == 200 and again.text == first.text
    assert error(api.post("/customer", {"DisplayName": "Replay Co"}, requestid="rq-2"))["code"] == "6240"
    clock.advance(24 * 3600)  # past the window the sandbox remembers requestids for
    api = Api(server)  # (the access token expired meanwhile)
    assert api.post("/customer", {"DisplayName": "Replay Co"}, requestid="rq-1").status_code == 400


def test_duplicate_names_across_people_lists_and_sub_customers(api: Api) -> None:
    dup = api.post("/customer", {"DisplayName": "pat technician"})  # an employee's name, any case
    assert error(dup)["code"] == "6240" and error(dup)["Message"] == "Duplicate Name Exists Error"
    job = api.post("/customer", {"DisplayName": "Bird Feeder Install", "ParentRef": {"value": "20"}}).json()["Customer"]
    assert job["Job"] is True and job["FullyQualifiedName"] == "Amy's Bird Sanctuary:Bird Feeder Install"
    assert error(api.post("/customer", {"DisplayName": "X", "ParentRef": {"value": "999"}}))["code"] == "2500"


def test_doc_number_rules(api: Api, server: QboSandboxServer) -> None:
    assert api.post("/invoice", new_invoice(DocNumber="D-1")).status_code == 200
    assert error(api.post("/invoice", new_invoice(DocNumber="D-1")))["code"] == "6140"
    assert error(api.post("/invoice", new_invoice(DocNumber="X" * 22)))["element"] == "DocNumber"
    assert "DocNumber" not in api.post("/invoice", new_invoice()).json()["Invoice"]  # custom numbers on
    assert api.post("/invoice", new_invoice(DocNumber="AUTO_GENERATE")).json()["Invoice"]["DocNumber"] == "1001"
    server.state.realm().settings.custom_transaction_numbers = False
    assert api.post("/invoice", new_invoice()).json()["Invoice"]["DocNumber"] == "1002"


def test_void_and_delete(api: Api) -> None:
    inv = api.post("/invoice", new_invoice(DocNumber="V-1")).json()["Invoice"]
    voided = api.post("/invoice", {"Id": inv["Id"], "SyncToken": "0"}, operation="void").json()["Invoice"]
    assert voided["TotalAmt"] == 0 and voided["Balance"] == 0 and voided["PrivateNote"].startswith("Voided")
    gone = api.post("/invoice", {"Id": inv["Id"], "SyncToken": "1"}, operation="delete").json()["Invoice"]
    assert gone == {"status": "Deleted", "domain": "QBO", "Id": inv["Id"]}
    assert error(api.get(f"/invoice/{inv['Id']}"))["code"] == "610"
    assert error(api.post("/customer", {"Id": "20", "SyncToken": "0"}, operation="delete"))["code"] == "500"


def test_payment_lines_reduce_invoice_balance(api: Api) -> None:
    inv = api.post("/invoice", new_invoice(DocNumber="P-1")).json()["Invoice"]
    too_much = api.post(
        "/payment",
        {
            "CustomerRef": {"value": "20"},
            "TotalAmt": 20,
            "Line": [{"Amount": 20, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        },
    )
    assert error(too_much)["code"] == "6000"
    pay = api.post(
        "/payment",
        {
            "CustomerRef": {"value": "20"},
            "TotalAmt": 10,
            "Line": [{"Amount": 2.5, "LinkedTxn": [{"TxnId": inv["Id"], "TxnType": "Invoice"}]}],
        },
    )
    payment = json.loads(pay.text, parse_float=Decimal)["Payment"]
    assert payment["UnappliedAmt"] == Decimal("7.50")
    assert json.loads(api.get(f"/invoice/{inv['Id']}").text, parse_float=Decimal)["Invoice"]["Balance"] == Decimal(
        "10.00"
    )
    api.post("/payment", {"Id": payment["Id"], "SyncToken": "0"}, operation="delete")
    assert api.get(f"/invoice/{inv['Id']}").json()["Invoice"]["Balance"] == 12.5


# ---- the query language ------------------------------------------------------------------------------------


def rows(resp: requests.Response, entity: str) -> list[dict[str, Any]]:
    assert resp.status_code == 200, resp.text
    return list(resp.json()["QueryResponse"].get(entity, []))


def test_query_subset(api: Api, server: QboSandboxServer) -> None:
    names = [r["Name"] for r in rows(api.query("SELECT * FROM Item WHERE Type = 'Service' ORDERBY Name DESC"), "Item")]
    assert names == ["Services", "Labor", "Inspection", "Hours"]
    picked = rows(api.query("select * from Item where Name in ('Labor', 'Parts', 'Nope')"), "Item")
    assert sorted(r["Name"] for r in picked) == ["Labor", "Parts"]
    page = api.query("select * from Item orderby Name startposition 2 maxresults 2").json()["QueryResponse"]
    assert [r["Name"] for r in page["Item"]] == ["Inspection", "Labor"]
    assert (page["startPosition"], page["maxResults"]) == (2, 2)
    assert api.query("select count(*) from Item").json()["QueryResponse"] == {"totalCount": 5}
    assert (
        api.query("select count(*) from Item where Active in (true, false)").json()["QueryResponse"]["totalCount"] == 6
    )
    assert rows(api.query(r"select * from Customer where DisplayName = 'Amy\'s Bird Sanctuary'"), "Customer")
    assert api.query("select * from Invoice where DocNumber = 'none'").json()["QueryResponse"] == {}
    posted = requests.post(
        api.base + "/query",
        data="select * from Class where Name like 'Ins%'",
        headers={**api.headers, "Content-Type": "application/text"},
        timeout=5,
    )
    assert sorted(r["Name"] for r in rows(posted, "Class")) == ["Inspection", "Installation"]


@pytest.mark.parametrize(
    ("statement", "code"),
    [
        ("select * from Item where Name = 'a' or Name = 'b'", "4000"),
        ("select Name, from Item", "4000"),
        ("select * from Item where Name = ", "4000"),
        ("select * from Item where UnitPrice = 0", "4001"),
        ("select * from Gizmo", "4001"),
    ],
)
def test_query_refusals(api: Api, statement: str, code: str) -> None:
    resp = api.query(statement)
    assert resp.status_code == 400 and error(resp)["code"] == code


# ---- throttling and faults -------------------------------------------------------------------------------------


def test_throttle_body_is_xml_unless_configured_otherwise(server: QboSandboxServer, api: Api) -> None:
    server.fail_next(1, status=429)
    xml = api.get("/item/6")
    assert xml.status_code == 429 and xml.headers["Content-Type"].startswith("application/xml")
    assert '<Error code="3001">' in xml.text and "ThrottleExceeded" in xml.text
    server.state.options.api.throttle_xml = False
    server.fail_next(1, status=429)
    assert api.get("/item/6").json()["Fault"]["Error"][0]["code"] == "3001"


def test_batch_per_minute_limit(clock: ManualClock) -> None:
    with start(clock=clock, batch_per_minute=2, per_second=100) as server:
        api = Api(server)
        body = {"BatchItemRequest": [{"bId": "1", "Query": "select count(*) from Item"}]}
        assert [api.post("/batch", body).status_code for _ in range(3)] == [200, 200, 429]
        assert api.get("/item/6").status_code == 200  # plain requests are not batch requests
        clock.advance(60)
        assert api.post("/batch", body).status_code == 200
        too_big = api.post(
            "/batch", {"BatchItemRequest": [{"bId": str(i), "Query": "select * from Item"} for i in range(31)]}
        )
        assert error(too_big)["code"] == "1040"


def test_fault_injection_levers_and_control_routes(server: QboSandboxServer, api: Api) -> None:
    control = f"{server.url}/_sandbox"
    requests.post(f"{control}/faults", json={"fail_next": {"count": 2, "status": 500, "path": "/item/"}}, timeout=5)
    assert [api.get("/item/6").status_code for _ in range(3)] == [500, 500, 200]
    requests.post(f"{control}/faults", json={"drop_after_commit": {"count": 1, "mode": "504"}}, timeout=5)
    assert api.post("/customer", {"DisplayName": "Gateway Co"}).status_code == 504
    assert [c["DisplayName"] for c in server.objects("Customer")].count("Gateway Co") == 1  # committed all the same
    server.fail_next(1, status=503, writes_only=True)
    assert api.get("/item/6").status_code == 200 and api.post("/customer", {"DisplayName": "W"}).status_code == 503
    listing = requests.get(f"{control}/realms/{server.realm_id}/item", timeout=5).json()
    assert len(listing) == 6  # inactive ones included
    assert requests.post(f"{control}/clock/advance", json={"seconds": 3601}, timeout=5).status_code == 200
    assert api.get("/item/6").status_code == 401


# ---- webhooks -------------------------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    got: list[tuple[dict[str, str], bytes]] = []
    answers = iter([500])  # the first delivery fails, later ones succeed

    @Request.application  # type: ignore[arg-type]
    def app(request: Request) -> Response:
        got.append((dict(request.headers), request.get_data()))
        return Response("", next(answers, 200))

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.port}/hook", got
    srv.shutdown()


@pytest.mark.parametrize("shape", ["legacy", "cloudevents"])
def test_webhooks_are_signed_and_retried(clock: ManualClock, receiver: Any, shape: str) -> None:
    url, got = receiver
    with start(clock=clock, webhook_url=url, webhook_format=shape, verifier_token="vt-123") as server:
        api = Api(server)
        invoice_id = api.post("/invoice", new_invoice(DocNumber="W-1")).json()["Invoice"]["Id"]
        api.post("/class", {"Name": "Not Watched"})
        assert [d.last_status for d in server.state.webhooks.flush()] == [500]
        assert server.state.webhooks.flush() == []  # not due yet: Intuit waits 10 s before the first retry
        clock.advance(10)
        assert [d.last_status for d in server.state.webhooks.flush()] == [200]
    headers, body = got[-1]
    expected = base64.b64encode(hmac.new(b"vt-123", body, hashlib.sha256).digest()).decode()
    assert headers["Intuit-Signature"] == expected and got[0][1] == body
    payload = json.loads(body)
    if shape == "legacy":
        note = payload["eventNotifications"][0]
        assert note["realmId"] == server.realm_id
        assert note["dataChangeEvent"]["entities"] == [
            {"name": "Invoice", "id": invoice_id, "operation": "Create", "lastUpdated": "2026-01-01T00:00:00Z"}
        ]
    else:
        assert headers["Content-Type"] == "application/cloudevents+json"
        assert [(e["type"], e["intuitentityid"], e["intuitaccountid"]) for e in payload] == [
            ("qbo.invoice.created.v1", invoice_id, server.realm_id)
        ]
