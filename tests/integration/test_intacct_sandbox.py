"""The Intacct double behaves as Sage documents the XML gateway, seen through the client: sender vs login
refusals, sessions and their endpoint and expiry, uniqueid refusing a repeated controlid, per-function errors
with description2/correction, transaction rollback, readByQuery paging by resultId, the concurrency limit,
dimensions that must exist."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from ledgerbridge.errors import TransientError
from ledgerbridge.targets.intacct import functions as fn
from ledgerbridge.targets.intacct.client import IntacctClient, IntacctError, LoginRejected, SenderRejected
from ledgerbridge.targets.intacct.target import IntacctTarget
from ledgerbridge.targets.intacct.wire import Credentials
from sandbox import intacct
from sandbox.intacct import IntacctSandboxServer

CUSTOMER = {"CUSTOMERID": "ST-1", "NAME": "Acme Fire", "DISPLAYCONTACT": {"PRINTAS": "Acme Fire"}}


def invoice_doc(number: str = "INV-1", **line: str) -> dict[str, Any]:
    return {
        "customerid": "ST-1",
        "datecreated": "2026-11-30",
        "termname": "Net 30",
        "invoiceno": number,
        "lines": [{"glaccountno": "4000", "amount": "100.00", "memo": "Inspection", "locationid": "100", **line}],
    }


@pytest.fixture
def server() -> Iterator[IntacctSandboxServer]:
    with intacct.start() as running:
        yield running


def client_for(server: IntacctSandboxServer, **changes: str) -> IntacctClient:
    creds = Credentials(**{**_creds(server), **changes})
    return IntacctClient(creds, endpoint=server.url)


def _creds(server: IntacctSandboxServer) -> dict[str, str]:
    c = server.credentials()
    return {
        "sender_id": c["sender_id"],
        "sender_password": c["sender_password"],
        "company_id": c["company_id"],
        "user_id": c["user_id"],
        "user_password": c["user_password"],
    }


def test_a_wrong_sender_and_a_wrong_login_are_different_errors(server: IntacctSandboxServer) -> None:
    with pytest.raises(SenderRejected, match="Incorrect Intacct XML Partner ID or password") as sender:
        client_for(server, sender_password="guess").session()
    assert sender.value.code == "XL03000006"
    with pytest.raises(LoginRejected, match="Sign-in information is incorrect"):
        client_for(server, user_password="guess").session()
    server.company.senders.clear()  # the company never authorized this sender
    with pytest.raises(LoginRejected, match="not authorized") as unauthorized:
        client_for(server).session()
    assert "Web Services authorizations" in unauthorized.value.hint


def test_a_session_is_reused_at_its_endpoint_until_it_expires(server: IntacctSandboxServer) -> None:
    client = client_for(server)
    target = IntacctTarget(client)
    session = client.session()
    assert session.endpoint.endswith("/ia/xml/session/acme-demo/xmlgw.phtml") and session.endpoint != server.url
    target.query("CUSTOMER", "")
    target.query("CUSTOMER", "")
    assert client.session() is session and len(server.gateway.sessions) == 1
    server.advance(3 * 3600)  # past the session's timeout: Intacct refuses it, the client logs in again once
    client.clock = lambda: 0.0  # the client still believes the session is live
    target.query("CUSTOMER", "")
    assert client.session() is not session and len(server.gateway.sessions) == 1


def test_a_repeated_controlid_is_refused_and_resolved_by_lookup(server: IntacctSandboxServer) -> None:
    target = IntacctTarget(client_for(server))
    target.create("customer", CUSTOMER, "cust-intent")
    first = target.create("invoice", invoice_doc(), "invoice-intent-1")
    raw = target.client.call_one(fn.create_invoice(invoice_doc(), "invoice-intent-1"), unique=True)
    assert not raw.ok and "invoice-intent-1" in raw.errors[0].description
    again = target.create("invoice", invoice_doc(), "invoice-intent-1")  # what a retried job sends
    assert again.target_id == first.target_id and len(server.invoices()) == 1
    other = target.create("invoice", invoice_doc(), "invoice-intent-2")  # a new intent is a new invoice
    assert other.target_id != first.target_id and len(server.invoices()) == 2


def test_function_errors_carry_description2_and_correction_and_spare_the_others(
    server: IntacctSandboxServer,
) -> None:
    target = IntacctTarget(client_for(server))
    target.create("customer", CUSTOMER, "c")
    writes = [("invoice", invoice_doc("INV-1"), None), ("invoice", invoice_doc("INV-2", locationid="999"), None)]
    good, bad = target.write_each(writes, ["w1", "w2"])
    assert not isinstance(good, Exception) and isinstance(bad, IntacctError)
    assert "Invalid location '999' specified." in str(bad) and "does not exist" in str(bad)
    assert bad.code == "BL03000018" and bad.hint == "Create the location in Intacct, or use one that exists."
    assert [i["RECORDID"] for i in server.invoices()] == ["INV-1"]


def test_dimensions_must_exist(server: IntacctSandboxServer) -> None:
    target = IntacctTarget(client_for(server))
    target.create("customer", CUSTOMER, "c")
    for field, value in (("departmentid", "NOPE"), ("projectid", "J-1"), ("classid", "X"), ("glaccountno", "9")):
        with pytest.raises(IntacctError, match="does not exist"):
            target.create("invoice", invoice_doc(f"INV-{field}", **{field: value}), f"w-{field}")
    with pytest.raises(IntacctError, match="GLDIMREGION"):
        target.create(
            "invoice",
            {
                **invoice_doc("INV-c"),
                "lines": [{"glaccountno": "4000", "amount": "1.00", "customfields": {"GLDIMREGION": "NORTH"}}],
            },
            "w-custom",
        )
    server.company.projects.add("J-1")
    target.create("invoice", invoice_doc("INV-ok", projectid="J-1"), "w-ok")
    assert [i["RECORDID"] for i in server.invoices()] == ["INV-ok"]


def test_a_transaction_rolls_every_function_back(server: IntacctSandboxServer) -> None:
    client = client_for(server)
    calls = [
        fn.create_object("CUSTOMER", CUSTOMER, "t1"),
        fn.create_invoice(invoice_doc("INV-1"), "t2"),
        fn.create_invoice(invoice_doc("INV-2", locationid="999"), "t3"),
    ]
    results = client.call(calls, unique=True, transaction=True)
    assert [r.status for r in results] == ["aborted", "aborted", "failure"]
    assert all(r.errors[-1].errorno == "XL03000009" for r in results)
    assert server.company.customers == {} and server.invoices() == []
    retried = client.call(calls[:2], unique=True, transaction=True)  # rolled back, so not "already executed"
    assert all(r.ok for r in retried)


def test_read_by_query_pages_with_result_id(server: IntacctSandboxServer) -> None:
    target = IntacctTarget(client_for(server))
    for n in range(7):
        target.create("customer", {**CUSTOMER, "CUSTOMERID": f"ST-{n}"}, f"c{n}")
    first = target.client.call_one(fn.read_by_query("CUSTOMER", "", "q", pagesize=3), unique=False)
    assert (first.count, first.totalcount, first.numremaining) == (3, 7, 4) and first.result_id
    following = target.client.call_one(fn.read_more(first.result_id, "m"), unique=False)
    assert (following.count, following.numremaining) == (3, 1)
    found = target.query("CUSTOMER", "CUSTOMERID IN ('ST-1', 'ST-5')")
    assert sorted(r["CUSTOMERID"] for r in found) == ["ST-1", "ST-5"]


def test_the_company_concurrency_limit_answers_429(server: IntacctSandboxServer) -> None:
    server.gateway.options = replace(server.gateway.options, concurrency=1, latency_s=0.3)
    client = client_for(server)
    client.session()
    errors: list[Exception] = []

    def read() -> None:
        try:
            IntacctTarget(client.copy()).query("CUSTOMER", "")
        except TransientError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors and all("429" in str(e) for e in errors)
