"""QBO Fault bodies (Intuit: error codes; the Fault/Error types of IntuitRestServiceDef.xsd in Intuit's Java SDK)
and the fault-injection plan of the sandbox. docs/qbo.md lists each code with its public source.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal
from xml.sax.saxutils import escape, quoteattr

DropMode = Literal["close", "504"]


def qbo_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")


@dataclass
class QboFault(Exception):
    """One Fault with one Error, raised by the store and rendered by the app."""

    status: int
    code: str
    message: str
    detail: str
    element: str = ""
    type: str = "ValidationFault"

    def error(self) -> dict[str, Any]:
        return {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}

    def body(self, now: float) -> dict[str, Any]:
        return {"Fault": {"Error": [self.error()], "type": self.type}, "time": qbo_time(now)}

    def xml(self, now: float) -> str:
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time={quoteattr(qbo_time(now))}>'
            f"<Fault type={quoteattr(self.type)}><Error code={quoteattr(self.code)}"
            f"{' element=' + quoteattr(self.element) if self.element else ''}>"
            f"<Message>{escape(self.message)}</Message><Detail>{escape(self.detail)}</Detail>"
            "</Error></Fault></IntuitResponse>"
        )


# ---- the catalogue -------------------------------------------------------------------------------------


def validation(code: str, message: str, detail: str, element: str = "") -> QboFault:
    return QboFault(400, code, message, detail, element)


def business_validation(detail: str, element: str = "") -> QboFault:
    return validation(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element,
    )


def required_param(name: str) -> QboFault:
    """A property Intuit's reference marks required is missing (wording as QBO answers it, quoted in
    routablehq/python-quickbooks#257)."""
    return validation(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {name} is missing in the request",
        name,
    )


def invalid_reference(what: str, ref_id: str, element: str) -> QboFault:
    return validation("2500", "Invalid Reference Id", f"Invalid Reference Id : {what} {ref_id} does not exist", element)


def inactive_reference(what: str, ref_id: str, element: str) -> QboFault:
    return validation(
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. "
        f"Check the fields with accounts, customers, items, vendors or employees. ({what} {ref_id})",
        element,
    )


def not_found(entity: str, entity_id: str) -> QboFault:
    return validation(
        "610",
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive or deleted. ({entity} {entity_id})",
    )


def stale_object(user: str = "sandbox-user") -> QboFault:
    return validation(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and {user} were working on this at the same time. {user} "
        "finished before you did, so your work was not saved.",
        "SyncToken",
    )


def duplicate_name() -> QboFault:
    return validation(
        "6240",
        "Duplicate Name Exists Error",
        "The name supplied already exists. : Another customer, vendor or employee is already "
        "using this name. Please use a different name.",
        "DisplayName",
    )


def duplicate_doc_number(doc_number: str, txn_type: str, txn_id: str) -> QboFault:
    return validation(
        "6140",
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has "
        f"already been used. DocNumber={doc_number} is assigned to TxnType={txn_type} with "
        f"TxnId={txn_id}",
        "DocNumber",
    )


def unsupported(detail: str) -> QboFault:
    return validation("500", "Unsupported Operation", detail)


def duplicate_request_id(request_id: str) -> QboFault:
    return validation(
        "600",
        "Duplicate Request ID",
        f"RequestId already exists in the system, duplicate request is detected ({request_id}); "
        "the original request is still being processed",
    )


def batch_too_large(limit: int) -> QboFault:
    return validation("1040", "Batch size exceeds allowed limit", f"A batch can carry at most {limit} items")


def query_parse_error(detail: str) -> QboFault:
    return validation("4000", "Error parsing query", f"QueryParserError: {detail}")


def query_validation_error(detail: str) -> QboFault:
    return validation("4001", "Invalid query", f"QueryValidationError: {detail}")


def throttled() -> QboFault:
    return QboFault(
        429,
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached.  Try again later",
        type="SERVICE",
    )


def authorization_failed(detail: str) -> QboFault:
    return QboFault(
        403, "3100", "message=AuthorizationFailed; errorCode=003100; statusCode=403", detail, type="SERVICE"
    )


