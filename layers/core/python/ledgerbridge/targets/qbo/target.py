"""QboTarget: the Target contract (ledgerbridge.targets.base) for QuickBooks Online.

Natural keys: Invoice -> DocNumber, Customer -> DisplayName, Item -> Name. Writes resolve by-name references
({"name": "Services"}) to QBO Ids first; updates are sparse with the current SyncToken, and a stale token
(5010) is answered by reading the record again and retrying once (Intuit: SyncToken)."""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledgerbridge.errors import PermanentError, TransientError
from ledgerbridge.jobs import SyncJob
from ledgerbridge.lazy import lazy
from ledgerbridge.observability import logger as log  # Powertools: JSON, correlation keys
from ledgerbridge.records import Customer, Invoice, Location
from ledgerbridge.source import Platform
from ledgerbridge.targets.base import BatchTarget, CatchUp, Changes, Pulled, Puller, TargetRecord, Write
from ledgerbridge.targets.qbo import catchup, documents, payments
from ledgerbridge.targets.qbo.budget import Budget, RealmBudget
from ledgerbridge.targets.qbo.client import (
    BATCH_ID_MAX,
    BATCH_MAX_ITEMS,
    REQUEST_ID_MAX,
    BatchItem,
    BatchResult,
    QboClient,
    entity_name,
)
from ledgerbridge.targets.qbo.connection import RevokedHook
from ledgerbridge.targets.qbo.faults import StaleObjectError, quote, select_where
from ledgerbridge.targets.qbo.settings import qbo_environment, qbo_settings
from ledgerbridge.targets.qbo.tokens import QboTokens
from ledgerbridge.tenants import MappingSettings, Tenant

if TYPE_CHECKING:
    import requests
else:
    requests = lazy("requests")  # loaded by the first call that talks HTTP (make bench, coldstart)

NATURAL_KEYS = {"Invoice": "DocNumber", "Customer": "DisplayName", "Item": "Name"}


def derived_request_id(request_id: str, suffix: str) -> str:
    """A requestid for a follow-up write of the same intent (stable across retries, within QBO's 50 chars)."""
    candidate = f"{request_id}-{suffix}"
    if len(candidate) <= REQUEST_ID_MAX:
        return candidate
    return hashlib.sha256(candidate.encode()).hexdigest()[:32] + f"-{suffix}"[: REQUEST_ID_MAX - 32]


def _record(doc: Mapping[str, Any]) -> TargetRecord:
    return TargetRecord(target_id=str(doc["Id"]), sync_token=str(doc.get("SyncToken", "")), document=dict(doc))


