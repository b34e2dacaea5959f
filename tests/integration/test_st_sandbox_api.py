"""Sandbox resources over HTTP: pagination edge cases, filters, external ids, payments, clock events, jobs."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests

from sandbox.servicetrade import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    PAYROLL_SYSTEM,
    SandboxServer,
    generate,
    start,
)


class Api:
    """A bare HTTP client for the sandbox (bearer token from the demo client credentials)."""

    def __init__(self, st: SandboxServer):
        self.st = st
        body = {"grant_type": "client_credentials", "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
        token = requests.post(f"{st.url}/api/oauth2/token", data=body, timeout=5).json()["access_token"]
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        resp = self.session.request(method, f"{self.st.url}/api{path}", timeout=10, **kwargs)
        assert resp.status_code == expect, resp.text[:500]
        return resp.json() if resp.content else None

    def data(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params)["data"]

    def error(self, method: str, path: str, expect: int, **kwargs: Any) -> str:
        body = self.call(method, path, expect, **kwargs)
        assert body["data"] is None
        messages: list[str] = body["messages"]["error"]
        return messages[0]


@pytest.fixture
def st() -> Iterator[SandboxServer]:
    with start(delivery_mode="manual") as server:
        yield server


@pytest.fixture
def api(st: SandboxServer) -> Api:
    return Api(st)


def ids_of(st: SandboxServer, collection: str, **match: Any) -> list[int]:
    rows = getattr(st.state, collection).values()
    return [r["id"] for r in rows if all(r.get(k) == v for k, v in match.items())]


def user_id(st: SandboxServer, name: str) -> int:
    return next(u["id"] for u in st.state.users.values() if u["name"] == name)


# -- pagination -----------------------------------------------------------------------------------------------
def test_pagination_pages_limits_and_defaults(api: Api) -> None:
    first = api.data("/invoice", limit=5)
    assert (len(first["invoices"]), first["totalPages"], first["page"]) == (5, 4, 1)
    last = api.data("/invoice", limit=5, page=4)
    assert (len(last["invoices"]), last["page"]) == (2, 4)
    beyond = api.data("/invoice", limit=5, page=9)
    assert (beyond["invoices"], beyond["totalPages"], beyond["page"]) == ([], 4, 9)
    locations = api.data("/location")  # documented default 10
    assert (len(locations["locations"]), locations["totalPages"]) == (10, 2)
    none = api.data("/invoice", status="paid", customerId=1)
    assert (none["invoices"], none["totalPages"]) == ([], 0)
    every = [i["id"] for p in (1, 2, 3, 4) for i in api.data("/invoice", limit=5, page=p)["invoices"]]
    assert len(every) == len(set(every)) == 17


@pytest.mark.parametrize("params", [{"limit": 0}, {"page": 0}, {"limit": "ten"}, {"page": "-1"}])
def test_bad_page_or_limit_is_400(api: Api, params: dict[str, Any]) -> None:
    assert api.error("GET", "/invoice", 400, params=params)


def test_limit_is_clamped_to_the_maximum() -> None:
    with start(generate(labor_rows=2500, technicians=2, jobs=3)) as st:
        page = Api(st).data("/clock", limit=5000)
    assert (len(page["events"]), page["totalPages"]) == (2000, 2)


# -- filters --------------------------------------------------------------------------------------------------
def test_invoice_filters(api: Api, st: SandboxServer) -> None:
    pending = {i["id"] for i in api.data("/invoice", status="pending_accounting")["invoices"]}
    both = api.data("/invoice", status="pending_accounting,failed")["invoices"]
    assert len(pending) == 6 and len(both) == 7
    assert api.error("GET", "/invoice", 400, params={"status": "nonsense"}).startswith("Invalid invoice status")

    some = st.state.invoices[sorted(pending)[2]]
    on_or_after = {i["id"] for i in api.data("/invoice", updatedAfter=some["updated"])["invoices"]}
    on_or_before = {i["id"] for i in api.data("/invoice", updatedBefore=some["updated"])["invoices"]}
    assert some["id"] in on_or_after and some["id"] in on_or_before  # inclusive bounds
    assert on_or_after | on_or_before == set(st.state.invoices)

    day = some["transactionDate"]
    same_day = api.data("/invoice", transactionDateAfter=day, transactionDateBefore=day)["invoices"]
    assert {i["transactionDate"] for i in same_day} == {day} and some["id"] in {i["id"] for i in same_day}

    by_customer = api.data("/invoice", customerId=some["customerId"])["invoices"]
    assert by_customer and {i["customer"]["id"] for i in by_customer} == {some["customerId"]}
    by_job = api.data("/invoice", jobId=some["jobId"])["invoices"]
    assert [i["id"] for i in by_job] == [some["id"]]
    by_date = api.data("/invoice", sort="transactionDate")["invoices"]
    assert [i["transactionDate"] for i in by_date] == sorted(i["transactionDate"] for i in by_date)


def test_invoice_shape_and_totals(api: Api, st: SandboxServer) -> None:
    inv = next(i for i in api.data("/invoice")["invoices"] if i["invoiceNumber"] == "INV-24107")
    assert inv["status"] == "pending_accounting" and inv["type"] == "invoice"
    assert inv["taxGroup"] == {
        "id": inv["taxGroup"]["id"],
        "uri": f"{st.url}/api/taxgroup/{inv['taxGroup']['id']}",
        "name": "Orange County",
        "code": "NC-ORA",
        "combinedRate": 0.075,
    }
    lines = inv["items"]
    assert [(i["libItem"] or {}).get("code") for i in lines] == ["TRIP", "LAB-REG", None, "R410A-LB"]
    assert [i["taxable"] for i in lines] == [False, False, True, True]
    assert lines[3]["quantity"] == 3.5 and lines[3]["totalPrice"] == 133.0
    assert (inv["subtotal"], inv["tax"], inv["totalPrice"]) == (1450.4, 33.41, 1483.81)
    assert inv["customer"]["uri"] == f"{st.url}/api/company/{inv['customer']['id']}"
    assert inv["job"]["number"] == 24107 and inv["terms"] == {"id": 15, "name": "Net 15"}


def test_job_status_default_all_and_number(api: Api) -> None:
    default = api.data("/job")["jobs"]
    assert {j["status"] for j in default} == {"scheduled"} and len(default) == 4
    every = api.data("/job", status="all")["jobs"]
    assert len(every) == 24 and "canceled" not in {j["status"] for j in every}
    by_number = api.data("/job", number="24125,24101")["jobs"]  # a number searches every status
    assert sorted(j["number"] for j in by_number) == [24101, 24125]
    inspections = api.data("/job", status="all", type="inspection,reinspection")["jobs"]
    assert inspections and {j["type"] for j in inspections} == {"inspection"}


@pytest.mark.parametrize("truthy", ["1", "true", "True"])
def test_boolean_filters_accept_1_0_true_false(api: Api, truthy: str) -> None:
    vendors = api.data("/company", isVendor=truthy, isCustomer="0")["companies"]
    assert {c["name"] for c in vendors} >= {"Piedmont Fire Supply", "Triangle Equipment Rental"}
    assert not any(c["isCustomer"] for c in vendors)
    customers = api.data("/company", isCustomer=truthy)["companies"]
    assert len(customers) == 8
    assert api.error("GET", "/company", 400, params={"isVendor": "maybe"}).endswith("(1/0/true/false)")


def test_location_and_user_filters(api: Api, st: SandboxServer) -> None:
    crestview = next(c["id"] for c in st.state.companies.values() if c["name"].startswith("Crestview"))
    locs = api.data("/location", companyId=crestview)["locations"]
    assert len(locs) == 3 and {loc["taxable"] for loc in locs} == {False} and locs[0]["taxGroup"] is None
    taxable = [loc for loc in api.data("/location", limit=100)["locations"] if loc["taxable"]]
    assert taxable and all(loc["taxGroup"]["combinedRate"] in (0.075, 0.0725) for loc in taxable)
    techs = api.data("/user", isTech="true")["users"]
    assert len(techs) == 6
    numbers = {u["name"]: u["externalIds"].get(PAYROLL_SYSTEM) for u in techs}
    assert numbers["Jordan Hale"] is None and numbers["Marcus Reyes"] == "E1001"


def test_job_items_carry_po_references_and_costs(api: Api) -> None:
    items = api.data("/jobitem")["jobItems"]
    with_po = [i for i in items if i["source"]]
    assert len(items) == 17 and len(with_po) == 10
    assert {i["source"]["type"] for i in with_po} == {"refnumber"}
    assert all(i["source"]["value"].startswith("PO ") and i["vendor"] for i in with_po)
    refrigerant = next(i for i in items if i["name"].startswith("Refrigerant"))
    assert (refrigerant["quantity"], refrigerant["cost"], refrigerant["vendor"]) == (3.5, 14.6, None)
    parts = api.data("/jobitem", libItemType="part")["jobItems"]
    assert parts and {i["libItem"]["type"] for i in parts} == {"part"}
    first = min(i["usedOn"] for i in items)
    assert len(api.data("/jobitem", usedOnBefore=first)["jobItems"]) == 1


# -- clock events ---------------------------------------------------------------------------------------------
def test_clock_filters_and_the_open_clock_in(api: Api, st: SandboxServer) -> None:
    events = api.data("/clock", limit=200)["events"]
    assert len(events) == 53
    assert [e["clockIn"] for e in events] == sorted(e["clockIn"] for e in events)
    assert set(events[0]) == {
        "id",
        "activity",
        "source",
        "user",
        "job",
        "appointment",
        "clockIn",
        "clockOut",
        "lat",
        "lon",
    }
    ortega = user_id(st, "Luis Ortega")
    assert api.error("GET", "/clock", 400, params={"openClockEvents": 1}).startswith("openClockEvents requires")
    open_events = api.data("/clock", openClockEvents=1, userIds=f"{ortega},{user_id(st, 'Tanya Brooks')}")["events"]
    assert [(e["user"]["name"], e["job"]["number"], e["clockOut"]) for e in open_events] == [
        ("Luis Ortega", 24120, None)
    ]
    mine = api.data("/clock", userId=ortega, limit=200)["events"]
    assert mine and {e["user"]["id"] for e in mine} == {ortega}
    window = api.data("/clock", startTime=events[10]["clockIn"], endTime=events[20]["clockIn"], limit=200)["events"]
    assert [e["id"] for e in window] == [e["id"] for e in events[10:21]]
    job = events[0]["job"]["id"]
    assert {e["job"]["id"] for e in api.data("/clock", jobId=job)["events"]} == {job}
    assert {e["activity"] for e in api.data("/clock", activity="enroute", limit=200)["events"]} == {"enroute"}
    assert {e["source"] for e in api.data("/clock", source="ivr", limit=200)["events"]} == {"ivr"}


def test_clock_in_and_out_through_the_api(api: Api, st: SandboxServer) -> None:
    job = next(j for j in st.state.jobs.values() if j["number"] == 24121)
    reyes = user_id(st, "Marcus Reyes")
    event = api.call("POST", f"/job/{job['id']}/clockin", json={"userId": reyes, "lat": 35.9, "lon": -79.0})["data"]
    assert event["clockOut"] is None and event["job"]["number"] == 24121 and event["user"]["id"] == reyes
    assert api.error("POST", f"/job/{job['id']}/clockin", 400, json={"userId": reyes}) == "User is already clocked in"
    closed = api.call("POST", f"/job/{job['id']}/clockout", json={"userId": reyes})["data"]
    assert closed["id"] == event["id"] and closed["clockOut"] >= closed["clockIn"]
    assert st.state.clock_events[event["id"]]["clockOut"] == closed["clockOut"]
    assert api.error("POST", f"/job/{job['id']}/clockout", 400, json={"userId": reyes}).startswith("User is not")


def test_generated_block_pages_over_http_exactly() -> None:
    with start(generate(labor_rows=7_000, technicians=5, jobs=10)) as st:
        api = Api(st)
        seen: list[int] = []
        page, total = 1, 1
        while page <= total:
            body = api.data("/clock", limit=2000, page=page)
            total = body["totalPages"]
            seen.extend(e["id"] for e in body["events"])
            page += 1
        block = st.state.clock_block
        assert block is not None
        tech = block.user_ids[0]
        filtered = api.data("/clock", userId=tech, limit=2000)
    assert total == 4 and len(seen) == len(set(seen)) == 7_000
    assert len(block.user_ids) == 11  # the demo's 6 technicians + 5 generated
    assert filtered["totalPages"] == 1 and len(filtered["events"]) == len(range(0, 7_000, 11))
    assert {e["user"]["id"] for e in filtered["events"]} == {tech}


# -- external ids ---------------------------------------------------------------------------------------------
def test_external_id_forms(api: Api, st: SandboxServer) -> None:
    reyes = user_id(st, "Marcus Reyes")
    assert api.data(f"/externalid/user/{reyes}") == {"values": {"payroll": "E1001"}}
    assert api.data(f"/externalid/user/{reyes}/payroll") == {"value": "E1001"}
    found = api.data("/externalid/user/payroll/E1001")  # non-numeric second segment: a reverse lookup
    assert found["id"] == reyes and found["name"] == "Marcus Reyes"

    hale = user_id(st, "Jordan Hale")
    assert api.error("GET", f"/externalid/user/{hale}/payroll", 404)
    assert api.call("PUT", f"/externalid/user/{hale}/payroll", json={"value": "E1006"})["data"] == {"value": "E1006"}
    assert st.state.external_ids[("user", hale)] == {"payroll": "E1006"}
    assert api.call("POST", f"/externalid/user/{hale}/adp", json={"value": "77"})["data"] == {"value": "77"}
    assert api.call("PUT", f"/externalid/user/{hale}/payroll", json={"value": ""})["data"] == {"value": ""}
    assert api.data(f"/externalid/user/{hale}") == {"values": {"adp": "77"}}
    assert api.error("GET", "/externalid/user/payroll/NOPE", 404)
    assert api.error("GET", "/externalid/spaceship/1", 400)
    assert api.error("GET", "/externalid/user/999", 404)


# -- payments -------------------------------------------------------------------------------------------------
def test_payments_pay_an_invoice_and_reversal_restores_its_status(api: Api, st: SandboxServer) -> None:
    inv = next(i for i in st.state.invoices.values() if i["invoiceNumber"] == "INV-24105")
    total = st.state.totals(inv)["totalPrice"]
    body = {"invoiceId": inv["id"], "amount": 100.25, "method": "check", "referenceNumber": "CHK 1", "date": 1762950000}
    part = api.call("POST", "/payment", json=body)["data"]
    assert part["invoice"]["id"] == inv["id"] and part["amount"] == 100.25 and inv["status"] == "sent"
    assert st.state.payments[part["id"]]["amount"] == Decimal("100.25")

    over = {**body, "amount": float(total)}
    assert api.error("POST", "/payment", 400, json=over) == "Payment amount exceeds the invoice balance"
    rest = api.call("POST", "/payment", json={**body, "amount": float(total - Decimal("100.25"))})["data"]
    assert inv["status"] == "paid"
    fetched = api.data(f"/invoice/{inv['id']}")
    assert (fetched["status"], fetched["balance"], fetched["amountPaid"]) == ("paid", 0, float(total))
    listed = api.data("/payment", invoiceId=inv["id"])["payments"]
    assert sorted(p["id"] for p in listed) == sorted([part["id"], rest["id"]])

    api.call("DELETE", f"/payment/{rest['id']}", 204)
    assert inv["status"] == "sent" and rest["id"] not in st.state.payments
    assert api.error("DELETE", f"/payment/{rest['id']}", 404)
    void = next(i for i in st.state.invoices.values() if i["status"] == "void")
    assert "void" in api.error("POST", "/payment", 400, json={**body, "invoiceId": void["id"]})


# -- invoices: create, items, transitions ---------------------------------------------------------------------
def test_invoice_status_transitions_and_item_edits(api: Api, st: SandboxServer) -> None:
    void = next(i for i in st.state.invoices.values() if i["status"] == "void")
    msg = api.error("PUT", f"/invoice/{void['id']}", 400, json={"status": "processed"})
    assert msg == "Invalid status transition from void to processed"
    assert api.error("PUT", f"/invoice/{void['id']}", 409, json={"contractId": 5})

    draft = next(i for i in st.state.invoices.values() if i["status"] == "draft")
    item = api.call("POST", "/invoiceitem", json={"invoiceId": draft["id"], "description": "Extra", "price": "10.10"})
    assert item["data"]["totalPrice"] == 10.1 and item["data"]["invoice"]["id"] == draft["id"]
    changed = api.call("PUT", f"/invoiceitem/{item['data']['id']}", json={"quantity": 3})["data"]
    assert changed["totalPrice"] == 30.3
    assert api.data(f"/invoice/{draft['id']}")["subtotal"] == 225.3  # 195.00 + 30.30
    assert len(api.data("/invoiceitem", invoiceId=draft["id"])["invoiceItems"]) == 2
    api.call("DELETE", f"/invoiceitem/{item['data']['id']}", 204)
    assert api.data(f"/invoice/{draft['id']}")["subtotal"] == 195


def test_create_invoice_from_a_job_applies_the_location_tax(api: Api, st: SandboxServer) -> None:
    job = next(j for j in st.state.jobs.values() if j["number"] == 24118)  # Pinecrest Warehouse A, Wake 7.25 %
    created = api.call("POST", "/invoice", json={"jobId": job["id"]})["data"]
    assert created["status"] == "ok" and created["location"]["id"] == job["locationId"]
    assert [i["description"] for i in created["items"]] == [
        "ESFR sprinkler head K25.2",
        "Cleanup supplies (absorbent, bags)",
    ]
    # 12 x 96.00 + 36.45 (no price: its cost), both taxable at this location: 1188.45 x 7.25 % = 86.16
    assert (created["subtotal"], created["tax"], created["totalPrice"]) == (1188.45, 86.16, 1274.61)
    assert created["id"] in st.state.invoices
