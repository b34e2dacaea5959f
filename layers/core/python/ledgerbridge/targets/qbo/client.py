"""QBO Accounting API v3 over HTTPS: JSON in and out, `minorversion` on every call, `requestid` on every write,
QBO's Faults turned into ledgerbridge.errors (Intuit: base URLs and timeouts, minor versions, requestid, query
language, batch, limits and throttles, error codes)."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol

from ledgerbridge.errors import AuthorizationRevoked, TransientError
from ledgerbridge.lazy import lazy
from ledgerbridge.observability import logger as log  # Powertools: JSON, correlation keys
from ledgerbridge.targets.qbo import budget as budget_module
from ledgerbridge.targets.qbo.budget import Budget
from ledgerbridge.targets.qbo.faults import dumps, error_for, fault_from_json, loads, parse_fault

if TYPE_CHECKING:
    import requests
else:
    requests = lazy("requests")  # loaded by the first call that talks HTTP (make bench, coldstart)

MINOR_VERSION = 75  # the floor since August 2025 (Intuit: minor versions)
MAX_PAGE = 1000  # MAXRESULTS ceiling (Intuit: query language)
REQUEST_ID_MAX = 50  # Intuit: requestid
BATCH_REQUEST_ID_MAX = 36
BATCH_ID_MAX = 10
BATCH_MAX_ITEMS = 30  # Intuit: batch
RETRY_BACKOFF_S = (0.5, 2.0)

# url segment -> the key QBO answers with
ENTITY_NAMES = {
    n.lower(): n
    for n in (
        "Account",
        "Bill",
        "Class",
        "CompanyInfo",
        "Customer",
        "Department",
        "Employee",
        "Estimate",
        "Invoice",
        "Item",
        "Payment",
        "PaymentMethod",
        "Preferences",
        "PurchaseOrder",
        "SalesReceipt",
        "TaxCode",
        "Term",
        "TimeActivity",
        "Vendor",
    )
}


class TokenProvider(Protocol):
    def access_token(self) -> str:
        """A valid access token (refreshed first when it is about to expire)."""
        ...

    def refresh_after_unauthorized(self, rejected: str) -> str:
        """QBO answered 401 to `rejected`: return a fresh token, or raise AuthorizationRevoked."""
        ...


def parse_time(value: Any) -> datetime | None:
    """A QBO timestamp ("2026-01-05T10:00:00.000-08:00", "...Z", epoch seconds or ms) as an aware UTC datetime."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        try:
            seconds = float(value) / (1000.0 if value > 10**11 else 1.0)
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, ValueError, OSError):  # past year 9999, or not finite: not a time at all
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)


def entity_name(entity: str) -> str:
    return ENTITY_NAMES.get(entity.lower(), entity[:1].upper() + entity[1:])


def _retry_after(resp: requests.Response) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _check_request_id(request_id: str, limit: int = REQUEST_ID_MAX) -> None:
    if not request_id or len(request_id) > limit:
        raise ValueError(f"requestid must be 1-{limit} characters (Intuit: requestid), got {len(request_id)}")


@dataclass(frozen=True)
class BatchItem:
    bid: str
    operation: str  # create | update | delete | void
    entity: str = ""
    body: dict[str, Any] = field(default_factory=dict)
    query: str = ""


@dataclass(frozen=True)
class BatchResult:
    bid: str
    entity: dict[str, Any] | None = None
    query_response: dict[str, Any] | None = None
    error: Exception | None = None


