"""IntacctTarget: the Target contract (ledgerbridge.targets.base) for Sage Intacct.

Ids: a customer's target id is its CUSTOMERID (what an invoice names), an invoice's is its RECORDNO (what
payments name). Natural keys: CUSTOMERID, and the invoice number (RECORDID).

Exactly once (docs/intacct.md): every write goes with uniqueid=true and its function's controlid is the
engine's request id, stable for the life of a create intent. A resend of a create that already ran is
refused by Intacct; that refusal quotes the control id, and the target answers it by looking the record up
by its natural key instead of failing or creating a second one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledgerbridge.errors import PermanentError
from ledgerbridge.targets.base import BatchTarget, Changes, Pulled, TargetRecord, Write
from ledgerbridge.targets.intacct import functions as fn
from ledgerbridge.targets.intacct.client import CONTROLID_MAX, IntacctClient, IntacctError, UncertainSend
from ledgerbridge.targets.intacct.wire import Function, Result

if TYPE_CHECKING:
    from ledgerbridge.jobs import SyncJob
    from ledgerbridge.source import Platform

# Functions per request in a batch. Sage publishes no function-count limit; the constraints are the 15-minute
# synchronous timeout and counted transactions (docs/intacct.md): 50 invoices answer in seconds.
BATCH_MAX = 50
OBJECTS = {"customer": "CUSTOMER", "invoice": "ARINVOICE"}
KEY_FIELDS = {"customer": "CUSTOMERID", "invoice": "RECORDID"}


def _object(entity: str) -> str:
    try:
        return OBJECTS[entity.lower()]
    except KeyError:
        raise ValueError(f"Intacct target has no {entity!r} entity") from None


def refused_as_repeat(result: Result) -> bool:
    """Intacct refused a function because its controlid already ran (uniqueid=true): the refusal quotes it."""
    return not result.ok and any(
        result.controlid and result.controlid in f"{e.description} {e.description2}" for e in result.errors
    )


def _controlid(request_id: str) -> str:
    return request_id[:CONTROLID_MAX]


class IntacctTarget:
    name = "intacct"
    batch_max = BATCH_MAX
    cursor_name = "intacct-payments"

    def __init__(
        self,
        client: IntacctClient,
        *,
        tenant_id: str = "",
        platform: Callable[[], Platform] | None = None,
        workers: int = 2,
        customers_to_platform: bool = False,
    ) -> None:
        self.client = client
        self.tenant_id = tenant_id
        self.platform = platform
        self.batch_workers = workers  # one round trip per request slot of the company
        self.customers_to_platform = customers_to_platform

    # -- the Target contract --------------------------------------------------------------------------------

    def natural_key(self, entity: str, document: dict[str, Any]) -> str:
        return str(document.get("CUSTOMERID") if _object(entity) == "CUSTOMER" else document.get("invoiceno") or "")

    def find(self, entity: str, natural_key: str) -> TargetRecord | None:
        found = self.find_many(entity, [natural_key])
        return found.get(natural_key.casefold())

    def find_many(self, entity: str, natural_keys: Sequence[str]) -> dict[str, TargetRecord]:
        """Records by natural key (folded to lower case), one readByQuery for all of them."""
        obj, key = _object(entity), KEY_FIELDS[entity.lower()]
        if not natural_keys:
            return {}
        query = f"{key} IN ({', '.join(fn.quoted(k) for k in natural_keys)})"
        out: dict[str, TargetRecord] = {}
        for record in self.query(obj, query):
            out[str(record.get(key, "")).casefold()] = self._record(entity, record)
        return out

    def read(self, entity: str, target_id: str) -> TargetRecord:
        obj = _object(entity)
        if obj == "CUSTOMER":
            result = self.client.call_one(fn.read_by_name(obj, [target_id], "read"), unique=False)
        else:
            result = self.client.call_one(fn.read(obj, [target_id], "read"), unique=False)
        if not result.ok:
            raise IntacctError(f"reading {obj} {target_id}", result.errors)
        if not result.records:
            raise PermanentError(
                f"Intacct has no {obj} {target_id} any more",
                code="not_found",
                hint="it was deleted in Intacct; unlink the record to create it again",
            )
        return self._record(entity, result.records[0])

    def create(self, entity: str, document: dict[str, Any], request_id: str) -> TargetRecord:
        return self.write_many([(entity, document, None)], [request_id])[0]

    def update(self, entity: str, current: TargetRecord, document: dict[str, Any], request_id: str) -> TargetRecord:
        if _object(entity) == "ARINVOICE" and "lines" not in current.document:
            current = self.read(entity, current.target_id)  # update_invoice numbers the lines it changes
        return self.write_many([(entity, document, current)], [request_id])[0]

    # -- many writes in one request ---------------------------------------------------------------------------

    def write_many(
        self, writes: Sequence[tuple[str, dict[str, Any], TargetRecord | None]], request_ids: Sequence[str]
    ) -> list[TargetRecord]:
        """One request, one function per write (each its own controlid): a function's failure raises for
        all (use write_each for per-write answers)."""
        answers = self.write_each(writes, request_ids)
        for answer in answers:
            if isinstance(answer, Exception):
                raise answer
        return [a for a in answers if isinstance(a, TargetRecord)]

    def write_each(
        self, writes: Sequence[tuple[str, dict[str, Any], TargetRecord | None]], request_ids: Sequence[str]
    ) -> list[TargetRecord | Exception]:
        """Send every write in one request with uniqueid=true (not as one transaction: one bad invoice must
        not hold back the others). One answer per write: the record, or its own PermanentError."""
        calls = [
            self._function(entity, doc, current, rid)
            for (entity, doc, current), rid in zip(writes, request_ids, strict=True)
        ]
        results = self.client.call(calls, unique=True)
        answers: list[TargetRecord | Exception] = []
        repeats: list[int] = []
        for i, ((entity, doc, current), result) in enumerate(zip(writes, results, strict=True)):
            if result.ok:
                answers.append(self._written(entity, doc, current, result))
            elif current is None and refused_as_repeat(result):
                answers.append(result_error(entity, doc, result))
                repeats.append(i)
            else:
                answers.append(result_error(entity, doc, result))
        for i in repeats:
            entity, doc, _ = writes[i]
            found = self.find(entity, self.natural_key(entity, doc))
            if found is None:
                raise UncertainSend(f"Intacct says {entity} {self.natural_key(entity, doc)} was created, but not found")
            answers[i] = found
        return answers

    def _function(self, entity: str, doc: dict[str, Any], current: TargetRecord | None, request_id: str) -> Function:
        obj, controlid = _object(entity), _controlid(request_id)
        if obj == "CUSTOMER":
            if current is None:
                return fn.create_object(obj, doc, controlid)
            return fn.update_object(obj, doc, controlid)
        if current is None:
            return fn.create_invoice(doc, controlid)
        have = len(current.document.get("lines") or [])
        if len(doc["lines"]) < have:
            raise PermanentError(
                f"invoice {doc.get('invoiceno')} now has {len(doc['lines'])} lines, Intacct's copy {have}",
                code="lines_removed",
                hint="Intacct cannot remove lines from a posted invoice: reverse it in Intacct, then resend",
            )
        return fn.update_invoice(current.target_id, doc, have, controlid)

    def _written(self, entity: str, doc: dict[str, Any], current: TargetRecord | None, result: Result) -> TargetRecord:
        if _object(entity) == "CUSTOMER":
            return TargetRecord(str(doc["CUSTOMERID"]), document=dict(doc))
        key = result.key or (current.target_id if current else "")
        if not key and result.records:
            key = str(result.records[0].get("RECORDNO", ""))
        return TargetRecord(key, document=dict(doc))

    def _record(self, entity: str, record: dict[str, Any]) -> TargetRecord:
        if _object(entity) == "CUSTOMER":
            doc = {k: v for k, v in record.items() if k in ("CUSTOMERID", "NAME", "PARENTID", "DISPLAYCONTACT") and v}
            return TargetRecord(str(record.get("CUSTOMERID", "")), document=doc)
        return TargetRecord(str(record.get("RECORDNO", "")), document=fn.invoice_document(record))

    # -- BatchWriter: many invoices per request ----------------------------------------------------------------

    def batch_ready(self) -> bool:
        return True  # no separate budget for batches: the company's request slots pace every request alike

    def write_batch(self, writes: Sequence[Write], request_id: str) -> list[TargetRecord | Exception]:
        """One request, one function per write, each carrying its write's own request id as controlid (so
        uniqueid guards each one; `request_id` names only the request)."""
        updates = [w.target_id for w in writes if w.action == "update" and _object(w.entity) == "ARINVOICE"]
        current = {r.target_id: r for r in self._read_many("invoice", updates)}
        triples = [
            (w.entity, w.document, current.get(w.target_id, w.current) if w.action == "update" else None)
            for w in writes
        ]
        answers: list[TargetRecord | Exception] = [PermanentError("not sent")] * len(writes)
        sendable: list[int] = []
        for i, (entity, doc, cur) in enumerate(triples):
            try:
                self._function(entity, doc, cur, writes[i].request_id)
                sendable.append(i)
            except PermanentError as exc:
                answers[i] = exc
        sent = self.write_each([triples[i] for i in sendable], [writes[i].request_id for i in sendable])
        for i, answer in zip(sendable, sent, strict=True):
            answers[i] = answer
        return answers

    def worker(self) -> BatchTarget:
        return IntacctTarget(self.client.copy(), tenant_id=self.tenant_id, platform=self.platform)

    def _read_many(self, entity: str, keys: Sequence[str]) -> list[TargetRecord]:
        if not keys:
            return []
        obj = _object(entity)
        result = self.client.call_one(fn.read(obj, list(keys), "read"), unique=False)
        if not result.ok:
            raise IntacctError(f"reading {obj}", result.errors)
        return [self._record(entity, r) for r in result.records]

    # -- Puller and CatchUp: payments back (targets.intacct.payments) ------------------------------------------

    def pull(self, job: SyncJob, platform: Platform) -> Pulled:
        from ledgerbridge.targets.intacct import payments

        return payments.pull(job.tenant_id, self, job.source_id, platform)

    def changes(self, since: str | None, now: datetime) -> Changes:
        """Payments since the cursor, applied to the platform here and now (not as queued pull jobs), so the
        cursor moves only past payments the platform already agrees with."""
        from ledgerbridge.targets.intacct import payments

        if self.platform is None:
            raise PermanentError("the Intacct catch-up needs the platform", code="not_configured")
        platform = self.platform()
        result = payments.sync_payments(self.tenant_id, self, platform, since)
        if self.customers_to_platform:
            from ledgerbridge.targets.intacct.customers import CompanyPlatform, pull_customers

            if not isinstance(platform, CompanyPlatform):
                raise PermanentError("this platform cannot create companies", code="unsupported")
            pull_customers(self.tenant_id, self, platform)
        return Changes(jobs=[], cursor=result.cursor or (since or ""), seen=result.payments)

    # -- reads ------------------------------------------------------------------------------------------------

    def query(self, obj: str, query: str, fields: str = "*") -> list[dict[str, Any]]:
        """Every record of a readByQuery, following readMore by resultId until nothing remains."""
        result = self.client.call_one(fn.read_by_query(obj, query, "query", fields), unique=False)
        records: list[dict[str, Any]] = []
        while True:
            if not result.ok:
                raise IntacctError(f"reading {obj}", result.errors)
            records.extend(result.records)
            if result.numremaining <= 0 or not result.result_id:
                return records
            result = self.client.call_one(fn.read_more(result.result_id, "more"), unique=False)


def result_error(entity: str, doc: dict[str, Any], result: Result) -> IntacctError:
    name = doc.get("invoiceno") or doc.get("CUSTOMERID") or ""
    return IntacctError(f"Intacct refused {entity} {name}".strip(), result.errors)


def _conforms(target: IntacctTarget) -> BatchTarget:
    return target  # mypy checks here that IntacctTarget satisfies the Target and BatchWriter protocols
