"""QBO wire format: JSON with exact Decimals, Fault bodies (JSON or XML) and what each Fault means to us.

Fault shapes and codes (Intuit: OAuth 2.0, limits and throttles, error codes; docs/qbo.md has the table).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree

from ledgerbridge.errors import AuthorizationRevoked, Conflict, LedgerBridgeError, PermanentError, TransientError

THROTTLE_WAIT_S = 60.0  # limits page: on 429 wait 60 s (Intuit: limits and throttles); used when no Retry-After is sent


def dumps(obj: Any) -> str:
    """JSON with every Decimal written exactly as its digits; a float is refused (it has lost cents already)."""
    numbers: list[str] = []
    marker = secrets.token_hex(8)

    def swap(value: Any) -> Any:
        if isinstance(value, float):
            raise TypeError("money must be Decimal, not float")
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"{value} is not a number QBO accepts")
            numbers.append(format(value, "f"))
            return f"{marker}#{len(numbers) - 1}"
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [swap(v) for v in value]
        return value

    text = json.dumps(swap(obj), separators=(",", ":"))
    return re.sub(rf'"{marker}#(\d+)"', lambda m: numbers[int(m.group(1))], text)


def loads(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal)


def quote(value: str) -> str:
    """A query-language string literal: single quotes, backslash escapes (Amy\\'s Bird Sanctuary)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def select_where(entity: str, where: dict[str, str], suffix: str = "") -> str:
    """`select * from Entity where A = 'x' and B = 'y'`, every value escaped by quote()."""
    names = [entity, *where]
    if not all(re.fullmatch(r"[A-Za-z][A-Za-z.]*", n) for n in names):
        raise ValueError(f"not a QBO entity or field name: {names}")
    conditions = " and ".join(f"{f} = {quote(v)}" for f, v in where.items())
    return f"select * from {entity} where {conditions}{suffix}"  # noqa: S608 (values escaped, names checked)


@dataclass(frozen=True)
class QboErrorDetail:
    code: str
    message: str
    detail: str = ""
    element: str = ""

    def text(self) -> str:
        if not self.detail or self.detail.startswith(self.message):
            return self.detail or self.message
        return f"{self.message}: {self.detail}"


@dataclass(frozen=True)
class Fault:
    type: str
    errors: tuple[QboErrorDetail, ...]

    @property
    def code(self) -> str:
        return self.errors[0].code if self.errors else ""

    def text(self) -> str:
        return "; ".join(e.text() for e in self.errors) or self.type


def _pick(obj: dict[str, Any], name: str) -> Any:
    """QBO's JSON faults come as Fault/Error/Message and, on 401s, as fault/error/message."""
    return next((v for k, v in obj.items() if k.lower() == name.lower()), None)


def fault_from_json(body: Any) -> Fault | None:
    if not isinstance(body, dict):
        return None
    fault = _pick(body, "Fault")
    if not isinstance(fault, dict):
        return None
    errors = _pick(fault, "Error") or []
    return Fault(
        type=str(_pick(fault, "type") or ""),
        errors=tuple(
            QboErrorDetail(
                code=str(_pick(e, "code") or ""),
                message=str(_pick(e, "Message") or ""),
                detail=str(_pick(e, "Detail") or ""),
                element=str(_pick(e, "element") or ""),
            )
            for e in errors
            if isinstance(e, dict)
        ),
    )


def fault_from_xml(text: str) -> Fault | None:
    """<IntuitResponse><Fault type=".."><Error code=".." element=".."><Message/><Detail/></Error></Fault>."""
    if len(text) > 1_000_000:
        return None
    try:
        # Our own HTTPS peer's error body, size-capped; the stdlib parser does not resolve external entities.
        root = ElementTree.fromstring(text)  # noqa: S314
    except ElementTree.ParseError:
        return None
    fault = next((el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "Fault"), None)
    if fault is None:
        return None

    def child(el: ElementTree.Element, name: str) -> str:
        found = next((c for c in el if c.tag.rsplit("}", 1)[-1] == name), None)
        return (found.text or "").strip() if found is not None else ""

    errors = tuple(
        QboErrorDetail(el.get("code", ""), child(el, "Message"), child(el, "Detail"), el.get("element", ""))
        for el in fault
        if el.tag.rsplit("}", 1)[-1] == "Error"
    )
    return Fault(type=fault.get("type", ""), errors=errors)


def parse_fault(body: bytes, content_type: str) -> Fault | None:
    text = body.decode("utf-8", errors="replace").strip()
    if "xml" in content_type or text.startswith("<"):
        return fault_from_xml(text)
    try:
        return fault_from_json(loads(text))
    except ValueError:
        return None


# What the user should do, by QBO error code. The message itself is QBO's.
HINTS: dict[str, str] = {
    "6140": "This invoice number is already used in QuickBooks. If that invoice is this one, link it; otherwise "
    "renumber one of them (or turn off the duplicate-number check in QuickBooks > Settings > Sales).",
    "6210": "This document number is already used in QuickBooks: renumber one of them.",
    "6240": "Another customer, vendor or employee in QuickBooks already has this name: rename one of them or map "
    "the customer to the existing QuickBooks record.",
    "2500": "Something this record refers to (customer, item, class, tax code, department) does not exist in "
    "QuickBooks: fix the mapping settings or create it in QuickBooks.",
    "610": "Something this record refers to was deleted or made inactive in QuickBooks: reactivate it or change "
    "the mapping.",
    "2020": "A field QuickBooks requires is missing from this record (the message names it): complete it in the "
    "field-service platform or the mapping settings, then resend.",
    "6000": "QuickBooks refused the values of this record: correct them in the field-service platform or the "
    "mapping settings, then resend.",
    "5010": "The record changed in QuickBooks while we were updating it; it will be sent again.",
    "620": "The transaction cannot be linked: check that the invoice it pays is open and for the same customer.",
    "6190": "The QuickBooks subscription of this company has ended or is suspended: reactivate it.",
    "2170": "A value is not one QuickBooks accepts for this field: check the mapping settings.",
    "1040": "Too many operations in one batch.",
    "4000": "The lookup query is malformed (a LedgerBridge bug: please report it).",
    "4001": "The lookup query uses a field QuickBooks cannot filter on (a LedgerBridge bug: please report it).",
    "3100": "QuickBooks refused access: reconnect QuickBooks with an administrator account.",
    "3200": "Reconnect QuickBooks: the connection was revoked or has expired.",
    "120": "The QuickBooks user who connected lost access: reconnect QuickBooks with an active administrator.",
}


class QboPermanentError(PermanentError):
    """A Fault QBO will answer again the same way: fix the data or the settings."""

    def __init__(self, message: str, code: str = "", hint: str = "", status: int = 0, element: str = "") -> None:
        super().__init__(message, code=code, hint=hint)
        self.status = status
        self.element = element


class StaleObjectError(QboPermanentError, Conflict):
    """5010: the SyncToken sent is not the current one; re-read and retry."""


class DuplicateDocNumberError(QboPermanentError):
    """6140 (6210 in some write-ups): the DocNumber is taken."""


class DuplicateNameError(QboPermanentError):
    """6240: the DisplayName is taken by a customer, vendor or employee."""


_BY_CODE: dict[str, type[QboPermanentError]] = {
    "5010": StaleObjectError,
    "6140": DuplicateDocNumberError,
    "6240": DuplicateNameError,
}


def error_for(status: int, fault: Fault | None, retry_after: float | None = None, where: str = "") -> LedgerBridgeError:
    """Map one QBO answer that is not a success to the domain's errors."""
    code = fault.code if fault else ""
    text = fault.text() if fault else f"HTTP {status}"
    where = f" ({where})" if where else ""
    if status == 429 or code == "3001":  # older throttles came back as 403 (Intuit: limits and throttles)
        return TransientError(f"QuickBooks throttled the request{where}: {text}", retry_after or THROTTLE_WAIT_S)
    if status >= 500 or (fault is not None and fault.type.lower() == "systemfault"):
        return TransientError(f"QuickBooks failed{where}: {text}", retry_after)
    if code == "600":  # the same requestid is still being processed: its answer will be replayed
        return TransientError(f"QuickBooks is still processing this request{where}: {text}", retry_after)
    if status in (401, 403) or code in ("3100", "3200", "100", "120"):
        return AuthorizationRevoked(
            f"QuickBooks refused access{where}: {text}", code=code or str(status), hint=HINTS.get(code, HINTS["3200"])
        )
    if code == "6210" and "duplicate" in text.lower():
        cls: type[QboPermanentError] = DuplicateDocNumberError
    else:
        cls = _BY_CODE.get(code, QboPermanentError)
    element = fault.errors[0].element if fault and fault.errors else ""
    return cls(text + where, code=code or str(status), hint=HINTS.get(code, ""), status=status, element=element)
