"""The batch path (job kind `batch`): every invoice waiting for accounting, through the target's BatchWriter,
with the engine's own prepare / complete / reject for each one (ledgerbridge.sync.engine).

Speed. Whenever the target says a batch can go now (`batch_ready`: the target's rate budget has a batch slot)
the next invoices go as one batch of up to `batch_max`; otherwise the next one goes on its own. With `workers`
> 1 that many round trips run at once, each doing its own bookkeeping, so neither the target's latency nor
ours holds the tenant below the target's limits.

Exactly once. Each new invoice gets its create intent before anything is sent, and the target carries the
intent's request id. A create that may have happened (an intent left by an earlier run, or a send whose
answer was lost) is looked up by natural key (`find_many`, one query per batch) and adopted if the target has
it, before anything is sent again.

Failures stay per record: an error on one batch item fails that invoice only, the rest go through. A
Conflict (stale concurrency token) is retried through the target's own update, which re-reads. A transient
failure sends the invoice once more (after the lookup); after that its intent stays for the next run.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from ledgerbridge.errors import (
    AuthorizationRevoked,
    Conflict,
    InvalidInput,
    LedgerBridgeError,
    PermanentError,
    TransientError,
)
from ledgerbridge.observability import tracer
from ledgerbridge.records import Invoice
from ledgerbridge.sync.engine import SYNCABLE_STATUS, Engine, Step
from ledgerbridge.targets.base import BatchTarget, BatchWriter, TargetRecord, Write


@dataclass
class Unit:
    """One invoice on its way."""

    write: Write
    attempts: int = 0
    sent: bool = False
    uncertain: bool = False  # sent, but the answer was lost: the target may have made it
    looked_up: bool = False  # its natural key was searched for since it became resumed/uncertain

    @property
    def needs_lookup(self) -> bool:
        return self.write.action == "create" and (self.write.resumed or self.uncertain) and not self.looked_up


@dataclass
class BatchOutcome:
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


class BatchPusher:
    """Push many invoices of one tenant. `clock`/`deadline` bound a run (a Lambda stops before its timeout);
    `workers` > 1 keeps that many round trips going (the target's budget still caps the tenant)."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], float] = time.monotonic,
        deadline: float = float("inf"),
        workers: int = 1,
        batch_size: int | None = None,
    ) -> None:
        if not isinstance(engine.target, BatchWriter):
            raise TypeError(f"{engine.target_label} has no batch writes (targets.base.BatchWriter)")
        self.engine = engine
        self.target: BatchTarget = engine.target
        self.clock = clock
        self.deadline = deadline
        self.workers = max(1, workers)
        self.batch_size = min(self.target.batch_max, batch_size or self.target.batch_max)
        self.result = BatchOutcome()
        self._customers: dict[tuple[str, str | None], str] = {}
        self._local = threading.local()
        self._lock = threading.Lock()

    # -- the loop (main thread: preparing, choosing, queueing) ----------------------------------------------

    @tracer.capture_method(capture_response=False)
    def push(self, invoices: Iterable[Invoice]) -> BatchOutcome:
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
        """Prepare invoices until a full batch is pending, adopting what the target already has of the unsure
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
        """A batch when the target has room for one now (and more than one invoice waits), else one invoice."""
        count = min(self.batch_size, len(pending)) if len(pending) > 1 and self.target.batch_ready() else 1
        return [pending.popleft() for _ in range(count)]

    def _customer_id(self, invoice: Invoice) -> str:
        naming = self.engine.tenant.mapping.customer_naming
        key = (invoice.customer.id, invoice.location.id if naming == "customer_location" else None)
        if key not in self._customers:
            step = self.engine.customer_step(invoice.customer.id, invoice.location.id, dry_run=False)
            self._customers[key] = step.target_id
        return self._customers[key]

    def _prepare(self, invoice: Invoice) -> Unit | None:
        if invoice.status != SYNCABLE_STATUS:
            return None
        title = f"invoice {invoice.number}"
        try:
            document = self.engine.documents.invoice(invoice, self._customer_id(invoice), self.engine.tenant.mapping)
            write = self.engine.prepare("invoice", invoice.source_id, title, document)
        except AuthorizationRevoked:
            raise
        except (PermanentError, InvalidInput) as exc:
            self._failed(None, invoice.source_id, exc)
            return None
        if isinstance(write, Step):
            self._done(title, write)
            return None
        return Unit(write)

    def _resolve(self, unsure: list[Unit], pending: deque[Unit]) -> None:
        """Creates that may have happened: adopt the records the target has, by natural key, before anything is
        sent again (a lost batch resent as single creates would carry other request ids)."""
        found: dict[str, TargetRecord] = {}
        keys = sorted({u.write.natural_key for u in unsure if u.write.natural_key})
        for start in range(0, len(keys), self.target.batch_max):
            found.update(self.target.find_many("invoice", keys[start : start + self.target.batch_max]))
        for unit in unsure:
            unit.looked_up = True
            existing = found.get(unit.write.natural_key.casefold())
            if existing is not None:
                pending.remove(unit)
                self._written(unit, existing, "recovered an earlier attempt")

    def _abandon(self, pending: deque[Unit]) -> None:
        """The run stops with invoices prepared but never sent: drop their fresh intents (nothing can exist)."""
        for unit in pending:
            if not unit.write.resumed and not unit.sent:
                self.engine.release(unit.write)

    # -- one round trip (a worker: send, then the bookkeeping of each answer) -------------------------------

    def _writer(self) -> BatchTarget:
        """The target itself, or one per worker thread (own connection; same credentials and budget)."""
        if self.workers == 1:
            return self.target
        writer: BatchTarget | None = getattr(self._local, "writer", None)
        if writer is None:
            writer = self._local.writer = self.target.worker()
        return writer

    def _round_trip(self, units: list[Unit]) -> list[Unit]:
        """Send units (one write or one batch) and record the answers. Returns the units to send again."""
        for unit in units:
            unit.sent, unit.attempts = True, unit.attempts + 1
        with self._lock:
            if len(units) > 1:
                self.result.batches += 1
            else:
                self.result.singles += 1
        writer = self._writer()
        answers: list[TargetRecord | Exception]
        try:
            if len(units) == 1:
                write = units[0].write
                written = (
                    writer.create(write.entity, write.document, write.request_id)
                    if write.action == "create"
                    else writer.update(write.entity, write.current, write.document, write.request_id)
                )
                answers = [written]
            else:
                batch_id = str(uuid.uuid5(uuid.NAMESPACE_URL, "|".join(sorted(u.write.request_id for u in units))))
                answers = writer.write_batch([u.write for u in units], batch_id)
        except AuthorizationRevoked:
            raise
        except (LedgerBridgeError, OSError) as exc:  # OSError: the connection itself failed
            answers = [exc] * len(units)
        again: list[Unit] = []
        for unit, answer in zip(units, answers, strict=True):
            if isinstance(answer, TargetRecord):
                self._written(unit, answer, "")
            elif self._error(unit, answer):
                again.append(unit)
        return again

    def _error(self, unit: Unit, exc: Exception) -> bool:
        """Record a failed unit; True when it should be sent again."""
        write = unit.write
        if isinstance(exc, Conflict) and write.action == "update":
            # The record moved on in the target (a payment changes an invoice's version): the target's own
            # update re-reads the current token and retries once.
            try:
                record = self.target.update(write.entity, write.current, write.document, write.request_id)
            except (PermanentError, TransientError) as again:
                exc = again
            else:
                self._written(unit, record, "")
                return False
        if isinstance(exc, AuthorizationRevoked):
            raise exc
        if isinstance(exc, (PermanentError, InvalidInput)):
            self._failed(write, write.source_id, exc)
            return False
        if unit.attempts < 2:
            unit.uncertain, unit.looked_up = True, False  # looked up by natural key before it goes again
            return True
        with self._lock:
            self.result.deferred += 1  # its intent stays: the next run looks it up first
        return False

    # -- bookkeeping: the engine's, counted ------------------------------------------------------------------

    def _written(self, unit: Unit, record: TargetRecord, reason: str) -> None:
        self._done(unit.write.title, self.engine.complete(unit.write, record, reason))

    def _done(self, title: str, step: Step) -> None:
        self.engine.written(title, step, via="bulk")
        with self._lock:
            if step.action == "create":
                self.result.created += 1
            elif step.action == "update":
                self.result.updated += 1
            else:
                self.result.skipped += 1
            self.result.progress.append((self.clock(), self.result.written))

    def _failed(self, write: Write | None, source_id: str, exc: PermanentError | InvalidInput) -> None:
        if write is None:
            self.engine.fail("invoice", source_id, exc)
        else:
            self.engine.reject(write, exc)
        with self._lock:
            self.result.failed += 1


def next_part(event_id: str) -> str:
    """The event id of a batch run's continuation: `…:p2`, `…:p3`, … (unique, so FIFO and idempotency let it in)."""
    base, sep, part = event_id.rpartition(":p")
    if sep and part.isdigit():
        return f"{base}:p{int(part) + 1}"
    return f"{event_id}:p2"