def authentication_failed_body(detail: str, now: float) -> dict[str, Any]:
    """The 401 body: lower-case keys (Intuit: OAuth 2.0; as seen in routablehq/python-quickbooks#118)."""
    return {
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": detail,
                    "code": "3200",
                    "element": None,
                }
            ],
            "type": "AUTHENTICATION",
        },
        "time": qbo_time(now),
    }


def system_fault(status: int) -> QboFault:
    return QboFault(
        status,
        "10000",
        "An application error has occurred while processing your request",
        f"System Failure Error: injected HTTP {status}",
        type="SystemFault",
    )


# ---- injection -------------------------------------------------------------------------------------------


@dataclass
class _Rule:
    remaining: int
    path: str | None
    writes_only: bool
    status: int = 0
    mode: DropMode = "close"
    seconds: float = 0.0

    def matches(self, path: str, is_write: bool) -> bool:
        return (self.path is None or self.path in path) and (is_write or not self.writes_only)


@dataclass
class FaultInjector:
    """What the next requests suffer. Rules match by path substring; counts go down as they fire."""

    _failures: list[_Rule] = field(default_factory=list)
    _drops: list[_Rule] = field(default_factory=list)
    _latency: list[_Rule] = field(default_factory=list)
    transient_rate: float = 0.0
    drop_rate: float = 0.0
    chaos_statuses: tuple[int, ...] = (500, 503, 429)
    _rng: random.Random = field(default_factory=lambda: random.Random(0))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    fired: list[str] = field(default_factory=list)

    def fail_next(self, count: int = 1, status: int = 503, path: str | None = None, writes_only: bool = False) -> None:
        """The next `count` matching requests get `status` (500, 503 or 429) and change nothing."""
        if status not in (429, 500, 502, 503, 504):
            raise ValueError(f"fail_next supports 429 and 5xx, not {status}")
        with self._lock:
            self._failures.append(_Rule(count, path, writes_only, status=status))

    def drop_after_commit(self, count: int = 1, mode: DropMode = "close", path: str | None = None) -> None:
        """The next `count` matching writes are applied, then the client gets no answer (the connection is
        closed) or a 504: the case that makes a naive retry create a duplicate."""
        with self._lock:
            self._drops.append(_Rule(count, path, True, mode=mode))

    def add_latency(self, seconds: float, path: str | None = None, count: int = 1_000_000_000) -> None:
        with self._lock:
            self._latency.append(_Rule(count, path, False, seconds=seconds))

    def chaos(
        self,
        transient: float = 0.0,
        drop_after_commit: float = 0.0,
        seed: int = 0,
        statuses: tuple[int, ...] = (500, 503, 429),
    ) -> None:
        """Probability mode: each API request fails with `transient` probability (status drawn from
        `statuses`), each write is dropped after commit with `drop_after_commit` probability."""
        with self._lock:
            self.transient_rate, self.drop_rate, self.chaos_statuses = transient, drop_after_commit, statuses
            self._rng = random.Random(seed)

    def clear(self) -> None:
        with self._lock:
            self._failures.clear()
            self._drops.clear()
            self._latency.clear()
            self.transient_rate = self.drop_rate = 0.0

    @staticmethod
    def _take(rules: list[_Rule], path: str, is_write: bool) -> _Rule | None:
        for rule in rules:
            if rule.remaining > 0 and rule.matches(path, is_write):
                rule.remaining -= 1
                if rule.remaining == 0:
                    rules.remove(rule)
                return rule
        return None

    def take_failure(self, path: str, is_write: bool) -> int | None:
        with self._lock:
            rule = self._take(self._failures, path, is_write)
            if rule is not None:
                self.fired.append(f"fail {rule.status} {path}")
                return rule.status
            if self.transient_rate and self._rng.random() < self.transient_rate:
                status = self._rng.choice(self.chaos_statuses)
                self.fired.append(f"chaos {status} {path}")
                return status
        return None

    def take_drop(self, path: str) -> DropMode | None:
        with self._lock:
            rule = self._take(self._drops, path, True)
            if rule is not None:
                self.fired.append(f"drop {rule.mode} {path}")
                return rule.mode
            if self.drop_rate and self._rng.random() < self.drop_rate:
                self.fired.append(f"chaos drop {path}")
                return "close"
        return None

    def delay(self, path: str) -> float:
        with self._lock:
            rule = self._take(self._latency, path, False)
            return rule.seconds if rule is not None else 0.0
