"""The Web Connector service: each SOAP operation of a QBWC session, for one tenant.

authenticate -> sendRequestXML / receiveResponseXML (repeated; percent done 0-99, then 100) -> closeConnection;
getLastError after an empty request or a negative percent (or "NoOp": QBWC pauses and asks again);
connectionError when QBWC cannot open QuickBooks. authenticate answers a ticket and "" (use the company file
open in QuickBooks), "none" (nothing to do), "nvu" (not a valid user) or "busy" (a session is already live).
Semantics: QBWC Programmer's Guide; Intuit's WCWebService sample (github.com/IntuitDeveloper/QBXML_SDK_Samples).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from defusedxml import DefusedXmlException

from ledgerbridge.errors import PermanentError
from ledgerbridge.source import Platform
from ledgerbridge.state import cursors, mappings, synclog
from ledgerbridge.state import tenants as tenant_store
from ledgerbridge.sync.engine import Action, Engine
from ledgerbridge.targets.base import TargetRecord
from ledgerbridge.targets.qbd import ledger, outbox, payments, qbxml, soap, tickets
from ledgerbridge.targets.qbd.outbox import Entry
from ledgerbridge.targets.qbd.plugin import engine_for
from ledgerbridge.targets.qbd.session import Drain, Failed, Sink, Written, needed_keys, new_state
from ledgerbridge.targets.qbd.statuses import describe_hresult
from ledgerbridge.tenants import Tenant

SERVER_VERSION = "LedgerBridge 0.1.0"
TARGET = "qbd"
PAYMENT_CURSOR = "qbd_payments"
FIRST_PULL_LOOKBACK = timedelta(hours=1)  # the company computer's clock may run behind ours
BOOKKEEPING_WORKERS = 16  # platform calls in flight while a round trip's records are written back
EXPIRED = "The Web Connector session expired or is unknown; the next scheduled run starts a new one."


def utc_iso(value: str) -> str:
    """A QuickBooks date-time (local time with offset) as UTC ISO-8601, so cursors compare in time order."""
    moment = datetime.fromisoformat(value)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="seconds")


class Outcomes(Sink):
    """Where a session's results land: the sync engine's bookkeeping (Engine.finish / reject: mappings, the
    create intent, the platform invoice and the sync log, as for every target), then the outbox.

    A round trip settles up to a few hundred records, and each needs a call to the field-service platform,
    so their bookkeeping is collected while the replies are read and done by `flush` on BOOKKEEPING_WORKERS
    threads, well inside the function's timeout. The outbox entry goes last: a record whose bookkeeping
    failed stays queued, and the next session adopts it from QuickBooks and finishes the job."""

    def __init__(self, tenant: Tenant, platform: Callable[[], Platform]) -> None:
        self.tenant = tenant
        self._platform = platform
        self._engine: Engine | None = None
        self._pending: list[Callable[[], None]] = []
        self._links: list[Callable[[], None]] = []  # list entries found or added: mappings only, no platform call

    def engine(self) -> Engine:
        """Built on first use: the platform is reached only by a session that settles something."""
        if self._engine is None:
            self._engine = engine_for(self.tenant, self._platform())
        return self._engine

    def written(self, outcome: Written) -> None:
        self._pending.append(lambda: self._written(outcome))

    def _written(self, outcome: Written) -> None:
        entry = outcome.entry
        reason = "recovered an earlier session's answer" if outcome.action == "recovered" else ""
        action: Action = "update" if outcome.action == "updated" else "create"
        self.engine().finish(entry.write, TargetRecord(outcome.target_id, outcome.edit_sequence), reason, action)
        outbox.remove(self.tenant.tenant_id, entry.key, entry.digest)

    def failed(self, outcome: Failed) -> None:
        self._pending.append(lambda: self._failed(outcome))

    def _failed(self, outcome: Failed) -> None:
        entry = outcome.entry
        if not outcome.permanent:
            self.engine().log(entry.entity, entry.source_id, "retrying", outcome.message)
            return
        self.engine().reject(entry.write, PermanentError(outcome.message, hint=outcome.hint))
        outbox.remove(self.tenant.tenant_id, entry.key, entry.digest)  # never retried forever; a new version re-enters

    def flush(self) -> None:
        """Do the collected bookkeeping; raises the first failure once every record has been tried."""
        work, self._pending, self._links = self._pending + self._links, [], []
        if not work:
            return
        first, rest = work[0], work[1:]
        first()  # alone: the platform client signs in on its first call, and its sign-in is not re-entrant
        with ThreadPoolExecutor(max_workers=BOOKKEEPING_WORKERS) as pool:
            futures = [pool.submit(task) for task in rest]
        for future in futures:
            if (error := future.exception()) is not None:
                raise error

    def list_ok(self, doc: dict[str, Any], list_id: str) -> None:
        if doc.get("source_id"):
            source_id = str(doc["source_id"])
            self._links.append(lambda: self.engine().link("customer", source_id, TargetRecord(list_id)))

    def payment(self, txn_id: str, payment: dict[str, Any] | None) -> None:
        outcome = payments.reconcile(self.tenant.tenant_id, txn_id, payment, self._platform())
        if outcome.recorded or outcome.reversed or outcome.unmapped:
            message = payments.describe(txn_id, payment is None, outcome)
            synclog.write(synclog.LogEntry(self.tenant.tenant_id, TARGET, "payment", txn_id, "recorded", message))

    def ledger(self, span: dict[str, Any], rets: list[dict[str, Any]], final: bool) -> None:
        ledger.store(self.tenant.tenant_id, span, rets, final)

    def ours(self, entry: Entry, ret: dict[str, Any]) -> bool:
        mapping = mappings.find(self.tenant.tenant_id, TARGET, entry.entity, entry.source_id)
        return super().ours(entry, ret) or (mapping is not None and mapping.target_id == ret.get("TxnID"))


@dataclass
class Service:
    """One tenant's Web Connector endpoint. Method names are the WSDL's operation names."""

    tenant: Tenant
    platform: Callable[[], Platform]

    def call(self, operation: str, params: dict[str, str]) -> str:
        handler: Callable[[dict[str, str]], str | int | list[str]] = getattr(self, f"_{operation}")
        return soap.answer(operation, handler(params))

    # ------------------------------------------------------------------ operations
    def _serverVersion(self, params: dict[str, str]) -> str:
        return SERVER_VERSION

    def _clientVersion(self, params: dict[str, str]) -> str:
        return ""  # any QBWC 2.x may continue

    def _authenticate(self, params: dict[str, str]) -> list[str]:
        user, password = params.get("strUserName", ""), params.get("strPassword", "")
        integration = self.tenant.integration("qbd")
        valid = user == self.tenant.tenant_id and tenant_store.check_credential(user, password, "connector")
        if not valid or integration is None:
            if integration is not None:  # the console's Overview says the Web Connector's password was refused
                tickets.refused(self.tenant.tenant_id, "the Web Connector's user name or password was not accepted")
            return ["", "nvu"]
        pull = "payment" in integration.entities
        pull_from = cursors.read(self.tenant.tenant_id, PAYMENT_CURSOR) if pull else None
        if pull and pull_from is None:
            pull_from = (datetime.now(UTC) - FIRST_PULL_LOOKBACK).isoformat(timespec="seconds")
        asked = ledger.requested(self.tenant.tenant_id)  # the console's reconciliation waits for a period
        if not pull and asked is None and not outbox.has_work(self.tenant.tenant_id):
            return ["", "none"]
        session, previous = tickets.begin(self.tenant.tenant_id, {})
        if session is None:
            return ["", "busy"]
        session.data = new_state(outbox.pending(self.tenant.tenant_id), previous, pull_from, asked)
        tickets.save(session)
        return [session.ticket, ""]

    def _sendRequestXML(self, params: dict[str, str]) -> str:
        session = tickets.load(params.get("ticket", ""))
        if session is None or session.tenant_id != self.tenant.tenant_id:
            return ""
        data = session.data
        if not data["version"]:
            version = self._version(params)
            if version is None:
                data["last_error"] = (
                    "This QuickBooks company file does not support qbXML 12.0 or later (QuickBooks 2013 or later). "
                    "Update QuickBooks, then run the Web Connector again."
                )
                tickets.save(session)
                return ""
            data["version"] = version
        drain, outcomes = self._drain(session)
        document = drain.next_document()
        outcomes.flush()
        tickets.save(session)
        return document

    def _receiveResponseXML(self, params: dict[str, str]) -> int:
        session = tickets.load(params.get("ticket", ""))
        if session is None or session.tenant_id != self.tenant.tenant_id:
            return -1
        drain, outcomes = self._drain(session)
        try:
            drain.receive(params.get("response", ""), params.get("hresult", ""), params.get("message", ""))
        except (ValueError, SyntaxError, DefusedXmlException) as exc:
            session.data["last_error"] = f"QuickBooks' response could not be read: {exc}"
            tickets.save(session)
            return -1
        outcomes.flush()
        self._advance_payment_cursor(session.data)
        tickets.save(session)
        return drain.percent()

    def _getLastError(self, params: dict[str, str]) -> str:
        session = tickets.load(params.get("ticket", ""))
        if session is None:
            return EXPIRED
        if session.data.get("noop"):
            return "NoOp"
        return str(session.data.get("last_error") or "No error")

    def _connectionError(self, params: dict[str, str]) -> str:
        session = tickets.load(params.get("ticket", ""))
        if session is not None:
            session.data["last_error"] = describe_hresult(params.get("hresult", ""), params.get("message", ""))
            tickets.end(session)
        return "done"

    def _closeConnection(self, params: dict[str, str]) -> str:
        session = tickets.load(params.get("ticket", ""))
        if session is None:
            return "OK"
        tickets.end(session)
        phases = [r["phase"] for r in session.data["records"].values()]
        done, failed, later = (phases.count(p) for p in ("done", "failed", "later"))
        return f"OK: {done} sent to QuickBooks, {failed} failed, {later} left for the next run"

    # ------------------------------------------------------------------ helpers
    def _version(self, params: dict[str, str]) -> str | None:
        try:
            picked = qbxml.pick_version(params.get("strHCPResponse", ""))
        except (SyntaxError, DefusedXmlException):
            picked = None
        if picked is not None:
            return picked
        major = params.get("qbXMLMajorVers", "")  # the newest version QuickBooks speaks, when no HCP response
        return next((v for v in qbxml.VERSIONS if major.isdigit() and float(v) <= int(major)), None)

    def _drain(self, session: tickets.Ticket) -> tuple[Drain, Outcomes]:
        entries = outbox.get_many(self.tenant.tenant_id, needed_keys(session.data))
        outcomes = Outcomes(self.tenant, self.platform)
        account = self.tenant.mapping.income_account or "Services"
        return Drain(session.data, entries, outcomes, account), outcomes

    def _advance_payment_cursor(self, data: dict[str, Any]) -> None:
        pay = data["payments"]
        if pay["phase"] == "done" and pay["high"] and not pay.get("saved"):
            cursors.advance(self.tenant.tenant_id, PAYMENT_CURSOR, utc_iso(pay["high"]))
            pay["saved"] = True
