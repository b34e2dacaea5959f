"""One Web Connector session: the outbox drained in a few large round trips.

A round trip is one sendRequestXML (we hand QBWC a qbXML document) and one receiveResponseXML (QuickBooks'
answers). Round trips are slow (QBWC on the customer's PC, QuickBooks itself), so each carries many requests
in one QBXMLMsgsRq with onError="continueOnError", pipelined: the same document holds the writes of
invoices looked up last time, the list adds they still need, and the lookups of the next chunk.

Per record: its customer (and job) and items must exist -> CustomerQuery / ItemServiceQuery by name, then
CustomerAdd / ItemServiceAdd for the missing ones; the invoice itself -> InvoiceQuery by RefNumber, then
InvoiceAdd (nothing found) or InvoiceMod with the EditSequence just read (ours found: same ExternalGUID, or
the TxnID of our mapping). A RefNumber held by an invoice we did not create is refused, never duplicated.

Exactly once: nothing is added without a lookup in the same session first, so an InvoiceAdd whose answer
was lost (QBWC closed, the Lambda timed out) is found by the next session and adopted, not added again. The
previous session's state tells which version it had sent, so an adopted record is not even rewritten.

Status codes (statuses.py): 3100 on an add -> query the name again and use it; 3200 on a Mod -> read the
EditSequence again and retry once; locked or busy -> pause with NoOp (QBWC asks again ~5 s later) a few
times, then leave it for the next session; anything else -> a permanent failure with QuickBooks' message.
An HRESULT for a whole document (QuickBooks could not parse it) sends the same requests again one per
round trip, so the one at fault is named and the rest go through.

Last, when the console asked for a reconciliation, the invoices of its period (InvoiceQuery by TxnDate, paged):
QuickBooks Desktop can only be read inside a session, so the answer is stored for the console (ledger.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ledgerbridge.targets.qbd import documents, qbxml
from ledgerbridge.targets.qbd.outbox import Entry
from ledgerbridge.targets.qbd.statuses import HINTS, Verdict, describe_hresult, verdict

LOOKUP_CHUNK = 100  # RefNumbers per InvoiceQuery
LOOKUPS_PER_TRIP = 2  # so at most 200 invoices enter the pipeline per round trip
WRITES_PER_TRIP = 250
NAMES_PER_QUERY = 250
WINDOW_MAX = 1500  # records one session takes on (the session state stays well under DynamoDB's 400 KB)
MAX_PAUSES = 3  # NoOp pauses for locked records before they wait for the next session

# record phases
NEW, LOOKING, FOUND, WRITING, RECHECK, RECHECKING, PAUSED = (
    "new", "looking", "found", "writing", "recheck", "rechecking", "paused")  # fmt: skip
DONE, FAILED, LATER = "done", "failed", "later"
SETTLED = {DONE, FAILED, LATER}
# list-name phases
N_UNKNOWN, N_QUERYING, N_MISSING, N_ADDING, N_REQUERY, N_OK = (
    "unknown", "querying", "missing", "adding", "requery", "ok")  # fmt: skip


@dataclass(frozen=True)
class Written:
    """A record QuickBooks now holds (or the session adopted)."""

    entry: Entry
    target_id: str
    edit_sequence: str
    action: str  # "created" | "updated" | "recovered"


@dataclass(frozen=True)
class Failed:
    entry: Entry
    message: str
    hint: str = ""
    permanent: bool = True


class Sink:
    """Where outcomes go (the service writes mappings, the outbox, the platform and the sync log)."""

    def written(self, outcome: Written) -> None: ...
    def failed(self, outcome: Failed) -> None: ...
    def list_ok(self, doc: dict[str, Any], list_id: str) -> None: ...
    def payment(self, txn_id: str, payment: dict[str, Any] | None) -> None: ...
    def ledger(self, span: dict[str, Any], rets: list[dict[str, Any]], final: bool) -> None:
        """A page of the invoices of a period the console asked for (`span`: first, last, reading id)."""

    def ours(self, entry: Entry, ret: dict[str, Any]) -> bool:
        """Whether an invoice QuickBooks holds under the entry's RefNumber is the one we created."""
        return bool(ret.get("ExternalGUID") == entry.document.get("external_guid"))


