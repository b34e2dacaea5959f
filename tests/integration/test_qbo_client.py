"""QboClient and QboTarget against the QBO sandbox over real HTTP on 127.0.0.1 (tokens kept in memory here;
test_qbo_tokens.py covers the Secrets Manager store)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from ledgerbridge.errors import AuthorizationRevoked, PermanentError, TransientError
from ledgerbridge.records import Customer, Invoice, InvoiceLine, Location, Ref
from ledgerbridge.targets.base import TargetRecord
from ledgerbridge.targets.qbo.client import QboClient
from ledgerbridge.targets.qbo.faults import DuplicateDocNumberError, DuplicateNameError
from ledgerbridge.targets.qbo.target import QboTarget
from ledgerbridge.targets.qbo.tokens import AppCredentials, InMemoryTokenStore, OAuthClient, QboTokens, Tokens
from ledgerbridge.tenants import MappingSettings
from sandbox.qbo import ManualClock, QboSandboxServer, start

REDIRECT = "https://app.example.com/oauth/qbo/callback"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server(clock: ManualClock) -> Iterator[QboSandboxServer]:
    # The manual clock stands still, so every request falls in the same second: the rate limits get their
    # own tests (test_rate_limits_answer_429_on_the_injected_clock) and are out of the way here.
    with start(clock=clock, per_second=10_000, per_minute=100_000) as srv:
        yield srv


def connect(server: QboSandboxServer, clock: ManualClock, **client_options: Any) -> QboClient:
    """A client whose tokens were issued to the sandbox's default realm (skipping the consent screen)."""
    grant = server.issue_tokens()
    store = InMemoryTokenStore(
        Tokens(grant["access_token"], grant["refresh_token"], clock.now() + 3600, server.realm_id, version=1)
    )
    oauth = OAuthClient(AppCredentials("sandbox-client-id", "sandbox-client-secret", REDIRECT), server.discovery_url)
    tokens = QboTokens(store, oauth, clock=clock.now, peer_wait_s=0.0)
    client_options.setdefault("sleep", lambda _s: None)
    return QboClient(server.realm_id, server.url, tokens, **client_options)


def invoice(number: str = "INV-1001", amount: str = "150.00", **overrides: Any) -> Invoice:
    qty, price = Decimal("2"), Decimal(amount) / 2
    data: dict[str, Any] = {
        "source_id": f"st-{number}",
        "number": number,
        "status": "pending_accounting",
        "transaction_date": date(2026, 1, 5),
        "due_date": date(2026, 2, 4),
        "customer": Ref(id="c1", name="Amy's Bird Sanctuary"),
        "location": Ref(id="l1", name="Main St"),
        "job": Ref(id="j1", name="J-778"),
        "customer_po": "PO-55",
        "lines": (
            InvoiceLine(
                source_id="ln1",
                description="Quarterly inspection",
                item_code="INSP",
                quantity=qty,
                unit_price=price,
                amount=Decimal(amount),
                taxable=True,
            ),
        ),
        "subtotal": Decimal(amount),
        "tax_amount": Decimal("0"),
        "total": Decimal(amount),
        "updated_at": datetime(2026, 1, 5, 12, tzinfo=UTC),
    }
    data.update(overrides)
    return Invoice(**data)


SETTINGS = MappingSettings(items={"INSP": "Inspection"}, classes={"*": "Service"})


def customer_ref(target: QboTarget) -> dict[str, str]:
    found = target.find_customer("Amy's Bird Sanctuary")
    assert found is not None
    return {"value": found.target_id}


def invoice_doc(target: QboTarget, number: str = "INV-1001", amount: str = "150.00") -> dict[str, Any]:
    return target.invoice_document(invoice(number, amount), customer_ref(target))


def rid() -> str:
    return uuid.uuid4().hex


# ---- OAuth consent and the basics --------------------------------------------------------------------------