class QboClient:
    def __init__(
        self,
        realm_id: str,
        api_base_url: str,
        token_provider: TokenProvider,
        session: requests.Session | None = None,
        minorversion: int = MINOR_VERSION,
        # QBO gives up on a request after 120 s (Intuit: base URLs and timeouts)
        timeout: tuple[float, float] = (5.0, 120.0),
        max_retries: int = 1,
        sleep: Callable[[float], None] = time.sleep,
        budget: Budget | None = None,
        on_revoked: Callable[[AuthorizationRevoked], None] | None = None,
    ) -> None:
        """`budget`: the realm's shared request budget (budget.RealmBudget), taken before every HTTP request;
        `on_revoked`: told when QuickBooks refuses the connection (the tenant must reconnect)."""
        base = api_base_url.rstrip("/")
        base = base[: -len("/v3")] if base.endswith("/v3") else base
        self.realm_id = realm_id
        self.company_url = f"{base}/v3/company/{realm_id}"
        self.tokens = token_provider
        self.session = session or requests.Session()
        self.minorversion = minorversion
        self.timeout = timeout
        self.max_retries = max_retries
        self._sleep = sleep
        self.budget = budget
        self.on_revoked = on_revoked

    def with_session(self, session: requests.Session) -> QboClient:
        """The same client (tokens, budget, hooks) on another HTTP session: one per worker thread."""
        twin = copy.copy(self)
        twin.session = session
        return twin

    # -- transport ------------------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None = None,
        body: str | None = None,
        content_type: str = "application/json",
    ) -> dict[str, Any]:
        """One call, with: a token refresh and one retry on 401; up to max_retries quick retries on connection
        errors, timeouts and 5xx (safe: reads are idempotent and every write carries a requestid); 429 is
        never retried here, the caller backs off (the queue holds the record, not a sleeping Lambda)."""
        try:
            return self._call(method, path, params, body, content_type)
        except AuthorizationRevoked as exc:
            if self.on_revoked is not None:
                self.on_revoked(exc)
            raise

    def _send(
        self, method: str, path: str, query: dict[str, str], body: str | None, headers: dict[str, str]
    ) -> requests.Response:
        """One HTTP request inside a slot of the realm's budget."""
        lease = self.budget.acquire("batch" if path == "/batch" else "request") if self.budget else None
        try:
            return self.session.request(
                method, self.company_url + path, params=query, data=body, headers=headers, timeout=self.timeout
            )
        finally:
            if self.budget is not None and lease is not None:
                self.budget.release(lease)

    def _call(
        self, method: str, path: str, params: dict[str, str] | None, body: str | None, content_type: str
    ) -> dict[str, Any]:
        query = {**(params or {}), "minorversion": str(self.minorversion)}
        token = self.tokens.access_token()
        refreshed = False
        attempt = 0
        while True:
            headers = {
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": "LedgerBridge/0.1",
            }
            if body is not None:
                headers["Content-Type"] = content_type
            try:
                resp = self._send(method, path, query, body, headers)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt < self.max_retries:
                    self._sleep(RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S) - 1)])
                    attempt += 1
                    continue
                raise TransientError(f"QuickBooks did not answer {method} {path}: {type(exc).__name__}") from exc
            tid = resp.headers.get("intuit_tid", "")
            log.info("qbo %s %s -> %s (intuit_tid %s)", method, path, resp.status_code, tid)
            if resp.status_code == 401:
                if refreshed:
                    fault = parse_fault(resp.content, resp.headers.get("Content-Type", ""))
                    raise AuthorizationRevoked(
                        f"QuickBooks refused a freshly refreshed token: {fault.text() if fault else 'HTTP 401'}",
                        code=fault.code if fault else "401",
                        hint="Reconnect QuickBooks: the connection was revoked or has expired.",
                    )
                token = self.tokens.refresh_after_unauthorized(token)
                refreshed = True
                continue
            if resp.status_code == 429 and self.budget is not None:
                self.budget.pause(_retry_after(resp) or budget_module.PAUSE_ON_429_S)  # the realm holds off
            if resp.status_code >= 500 and attempt < self.max_retries:
                self._sleep(RETRY_BACKOFF_S[min(attempt, len(RETRY_BACKOFF_S) - 1)])
                attempt += 1
                continue
            return self._parse(resp, f"{method} {path}, intuit_tid {tid}")

    @staticmethod
    def _parse(resp: requests.Response, where: str) -> dict[str, Any]:
        if 200 <= resp.status_code < 300:
            try:
                data = loads(resp.content)
            except ValueError as exc:
                raise TransientError(f"QuickBooks sent an unreadable answer ({where})") from exc
            fault = fault_from_json(data)  # an HTTP 200 can still carry a Fault (Intuit: error codes)
            if fault is not None:
                raise error_for(400, fault, where=where)
            if not isinstance(data, dict):
                raise TransientError(f"QuickBooks sent an unexpected answer ({where})")
            return data
        fault = parse_fault(resp.content, resp.headers.get("Content-Type", ""))
        raise error_for(resp.status_code, fault, _retry_after(resp), where)

    # -- reads ----------------------------------------------------------------------------------------------

    def _query_page(self, statement: str) -> dict[str, Any]:
        if len(statement) > 1500:  # long statements go in the body (python-quickbooks does so always)
            return self._request("POST", "/query", body=statement, content_type="application/text")
        return self._request("GET", "/query", {"query": statement})

    def query(self, select: str, page_size: int = MAX_PAGE) -> list[dict[str, Any]]:
        """Every row of `select * from X [where ...] [orderby ...]`, paging with STARTPOSITION/MAXRESULTS
        unless the statement pages itself."""
        match = re.search(r"\bfrom\s+(\w+)", select, re.IGNORECASE)
        if match is None:
            raise ValueError(f"not a select statement: {select!r}")
        key = entity_name(match.group(1))
        if re.search(r"\b(startposition|maxresults)\b", select, re.IGNORECASE):
            return self._rows(self._query_page(select), key)
        rows: list[dict[str, Any]] = []
        start = 1
        while True:
            page = self._rows(self._query_page(f"{select} STARTPOSITION {start} MAXRESULTS {page_size}"), key)
            rows.extend(page)
            if len(page) < page_size:
                return rows
            start += page_size

    @staticmethod
    def _rows(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
        response = data.get("QueryResponse") or {}
        found: list[dict[str, Any]] = next((v for k, v in response.items() if k.lower() == key.lower()), [])
        return list(found)

    def count(self, select_count: str) -> int:
        return int((self._query_page(select_count).get("QueryResponse") or {}).get("totalCount", 0))

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        name = entity_name(entity)
        return dict(self._request("GET", f"/{name.lower()}/{entity_id}")[name])

    def cdc(self, entities: Sequence[str], changed_since: datetime) -> dict[str, list[dict[str, Any]]]:
        """Changes since `changed_since` (at most 30 days back; deleted rows carry status "Deleted")."""
        return self.cdc_at(entities, changed_since)[0]

    def cdc_at(
        self, entities: Sequence[str], changed_since: datetime
    ) -> tuple[dict[str, list[dict[str, Any]]], datetime | None]:
        """cdc() and QuickBooks' own time of the answer (its `time` field), for a catch-up cursor that does not
        depend on our clock agreeing with Intuit's."""
        data = self._request(
            "GET",
            "/cdc",
            {"entities": ",".join(entity_name(e) for e in entities), "changedSince": changed_since.isoformat()},
        )
        out: dict[str, list[dict[str, Any]]] = {entity_name(e): [] for e in entities}
        for cdc in data.get("CDCResponse") or []:
            for response in cdc.get("QueryResponse") or []:
                for key, value in response.items():
                    if isinstance(value, list):
                        out.setdefault(key, []).extend(value)
        return out, parse_time(data.get("time"))

    # -- writes ---------------------------------------------------------------------------------------------

    def _write(self, entity: str, body: dict[str, Any], request_id: str, **params: str) -> dict[str, Any]:
        _check_request_id(request_id)
        name = entity_name(entity)
        data = self._request("POST", f"/{name.lower()}", {"requestid": request_id, **params}, body=dumps(body))
        return dict(data[name])

    def create(self, entity: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        if "Id" in body:
            raise ValueError("a create must not carry an Id (QBO would treat it as an update)")
        return self._write(entity, body, request_id)

    def update(self, entity: str, body: dict[str, Any], request_id: str) -> dict[str, Any]:
        """Full update, or sparse when body has "sparse": true; needs Id and the current SyncToken."""
        if not body.get("Id") or "SyncToken" not in body:
            raise ValueError("an update needs Id and SyncToken")
        return self._write(entity, body, request_id)

    def delete(self, entity: str, entity_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        return self._write(entity, {"Id": entity_id, "SyncToken": sync_token}, request_id, operation="delete")

    def void(self, entity: str, entity_id: str, sync_token: str, request_id: str) -> dict[str, Any]:
        """Invoice: operation=void; Payment and others: a sparse update with include=void (Intuit: SyncToken)."""
        if entity_name(entity) == "Invoice":
            return self._write(entity, {"Id": entity_id, "SyncToken": sync_token}, request_id, operation="void")
        body = {"Id": entity_id, "SyncToken": sync_token, "sparse": True}
        return self._write(entity, body, request_id, operation="update", include="void")

    def batch(self, items: Sequence[BatchItem], request_id: str) -> list[BatchResult]:
        """Up to 30 operations in one call; each answers on its own (a Fault fails only its item)."""
        _check_request_id(request_id, BATCH_REQUEST_ID_MAX)
        if len(items) > BATCH_MAX_ITEMS:
            raise ValueError(f"at most {BATCH_MAX_ITEMS} items per batch")
        payload: list[dict[str, Any]] = []
        for item in items:
            _check_request_id(item.bid, BATCH_ID_MAX)
            if item.query:
                payload.append({"bId": item.bid, "Query": item.query})
            else:
                payload.append({"bId": item.bid, "operation": item.operation, entity_name(item.entity): item.body})
        data = self._request("POST", "/batch", {"requestid": request_id}, body=dumps({"BatchItemRequest": payload}))
        results = []
        for answer in data.get("BatchItemResponse") or []:
            bid = str(answer.get("bId", ""))
            fault = fault_from_json(answer)
            if fault is not None:
                results.append(BatchResult(bid, error=error_for(400, fault, where=f"batch item {bid}")))
            elif "QueryResponse" in answer:
                results.append(BatchResult(bid, query_response=answer["QueryResponse"]))
            else:
                entity = next((v for k, v in answer.items() if k != "bId" and isinstance(v, dict)), None)
                results.append(BatchResult(bid, entity=entity))
        return results