def new_state(
    entries: Iterable[Entry],
    previous: dict[str, Any] | None,
    payments_from: str | None,
    ledger_span: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The state of a new session over (at most WINDOW_MAX of) the waiting entries; `ledger_span` (first, last)
    when the console asked for the invoices of a period."""
    taken = list(entries)[:WINDOW_MAX]
    names: dict[str, dict[str, Any]] = {}
    for entry in taken:
        for doc in entry.customers:
            names.setdefault(_name_key("customer", documents.full_name(doc)), {"phase": N_UNKNOWN, "doc": doc})
        for item in entry.items:
            names.setdefault(_name_key("item", item), {"phase": N_UNKNOWN, "name": item})
    unsure = {
        key: rec["sent"]
        for key, rec in ((previous or {}).get("records") or {}).items()
        if rec["phase"] == WRITING and rec.get("sent")
    }
    return {
        "version": "",
        "records": {e.key: {"phase": NEW} for e in taken},
        "order": [e.key for e in taken],
        "names": names,
        "in_flight": {},
        "solo": [],
        "unsure": unsure,
        "payments": {
            "phase": "todo" if payments_from is not None else "off",
            "from": payments_from or "",
            "iterator": "",
            "high": "",
        },
        "ledger": {
            "phase": "todo" if ledger_span else "off",
            "first": ledger_span[0] if ledger_span else "",
            "last": ledger_span[1] if ledger_span else "",
            "id": uuid.uuid4().hex[:12],
            "iterator": "",
            "page": 0,
        },
        "pauses": 0,
        "noop": False,
        "next_id": 0,
        "last_error": "",
        "round_trips": 0,
    }


def summary(data: dict[str, Any]) -> dict[str, Any]:
    """What a session did, for people (the console's Overview): records by phase, requests sent, round trips,
    the payments pull, and the last error."""
    phases: dict[str, int] = {}
    for rec in data.get("records", {}).values():
        phases[rec["phase"]] = phases.get(rec["phase"], 0) + 1
    return {
        "records": len(data.get("records", {})),
        "phases": phases,
        "requests": int(data.get("next_id", 0)),
        "round_trips": int(data.get("round_trips", 0)),
        "payments": (data.get("payments") or {}).get("phase", "off"),
        "last_error": str(data.get("last_error") or ""),
    }


def needed_keys(data: dict[str, Any]) -> list[str]:
    """The records the next call can touch (so only their documents are read): those in flight, those
    looked up and waiting to be written, and the next chunk to look up."""
    records = data["records"]
    busy = {k for flight in data["in_flight"].values() for k in flight["keys"] if k in records}
    waiting = [k for k in data["order"] if records[k]["phase"] in (FOUND, RECHECK, RECHECKING, PAUSED, LOOKING)]
    fresh = [k for k in data["order"] if records[k]["phase"] == NEW][: LOOKUP_CHUNK * LOOKUPS_PER_TRIP]
    return [*busy, *waiting, *fresh, *(k for k in data["solo"] if k in records)]


def _name_key(kind: str, full_name: str) -> str:
    return f"{kind}:{full_name.casefold()}"  # QuickBooks list names are case-insensitive


class Drain:
    """The planner and the reply handler of one session, over its saved state."""

    def __init__(self, data: dict[str, Any], entries: dict[str, Entry], sink: Sink, income_account: str) -> None:
        self.data = data
        self.entries = entries
        self.sink = sink
        self.income_account = income_account
        for key in needed_keys(data):
            if key not in entries:  # left the outbox another way (a permanent failure recorded elsewhere)
                data["records"][key]["phase"] = DONE

    # ------------------------------------------------------------------ progress
    def records(self) -> dict[str, dict[str, Any]]:
        return dict(self.data["records"])

    def percent(self) -> int:
        ledger = str(self.data.get("ledger", {}).get("phase", "off"))
        total = len(self.data["order"]) + (0 if self.data["payments"]["phase"] == "off" else 1) + (ledger != "off")
        settled = sum(1 for r in self.data["records"].values() if r["phase"] in SETTLED)
        settled += self.data["payments"]["phase"] in ("done", "off")
        settled += ledger == "done"
        if total == 0 or settled >= total:
            return 100
        return min(99, settled * 100 // total)

    # ------------------------------------------------------------------ sendRequestXML
    def next_document(self) -> str:
        """The next qbXML document; "" when there is nothing to send (percent() is then 100, or a NoOp)."""
        requests = self._plan()
        self.data["noop"] = False
        if not requests and self.percent() < 100 and self._wake_paused():
            self.data["noop"] = True
            return ""
        if not requests:
            return ""
        self.data["round_trips"] += 1
        return qbxml.document(self.data["version"], requests)

    def _request_id(self, op: str, keys: list[str]) -> str:
        self.data["next_id"] += 1
        request_id = str(self.data["next_id"])
        self.data["in_flight"][request_id] = {"op": op, "keys": keys}
        return request_id

    def _plan(self) -> list[qbxml.Request]:
        self.data["in_flight"] = {}
        solo = set(self.data["solo"])
        limit = 1 if solo else None
        out: list[qbxml.Request] = []
        out += self._writes(solo, limit)
        out += self._list_adds(solo, limit if limit is None else limit - len(out))
        out += self._lookups(solo, limit if limit is None else limit - len(out))
        if not out and self._all_settled():
            out += self._payments() or self._ledger()
        if solo and out:  # the suspects are tried one per round trip
            sent = {k for flight in self.data["in_flight"].values() for k in flight["keys"]}
            self.data["solo"] = [k for k in self.data["solo"] if k not in sent]
        return out

    def _pick(self, keys: list[str], solo: set[str], limit: int | None) -> list[str]:
        picked = [k for k in keys if not solo or k in solo]
        return picked if limit is None else picked[: max(0, limit)]

    def _writes(self, solo: set[str], limit: int | None) -> list[qbxml.Request]:
        records, out = self.data["records"], []
        ready = []
        for key in self.data["order"]:
            rec = records[key]
            if rec["phase"] != FOUND:
                continue
            blocked = self._blocked(self.entries[key])
            if blocked is None:
                ready.append(key)
            elif blocked[0] != "wait":
                self._settle_failed(key, blocked[1], permanent=blocked[0] == FAILED)
        for key in self._pick(ready, solo, WRITES_PER_TRIP if limit is None else limit):
            entry, rec = self.entries[key], records[key]
            if entry.entity == "customer":  # its list entries exist: nothing more to write
                list_id = self.data["names"][self._names_of(entry)[-1]].get("list_id", "")
                self._settle(key, Written(entry, list_id, "", "updated"))
                continue
            request_id = self._request_id("write", [key])
            if rec.get("txn"):
                out.append(qbxml.invoice_mod(request_id, rec["txn"], rec["edit"], entry.document))
            else:
                out.append(qbxml.invoice_add(request_id, entry.document))
            rec.update(phase=WRITING, sent=entry.digest)
        return out

    def _blocked(self, entry: Entry) -> tuple[str, str] | None:
        """None when every list entry the record needs exists; else ("wait"|"failed"|"later", why)."""
        for name_key in self._names_of(entry):
            rec = self.data["names"][name_key]
            if rec["phase"] == FAILED:
                return FAILED, rec["message"]
            if rec["phase"] == LATER:
                return LATER, rec["message"]
            if rec["phase"] != N_OK:
                return "wait", ""
        return None

    def _names_of(self, entry: Entry) -> list[str]:
        return [_name_key("customer", documents.full_name(d)) for d in entry.customers] + [
            _name_key("item", i) for i in entry.items
        ]

    def _list_adds(self, solo: set[str], limit: int | None) -> list[qbxml.Request]:
        out: list[qbxml.Request] = []
        names = self.data["names"]
        for phase, op in ((N_MISSING, "add"), (N_REQUERY, "requery")):
            keys = self._pick([k for k, r in names.items() if r["phase"] == phase], solo, limit)
            for key in keys:
                rec = names[key]
                request_id = self._request_id(op, [key])
                if op == "requery":
                    out.append(qbxml.list_query(self._list_kind(key), request_id, [self._display(key)]))
                    rec["phase"] = N_QUERYING
                elif key.startswith("customer:"):
                    out.append(qbxml.customer_add(request_id, rec["doc"]))
                    rec["phase"] = N_ADDING
                else:
                    out.append(qbxml.item_service_add(request_id, rec["name"], self.income_account))
                    rec["phase"] = N_ADDING
            limit = None if limit is None else limit - len(keys)
        return out

    def _list_kind(self, name_key: str) -> str:
        return "Customer" if name_key.startswith("customer:") else "ItemService"

    def _display(self, name_key: str) -> str:
        rec = self.data["names"][name_key]
        return documents.full_name(rec["doc"]) if "doc" in rec else str(rec["name"])

    def _lookups(self, solo: set[str], limit: int | None) -> list[qbxml.Request]:
        out: list[qbxml.Request] = []
        records = self.data["records"]
        recheck = self._pick([k for k in self.data["order"] if records[k]["phase"] == RECHECK], solo, limit)
        if recheck:
            request_id = self._request_id("recheck", recheck)
            out.append(qbxml.invoice_query(request_id, txn_ids=[records[k]["txn"] for k in recheck]))
            for key in recheck:
                records[key]["phase"] = RECHECKING
            if limit is not None:
                return out
        fresh = [k for k in self.data["order"] if records[k]["phase"] == NEW]
        chunk = self._pick(fresh, solo, LOOKUP_CHUNK * LOOKUPS_PER_TRIP if limit is None else limit)
        if not chunk:
            return out
        names = self.data["names"]
        wanted = {n for key in chunk for n in self._names_of(self.entries[key]) if names[n]["phase"] == N_UNKNOWN}
        for kind in ("customer", "item"):
            batch = sorted(n for n in wanted if n.startswith(kind + ":"))
            for start in range(0, len(batch), NAMES_PER_QUERY):
                part = batch[start : start + NAMES_PER_QUERY]
                request_id = self._request_id("query", part)
                out.append(qbxml.list_query(self._list_kind(part[0]), request_id, [self._display(n) for n in part]))
                for n in part:
                    names[n]["phase"] = N_QUERYING
        invoices = [k for k in chunk if self.entries[k].entity == "invoice"]
        for start in range(0, len(invoices), LOOKUP_CHUNK):
            part = invoices[start : start + LOOKUP_CHUNK]
            request_id = self._request_id("lookup", part)
            numbers = [self.entries[k].document["ref_number"] for k in part]
            out.append(qbxml.invoice_query(request_id, ref_numbers=numbers))
        for key in chunk:
            records[key]["phase"] = LOOKING if self.entries[key].entity == "invoice" else FOUND
        return out

    def _payments(self) -> list[qbxml.Request]:
        pay = self.data["payments"]
        if pay["phase"] == "todo":
            request_id = self._request_id("payments", [])
            return [qbxml.receive_payment_query(request_id, pay["from"], iterator_id=pay["iterator"])]
        if pay["phase"] == "deleted":
            request_id = self._request_id("deleted", [])
            return [qbxml.txn_deleted_query(request_id, pay["from"])]
        return []

    def _ledger(self) -> list[qbxml.Request]:
        span = self.data.get("ledger", {})
        if span.get("phase") != "todo":
            return []
        request_id = self._request_id("ledger", [])
        return [qbxml.invoice_period_query(request_id, span["first"], span["last"], iterator_id=span["iterator"])]

    def _all_settled(self) -> bool:
        return all(r["phase"] in SETTLED or r["phase"] == PAUSED for r in self.data["records"].values())

    def _wake_paused(self) -> bool:
        """Locked records get a NoOp pause (QBWC waits ~5 s) and another try, a few times per session."""
        paused = [k for k, r in self.data["records"].items() if r["phase"] == PAUSED]
        if not paused:
            return False
        if self.data["pauses"] >= MAX_PAUSES:
            for key in paused:
                self._settle_failed(key, "QuickBooks kept the record locked; it is retried next session", False)
            return False
        self.data["pauses"] += 1
        for key in paused:
            self.data["records"][key]["phase"] = FOUND
        return True

    # ------------------------------------------------------------------ receiveResponseXML
    def receive(self, response: str, hresult: str, message: str) -> None:
        """Apply QuickBooks' answers to the last document."""
        in_flight = self.data["in_flight"]
        self.data["in_flight"] = {}
        if hresult or not response.strip():
            self._whole_document_failed(in_flight, describe_hresult(hresult or "none", message))
            return
        for reply in qbxml.parse_response(response):
            flight = in_flight.pop(reply.request_id, None)
            if flight is not None:
                self._apply(flight["op"], flight["keys"], reply)
        for flight in in_flight.values():  # requests QuickBooks did not answer: try them again
            self._revert(flight["op"], flight["keys"])

    def _whole_document_failed(self, in_flight: dict[str, Any], why: str) -> None:
        keys = [k for flight in in_flight.values() for k in flight["keys"]]
        self.data["last_error"] = why
        if not in_flight:
            return
        if len(in_flight) == 1 and len(keys) <= 1:
            op, one = next(iter(in_flight.values()))["op"], keys
            if op == "payments" or op == "deleted":
                self.data["payments"]["phase"] = "done"
                self.data["last_error"] = f"payments could not be read: {why}"
                return
            if op == "ledger":
                self.data["ledger"]["phase"] = "done"
                self.data["last_error"] = f"the invoices for the reconciliation could not be read: {why}"
                return
            culprit = one[0]
            self.data["last_error"] = f"{why} for {culprit}"
            if culprit in self.data["records"]:
                self._settle_failed(culprit, f"{why}; request {op} {self.entries[culprit].label}", True)
            else:
                self.data["names"][culprit].update(phase=FAILED, message=f"{why}; request {op} {culprit}")
            return
        for flight in in_flight.values():
            self._revert(flight["op"], flight["keys"])
        self.data["solo"] = keys

    def _revert(self, op: str, keys: list[str]) -> None:
        back = {"write": FOUND, "lookup": NEW, "recheck": RECHECK}
        names_back = {"query": N_UNKNOWN, "add": N_MISSING, "requery": N_REQUERY}
        for key in keys:
            if op in back and key in self.data["records"]:
                self.data["records"][key]["phase"] = back[op]
            elif op in names_back and key in self.data["names"]:
                self.data["names"][key]["phase"] = names_back[op]

    def _apply(self, op: str, keys: list[str], reply: qbxml.Reply) -> None:
        is_query = reply.kind.endswith("QueryRs")
        outcome = verdict(reply.status_code, is_query)
        handler: Callable[[list[str], qbxml.Reply, Verdict], None] = getattr(self, f"_on_{op}")
        handler(keys, reply, outcome)

    def _error_text(self, reply: qbxml.Reply) -> str:
        return f"QuickBooks {reply.kind[:-2]} status {reply.status_code}: {reply.message}"

    def _on_query(self, keys: list[str], reply: qbxml.Reply, outcome: Verdict) -> None:
        kind = keys[0].split(":")[0]
        found = {_name_key(kind, str(r.get("FullName", ""))): r for r in reply.rets}
        for key in keys:
            rec = self.data["names"][key]
            if key in found:
                rec.update(phase=N_OK, list_id=found[key].get("ListID", ""))
                self.sink.list_ok(rec.get("doc") or {"name": rec.get("name")}, rec["list_id"])
            elif outcome in (Verdict.OK, Verdict.NO_MATCH):
                if rec.get("requeried"):  # 3100 said the name exists, yet not in this list
                    rec.update(phase=FAILED, message=f"{self._display(key)!r}: {HINTS[3100]}")
                else:
                    rec["phase"] = N_MISSING
            else:
                self._name_error(key, reply, outcome)

    def _on_requery(self, keys: list[str], reply: qbxml.Reply, outcome: Verdict) -> None:
        for key in keys:
            self.data["names"][key]["requeried"] = True
        self._on_query(keys, reply, outcome)

    def _on_add(self, keys: list[str], reply: qbxml.Reply, outcome: Verdict) -> None:
        key = keys[0]
        rec = self.data["names"][key]
        if outcome is Verdict.OK:
            ret = reply.rets[0] if reply.rets else {}
            rec.update(phase=N_OK, list_id=ret.get("ListID", ""))
            self.sink.list_ok(rec.get("doc") or {"name": rec.get("name")}, rec["list_id"])
        elif outcome is Verdict.NAME_IN_USE:
            rec["phase"] = N_REQUERY  # someone (or our lost earlier add) has it: find it, never add twice
        else:
            self._name_error(key, reply, outcome)

    def _name_error(self, key: str, reply: qbxml.Reply, outcome: Verdict) -> None:
        rec = self.data["names"][key]
        if outcome is Verdict.BUSY:
            rec.update(phase=LATER, message=self._error_text(reply) + " (retried next session)")
        else:
            hint = HINTS.get(reply.status_code, "")
            rec.update(phase=FAILED, message=f"{self._display(key)!r}: {self._error_text(reply)}. {hint}".strip())

    def _on_lookup(self, keys: list[str], reply: qbxml.Reply, outcome: Verdict) -> None:
        if outcome not in (Verdict.OK, Verdict.NO_MATCH):
            for key in keys:
                self._record_error(key, reply, outcome)
            return
        by_number: dict[str, list[dict[str, Any]]] = {}
        for ret in reply.rets:
            by_number.setdefault(str(ret.get("RefNumber", "")).casefold(), []).append(ret)
        for key in keys:
            entry, rec = self.entries[key], self.data["records"][key]
            held = by_number.get(str(entry.document["ref_number"]).casefold(), [])
            ours = next((r for r in held if self.sink.ours(entry, r)), None)
            if ours is None and held:
                self._settle_failed(
                    key,
                    f"QuickBooks already has an invoice numbered {entry.document['ref_number']} that LedgerBridge "
                    "did not create; it was not added twice",
                    True,
                    hint="renumber one of the two invoices",
                )
            elif ours is None:
                rec["phase"] = FOUND
            elif self.data["unsure"].get(key) == entry.digest:  # our earlier send made it; nothing to rewrite
                self._settle(key, Written(entry, ours["TxnID"], ours.get("EditSequence", ""), "recovered"))
            else:
                rec.update(phase=FOUND, txn=ours["TxnID"], edit=ours.get("EditSequence", ""))

    def _on_recheck(self, keys: list[str], reply: qbxml.Reply, outcome: Verdict) -> None:
        current = {str(r.get("TxnID")): r for r in reply.rets}
        for key in keys:
            rec = self.data["records"][key]
            ret = current.get(rec["txn"])
            if outcome not in (Verdict.OK, Verdict.NO_MATCH):
                self._record_error(key, reply, outcome)
            elif ret is None:  # deleted in QuickBooks since: add it again
                rec.update(phase=FOUND, txn="", edit="")
            else:
                rec.update(phase=FOUND, edit=ret.get("EditSequence", ""))

    def _on_write(self, keys: list[str], reply: qbxml.Reply, outcome: Verdict) -> None:
        key = keys[0]
        entry, rec = self.entries[key], self.data["records"][key]
        if outcome is Verdict.OK:
            ret = reply.rets[0] if reply.rets else {}
            action = "updated" if reply.kind == "InvoiceModRs" else "created"
            sent = entry.as_sent(rec["sent"])  # the version QuickBooks now has, not a newer one
            target_id = str(ret.get("TxnID") or rec.get("txn", ""))
            self._settle(key, Written(sent, target_id, ret.get("EditSequence", ""), action))
        elif outcome is Verdict.STALE and not rec.get("stale"):
            rec.update(phase=RECHECK, stale=1)
        else:
            self._record_error(key, reply, outcome)

    def _record_error(self, key: str, reply: qbxml.Reply, outcome: Verdict) -> None:
        if outcome in (Verdict.BUSY, Verdict.STALE):
            self.data["records"][key]["phase"] = PAUSED
            self.data["last_error"] = self._error_text(reply)
            return
        self._settle_failed(key, self._error_text(reply), True, HINTS.get(reply.status_code, ""))

    def _on_payments(self, keys: list[str], reply: qbxml.Reply, outcome: Verdict) -> None:
        pay = self.data["payments"]
        if outcome not in (Verdict.OK, Verdict.NO_MATCH):
            pay["phase"] = "done"
            self.data["last_error"] = f"payments could not be read: {self._error_text(reply)}"
            return
        for ret in reply.rets:
            self.sink.payment(str(ret["TxnID"]), ret)
            pay["high"] = max(pay["high"], str(ret.get("TimeModified", "")))
        pay["iterator"] = reply.iterator_id if reply.remaining > 0 else ""
        pay["phase"] = "todo" if pay["iterator"] else "deleted"

    def _on_deleted(self, keys: list[str], reply: qbxml.Reply, outcome: Verdict) -> None:
        pay = self.data["payments"]
        if outcome in (Verdict.OK, Verdict.NO_MATCH):
            for ret in reply.rets:
                self.sink.payment(str(ret["TxnID"]), None)
        else:
            self.data["last_error"] = f"deleted payments could not be read: {self._error_text(reply)}"
        pay["phase"] = "done"

    def _on_ledger(self, keys: list[str], reply: qbxml.Reply, outcome: Verdict) -> None:
        span = self.data["ledger"]
        if outcome not in (Verdict.OK, Verdict.NO_MATCH):
            span["phase"] = "done"
            self.data["last_error"] = (
                f"the invoices for the reconciliation could not be read: {self._error_text(reply)}"
            )
            return
        span["iterator"] = reply.iterator_id if reply.remaining > 0 else ""
        span["page"] += 1
        self.sink.ledger(span, list(reply.rets), final=not span["iterator"])
        if not span["iterator"]:
            span["phase"] = "done"

    # ------------------------------------------------------------------ outcomes
    def _settle(self, key: str, outcome: Written) -> None:
        self.data["records"][key].update(phase=DONE, txn=outcome.target_id)
        self.sink.written(outcome)

    def _settle_failed(self, key: str, message: str, permanent: bool, hint: str = "") -> None:
        self.data["records"][key].update(phase=FAILED if permanent else LATER)
        self.sink.failed(Failed(self.entries[key], message, hint, permanent))