def test_consent_code_exchange_then_every_call_carries_minorversion(
    server: QboSandboxServer, clock: ManualClock
) -> None:
    oauth = OAuthClient(
        AppCredentials("sandbox-client-id", "sandbox-client-secret", REDIRECT),
        server.discovery_url,
        auth_method="client_secret_post",
    )
    consent = requests.get(oauth.authorization_url("xyz"), allow_redirects=False, timeout=5)
    assert consent.status_code == 302
    redirect = parse_qs(urlparse(consent.headers["Location"]).query)
    assert redirect["state"] == ["xyz"] and redirect["realmId"] == [server.realm_id]
    tokens = QboTokens(InMemoryTokenStore(), oauth, clock=clock.now)
    stored = tokens.connect(redirect["code"][0], redirect["realmId"][0])
    assert stored.version == 1 and stored.realm_id == server.realm_id
    client = QboClient(server.realm_id, server.url, tokens)
    names = {i["Name"] for i in client.query("select * from Item")}
    assert {"Services", "Labor", "Inspection"} <= names and "Retired Service Plan" not in names
    with pytest.raises(AuthorizationRevoked):  # a code is single-use
        tokens.connect(redirect["code"][0], redirect["realmId"][0])
    assert all(call["args"].get("minorversion") == "75" for call in server.state.calls)


def test_create_then_sparse_update_moves_the_sync_token(server: QboSandboxServer, clock: ManualClock) -> None:
    target = QboTarget(connect(server, clock), SETTINGS)
    created = target.create("invoice", invoice_doc(target), rid())
    assert created.sync_token == "0"
    assert created.document["TotalAmt"] == Decimal("150.00")
    line = created.document["Line"][0]["SalesItemLineDetail"]
    assert line["ItemRef"]["name"] == "Inspection" and line["ClassRef"]["name"] == "Service"
    assert created.document["CustomerMemo"]["value"] == "Job J-778 · PO PO-55"

    updated = target.update("invoice", created, invoice_doc(target, amount="199.99"), rid())
    assert (updated.target_id, updated.sync_token) == (created.target_id, "1")
    assert updated.document["TotalAmt"] == Decimal("199.99") and updated.document["Balance"] == Decimal("199.99")
    writes = [c for c in server.state.calls if c["method"] == "POST"]
    assert writes and all(c["args"].get("requestid") for c in writes)


def test_stale_sync_token_is_reread_and_retried_once(server: QboSandboxServer, clock: ManualClock) -> None:
    client = connect(server, clock)
    target = QboTarget(client, SETTINGS)
    created = target.create("invoice", invoice_doc(target), rid())
    # someone edits the invoice in QuickBooks: its SyncToken moves to 1
    client.update(
        "invoice", {"Id": created.target_id, "SyncToken": "0", "sparse": True, "PrivateNote": "edited"}, rid()
    )

    updated = target.update("invoice", created, {"CustomerMemo": {"value": "ours"}}, rid())
    assert updated.sync_token == "2"
    assert updated.document["CustomerMemo"] == {"value": "ours"}
    assert updated.document["PrivateNote"] == "edited"  # sparse: their change survives
    statuses = [c["status"] for c in server.state.calls if c["path"].endswith("/invoice")][-2:]
    assert statuses == [400, 200]


def test_stale_twice_in_a_row_is_transient(server: QboSandboxServer, clock: ManualClock) -> None:
    target = QboTarget(connect(server, clock), SETTINGS)
    created = target.create("invoice", invoice_doc(target), rid())
    real_read = target.read

    def read_then_someone_edits_again(entity: str, target_id: str) -> TargetRecord:
        fresh = real_read(entity, target_id)
        target.client.update(entity, {"Id": target_id, "SyncToken": fresh.sync_token, "sparse": True}, rid())
        return fresh

    target.read = read_then_someone_edits_again  # type: ignore[method-assign]
    target.client.update("invoice", {"Id": created.target_id, "SyncToken": "0", "sparse": True}, rid())
    with pytest.raises(TransientError, match="keeps changing"):
        target.update("invoice", created, {"PrivateNote": "x"}, rid())


