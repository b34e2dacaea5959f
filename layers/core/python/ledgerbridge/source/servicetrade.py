"""ServiceTrade as canonical records, through the official `servicetrade` SDK (OAuth2 client credentials or
refresh token). Works against the real API and the local sandbox alike: only base_url and credentials differ.

    source = ServiceTradeSource("https://api.servicetrade.com", client_id=..., client_secret=...)
    for invoice in source.invoices(status="pending_accounting"):
        ...
        source.set_invoice_status(invoice.source_id, "processed")

Errors (ledgerbridge.errors): 404 -> NotFound; 429, 5xx, timeouts and connection failures -> TransientError
(`retry_after` from the platform's Retry-After when it sends one); a refused token grant or a 401 that
survives the SDK's re-grant -> AuthorizationRevoked; any other 4xx -> PermanentError carrying the platform's
own message. A record the platform returns but that cannot be read -> PermanentError(code="bad_record").

Iterators fetch one page at a time (`page_size` rows) while the caller consumes them, so memory does not grow
with the number of rows; purchase_orders() is the exception that keeps only PO lines (it must see every
line of a PO before yielding it).

Transport: the SDK sets no timeout, so the adapter mounts one (same retry policy as the SDK: 3 tries on
500/502/503/504 for idempotent verbs, but never sleeping through a Retry-After, which urllib3 otherwise
does for 429/503) and parses response numbers as Decimal. Both reach into the SDK's
session objects (`_session`, `_auth_session`) of the pinned servicetrade==1.0.0; if those ever disappear,
the adapter still works, with floats converted through repr and without the timeout.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from decimal import Decimal
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests
from requests.adapters import HTTPAdapter
from servicetrade import Paginator, ServicetradeClient
from servicetrade.exceptions import ServicetradeAPIError, ServicetradeAuthError
from urllib3.util.retry import Retry

from ledgerbridge.errors import AuthorizationRevoked, InvalidInput, NotFound, PermanentError, TransientError
from ledgerbridge.records import (
    Customer,
    DirectCost,
    Invoice,
    Job,
    LaborEntry,
    Location,
    PurchaseOrder,
    RecordVersion,
)
from ledgerbridge.source import st_records as conv

Json = dict[str, Any]
T = TypeVar("T")
DEFAULT_BASE_URL = "https://api.servicetrade.com"
ENTITY_TYPES = {"customer": "company", "technician": "user", "labor": "clockevent", "direct_cost": "jobitem"}
RETRY_STATUSES = (500, 502, 503, 504)


class _TimeoutAdapter(HTTPAdapter):
    """An HTTPAdapter that applies a default timeout to every request the SDK sends."""

    def __init__(self, timeout: float, retries: Retry) -> None:
        super().__init__(max_retries=retries)
        self._timeout = timeout

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None, **kwargs: Any
    ) -> requests.Response:
        return super().send(request, stream=stream, timeout=self._timeout if timeout is None else timeout, **kwargs)


def _decimal_json(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """Response hook: `response.json()` parses numbers with a fraction as Decimal (exact money)."""
    response.json = functools.partial(requests.Response.json, response, parse_float=Decimal)  # type: ignore[method-assign]
    return response


def _id(value: object, what: str = "id") -> str:
    text = str(value).strip()
    if not text.isdigit():
        raise InvalidInput(f"not a ServiceTrade {what}: {value!r}", field=what)
    return text


def _aware(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise InvalidInput(f"{what} must be timezone-aware", field=what)
    return moment


class ServiceTradeSource:
    """The field-service platform (ServiceTrade) through its official Python SDK."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        client: ServicetradeClient | None = None,
        employee_number_system: str = "payroll",
        timezone: str | tzinfo = "UTC",
        page_size: int = 500,
        timeout: float = 30.0,
        retries: int = 3,
        retry_backoff: float = 0.5,
        user_agent: str = "LedgerBridge (servicetrade-python-sdk)",
    ) -> None:
        if client is None:
            if not (refresh_token or (client_id and client_secret)):
                raise InvalidInput("ServiceTrade needs client_id and client_secret, or a refresh_token")
            client = ServicetradeClient(
                base_url=base_url,
                client_id=client_id,
                client_secret=client_secret,
                refresh_token=refresh_token,
                user_agent=user_agent,
            )
        self._client = client
        self.employee_number_system = employee_number_system
        self.tz: tzinfo = (
            UTC if timezone in ("UTC", "Etc/UTC") else (ZoneInfo(timezone) if isinstance(timezone, str) else timezone)
        )
        self.page_size = page_size
        # The SDK's policy, except that a Retry-After is handed to the caller (TransientError.retry_after)
        # instead of being slept through inside a Lambda invocation.
        retry = Retry(
            total=retries,
            backoff_factor=retry_backoff,
            status_forcelist=RETRY_STATUSES,
            respect_retry_after_header=False,
        )
        for name in ("_session", "_auth_session"):
            session = getattr(client, name, None)
            if isinstance(session, requests.Session):
                for prefix in ("http://", "https://"):
                    session.mount(prefix, _TimeoutAdapter(timeout, retry))
                if name == "_session":
                    session.hooks["response"].append(_decimal_json)

    @classmethod
    def from_client(cls, client: ServicetradeClient, **options: Any) -> ServiceTradeSource:
        return cls(client=client, **options)

    @property
    def client(self) -> ServicetradeClient:
        return self._client

    @property
    def refresh_token(self) -> str | None:
        """The current (rotated) refresh token when the client runs on one, to persist after a refresh."""
        credentials = getattr(self._client, "_credentials", None)
        token = getattr(credentials, "refresh_token", None)
        return token if isinstance(token, str) else None

    # -- reads -----------------------------------------------------------------------------------------------
    def invoices(
        self,
        status: str | None = None,
        updated_after: datetime | None = None,
        updated_before: datetime | None = None,
        transaction_after: date | None = None,
        transaction_before: date | None = None,
    ) -> Iterator[Invoice]:
        """Invoices matching every filter given (bounds inclusive; dates in the source's timezone)."""
        params: Json = {}
        if status is not None:
            params["status"] = status
        if updated_after is not None:
            params["updatedAfter"] = math.floor(_aware(updated_after, "updated_after").timestamp())
        if updated_before is not None:
            params["updatedBefore"] = math.floor(_aware(updated_before, "updated_before").timestamp())
        if transaction_after is not None:
            params["transactionDateAfter"] = self._day_start(transaction_after)
        if transaction_before is not None:
            params["transactionDateBefore"] = self._day_start(transaction_before + timedelta(days=1)) - 1
        for data in self._pages("/invoice", "invoices", params):
            if "items" not in data:  # a list that leaves items out: read the invoice itself
                data = self._get(f"/invoice/{_id(data['id'])}")
            yield conv.invoice(data, self.tz)

    def invoice_versions(
        self, status: str, updated_after: datetime, updated_before: datetime
    ) -> Iterator[RecordVersion]:
        """Id and `updated` time of the invoices in `status` that changed within the bounds (inclusive):
        the list's own rows, never a read per invoice. A row without an `updated` time is skipped."""
        params: Json = {
            "status": status,
            "updatedAfter": math.floor(_aware(updated_after, "updated_after").timestamp()),
            "updatedBefore": math.floor(_aware(updated_before, "updated_before").timestamp()),
        }
        for data in self._pages("/invoice", "invoices", params):
            updated = conv.when(data.get("updated"))
            if updated is not None:
                yield RecordVersion(source_id=_id(data.get("id")), updated_at=updated)

    def invoice(self, invoice_id: str) -> Invoice:
        return conv.invoice(self._get(f"/invoice/{_id(invoice_id, 'invoice_id')}"), self.tz)

    def customer(self, company_id: str) -> Customer:
        return conv.customer(self._get(f"/company/{_id(company_id, 'company_id')}"))

    def company_by_ref(self, ref_number: str) -> Customer | None:
        """The active customer company whose reference number is `ref_number`, if any."""
        params: Json = {"refNumber": ref_number, "isCustomer": True}
        for data in self._pages("/company", "companies", params):
            return conv.customer(data)
        return None

    def create_company(self, customer: Customer) -> str:
        """Create a customer company (name, reference number, email, phone, address); returns its id.
        Not idempotent by itself: callers look it up by reference number first (company_by_ref)."""
        address = customer.address
        body = {
            "name": customer.name,
            "refNumber": customer.ref_number,
            "customer": True,
            "email": customer.email,
            "phoneNumber": customer.phone,
            "address": {
                "street": address.street,
                "city": address.city,
                "state": address.state,
                "postalCode": address.postal_code,
            },
        }
        data = self._call("POST", "/company", lambda: self._client.post("/company", body))
        if not isinstance(data, dict) or data.get("id") is None:
            raise PermanentError("ServiceTrade did not return the new company's id", code="bad_record")
        return str(data["id"])

    def location(self, location_id: str) -> Location:
        return conv.location(self._get(f"/location/{_id(location_id, 'location_id')}"))

    def job(self, job_id: str) -> Job:
        return conv.job(self._get(f"/job/{_id(job_id, 'job_id')}"))

    def labor_entries(self, start: datetime, end: datetime) -> Iterator[LaborEntry]:
        """Clock events clocked in within [start, end); open clock-ins have clock_out None. The employee
        number is the technician's external id in `employee_number_system` ("" when missing)."""
        params = {
            "startTime": math.floor(_aware(start, "start").timestamp()),
            "endTime": math.ceil(_aware(end, "end").timestamp()) - 1,
        }
        technicians: dict[str, tuple[str, str]] = {}  # user id -> (name, employee number): one read per user
        for event in self._pages("/clock", "events", params):
            user = conv.obj(event.get("user"))
            user_id = str(user.get("id", ""))
            if user_id and user_id not in technicians:
                technicians[user_id] = self._technician(user_id, str(user.get("name") or ""))
            name, number = technicians.get(user_id, ("", ""))
            yield conv.labor_entry(event, number, name)

    def purchase_orders(self, start: date, end: date) -> Iterator[PurchaseOrder]:
        """Job items used between the two dates (inclusive) that carry a PO reference, one record per PO."""
        orders: dict[str, list[Json]] = {}
        for item in self._pages("/jobitem", "jobItems", self._used_on(start, end)):
            number = conv.po_reference(item)
            if number is not None:
                orders.setdefault(number, []).append(_po_fields(item))
        for number, items in orders.items():
            yield conv.purchase_order(number, items, self.tz)

    def direct_costs(self, start: date, end: date) -> Iterator[DirectCost]:
        """Job items used between the two dates (inclusive) without a PO reference and with a cost."""
        for item in self._pages("/jobitem", "jobItems", self._used_on(start, end)):
            if conv.po_reference(item) is None and item.get("cost") not in (None, 0):
                yield conv.direct_cost(item, self.tz)

    # -- writes ----------------------------------------------------------------------------------------------
    def set_invoice_status(self, invoice_id: str, status: str, comment: str | None = None) -> None:
        """PUT the status (`processed` after a sync, `failed` with the reason as `comment`, ...)."""
        if status not in conv.INVOICE_STATUSES:
            raise InvalidInput(f"not a ServiceTrade invoice status: {status!r}", field="status")
        invoice_id = _id(invoice_id, "invoice_id")
        path = f"/invoice/{invoice_id}"
        self._call("PUT", path, lambda: self._client.put(path, {"status": status}))
        if comment:
            self.add_comment("invoice", invoice_id, comment)

    def add_comment(self, entity_type: str, entity_id: str, text: str) -> str:
        """Comment on an entity; returns the comment id."""
        kind = ENTITY_TYPES.get(entity_type, entity_type)
        body = {"entityType": kind, "entityId": int(_id(entity_id)), "content": text}
        data = self._call("POST", "/comment", lambda: self._client.post("/comment", body))
        return str(data.get("id", "")) if isinstance(data, dict) else ""

    def set_external_id(self, entity_type: str, entity_id: str, system: str, value: str) -> None:
        """Store `value` as the entity's id in external system `system` ("" clears it)."""
        if not system.strip():
            raise InvalidInput("external system name is empty", field="system")
        kind = quote(ENTITY_TYPES.get(entity_type, entity_type), safe="")
        path = f"/externalid/{kind}/{_id(entity_id)}/{quote(system, safe='')}"
        self._call("PUT", path, lambda: self._client.put(path, {"value": value}))

    def record_payment(self, invoice_id: str, amount: Decimal, paid_on: date, reference: str, method: str) -> str:
        """Record a payment against an invoice; returns the payment id. Idempotent by (reference, amount):
        a retry after a lost response finds the payment it already made instead of paying twice."""
        invoice_id = _id(invoice_id, "invoice_id")
        if not isinstance(amount, Decimal) or amount <= 0 or amount != amount.quantize(conv.CENT):
            raise InvalidInput(f"payment amount must be a positive Decimal in cents, not {amount!r}", field="amount")
        for existing in self._pages("/payment", "payments", {"invoiceId": invoice_id}):
            same = existing.get("referenceNumber") == reference and conv.money(existing.get("amount")) == amount
            if reference and same:
                return str(existing["id"])
        number = float(amount)
        if Decimal(repr(number)) != amount:  # JSON carries a number; refuse one a float cannot spell exactly
            raise InvalidInput(f"payment amount {amount} has too many digits to send", field="amount")
        body = {
            "invoiceId": int(invoice_id),
            "amount": number,
            "method": method,
            "referenceNumber": reference,
            "date": int(datetime.combine(paid_on, time(12), tzinfo=self.tz).timestamp()),
        }
        data = self._call("POST", "/payment", lambda: self._client.post("/payment", body))
        if not isinstance(data, dict) or data.get("id") is None:
            raise PermanentError("ServiceTrade did not return the new payment's id", code="bad_record")
        return str(data["id"])

    def reverse_payment(self, payment_id: str) -> None:
        path = f"/payment/{_id(payment_id, 'payment_id')}"
        self._call("DELETE", path, lambda: self._client.delete(path))

    # -- plumbing --------------------------------------------------------------------------------------------
    def _technician(self, user_id: str, fallback_name: str) -> tuple[str, str]:
        try:
            user = self._get(f"/user/{_id(user_id, 'user_id')}")
        except NotFound:
            return fallback_name, ""
        number = conv.external_ids(user).get(self.employee_number_system, "")
        return str(user.get("name") or fallback_name), number

    def _day_start(self, day: date) -> int:
        return int(datetime.combine(day, time(0), tzinfo=self.tz).timestamp())

    def _used_on(self, start: date, end: date) -> Json:
        return {"usedOnAfter": self._day_start(start), "usedOnBefore": self._day_start(end + timedelta(days=1)) - 1}

    def _get(self, path: str, params: Json | None = None) -> Json:
        data = self._call("GET", path, lambda: self._client.get(path, params=params))
        if not isinstance(data, dict):
            raise PermanentError(f"ServiceTrade GET {path} returned no object", code="bad_record")
        return data

    def _pages(self, path: str, key: str, params: Json) -> Iterator[Json]:
        """Rows of a paged list, fetched a page at a time as the caller iterates."""
        rows = iter(Paginator(self._client, path, key, {**params, "limit": self.page_size}))
        while True:
            with self._errors("GET", path):
                row = next(rows, None)
            if row is None:
                return
            yield row

    def _call(self, method: str, path: str, fn: Callable[[], T]) -> T:
        with self._errors(method, path):
            return fn()
        raise AssertionError("unreachable")  # pragma: no cover - _errors always raises on failure

    @contextmanager
    def _errors(self, method: str, path: str) -> Iterator[None]:
        try:
            yield
        except ServicetradeAuthError as exc:
            self._raise_auth(exc)
        except ServicetradeAPIError as exc:
            self._raise_api(exc, f"{method} {path}")
        except requests.RequestException as exc:
            raise TransientError(f"ServiceTrade {method} {path}: {type(exc).__name__}: {exc}") from exc

    def _raise_auth(self, exc: ServicetradeAuthError) -> NoReturn:
        status = exc.status_code
        if status is None or status == 429 or status >= 500:
            raise TransientError(f"ServiceTrade token request failed: {exc.message}") from exc
        message = f"ServiceTrade refused the credentials (HTTP {status})"
        raise AuthorizationRevoked(message, code=f"HTTP {status}", hint="reconnect ServiceTrade") from exc

    def _raise_api(self, exc: ServicetradeAPIError, what: str) -> NoReturn:
        status = exc.status_code
        message = "; ".join([*exc.error_messages, *exc.validation]) or exc.message
        if status is None:
            raise TransientError(f"ServiceTrade {what}: {message}") from exc
        if status == 404:
            raise NotFound(f"ServiceTrade {what}: {message}") from exc
        if status == 429 or status >= 500:
            raise TransientError(f"ServiceTrade {what}: HTTP {status}: {message}", self._retry_after()) from exc
        if status == 401:
            raise AuthorizationRevoked(
                f"ServiceTrade {what}: HTTP 401 after a fresh token", code="HTTP 401", hint="reconnect ServiceTrade"
            ) from exc
        raise PermanentError(message, code=f"HTTP {status}", hint=f"ServiceTrade {what}") from exc

    def _retry_after(self) -> float | None:
        last = self._client.get_last_response()
        headers = {k.lower(): v for k, v in (last.headers if last is not None else {}).items()}
        try:
            return float(headers["retry-after"])
        except (KeyError, ValueError):
            return None


def _po_fields(item: Json) -> Json:
    """The part of a job item a purchase order needs (what purchase_orders() holds between pages)."""
    keep = ("id", "name", "description", "quantity", "cost", "usedOn", "created", "vendor", "job", "libItem")
    return {k: item[k] for k in (*keep, "serviceLine") if k in item}
