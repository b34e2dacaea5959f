"""IntacctClient: sessions, requests of many functions, and the gateway's errors as domain errors.

Transport is a small interface (POST bytes, get bytes) so the same client runs against the real gateway,
the local double, or a REST transport later. Sessions follow Sage's API Sessions page
(https://developer.intacct.com/api/company-console/api-sessions): getAPISession alone in its own request,
with a login; later requests carry the session id and go to the endpoint it names; each answer's
`sessiontimeout` moves the expiry forward; an expired session is not refreshed but replaced by a new login.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from ledgerbridge.errors import PermanentError, TransientError
from ledgerbridge.lazy import lazy
from ledgerbridge.targets.intacct import wire
from ledgerbridge.targets.intacct.wire import Credentials, ErrorDetail, Function, Result

if TYPE_CHECKING:
    import requests
else:
    requests = lazy("requests")  # loaded by the first call that talks HTTP (make bench, coldstart)

DEFAULT_ENDPOINT = "https://api.intacct.com/ia/xml/xmlgw.phtml"  # https://developer.intacct.com/web-services
# Below the 15-minute synchronous limit (https://developer.intacct.com/web-services/sync-vs-async/): a request
# that takes longer is cut off by Sage anyway, so waiting longer only holds the Lambda.
REQUEST_TIMEOUT_S = 300.0
SESSION_MARGIN_S = 60.0  # a session this close to its timeout is replaced before use
SESSION_FALLBACK_S = 30 * 60.0  # when an answer carries no sessiontimeout
CONTROLID_MAX = 256  # api.xsd / the SDK's ControlBlock: 1-256 characters


class Transport(Protocol):
    def post(self, url: str, body: bytes, timeout: float) -> bytes:
        """POST an XML request, return the body. Raises TransientError (retry), UncertainSend (sent, answer
        lost), PermanentError (the request can never succeed)."""
        ...


class UncertainSend(TransientError):
    """The request left, its answer did not come back: it may have executed (what uniqueid is for)."""


class IntacctError(PermanentError):
    """Intacct refused something; `errors` are its own errormessage entries."""

    def __init__(self, where: str, errors: Sequence[ErrorDetail]) -> None:
        first = errors[0] if errors else ErrorDetail("unknown", "no error detail in the answer")
        message = f"{where}: " + "; ".join(e.text() for e in errors or [first])
        super().__init__(message, code=first.errorno, hint=" ".join(e.correction for e in errors if e.correction))
        self.errors = tuple(errors)


class SenderRejected(IntacctError):
    """The control block failed: the sender id/password is wrong, or the company has not authorized it."""


class LoginRejected(IntacctError):
    """The operation's authentication failed: user id, company id or password (or the user's permissions)."""


# Sage's rate limit (gateway error GW-0010, HTTP 429) means "later", never "no"; the double answers its
# per-company concurrency limit the same way (https://developer.intacct.com/web-services/error-handling).
BUSY_ERRORS = ("GW-0010",)
AUTH_FAILED = "XL03000006"  # sender or login refused (https://developer.intacct.com/support/faq/)
BUSY_RETRY_S = 5.0


class HttpTransport:
    """requests with one keep-alive session per client. 5xx and timeouts are transient; a 524 or a dropped
    connection after the body was sent is an UncertainSend (Sage may still be processing it)."""

    def __init__(self) -> None:
        self._http = requests.Session()

    def post(self, url: str, body: bytes, timeout: float) -> bytes:
        try:
            resp = self._http.post(url, data=body, headers={"Content-Type": "application/xml"}, timeout=timeout)
        except requests.ConnectTimeout as exc:
            raise TransientError(f"Intacct did not accept the connection: {exc}") from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise UncertainSend(f"Intacct's answer was lost: {exc}") from exc
        if resp.status_code == 429:
            raise TransientError("Intacct rate limit (HTTP 429)", retry_after=_retry_after(resp))
        if resp.status_code == 524 or resp.status_code >= 500:
            raise UncertainSend(f"Intacct answered HTTP {resp.status_code}")
        if resp.status_code >= 400:
            raise PermanentError(f"Intacct refused the request: HTTP {resp.status_code}", code=str(resp.status_code))
        return resp.content


def _retry_after(resp: requests.Response) -> float | None:
    try:
        return float(resp.headers.get("Retry-After", ""))
    except ValueError:
        return None


@dataclass
class Session:
    session_id: str
    endpoint: str
    expires: float  # time.time()


class IntacctClient:
    """One company's gateway. Thread-safe: bulk workers share its session (one login per company)."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        transport: Transport | None = None,
        slots: Callable[[], Slot] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.credentials = credentials
        self.endpoint = endpoint
        self.transport: Transport = transport or HttpTransport()
        self.slots = slots
        self.clock = clock
        self._session: Session | None = None
        self._lock = threading.Lock()

    def copy(self) -> IntacctClient:
        """Another client for another thread: its own connection, the same company session and slots."""
        twin = IntacctClient(self.credentials, endpoint=self.endpoint, slots=self.slots, clock=self.clock)
        if not isinstance(self.transport, HttpTransport):
            twin.transport = self.transport
        twin._session = self.session()
        return twin

    # -- sessions ----------------------------------------------------------------------------------------

    def session(self) -> Session:
        with self._lock:
            current = self._session
            if current is not None and current.expires - SESSION_MARGIN_S > self.clock():
                return current
            self._session = self._login()
            return self._session

    def _login(self) -> Session:
        fn = Function(_controlid("session"), wire.element("getAPISession"))
        response = self._send(self.endpoint, [fn], session_id="", unique=False, transaction=False)
        result = _only(response.results)
        if not result.ok:
            raise IntacctError("getAPISession", result.errors)
        api = result.records[0] if result.records else {}
        session_id, endpoint = str(api.get("sessionid", "")), str(api.get("endpoint", ""))
        if not session_id:
            raise IntacctError("getAPISession", [ErrorDetail("no-session", "the answer carried no session id")])
        return Session(session_id, endpoint or self.endpoint, self._expiry(response.session_timeout))

    def _expiry(self, timeout: str) -> float:
        if timeout:
            try:
                return datetime.fromisoformat(timeout).astimezone(UTC).timestamp()
            except ValueError:
                pass
        return self.clock() + SESSION_FALLBACK_S

    def forget_session(self) -> None:
        with self._lock:
            self._session = None

    # -- calls -------------------------------------------------------------------------------------------

    def call(self, functions: Sequence[Function], *, unique: bool, transaction: bool = False) -> list[Result]:
        """Send functions in one request under the company's session; one Result per function, in order.
        A refused login or sender raises; a function's own failure is in its Result (unless the operation
        was a transaction, where Intacct rolls every function back and says so in each result)."""
        if not functions:
            return []
        for attempt in range(2):
            session = self.session()
            try:
                response = self._send(
                    session.endpoint, functions, session_id=session.session_id, unique=unique, transaction=transaction
                )
            except LoginRejected:
                if attempt:
                    raise
                self.forget_session()  # expired or ended: nothing ran, so log in again and resend once
                continue
            if response.session_timeout:
                session.expires = self._expiry(response.session_timeout)
            return _in_order(functions, response.results)
        raise AssertionError("unreachable")

    def call_one(self, function: Function, *, unique: bool) -> Result:
        return self.call([function], unique=unique)[0]

    def _send(
        self, url: str, functions: Sequence[Function], *, session_id: str, unique: bool, transaction: bool
    ) -> wire.Response:
        body = wire.request_xml(
            self.credentials,
            _controlid("req"),
            functions,
            session_id=session_id,
            unique=unique,
            transaction=transaction,
        )
        slot = self.slots() if self.slots else None
        lease = slot.acquire() if slot else ""
        try:
            raw = self.transport.post(url, body, REQUEST_TIMEOUT_S)
        finally:
            if slot:
                slot.release(lease)
        try:
            response = wire.parse_response(raw)
        except wire.WireError as exc:
            raise UncertainSend(str(exc)) from exc
        if response.control_status != "success":
            _raise_busy(response.control_errors)
            if any(e.errorno == AUTH_FAILED for e in response.control_errors):
                raise SenderRejected("Intacct refused the sender credentials", response.control_errors)
            raise IntacctError("Intacct refused the request", response.control_errors)
        if response.auth_status != "success":
            _raise_busy(response.auth_errors)
            raise LoginRejected("Intacct refused the company login", response.auth_errors)
        for result in response.results:
            if not result.ok:
                _raise_busy(result.errors)
        return response


class Slot(Protocol):
    """A per-company cap on requests in flight (targets.intacct.slots)."""

    def acquire(self) -> str: ...
    def release(self, lease: str) -> None: ...


def _raise_busy(errors: Sequence[ErrorDetail]) -> None:
    busy = [e for e in errors if e.errorno in BUSY_ERRORS]
    if busy:
        raise TransientError(f"Intacct is busy: {busy[0].text()}", retry_after=BUSY_RETRY_S)


def _only(results: Sequence[Result]) -> Result:
    if len(results) != 1:
        raise IntacctError("answer", [ErrorDetail("results", f"expected one result, got {len(results)}")])
    return results[0]


def _in_order(functions: Sequence[Function], results: Sequence[Result]) -> list[Result]:
    by_id = {r.controlid: r for r in results}
    missing = [f.controlid for f in functions if f.controlid not in by_id]
    if missing:
        raise UncertainSend(f"Intacct's answer has no result for control ids {', '.join(missing[:3])}")
    return [by_id[f.controlid] for f in functions]


def _controlid(kind: str) -> str:
    return f"{kind}-{uuid.uuid4()}"