def test_payment_moves_the_invoice_sync_token_and_update_recovers(server: QboSandboxServer, clock: ManualClock) -> None:
    client = connect(server, clock)
    target = QboTarget(client, SETTINGS)
    created = target.create("invoice", invoice_doc(target), rid())
    payment = client.create(
        "payment",
        {
            "CustomerRef": created.document["CustomerRef"],
            "TotalAmt": Decimal("50.00"),
            "Line": [{"Amount": Decimal("50.00"), "LinkedTxn": [{"TxnId": created.target_id, "TxnType": "Invoice"}]}],
        },
        rid(),
    )
    paid = target.read("invoice", created.target_id)
    assert paid.document["Balance"] == Decimal("100.00") and paid.sync_token == "1"
    assert paid.document["LinkedTxn"] == [{"TxnId": payment["Id"], "TxnType": "Payment"}]

    updated = target.update("invoice", created, {"PrivateNote": "after payment"}, rid())  # token "0" is stale
    assert updated.sync_token == "2" and updated.document["Balance"] == Decimal("100.00")

    client.void("payment", payment["Id"], payment["SyncToken"], rid())
    assert target.read("invoice", created.target_id).document["Balance"] == Decimal("150.00")


# ---- faults -------------------------------------------------------------------------------------------------


def test_duplicate_doc_number_is_permanent_with_qbos_message(server: QboSandboxServer, clock: ManualClock) -> None:
    target = QboTarget(connect(server, clock), SETTINGS)
    first = target.create("invoice", invoice_doc(target), rid())
    with pytest.raises(DuplicateDocNumberError) as caught:
        target.create("invoice", invoice_doc(target), rid())
    err = caught.value
    assert isinstance(err, PermanentError) and err.code == "6140"
    assert "You must specify a different number" in str(err) and f"TxnId={first.target_id}" in str(err)
    assert "invoice number is already used" in err.hint


def test_duplicate_doc_numbers_allowed_when_the_company_check_is_off(
    server: QboSandboxServer, clock: ManualClock
) -> None:
    server.state.realm().settings.duplicate_doc_number_check = False
    target = QboTarget(connect(server, clock), SETTINGS)
    target.create("invoice", invoice_doc(target), rid())
    target.create("invoice", invoice_doc(target), rid())
    with pytest.raises(PermanentError, match="2 Invoice records") as caught:
        target.find("invoice", "INV-1001")
    assert caught.value.code == "ambiguous"


@pytest.mark.parametrize(
    ("mutate", "code", "element"),
    [
        (lambda d: d.pop("CustomerRef"), "2020", "CustomerRef"),  # Required param missing
        (lambda d: d.update(CustomerRef={"value": "999"}), "2500", "CustomerRef"),
        (lambda d: d["Line"][0]["SalesItemLineDetail"].update(ItemRef={"value": "999"}), "2500", "ItemRef"),
        (lambda d: d["Line"][0].update(Amount=Decimal("1.00")), "6000", "Line.Amount"),
    ],
)
def test_validation_faults_are_permanent(
    server: QboSandboxServer, clock: ManualClock, mutate: Any, code: str, element: str
) -> None:
    client = connect(server, clock)
    target = QboTarget(client, SETTINGS)
    doc = target.resolve_refs(invoice_doc(target))
    mutate(doc)
    with pytest.raises(PermanentError) as caught:
        client.create("invoice", doc, rid())
    assert (caught.value.code, getattr(caught.value, "element", "")) == (code, element)
    assert caught.value.hint


