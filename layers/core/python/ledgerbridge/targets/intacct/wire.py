"""The XML gateway's wire format (Web Services API 3.0): request envelopes out, typed results in.

Shapes follow Sage's published schema (github.com/intacct/intacct_dtd, v3.0/api.xsd: request, control,
operation, authentication, content, function) and the official SDK's response fixtures
(github.com/intacct/intacct-sdk-php, test/Intacct/Xml/OnlineResponseTest.php). Every request this module
builds is validated against api.xsd in tests/unit/test_intacct_wire.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.etree import ElementTree

# A function's value: text, nested elements (a mapping keeps its order), or a repeated element (a list).
Value = str | Mapping[str, Any] | list[Any] | None


@dataclass(frozen=True)
class Function:
    """One API call inside a request. `controlid` is what uniqueid=true checks and what comes back in its
    result (https://developer.intacct.com/web-services/error-handling)."""

    controlid: str
    element: ElementTree.Element


@dataclass(frozen=True)
class Credentials:
    sender_id: str
    sender_password: str
    company_id: str
    user_id: str
    user_password: str
    client_id: str = ""  # a multi-entity shared company's entity, when the user logs in to one
    location_id: str = ""


@dataclass(frozen=True)
class ErrorDetail:
    errorno: str
    description: str = ""
    description2: str = ""
    correction: str = ""

    def text(self) -> str:
        return " ".join(p for p in (self.description, self.description2) if p).strip() or self.errorno


@dataclass(frozen=True)
class Result:
    status: str
    function: str
    controlid: str
    key: str = ""
    records: tuple[dict[str, Any], ...] = ()
    listtype: str = ""
    count: int = 0
    totalcount: int = 0
    numremaining: int = 0
    result_id: str = ""
    errors: tuple[ErrorDetail, ...] = ()
    raw_data: ElementTree.Element | None = None

    @property
    def ok(self) -> bool:
        return self.status == "success"


@dataclass(frozen=True)
class Response:
    control_status: str
    control_errors: tuple[ErrorDetail, ...] = ()
    auth_status: str = ""
    auth_errors: tuple[ErrorDetail, ...] = ()
    session_timeout: str = ""  # ISO-8601 from the authentication block; slides forward on each call
    results: tuple[Result, ...] = ()


class WireError(ValueError):
    """A response that is not the gateway's XML (an HTML error page, a truncated body)."""


def element(tag: str, value: Value = None, **attrs: str) -> ElementTree.Element:
    """Build `<tag>` from text, an ordered mapping of children, or a list (the tag repeated is the caller's)."""
    el = ElementTree.Element(tag, {k: v for k, v in attrs.items() if v != ""})
    _fill(el, value)
    return el


def _fill(el: ElementTree.Element, value: Value) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for key, child in value.items():
            if child is None or child == "":
                continue
            if isinstance(child, list):
                for item in child:
                    el.append(element(key, item))
            else:
                el.append(element(key, child))
    elif isinstance(value, list):
        raise TypeError(f"<{el.tag}>: a list needs a repeated element name (use a mapping)")
    else:
        el.text = str(value)


def ymd(day: date) -> dict[str, str]:
    """Legacy functions' dates (<year><month><day>, api.xsd `datecreated`)."""
    return {"year": f"{day.year:04d}", "month": f"{day.month:02d}", "day": f"{day.day:02d}"}


def mdy(day: date) -> str:
    """Generic objects' dates (MM/DD/YYYY, as the SDK tests send them)."""
    return f"{day.month:02d}/{day.day:02d}/{day.year:04d}"


def request_xml(
    credentials: Credentials,
    controlid: str,
    functions: Iterable[Function],
    *,
    session_id: str = "",
    unique: bool,
    transaction: bool = False,
) -> bytes:
    """One request: the control block, one operation authenticated by session (or login), its functions."""
    root = element("request")
    root.append(
        element(
            "control",
            {
                "senderid": credentials.sender_id,
                "password": credentials.sender_password,
                "controlid": controlid,
                # Sent explicitly: the docs and the SDKs disagree on its default (see docs/intacct.md).
                "uniqueid": "true" if unique else "false",
                "dtdversion": "3.0",
                "includewhitespace": "false",
            },
        )
    )
    operation = element("operation", transaction="true" if transaction else "")
    auth = element("authentication")
    if session_id:
        auth.append(element("sessionid", session_id))
    else:
        auth.append(
            element(
                "login",
                {
                    "userid": credentials.user_id,
                    "companyid": credentials.company_id,
                    "password": credentials.user_password,
                    "clientid": credentials.client_id,
                    "locationid": credentials.location_id,
                },
            )
        )
    operation.append(auth)
    content = element("content")
    for fn in functions:
        wrapper = element("function", controlid=fn.controlid)
        wrapper.append(fn.element)
        content.append(wrapper)
    operation.append(content)
    root.append(operation)
    body: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + body


# -- responses --------------------------------------------------------------------------------------------


def _text(el: ElementTree.Element | None, path: str) -> str:
    if el is None:
        return ""
    found = el.find(path)
    return (found.text or "").strip() if found is not None else ""


def _errors(el: ElementTree.Element | None) -> tuple[ErrorDetail, ...]:
    if el is None:
        return ()
    return tuple(
        ErrorDetail(
            errorno=_text(e, "errorno"),
            description=_text(e, "description"),
            description2=_text(e, "description2"),
            correction=_text(e, "correction"),
        )
        for e in el.iter("error")
    )


def to_dict(el: ElementTree.Element) -> dict[str, Any]:
    """A record element as a mapping: leaf children become text, nested ones mappings (lists when repeated)."""
    out: dict[str, Any] = {}
    for child in el:
        value: Any = to_dict(child) if len(child) else (child.text or "").strip()
        if child.tag in out:
            existing = out[child.tag]
            out[child.tag] = [*existing, value] if isinstance(existing, list) else [existing, value]
        else:
            out[child.tag] = value
    return out


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


def _result(el: ElementTree.Element) -> Result:
    data = el.find("data")
    records: tuple[dict[str, Any], ...] = ()
    attrs: dict[str, str] = {}
    if data is not None:
        records = tuple(to_dict(r) for r in data)
        attrs = dict(data.attrib)
    return Result(
        status=_text(el, "status"),
        function=_text(el, "function"),
        controlid=_text(el, "controlid"),
        key=_text(el, "key"),
        records=records,
        listtype=attrs.get("listtype", ""),
        count=_int(attrs.get("count")),
        totalcount=_int(attrs.get("totalcount")),
        numremaining=_int(attrs.get("numremaining")),
        result_id=attrs.get("resultId", ""),
        errors=_errors(el.find("errormessage")),
        raw_data=data,
    )


def parse_response(body: bytes) -> Response:
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - the gateway's own answer; expat refuses entity bombs
    except ElementTree.ParseError as exc:
        raise WireError(f"the gateway's answer is not XML: {body[:200]!r}") from exc
    if root.tag != "response":
        raise WireError(f"the gateway answered <{root.tag}>, not <response>")
    control = root.find("control")
    operation = root.find("operation")
    auth = operation.find("authentication") if operation is not None else None
    return Response(
        control_status=_text(control, "status"),
        control_errors=_errors(root.find("errormessage")),
        auth_status=_text(auth, "status"),
        auth_errors=_errors(operation.find("errormessage")) if operation is not None else (),
        session_timeout=_text(auth, "sessiontimeout"),
        results=tuple(_result(r) for r in operation.iter("result")) if operation is not None else (),
    )