class QboTarget:
    name = "qbo"

    def __init__(self, client: QboClient, settings: MappingSettings | None = None, tenant_id: str = "") -> None:
        self.client = client
        self.settings = settings or MappingSettings()
        self.tenant_id = tenant_id
        self._refs: dict[tuple[str, str], dict[str, str]] = {}

    @classmethod
    def for_tenant(cls, tenant: Tenant, budget: Budget | None = None) -> QboTarget:
        """The tenant's company, with its tokens, the realm's shared request budget (RealmBudget unless one is
        given) and a hook that flips the connection status to reconnect_required when QuickBooks refuses it."""
        integration = qbo_settings(tenant)
        if integration is None or not integration.realm_id:
            raise PermanentError(
                "QuickBooks Online is not connected for this tenant",
                code="not_connected",
                hint="Connect QuickBooks first.",
            )
        tokens = QboTokens.for_tenant(tenant.tenant_id)
        client = QboClient(
            integration.realm_id,
            qbo_environment().qbo_api_base_url,
            tokens,
            budget=budget or RealmBudget(integration.realm_id),
            on_revoked=RevokedHook(tenant.tenant_id),
        )
        return cls(client, tenant.mapping, tenant.tenant_id)

    # -- the Target contract --------------------------------------------------------------------------------

    def natural_key(self, entity: str, document: dict[str, Any]) -> str:
        name = entity_name(entity)
        key = NATURAL_KEYS.get(name)
        if key is None:
            raise ValueError(f"QBO {name} has no natural key")
        return str(document.get(key) or "")

    def find(self, entity: str, natural_key: str) -> TargetRecord | None:
        name = entity_name(entity)
        field = NATURAL_KEYS.get(name)
        if field is None:
            raise ValueError(f"QBO {name} has no natural key to look up")
        # an inactive customer or item still owns its name, so look for those too
        suffix = " and Active in (true, false)" if name in ("Customer", "Item") else ""
        rows = self.client.query(select_where(name, {field: natural_key}, suffix))
        exact = [r for r in rows if str(r.get(field, "")) == natural_key]
        # QBO compares names without regard to case, so a case-only match is the same name to QBO too.
        matches = exact or [r for r in rows if str(r.get(field, "")).casefold() == natural_key.casefold()]
        if len(matches) > 1:
            ids = ", ".join(str(r["Id"]) for r in matches)
            raise PermanentError(
                f"QuickBooks has {len(matches)} {name} records with {field} {natural_key!r} (Ids {ids})",
                code="ambiguous",
                hint=f"Keep one {name.lower()} with this {field} in QuickBooks, or link the record by hand.",
            )
        return _record(matches[0]) if matches else None

    def read(self, entity: str, target_id: str) -> TargetRecord:
        return _record(self.client.read(entity, target_id))

    def create(self, entity: str, document: dict[str, Any], request_id: str) -> TargetRecord:
        return _record(self.client.create(entity, self.resolve_refs(document), request_id))

    def update(self, entity: str, current: TargetRecord, document: dict[str, Any], request_id: str) -> TargetRecord:
        body = {**self.resolve_refs(document), "Id": current.target_id, "SyncToken": current.sync_token, "sparse": True}
        try:
            return _record(self.client.update(entity, body, request_id))
        except StaleObjectError:
            fresh = self.read(entity, current.target_id)
            log.info(
                "qbo %s %s: stale SyncToken %s, retrying with %s",
                entity,
                current.target_id,
                current.sync_token,
                fresh.sync_token,
            )
        body["SyncToken"] = fresh.sync_token
        try:
            return _record(self.client.update(entity, body, derived_request_id(request_id, "s1")))
        except StaleObjectError as exc:
            raise TransientError(f"QuickBooks {entity} {current.target_id} keeps changing underneath: {exc}") from exc

    # -- BatchWriter: QBO batch, up to 30 operations per request ----------------------------------------------

    batch_max = BATCH_MAX_ITEMS
    batch_workers = 6  # round trips in flight per batch run; the realm's budget caps every consumer together at 10

    def batch_ready(self) -> bool:
        budget = self.client.budget
        return budget is None or budget.ready("batch")

    def find_many(self, entity: str, natural_keys: Sequence[str]) -> dict[str, TargetRecord]:
        name = entity_name(entity)
        field = NATURAL_KEYS[name]
        found: dict[str, TargetRecord] = {}
        for start in range(0, len(natural_keys), BATCH_MAX_ITEMS):
            chunk = ", ".join(quote(k) for k in natural_keys[start : start + BATCH_MAX_ITEMS])
            for row in self.client.query(f"select * from {name} where {field} in ({chunk})"):  # noqa: S608
                found[str(row.get(field, "")).casefold()] = _record(row)
        return found

    def write_batch(self, writes: Sequence[Write], request_id: str) -> list[TargetRecord | Exception]:
        """Each item's bId is the start of its write's request id (the create intent's), so a batch item is as
        traceable as a single write; a reference that cannot be resolved fails its own write only."""
        bids = [w.request_id.replace("-", "")[:BATCH_ID_MAX] for w in writes]
        if len(set(bids)) < len(bids):
            bids = [str(i) for i in range(len(writes))]
        answers: dict[str, TargetRecord | Exception] = {}
        items: list[BatchItem] = []
        for write, bid in zip(writes, bids, strict=True):
            try:
                body = self.resolve_refs(write.document)
            except PermanentError as exc:
                answers[bid] = exc
                continue
            if write.action == "update":
                body = {**body, "Id": write.target_id, "SyncToken": write.sync_token, "sparse": True}
            items.append(BatchItem(bid, write.action, write.entity, body))
        if items:
            for result in self.client.batch(items, request_id):
                answers[result.bid] = _answer(result)
        unanswered = TransientError("QuickBooks left this batch item unanswered")
        return [answers.get(bid, unanswered) for bid in bids]

    def worker(self) -> QboTarget:
        """The same company on its own HTTP session (one per thread), sharing tokens, budget and references."""
        twin = QboTarget(self.client.with_session(requests.Session()), self.settings, self.tenant_id)
        twin._refs = self._refs
        return twin

    # -- Puller and CatchUp: payments back to the platform ----------------------------------------------------

    cursor_name = catchup.CURSOR

    def pull(self, job: SyncJob, platform: Platform) -> Pulled:
        return payments.pull(self.tenant_id, job.source_id, self.client, platform)

    def changes(self, since: str | None, now: datetime) -> Changes:
        return catchup.changes(self.tenant_id, self.client, since, now)

    # -- helpers: customers and list references -------------------------------------------------------------

    def invoice_document(self, invoice: Invoice, customer_ref: Mapping[str, str]) -> dict[str, Any]:
        return documents.invoice_document(invoice, self.settings, customer_ref)

    def find_customer(self, display_name: str) -> TargetRecord | None:
        return self.find("Customer", display_name)

    def find_or_create_customer(
        self, customer: Customer, request_id: str, location: Location | None = None
    ) -> TargetRecord:
        """The QBO customer to invoice: found by exact DisplayName, else created. With customer_naming
        "customer_location" and a location, the location's sub-customer (ParentRef + Job) under it."""
        doc = documents.customer_document(customer)
        parent = self.find_customer(doc["DisplayName"]) or self.create(
            "Customer", doc, derived_request_id(request_id, "c")
        )
        if self.settings.customer_naming != "customer_location" or location is None:
            return parent
        child_doc = documents.location_document(location, customer.name, parent.target_id)
        child = self.find_customer(child_doc["DisplayName"])
        if child is not None:
            parent_ref = (child.document.get("ParentRef") or {}).get("value")
            if parent_ref != parent.target_id:
                raise PermanentError(
                    f"QuickBooks customer {child_doc['DisplayName']!r} exists but is not a sub-customer of "
                    f"{doc['DisplayName']!r}",
                    code="6240",
                    hint="Rename or re-parent that QuickBooks customer, or link the location to it by hand.",
                )
            return child
        return self.create("Customer", child_doc, derived_request_id(request_id, "l"))

    def resolve_item(self, name: str) -> dict[str, str]:
        return self._resolve("Item", name)

    def _resolve(self, entity: str, name: str) -> dict[str, str]:
        """{"value": Id, "name": name} of a list object by name (then by Id when the name is all digits)."""
        cache_key = (entity, name.casefold())
        if cache_key in self._refs:
            return self._refs[cache_key]
        field = "FullyQualifiedName" if ":" in name and entity != "TaxCode" else "Name"  # Parent:Child
        if entity == "TaxCode" and name in (documents.TAXABLE, documents.NON_TAXABLE):
            ref = {"value": name, "name": name}  # pseudo codes of US companies, valid on every line
        else:
            rows = self.client.query(select_where(entity, {field: name}))
            if not rows and name.isdigit():
                rows = [self.client.read(entity, name)]
            if not rows:
                raise PermanentError(
                    f"QuickBooks has no active {entity} named {name!r}",
                    code="2500",
                    hint=f"Create the {entity.lower()} {name!r} in QuickBooks (or reactivate it), or change the "
                    "mapping settings to one that exists.",
                )
            ref = {
                "value": str(rows[0]["Id"]),
                "name": str(rows[0].get("FullyQualifiedName") or rows[0].get(field, name)),
            }
        self._refs[cache_key] = ref
        return ref

    def resolve_refs(self, document: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of `document` with every by-name reference given its QBO Id."""
        doc = copy.deepcopy(dict(document))

        def fix(holder: dict[str, Any], key: str, entity: str) -> None:
            ref = holder.get(key)
            if isinstance(ref, dict) and not ref.get("value") and ref.get("name"):
                holder[key] = self._resolve(entity, str(ref["name"]))

        for line in doc.get("Line") or []:
            detail = line.get("SalesItemLineDetail")
            if isinstance(detail, dict):
                fix(detail, "ItemRef", "Item")
                fix(detail, "ClassRef", "Class")
                fix(detail, "TaxCodeRef", "TaxCode")
        fix(doc, "ClassRef", "Class")
        fix(doc, "DepartmentRef", "Department")
        if isinstance(doc.get("TxnTaxDetail"), dict):
            fix(doc["TxnTaxDetail"], "TxnTaxCodeRef", "TaxCode")
        customer = doc.get("CustomerRef")
        if isinstance(customer, dict) and not customer.get("value") and customer.get("name"):
            found = self.find_customer(str(customer["name"]))
            if found is None:
                raise PermanentError(
                    f"QuickBooks has no customer named {customer['name']!r}",
                    code="2500",
                    hint="Sync the customer first, or link it to an existing QuickBooks customer.",
                )
            doc["CustomerRef"] = {"value": found.target_id, "name": str(customer["name"])}
        return doc


def _answer(result: BatchResult) -> TargetRecord | Exception:
    if result.error is not None:
        return result.error
    if result.entity is None:
        return TransientError("QuickBooks left this batch item unanswered")
    return _record(result.entity)


def _conforms(target: QboTarget) -> tuple[BatchTarget, Puller, CatchUp]:
    return target, target, target  # mypy checks here that QboTarget has the capabilities it claims