def test_inactive_item_is_object_not_found(server: QboSandboxServer, clock: ManualClock) -> None:
    client = connect(server, clock)
    retired = client.query("select * from Item where Name = 'Retired Service Plan' and Active = false")[0]
    target = QboTarget(client, SETTINGS)
    doc = target.resolve_refs(invoice_doc(target))
    doc["Line"][0]["SalesItemLineDetail"]["ItemRef"] = {"value": retired["Id"]}
    with pytest.raises(PermanentError) as caught:
        client.create("invoice", doc, rid())
    assert caught.value.code == "610" and "reactivate" in caught.value.hint


def test_throttle_429_with_xml_body_is_transient(server: QboSandboxServer, clock: ManualClock) -> None:
    client = connect(server, clock)
    server.fail_next(1, status=429)
    with pytest.raises(TransientError) as caught:
        client.read("item", "6")
    assert "ThrottleExceeded" in str(caught.value) and "Try again later" in str(caught.value)
    assert caught.value.retry_after == 60.0  # Intuit's documented wait when no Retry-After is sent
    assert server.state.calls[-1]["status"] == 429

    server.state.options.api.retry_after_s = 7
    server.fail_next(1, status=429)
    with pytest.raises(TransientError) as caught:
        client.read("item", "6")
    assert caught.value.retry_after == 7.0


def test_5xx_is_retried_then_transient(server: QboSandboxServer, clock: ManualClock) -> None:
    client = connect(server, clock, max_retries=1)
    server.fail_next(1, status=503)
    assert client.read("item", "6")["Name"] == "Services"
    server.fail_next(2, status=500)
    with pytest.raises(TransientError, match="QuickBooks failed"):
        client.read("item", "6")


def test_rate_limits_answer_429_on_the_injected_clock(clock: ManualClock) -> None:
    with start(clock=clock, per_second=3, per_minute=5) as server:
        client = connect(server, clock, max_retries=0)
        for _ in range(3):
            client.read("item", "6")
        with pytest.raises(TransientError, match="ThrottleExceeded"):
            client.read("item", "6")  # 4th within the same second
        clock.advance(1.01)
        client.read("item", "6")
        client.read("item", "6")  # 5 in the minute now
        clock.advance(5)
        with pytest.raises(TransientError, match="ThrottleExceeded"):
            client.read("item", "6")
        clock.advance(55)  # the first requests fall out of the minute window
        client.read("item", "6")
        assert server.state.limiter.refused == 2


def test_concurrent_request_limit(clock: ManualClock) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with start(clock=clock, concurrent=2) as server:
        token = server.issue_tokens()["access_token"]
        server.add_latency(0.3, path="/item/")
        url = f"{server.url}/v3/company/{server.realm_id}/item/6"

        def get(_: int) -> int:
            return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code

        with ThreadPoolExecutor(4) as pool:
            statuses = sorted(pool.map(get, range(4)))
        assert statuses.count(200) == 2 and statuses.count(429) == 2


# ---- idempotency: requestid and dropped answers ---------------------------------------------------------


def test_requestid_replay_returns_the_same_invoice_and_writes_once(
    server: QboSandboxServer, clock: ManualClock
) -> None:
    client = connect(server, clock)
    target = QboTarget(client, SETTINGS)
    doc = target.resolve_refs(invoice_doc(target))
    request_id = rid()
    first = client.create("invoice", doc, request_id)
    again = client.create("invoice", doc, request_id)  # would be a 6140 if it were written again
    assert again == first
    assert client.count("select count(*) from Invoice") == 1


def test_commit_then_dropped_answer_is_safe_to_retry_with_the_same_requestid(
    server: QboSandboxServer, clock: ManualClock
) -> None:
    client = connect(server, clock, max_retries=1)
    target = QboTarget(client, SETTINGS)
    server.drop_after_commit(1, mode="close", path="/invoice")
    created = target.create("invoice", invoice_doc(target), rid())  # the quick retry is answered by the replay
    assert [c["status"] for c in server.state.calls if c["path"].endswith("/invoice")] == ["dropped", 200]
    assert len(server.objects("Invoice")) == 1 and server.objects("Invoice")[0]["Id"] == created.target_id


