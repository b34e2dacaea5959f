"""Bulk push to QuickBooks Online: initial loads and scheduled syncs of many invoices at the realm's full speed.

Speed. QBO allows 500 requests/min per realm, of which up to 40 may be batches of 30 operations (research
1.10, 1.11): a minute carries at most 40 x 30 + 460 single writes = 1,660 invoices. So whenever the realm's
shared budget (targets.qbo.budget) has a batch slot, the next up-to-30 invoices go as one batch; otherwise
the next invoice goes on its own. Both wait for the budget, never for a 429. With `workers` > 1 that many
round trips run at once, each doing its own bookkeeping (mappings, platform status, sync log), so neither
QuickBooks' latency nor ours holds the realm below its limits.

Exactly once, as the engine (sync.py) does it: each new invoice gets a create intent before anything is
sent; a single create carries the intent's request id as `requestid`, a batch carries a request id derived
from its items' intents and each item's bId is the start of its intent's request id. A create that may have
happened (an intent left by an earlier run, or a send whose answer was lost) is looked up by DocNumber (one
query per 30) and adopted if QuickBooks has it, before anything is sent again.

Failures stay per record: a Fault on one batch item fails that invoice only (sync log + the platform invoice
marked failed with QuickBooks' words), the rest of the batch goes through. A transient failure sends the
invoice once more (after the lookup); after that its intent stays for the next run.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import requests

from ledgerbridge.errors import AuthorizationRevoked, InvalidInput, PermanentError, TransientError
from ledgerbridge.records import Invoice
from ledgerbridge.source import Platform
from ledgerbridge.state import intents, mappings, synclog
from ledgerbridge.state.intents import Intent
from ledgerbridge.sync import SYNCABLE_STATUS, Engine, content_hash
from ledgerbridge.targets.base import TargetRecord
from ledgerbridge.targets.qbo.client import BATCH_ID_MAX, BatchItem, QboClient
from ledgerbridge.targets.qbo.documents import QboDocuments
from ledgerbridge.targets.qbo.target import QboTarget
from ledgerbridge.targets.qbo.wire import StaleObjectError, quote
from ledgerbridge.tenants import Tenant
from ledgerbridge.wiring import platform_for

BATCH_MAX = 30  # research 1.10
TARGET = "qbo"
LABEL = "QuickBooks Online"


class BulkPlatform(Platform, Protocol):
    def invoices(self, status: str | None = None) -> Iterator[Invoice]: ...


@dataclass
class Unit:
    """One invoice on its way: the document (names, hashed as the engine hashes it) and the body to send."""

    invoice: Invoice
    document: dict[str, Any]
    body: dict[str, Any]
    digest: str
    natural_key: str
    intent: Intent | None = None  # creates
    current: mappings.Mapping | None = None  # updates
    request_id: str = ""
    attempts: int = 0
    sent: bool = False
    uncertain: bool = False  # sent, but the answer was lost: QuickBooks may have made it
    looked_up: bool = False  # its DocNumber was searched for since it became resumed/uncertain

    @property
    def action(self) -> Literal["create", "update"]:
        return "create" if self.current is None else "update"

    @property
    def bid(self) -> str:
        """The batch item id: the start of the request id (the intent's, for a create)."""
        return self.request_id.replace("-", "")[:BATCH_ID_MAX]

    @property
    def needs_lookup(self) -> bool:
        resumed = self.intent is not None and self.intent.resumed
        return self.current is None and (resumed or self.uncertain) and not self.looked_up

    def item(self, bid: str) -> BatchItem:
        if self.current is None:
            return BatchItem(bid, "create", "invoice", self.body)
        return BatchItem(bid, "update", "invoice", self.update_body())

    def update_body(self) -> dict[str, Any]:
        assert self.current is not None
        return {**self.body, "Id": self.current.target_id, "SyncToken": self.current.sync_token, "sparse": True}


@dataclass
class BulkResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    deferred: int = 0  # unanswered twice, or throttled: their intents let the next run finish them
    batches: int = 0
    singles: int = 0
    exhausted: bool = False  # every invoice offered was dealt with (no continuation needed)
    progress: list[tuple[float, int]] = field(default_factory=list)  # (clock, invoices written so far)

    @property
    def written(self) -> int:
        return self.created + self.updated


class BulkPusher:
    """Push many invoices of one tenant. `clock`/`deadline` bound a run (a Lambda stops before its timeout);
    `workers` > 1 keeps that many round trips going (the budget still caps the realm at 10 in flight)."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.monotonic,
        deadline: float = float("inf"),
        workers: int = 1,
        batch_size: int = BATCH_MAX,
    ) -> None:
        if not isinstance(engine.target, QboTarget):
            raise TypeError("bulk push needs the QuickBooks Online target")
        self.engine = engine
        self.target: QboTarget = engine.target
        self.client: QboClient = engine.target.client
        self.tenant_id = engine.tenant.tenant_id
        self.clock = clock
        self.deadline = deadline
        self.workers = max(1, workers)
        self.batch_size = min(BATCH_MAX, batch_size)
        self.result = BulkResult()
        self._customers: dict[tuple[str, str | None], str] = {}
        self._local = threading.local()
        self._lock = threading.Lock()

    # -- the loop (main thread: preparing, choosing, queueing) ----------------------------------------------

    def push(self, invoices: Iterable[Invoice]) -> BulkResult:
        source = iter(invoices)
        pending: deque[Unit] = deque()
        in_flight: list[Future[list[Unit]]] = []
        pool = ThreadPoolExecutor(self.workers) if self.workers > 1 else None
        exhausted = False
        try:
            while True:
                exhausted = self._top_up(pending, source) or exhausted
                if (not pending and not in_flight) or self.clock() >= self.deadline:
                    break
                if pending and len(in_flight) < self.workers:
                    units = self._take(pending)
                    if pool is None:
                        pending.extend(self._round_trip(units))
                    else:
                        in_flight.append(pool.submit(self._round_trip, units))
                    continue
                pending.extend(in_flight.pop(0).result())  # wait for the oldest round trip
        finally:
            for future in in_flight:
                pending.extend(future.result())
            if pool is not None:
                pool.shutdown()
            self._abandon(pending)
        self.result.exhausted = exhausted and not pending
        return self.result

    def _top_up(self, pending: deque[Unit], source: Iterator[Invoice]) -> bool:
        """Prepare invoices until a full batch is pending, adopting what QuickBooks already has of the unsure
        ones (which may empty places to fill again). True once the source is dry."""
        dry = False
        while True:
            while not dry and len(pending) < self.batch_size and self.clock() < self.deadline:
                invoice = next(source, None)
                if invoice is None:
                    dry = True
                    break
                unit = self._prepare(invoice)
                if unit is not None:
                    pending.append(unit)
            unsure = [u for u in pending if u.needs_lookup]
            if not unsure:
                return dry
            self._resolve(unsure, pending)

    def _take(self, pending: deque[Unit]) -> list[Unit]:
        """A batch when the budget has a batch slot (and more than one invoice waits), else one invoice."""
        budget = self.client.budget
        batch_now = len(pending) > 1 and (budget is None or budget.ready("batch"))
        count = min(self.batch_size, len(pending)) if batch_now else 1
        return [pending.popleft() for _ in range(count)]

    def _customer_id(self, invoice: Invoice) -> str:
        naming = self.engine.tenant.mapping.customer_naming
        key = (invoice.customer.id, invoice.location.id if naming == "customer_location" else None)
        if key not in self._customers:
            # The engine's own customer step (mapping, find by name, create, external id on the platform).
            step = self.engine.customer_step(invoice.customer.id, invoice.location.id, dry_run=False)
            self._customers[key] = step.target_id
        return self._customers[key]

    def _prepare(self, invoice: Invoice) -> Unit | None:
        if invoice.status != SYNCABLE_STATUS:
            return None
        try:
            document = self.engine.documents.invoice(invoice, self._customer_id(invoice), self.engine.tenant.mapping)
            digest = content_hash(document)
            current = mappings.find(self.tenant_id, TARGET, "invoice", invoice.source_id)
            if current is not None and current.content_hash == digest:
                self._done(invoice, "skipped", current.target_id, "no change since the last sync")
                return None
            body = self.target.resolve_refs(document)
        except AuthorizationRevoked:
            raise
        except (PermanentError, InvalidInput) as exc:
            self._fail(invoice, exc)
            return None
        unit = Unit(invoice, document, body, digest, self.target.natural_key("invoice", document), current=current)
        if current is None:
            unit.intent = intents.begin(self.tenant_id, TARGET, "invoice", invoice.source_id, unit.natural_key)
            unit.request_id = unit.intent.request_id
        else:
            name = f"{self.tenant_id}/{TARGET}/invoice/{invoice.source_id}/{digest}"
            unit.request_id = str(uuid.uuid5(uuid.NAMESPACE_URL, name))  # the engine's update request id
        return unit

    def _resolve(self, unsure: list[Unit], pending: deque[Unit]) -> None:
        """Creates that may have happened: adopt the invoices QuickBooks has, by DocNumber, before anything is
        sent again (a lost batch resent as single creates would carry other request ids)."""
        keys = sorted({u.natural_key for u in unsure if u.natural_key})
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(keys), BATCH_MAX):
            chunk = ", ".join(quote(k) for k in keys[start : start + BATCH_MAX])
            for row in self.client.query(f"select * from Invoice where DocNumber in ({chunk})"):  # noqa: S608
                found[str(row.get("DocNumber", "")).casefold()] = row
        for unit in unsure:
            unit.looked_up = True
            existing = found.get(unit.natural_key.casefold())
            if existing is not None:
                pending.remove(unit)
                self._written(unit, existing, "recovered an earlier attempt")

    def _abandon(self, pending: deque[Unit]) -> None:
        """The run stops with invoices prepared but never sent: drop their fresh intents (nothing can exist)."""
        for unit in pending:
            if unit.intent is not None and not unit.intent.resumed and not unit.sent:
                intents.finish(self.tenant_id, TARGET, "invoice", unit.invoice.source_id)

    # -- one round trip (a worker: send, then the bookkeeping of each answer) -------------------------------

    def _worker_client(self) -> QboClient:
        """The main thread's client, or one per worker thread (own HTTP session; same tokens and budget)."""
        if self.workers == 1:
            return self.client
        client: QboClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self.client.with_session(requests.Session())
        return client

    def _round_trip(self, units: list[Unit]) -> list[Unit]:
        """Send units (one write or one batch) and record what QuickBooks answered. Returns the units to send
        again (the main thread queues them)."""
        for unit in units:
            unit.sent, unit.attempts = True, unit.attempts + 1
        with self._lock:
            if len(units) > 1:
                self.result.batches += 1
            else:
                self.result.singles += 1
        client = self._worker_client()
        answers: list[Exception | dict[str, Any]]
        try:
            if len(units) == 1:
                unit = units[0]
                written = (
                    client.create("invoice", unit.body, unit.request_id)
                    if unit.current is None
                    else client.update("invoice", unit.update_body(), unit.request_id)
                )
                answers = [written]
            else:
                bids = [u.bid for u in units]
                if len(set(bids)) < len(bids):
                    bids = [str(i) for i in range(len(units))]
                batch_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join(sorted(u.request_id for u in units))))
                results = {
                    r.bid: r for r in client.batch([u.item(b) for u, b in zip(units, bids, strict=True)], batch_id)
                }
                answers = [_answer(results.get(b)) for b in bids]
        except AuthorizationRevoked:
            raise
        except (TransientError, PermanentError, requests.RequestException) as exc:
            answers = [exc] * len(units)
        again: list[Unit] = []
        for unit, answer in zip(units, answers, strict=True):
            if isinstance(answer, dict):
                self._written(unit, answer, "")
            elif self._error(unit, answer):
                again.append(unit)
        return again

    def _error(self, unit: Unit, exc: Exception) -> bool:
        """Record a failed unit; True when it should be sent again."""
        if isinstance(exc, StaleObjectError) and unit.current is not None:
            # The invoice moved on in QuickBooks (a payment bumps its SyncToken): the target's own update
            # re-reads the current SyncToken and retries once.
            current = TargetRecord(unit.current.target_id, unit.current.sync_token)
            try:
                record = self.target.update("invoice", current, unit.document, unit.request_id)
            except (PermanentError, TransientError) as again:
                exc = again
            else:
                self._written(unit, record.document, "")
                return False
        if isinstance(exc, AuthorizationRevoked):
            raise exc
        if isinstance(exc, PermanentError):
            if unit.intent is not None:
                intents.finish(self.tenant_id, TARGET, "invoice", unit.invoice.source_id)  # nothing was created
            self._fail(unit.invoice, exc)
            return False
        if unit.attempts < 2:
            unit.uncertain, unit.looked_up = True, False  # looked up by DocNumber before it goes again
            return True
        with self._lock:
            self.result.deferred += 1  # its intent stays: the next run looks it up first
        return False

    # -- bookkeeping ----------------------------------------------------------------------------------------

    def _written(self, unit: Unit, doc: dict[str, Any], reason: str) -> None:
        record = TargetRecord(str(doc["Id"]), str(doc.get("SyncToken", "")), doc)
        mapping = mappings.Mapping(record.target_id, record.sync_token, unit.digest, unit.natural_key)
        mappings.put(self.tenant_id, TARGET, "invoice", unit.invoice.source_id, mapping)
        mappings.put_reverse(self.tenant_id, TARGET, "invoice", record.target_id, unit.invoice.source_id)
        if unit.intent is not None:
            intents.finish(self.tenant_id, TARGET, "invoice", unit.invoice.source_id)
        self._done(unit.invoice, "created" if unit.action == "create" else "updated", record.target_id, reason)

    def _done(self, invoice: Invoice, outcome: synclog.Outcome, target_id: str, reason: str) -> None:
        self.engine.platform.set_invoice_status(invoice.source_id, "processed")
        message = f"invoice {invoice.number} {outcome} in {LABEL} as {target_id} (bulk)"
        message += f" ({reason})" if reason else ""
        synclog.write(
            synclog.LogEntry(self.tenant_id, TARGET, "invoice", invoice.source_id, outcome, message, target_id)
        )
        with self._lock:
            if outcome == "created":
                self.result.created += 1
            elif outcome == "updated":
                self.result.updated += 1
            else:
                self.result.skipped += 1
            self.result.progress.append((self.clock(), self.result.written))

    def _fail(self, invoice: Invoice, exc: PermanentError | InvalidInput) -> None:
        """As the engine records a permanent failure: the sync log, and the platform invoice marked failed."""
        code = exc.code if isinstance(exc, PermanentError) else ""
        hint = exc.hint if isinstance(exc, PermanentError) else ""
        comment = f"{LABEL} rejected this invoice: {exc}." + (f" What to fix: {hint}" if hint else "")
        self.engine.platform.set_invoice_status(invoice.source_id, "failed", comment)
        message = str(exc) + (f" (code {code})" if code else "")
        synclog.write(synclog.LogEntry(self.tenant_id, TARGET, "invoice", invoice.source_id, "failed", message))
        with self._lock:
            self.result.failed += 1


def _answer(result: Any) -> Exception | dict[str, Any]:
    if result is None or (result.error is None and result.entity is None):
        return TransientError("QuickBooks left this batch item unanswered")
    return result.error if result.error is not None else dict(result.entity)


def push_pending(tenant: Tenant, *, deadline: float, workers: int = 1) -> BulkResult:
    """Push every invoice of the tenant waiting for accounting (the scheduled sync, an initial load)."""
    source = platform_for(tenant)
    engine = Engine(tenant, source, QboTarget.for_tenant(tenant), QboDocuments(), LABEL)
    return BulkPusher(engine, deadline=deadline, workers=workers).push(source.invoices(status=SYNCABLE_STATUS))


def next_part(event_id: str) -> str:
    """The event id of a bulk run's continuation: `…:p2`, `…:p3`, … (unique, so FIFO and idempotency let it in)."""
    base, sep, part = event_id.rpartition(":p")
    if sep and part.isdigit():
        return f"{base}:p{int(part) + 1}"
    return f"{event_id}:p2"
