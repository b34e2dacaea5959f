"""One QBO company (realm) in memory: entities, SyncTokens, requestid replays, change history.

Callers hold the sandbox lock; nothing here is thread-safe on its own.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from sandbox.qbo import faults
from sandbox.qbo.clock import Clock
from sandbox.qbo.entities import (
    DELETABLE,
    ENTITIES,
    FILTERABLE,
    NAME_LISTS,
    PREPARE,
    READ_ONLY,
    cents,
    name_of,
)
from sandbox.qbo.query import parse, run

Operation = Literal["Create", "Update", "Delete", "Void"]
CDC_WINDOW_S = 30 * 24 * 3600  # Intuit: change data capture (30-day look-back)
CDC_MAX_OBJECTS = 1000


@dataclass
class CompanySettings:
    # Intuit: DocNumber: with the company's duplicate-number check on, re-using a DocNumber is refused.
    duplicate_doc_number_check: bool = True
    # "Custom transaction numbers" on: an invoice without DocNumber stays without one; off: QBO numbers it.
    custom_transaction_numbers: bool = True
    # Queries on name lists return active records unless the query filters on Active (QBO entity reference).
    hide_inactive_in_queries: bool = True
    # How long a requestid is remembered. Intuit publishes no figure; 24 h covers any SQS retry schedule.
    requestid_window_s: float = 24 * 3600
    # QuickBooks Payments on: an invoice with a BillEmail read with include=invoiceLink carries InvoiceLink.
    online_payments: bool = True


OUTPUT_ONLY = ("InvoiceLink",)  # computed on read (include=invoiceLink); a client sending one is ignored


@dataclass
class Replay:
    status: int
    body: str
    at: float


@dataclass
class Change:
    entity: str
    id: str
    operation: Operation
    at: float


@dataclass
class Realm:
    realm_id: str
    settings: CompanySettings
    clock: Clock
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    tombstones: dict[str, dict[str, float]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    replays: dict[str, Replay] = field(default_factory=dict)
    in_flight: set[str] = field(default_factory=set)
    _seq: int = 0
    _next_id: int = 1
    _next_doc_number: int = 1001
    _created_seq: dict[tuple[str, str], int] = field(default_factory=dict)
    _opening: dict[str, Decimal] = field(default_factory=dict)  # customer Id -> Balance given on create

    def __post_init__(self) -> None:
        for name in ENTITIES.values():
            self.objects.setdefault(name, {})
            self.tombstones.setdefault(name, {})

    # -- helpers ----------------------------------------------------------------------------------------

    def now_iso(self) -> str:
        return datetime.fromtimestamp(self.clock.now(), UTC).isoformat(timespec="seconds")

    def today(self) -> str:
        return datetime.fromtimestamp(self.clock.now(), UTC).date().isoformat()

    def next_doc_number(self) -> str:
        while any(i.get("DocNumber") == str(self._next_doc_number) for i in self.objects["Invoice"].values()):
            self._next_doc_number += 1
        self._next_doc_number += 1
        return str(self._next_doc_number - 1)

    def horizon(self) -> int:
        """Objects created after this point are invisible to the batch that took it (Intuit: batch; Intuit's blog
        "Batch operations: important", 2017-07-27)."""
        return self._seq

    def resolve(self, ref: dict[str, Any], entity: str, element: str, horizon: int | None) -> dict[str, Any]:
        """The object a reference points at; fills in the reference's name as QBO does."""
        ref_id = str(ref.get("value") or "")
        obj = self.objects[entity].get(ref_id)
        if obj is None or not self._visible(entity, ref_id, horizon):
            raise faults.invalid_reference(entity, ref_id or "(none)", element)
        if obj.get("Active") is False:
            raise faults.inactive_reference(entity, ref_id, element)
        ref["value"] = ref_id
        if entity in NAME_LISTS:
            ref["name"] = obj.get("FullyQualifiedName") or name_of(obj)
        return obj

    def _visible(self, entity: str, obj_id: str, horizon: int | None) -> bool:
        return horizon is None or self._created_seq.get((entity, obj_id), 0) <= horizon

    def _entity(self, entity: str) -> str:
        name = ENTITIES.get(entity) or (entity if entity in ENTITIES.values() else None)
        if name is None:
            raise faults.unsupported(f"Operation Could not find resource for relative path: {entity}")
        return name

    def _stamp(self, entity: str, doc: dict[str, Any], operation: Operation, created: str = "") -> None:
        now = self.now_iso()
        doc["domain"], doc["sparse"] = "QBO", False
        doc["MetaData"] = {"CreateTime": created or now, "LastUpdatedTime": now}
        self.changes.append(Change(entity, doc["Id"], operation, self.clock.now()))

    def _current(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        for key in ("Id", "SyncToken"):  # both required on update, delete and void (Intuit: SyncToken)
            if body.get(key) in (None, ""):
                raise faults.required_param(key)
        obj_id, token = body["Id"], body["SyncToken"]
        old = self.objects[entity].get(str(obj_id))
        if old is None:
            raise faults.not_found(entity, str(obj_id))
        if str(token) != old["SyncToken"]:
            raise faults.stale_object()
        return old

    # -- operations --------------------------------------------------------------------------------------

    def read(self, entity: str, obj_id: str, include: str = "") -> dict[str, Any]:
        name = self._entity(entity)
        obj = self.objects[name].get(obj_id)
        if obj is None:
            raise faults.not_found(name, obj_id)
        doc = copy.deepcopy(obj)
        # Intuit's Invoice reference: include=invoiceLink returns the customer's pay-online link when online
        # payment is on for the company and the invoice has a BillEmail.
        email = (doc.get("BillEmail") or {}).get("Address")
        if name == "Invoice" and include == "invoiceLink" and self.settings.online_payments and email:
            doc["InvoiceLink"] = f"https://connect.intuit.com/t/sandbox/{self.realm_id}-{obj_id}"
        return doc

    def create(self, entity: str, body: dict[str, Any], horizon: int | None = None) -> dict[str, Any]:
        name = self._entity(entity)
        if name in READ_ONLY:
            raise faults.unsupported(f"Operation Create is not supported for {name}")
        doc = copy.deepcopy(body)
        for key in ("Id", "SyncToken", "MetaData", "sparse", *OUTPUT_ONLY):
            doc.pop(key, None)
        PREPARE[name](self, name, doc, None, horizon)
        doc["Id"] = str(self._next_id)
        doc["SyncToken"] = "0"
        self._next_id += 1
        self._seq += 1
        self._created_seq[(name, doc["Id"])] = self._seq
        self._stamp(name, doc, "Create")
        self.objects[name][doc["Id"]] = doc
        if name == "Customer":
            self._opening[doc["Id"]] = Decimal(doc["Balance"])
        if name == "Payment":
            self._apply_payments(doc)
        self._rebalance(doc)
        return copy.deepcopy(doc)

    def update(self, entity: str, body: dict[str, Any], horizon: int | None = None) -> dict[str, Any]:
        name = self._entity(entity)
        if name in READ_ONLY:
            raise faults.unsupported(f"Operation Update is not supported for {name}")
        old = self._current(name, body)
        if body.get("sparse") is True:
            doc = copy.deepcopy(old)
            doc.update(copy.deepcopy(body))  # top-level fields replace; arrays such as Line wholesale
        else:
            doc = copy.deepcopy(body)  # a full update clears every writable field it leaves out
        for key in ("sparse", "MetaData", "TotalAmt", "Balance", "UnappliedAmt", "FullyQualifiedName", *OUTPUT_ONLY):
            if key != "TotalAmt" or name != "Payment":
                doc.pop(key, None)
        PREPARE[name](self, name, doc, old, horizon)
        doc["Id"], doc["SyncToken"] = old["Id"], str(int(old["SyncToken"]) + 1)
        self._seq += 1
        self._stamp(name, doc, "Update", created=old["MetaData"]["CreateTime"])
        self.objects[name][doc["Id"]] = doc
        if name == "Payment":
            self._apply_payments(doc, old)
        elif name == "Invoice":
            self._refresh_invoice(doc["Id"], bump=False)
        self._rebalance(doc, old)
        return copy.deepcopy(doc)

    def delete(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        name = self._entity(entity)
        if name not in DELETABLE:
            raise faults.unsupported(f"Operation Delete is not supported for {name}: make it inactive instead")
        old = self._current(name, body)
        if name == "Invoice" and self._payments_for(old["Id"]):
            raise faults.business_validation("This invoice has payments applied: delete or void them first")
        del self.objects[name][old["Id"]]
        self.tombstones[name][old["Id"]] = self.clock.now()
        self.changes.append(Change(name, old["Id"], "Delete", self.clock.now()))
        self._seq += 1
        if name == "Payment":
            self._apply_payments(None, old)
        self._rebalance(old)
        return {"status": "Deleted", "domain": "QBO", "Id": old["Id"]}

    def void(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        name = self._entity(entity)
        if name not in DELETABLE:
            raise faults.unsupported(f"Operation Void is not supported for {name}")
        old = self._current(name, body)
        doc = copy.deepcopy(old)
        doc["PrivateNote"] = ("Voided " + str(doc.get("PrivateNote") or "")).strip()
        if name == "Invoice":
            if self._payments_for(old["Id"]):
                raise faults.business_validation("This invoice has payments applied: void them first")
            # Intuit's blog "Voiding Invoice Objects" (2016-04-06): amounts and quantities zeroed, "Voided"
            # prepended to PrivateNote; its sample lines keep ItemRef and TaxCodeRef only.
            for line in doc["Line"]:
                line["Amount"] = Decimal("0.00")
                for key in ("Qty", "UnitPrice"):
                    line.get("SalesItemLineDetail", {}).pop(key, None)
            doc["TotalAmt"] = doc["Balance"] = Decimal("0.00")
            doc["LinkedTxn"] = []
            if "TxnTaxDetail" in doc:
                doc["TxnTaxDetail"]["TotalTax"] = Decimal("0.00")
        else:
            doc["TotalAmt"] = doc["UnappliedAmt"] = Decimal("0.00")
            doc["Line"] = []
        doc["SyncToken"] = str(int(old["SyncToken"]) + 1)
        self._seq += 1
        self._stamp(name, doc, "Void", created=old["MetaData"]["CreateTime"])
        self.objects[name][doc["Id"]] = doc
        if name == "Payment":
            self._apply_payments(doc, old)
        self._rebalance(doc)
        return copy.deepcopy(doc)

    def query(self, statement: str, horizon: int | None = None) -> dict[str, Any]:
        sel = parse(statement)
        name = next((e for e in ENTITIES.values() if e.lower() == sel.entity.lower()), None)
        if name is None:
            raise faults.query_validation_error(f"entity {sel.entity!r} is not supported")
        hide = self.settings.hide_inactive_in_queries and name in NAME_LISTS
        docs = [d for d in self.objects[name].values() if self._visible(name, d["Id"], horizon)]
        page, total = run(sel, docs, FILTERABLE[name], hide)
        if sel.count:
            return {"totalCount": total}
        if not page:
            return {}
        if sel.fields:  # a projection: the listed properties (and Id), marked sparse as QBO marks partial objects
            keep = {"Id", *sel.fields}
            page = [{**{k: v for k, v in d.items() if k in keep}, "sparse": True} for d in page]
        return {name: copy.deepcopy(page), "startPosition": sel.start, "maxResults": len(page)}

    def cdc(self, entities: list[str], changed_since: float) -> list[dict[str, Any]]:
        if changed_since < self.clock.now() - CDC_WINDOW_S:
            raise faults.business_validation("changedSince must be within the last 30 days", "changedSince")
        out: list[dict[str, Any]] = []
        budget = CDC_MAX_OBJECTS
        for raw in entities:
            name = self._entity(raw.strip().lower())
            rows = [
                copy.deepcopy(o)
                for o in self.objects[name].values()
                if datetime.fromisoformat(o["MetaData"]["LastUpdatedTime"]).timestamp() >= changed_since
            ]
            rows += [
                {
                    "Id": i,
                    "status": "Deleted",
                    "domain": "QBO",
                    "MetaData": {"LastUpdatedTime": datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")},
                }
                for i, t in self.tombstones[name].items()
                if t >= changed_since
            ]
            rows = rows[:budget]
            budget -= len(rows)
            out.append({name: rows, "startPosition": 1, "maxResults": len(rows)})
        return out

    # -- payments against invoices -------------------------------------------------------------------------

    def _payments_for(self, invoice_id: str, exclude: str | None = None) -> list[tuple[str, Decimal]]:
        applied = []
        for payment in self.objects["Payment"].values():
            if payment["Id"] == exclude:
                continue
            for line in payment.get("Line") or []:
                for link in line.get("LinkedTxn") or []:
                    if link.get("TxnType") == "Invoice" and str(link.get("TxnId")) == invoice_id:
                        applied.append((payment["Id"], Decimal(line["Amount"])))
        return applied

    def balance_before(self, invoice_id: str, exclude_payment: str | None) -> Decimal:
        invoice = self.objects["Invoice"][invoice_id]
        paid = sum((a for _, a in self._payments_for(invoice_id, exclude_payment)), Decimal("0"))
        return cents(Decimal(invoice["TotalAmt"]) - paid)

    def _refresh_invoice(self, invoice_id: str, bump: bool) -> None:
        invoice = self.objects["Invoice"].get(invoice_id)
        if invoice is None:
            return
        payments = self._payments_for(invoice_id)
        balance = cents(Decimal(invoice["TotalAmt"]) - sum((a for _, a in payments), Decimal("0")))
        linked = [{"TxnId": pid, "TxnType": "Payment"} for pid in dict.fromkeys(p for p, _ in payments)]
        if balance == invoice.get("Balance") and linked == invoice.get("LinkedTxn", []):
            return
        invoice["Balance"] = balance
        invoice["LinkedTxn"] = linked
        if bump:  # a payment applied to an invoice changes the invoice: its SyncToken moves on
            invoice["SyncToken"] = str(int(invoice["SyncToken"]) + 1)
            self._stamp("Invoice", invoice, "Update", created=invoice["MetaData"]["CreateTime"])

    def _rebalance(self, *docs: dict[str, Any]) -> None:
        """Customer.Balance is the customer's open balance (Intuit's Customer reference): the opening balance
        given on create, plus its invoices' balances, less its payments' unapplied amounts. It moves with
        every transaction of the customer; the customer's SyncToken does not (**assumption**)."""
        customers = {str((d.get("CustomerRef") or {}).get("value")) for d in docs}
        for customer_id in customers & set(self.objects["Customer"]):
            open_balance = self._opening.get(customer_id, Decimal("0"))
            for entity, key, sign in (("Invoice", "Balance", 1), ("Payment", "UnappliedAmt", -1)):
                for doc in self.objects[entity].values():
                    if doc["CustomerRef"]["value"] == customer_id:
                        open_balance += sign * Decimal(doc.get(key) or 0)
            self.objects["Customer"][customer_id]["Balance"] = cents(open_balance)

    def _apply_payments(self, new: dict[str, Any] | None, old: dict[str, Any] | None = None) -> None:
        touched: set[str] = set()
        for payment in (new, old):
            for line in (payment or {}).get("Line") or []:
                touched.update(str(link.get("TxnId")) for link in line.get("LinkedTxn") or [])
        for invoice_id in sorted(touched):
            self._refresh_invoice(invoice_id, bump=True)


def seed(realm: Realm) -> None:
    """A small company: accounts, service items, US tax codes, classes, departments, and one name in each
    people list (so DisplayName clashes across Customer/Vendor/Employee can be shown)."""
    accounts = {}
    for name, kind in [
        ("Services", "Income"),
        ("Sales of Product Income", "Income"),
        ("Accounts Receivable (A/R)", "Accounts Receivable"),
        ("Undeposited Funds", "Other Current Asset"),
        ("Checking", "Bank"),
    ]:
        accounts[name] = realm.create("account", {"Name": name, "AccountType": kind})["Id"]
    for name, kind, account in [
        ("Services", "Service", "Services"),
        ("Hours", "Service", "Services"),
        ("Labor", "Service", "Services"),
        ("Inspection", "Service", "Services"),
        ("Parts", "NonInventory", "Sales of Product Income"),
    ]:
        realm.create("item", {"Name": name, "Type": kind, "IncomeAccountRef": {"value": accounts[account]}})
    retired = realm.create(
        "item", {"Name": "Retired Service Plan", "Type": "Service", "IncomeAccountRef": {"value": accounts["Services"]}}
    )
    realm.objects["Item"][retired["Id"]]["Active"] = False
    # US companies use the pseudo codes TAX and NON on lines; a jurisdiction code goes on the transaction.
    for code_id, name, taxable in [("TAX", "TAX", True), ("NON", "NON", False)]:
        realm.objects["TaxCode"][code_id] = {
            "Id": code_id,
            "SyncToken": "0",
            "Name": name,
            "Description": name,
            "Taxable": taxable,
            "TaxGroup": False,
            "Active": True,
            "domain": "QBO",
            "sparse": False,
            "MetaData": {"CreateTime": realm.now_iso(), "LastUpdatedTime": realm.now_iso()},
        }
    california: dict[str, Any] = {
        "Id": str(realm._next_id),
        "SyncToken": "0",
        "Name": "California",
        "Description": "CA",
        "Taxable": True,
        "TaxGroup": True,
        "Active": True,
        "domain": "QBO",
        "sparse": False,
        "MetaData": {"CreateTime": realm.now_iso(), "LastUpdatedTime": realm.now_iso()},
    }
    realm._next_id += 1
    realm.objects["TaxCode"][california["Id"]] = california
    # Combined sales-tax codes of the demo contractor's counties (North Carolina), beside California.
    # Ids outside the entity counter, so the ids of everything seeded after them stay as documented.
    for n, name in enumerate(("Durham County", "Wake County", "Orange County"), start=1):
        code_id = str(900_000 + n)
        realm.objects["TaxCode"][code_id] = {**california, "Id": code_id, "Name": name, "Description": name}
    for name in ("Service", "Installation", "Inspection"):
        realm.create("class", {"Name": name})
    for name in ("North", "South"):
        realm.create("department", {"Name": name})
    realm.create("vendor", {"DisplayName": "Acme Supply Co"})
    realm.create("employee", {"DisplayName": "Pat Technician"})
    realm.create("customer", {"DisplayName": "Amy's Bird Sanctuary", "CompanyName": "Amy's Bird Sanctuary"})
    realm.changes.clear()