@pytest.mark.parametrize("mode", ["close", "504"])
def test_commit_then_dropped_answer_then_lookup_by_doc_number_finds_it(
    server: QboSandboxServer, clock: ManualClock, mode: Any
) -> None:
    target = QboTarget(connect(server, clock, max_retries=0), SETTINGS)
    server.drop_after_commit(1, mode=mode)
    with pytest.raises(TransientError):
        target.create("invoice", invoice_doc(target), rid())
    found = target.find("invoice", "INV-1001")
    assert found is not None and found.document["TotalAmt"] == Decimal("150.00")
    assert len(server.objects("Invoice")) == 1


def test_chaos_with_redelivery_by_requestid_never_duplicates(clock: ManualClock) -> None:
    with start(clock=clock, per_second=10_000, per_minute=100_000) as server:
        server.chaos(transient=0.3, drop_after_commit=0.2, seed=11)
        target = QboTarget(connect(server, clock, max_retries=0), SETTINGS)
        ref = {"value": server.objects("Customer")[0]["Id"]}
        attempts = 0
        for n in range(25):
            doc, request_id = target.invoice_document(invoice(f"C-{n}", "10.00"), ref), rid()
            while True:  # what SQS redelivery does: the same intent, the same requestid
                attempts += 1
                try:
                    target.create("invoice", doc, request_id)
                    break
                except TransientError:
                    continue
        numbers = sorted(i["DocNumber"] for i in server.objects("Invoice"))
        assert numbers == sorted(f"C-{n}" for n in range(25))
        assert attempts > 25 and any("drop" in f for f in server.state.faults.fired)


# ---- auth ---------------------------------------------------------------------------------------------------


def test_401_refreshes_once_and_retries(server: QboSandboxServer, clock: ManualClock) -> None:
    client = connect(server, clock)
    before = client.tokens.current()  # type: ignore[attr-defined]
    server.expire_access_tokens()
    assert client.read("item", "6")["Name"] == "Services"
    after = client.tokens.current()  # type: ignore[attr-defined]
    assert after.access_token != before.access_token and after.refresh_token != before.refresh_token
    assert after.version == before.version + 1
    assert server.state.oauth.refresh_calls == 1
    assert [c["status"] for c in server.state.calls] == [401, 200]


def test_second_401_after_refresh_is_authorization_revoked(clock: ManualClock) -> None:
    with start(clock=clock, access_token_ttl_s=0) as server:  # every token is born expired
        client = connect(server, clock)
        server.expire_access_tokens()
        with pytest.raises(AuthorizationRevoked) as caught:
            client.read("item", "6")
        assert caught.value.code == "3200" and "Reconnect" in caught.value.hint


def test_disconnected_company_is_authorization_revoked(server: QboSandboxServer, clock: ManualClock) -> None:
    client = connect(server, clock)
    server.disconnect()
    with pytest.raises(AuthorizationRevoked) as caught:
        client.read("item", "6")
    assert caught.value.code == "invalid_grant"


# ---- queries, names, batch, CDC -----------------------------------------------------------------------------


def test_query_pages_through_startposition(server: QboSandboxServer, clock: ManualClock) -> None:
    client = connect(server, clock)
    for n in range(5):
        client.create("customer", {"DisplayName": f"Paged {n}"}, rid())
    rows = client.query("select * from Customer where DisplayName like 'Paged%' orderby DisplayName desc", page_size=2)
    assert [r["DisplayName"] for r in rows] == [f"Paged {n}" for n in (4, 3, 2, 1, 0)]
    starts = [c["args"]["query"].split("STARTPOSITION ")[1] for c in server.state.calls if "query" in c["args"]]
    assert starts == ["1 MAXRESULTS 2", "3 MAXRESULTS 2", "5 MAXRESULTS 2"]


def test_find_or_create_customer_and_location_sub_customer(server: QboSandboxServer, clock: ManualClock) -> None:
    target = QboTarget(connect(server, clock), MappingSettings(customer_naming="customer_location"))
    customer = Customer(source_id="c9", name="O'Brien: Fire Systems", email="ap@obrien.example")
    location = Location(source_id="l9", name="Plant 2", customer=Ref(id="c9"))
    child = target.find_or_create_customer(customer, rid(), location)
    assert child.document["DisplayName"] == "O'Brien- Fire Systems - Plant 2"
    assert child.document["Job"] is True and child.document["FullyQualifiedName"].startswith("O'Brien- Fire Systems:")
    again = target.find_or_create_customer(customer, rid(), location)
    assert again.target_id == child.target_id
    assert len(server.objects("Customer")) == 3  # the seeded one, the parent, the location


def test_customer_name_taken_by_a_vendor_is_a_duplicate_name(server: QboSandboxServer, clock: ManualClock) -> None:
    target = QboTarget(connect(server, clock))
    with pytest.raises(DuplicateNameError) as caught:
        target.find_or_create_customer(Customer(source_id="v", name="Acme Supply Co"), rid())
    assert caught.value.code == "6240" and "vendor or employee" in caught.value.hint


def test_item_resolution_by_name(server: QboSandboxServer, clock: ManualClock) -> None:
    target = QboTarget(connect(server, clock))
    assert target.resolve_item("labor")["name"] == "Labor"
    with pytest.raises(PermanentError) as caught:
        target.resolve_item("Retired Service Plan")
    assert caught.value.code == "2500" and "reactivate" in caught.value.hint


def test_batch_items_fail_alone_and_cannot_see_each_other(server: QboSandboxServer, clock: ManualClock) -> None:
    from ledgerbridge.targets.qbo.client import BatchItem

    client = connect(server, clock)
    results = client.batch(
        [
            BatchItem("b1", "create", "Customer", {"DisplayName": "Batch Co"}),
            BatchItem("b2", "create", "Customer", {"DisplayName": "Acme Supply Co"}),
            BatchItem(
                "b3",
                "create",
                "Invoice",
                {"CustomerRef": {"value": str(int(server.objects("Customer")[0]["Id"]) + 7)}, "Line": []},
            ),
            BatchItem("q1", "", query="select count(*) from Customer"),
        ],
        request_id=rid(),
    )
    by_bid = {r.bid: r for r in results}
    assert by_bid["b1"].entity is not None and by_bid["b1"].entity["DisplayName"] == "Batch Co"
    assert isinstance(by_bid["b2"].error, DuplicateNameError)
    assert isinstance(by_bid["b3"].error, PermanentError) and by_bid["b3"].error.code == "2500"
    assert by_bid["q1"].query_response == {"totalCount": 1}  # the query ran on the state before the batch


def test_cdc_returns_changes_and_deletions(server: QboSandboxServer, clock: ManualClock) -> None:
    client = connect(server, clock)
    target = QboTarget(client, SETTINGS)
    clock.advance(10)
    since = datetime.fromtimestamp(clock.now(), UTC)  # after the seed data was written
    created = target.create("invoice", invoice_doc(target), rid())
    other = target.create("invoice", invoice_doc(target, "INV-1002"), rid())
    client.delete("invoice", other.target_id, other.sync_token, rid())
    changes = client.cdc(["Invoice", "Customer"], since)
    assert [i["Id"] for i in changes["Invoice"] if "status" not in i] == [created.target_id]
    assert [i["Id"] for i in changes["Invoice"] if i.get("status") == "Deleted"] == [other.target_id]
    assert changes["Customer"] == []
    with pytest.raises(PermanentError):
        client.cdc(["Invoice"], datetime(2025, 1, 1, tzinfo=UTC))  # beyond the 30-day look-back
